    use std::io::{Read, Write};
    use std::net::TcpStream;

    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes())?;
    // Everything first, then the size: the limit does not bound the memory, and a
    // server that keeps sending is read for as long as it sends.
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    if response.len() > MAX_RESPONSE {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("the response is longer than {MAX_RESPONSE} bytes"),
        ));
    }
    Ok(response)
