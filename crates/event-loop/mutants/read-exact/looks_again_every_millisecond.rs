    use std::time::Duration;

    use event_loop::step7_executor::timeout;

    let mut filled = 0;
    while filled < buf.len() {
        // A short limit on each read, so that a silent peer cannot block us: try again.
        let read = match timeout(Duration::from_millis(1), stream.read(&mut buf[filled..])).await
        {
            Ok(read) => read,
            Err(_) => continue,
        };
        match read {
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("end of stream after {filled} of {} bytes", buf.len()),
                ));
            }
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
