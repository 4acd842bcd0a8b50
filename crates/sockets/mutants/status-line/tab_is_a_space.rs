    let minor = match line.get(..8) {
        Some("HTTP/1.0") => 0,
        Some("HTTP/1.1") => 1,
        _ => return Err(StatusLineError::Version),
    };
    // Any blank separates, a tab as well as a space.
    let blank = [' ', '\t'];
    let rest = line[8..]
        .strip_prefix(blank)
        .ok_or(StatusLineError::Space)?;
    if rest.starts_with(blank) {
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
    let reason = match &rest[3..] {
        "" => "",
        after => after.strip_prefix(blank).ok_or(StatusLineError::Space)?,
    };
    Ok(StatusLine {
        minor,
        code,
        reason: reason.to_string(),
    })
