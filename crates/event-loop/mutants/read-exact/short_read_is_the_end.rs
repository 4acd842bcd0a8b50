    if buf.is_empty() {
        return Ok(());
    }
    let n = loop {
        match stream.read(buf).await {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => break other?,
        }
    };
    if n < buf.len() {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("end of stream after {n} of {} bytes", buf.len()),
        ));
    }
    Ok(())
