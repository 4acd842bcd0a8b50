    use std::io::{Read, Write};
    use std::net::TcpStream;

    // Timeouts on reads and writes, but connect waits as long as the kernel does
    // (minutes, when the server's backlog is full and its SYNs go unanswered).
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes())?;
    let mut response = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = match stream.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
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
