    let mut out: Vec<&'a str> = all
        .iter()
        .copied()
        .filter(|name| !done.contains(*name))
        .collect();
    // Removes a repeat only when it follows itself.
    out.dedup();
    out
