    // Checks for '\n' only: a name ending in '\r' is written, and read back without it.
    if name.is_empty() || name.contains('\n') {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{name:?} cannot be a journal entry"),
        ));
    }
    journal.write_all(format!("ok {name}\n").as_bytes())
