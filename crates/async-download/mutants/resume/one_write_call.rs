    if name.is_empty() || name.contains(['\n', '\r']) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{name:?} cannot be a journal entry"),
        ));
    }
    // One `write`: it may take only part of the line, and the rest is lost.
    journal.write(format!("ok {name}\n").as_bytes())?;
    Ok(())
