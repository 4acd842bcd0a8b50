    // `lines()` also yields the last line when it has no '\n': a torn line counts.
    text.lines()
        .filter_map(|line| line.strip_prefix("ok "))
        .filter(|name| !name.is_empty())
        .map(str::to_string)
        .collect()
