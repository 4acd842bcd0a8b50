    let mut filled = 0;
    let mut scratch = [0u8; 4096];
    while filled < buf.len() {
        match stream.read(&mut scratch).await {
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("end of stream after {filled} of {} bytes", buf.len()),
                ));
            }
            Ok(n) => {
                let take = n.min(buf.len() - filled);
                buf[filled..filled + take].copy_from_slice(&scratch[..take]);
                filled += take;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
