    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::time::Instant;

    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_write_timeout(Some(timeout))?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes())?;
    // Its own read timeout: a non-blocking socket, tried every 2 ms until `timeout` has
    // passed without data. It wakes hundreds of times a second while the server is silent.
    stream.set_nonblocking(true)?;
    let mut response = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    let mut last_data = Instant::now();
    loop {
        let n = match stream.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if last_data.elapsed() >= timeout {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "the server is silent",
                    ));
                }
                std::thread::sleep(std::time::Duration::from_millis(2));
                continue;
            }
            Err(e) => return Err(e),
        };
        last_data = Instant::now();
        if n == 0 {
            return Ok(response);
        }
        if response.len() + n > MAX_RESPONSE {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("the response is longer than {MAX_RESPONSE} bytes"),
            ));
        }
        response.extend_from_slice(&buf[..n]);
    }
