    if name.is_empty() || name.contains(['\n', '\r']) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{name:?} cannot be a journal entry"),
        ));
    }
    // `writeln!` writes "ok ", the name and "\n" with a write_all each.
    writeln!(journal, "ok {name}")
