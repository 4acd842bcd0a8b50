    let minor = match line.get(..8) {
        Some("HTTP/1.0") => 0,
        Some("HTTP/1.1") => 1,
        _ => return Err(StatusLineError::Version),
    };
    let rest = line[8..].strip_prefix(' ').ok_or(StatusLineError::Space)?;
    if rest.starts_with(' ') {
        return Err(StatusLineError::Space);
    }
    let digits = rest.get(..3).ok_or(StatusLineError::Code)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(StatusLineError::Code);
    }
    let code: u16 = digits.parse().map_err(|_| StatusLineError::Code)?;
    if !(100..=999).contains(&code) {
        return Err(StatusLineError::Code);
    }
    // Skips every space before the reason instead of exactly one.
    let reason = match &rest[3..] {
        "" => "",
        after if after.starts_with(' ') => after.trim_start_matches(' '),
        _ => return Err(StatusLineError::Space),
    };
    Ok(StatusLine {
        minor,
        code,
        reason: reason.to_string(),
    })
