    let complete = match text.rfind('\n') {
        Some(end) => &text[..end],
        None => "",
    };
    complete
        .split('\n')
        .filter_map(|line| line.strip_prefix("ok "))
        // Tidies the name: the '\r' goes, and so do spaces that belong to it.
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(str::to_string)
        .collect()
