    let mut filled = 0;
    while filled < buf.len() {
        match stream.read(&mut buf[filled..]).await {
            Ok(n) if n > 0 => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            // The stream ended, one way or another.
            Ok(_) | Err(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("end of stream after {filled} of {} bytes", buf.len()),
                ));
            }
        }
    }
    Ok(())
