    let minor = match line.get(..8) {
        Some("HTTP/1.0") => 0,
        Some("HTTP/1.1") => 1,
        _ => return Err(StatusLineError::Version),
    };
    let rest = line[8..].strip_prefix(' ').ok_or(StatusLineError::Space)?;
    if rest.starts_with(' ') {
        return Err(StatusLineError::Space);
    }
    // The code is every digit up to the first non-digit, read as a number and checked
    // against the range: "0200" reads as 200, though it is four digits.
    let digits_end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let code: u16 = rest[..digits_end]
        .parse()
        .map_err(|_| StatusLineError::Code)?;
    if !(100..=999).contains(&code) {
        return Err(StatusLineError::Code);
    }
    let reason = match &rest[digits_end..] {
        "" => "",
        after => after.strip_prefix(' ').ok_or(StatusLineError::Space)?,
    };
    Ok(StatusLine {
        minor,
        code,
        reason: reason.to_string(),
    })
