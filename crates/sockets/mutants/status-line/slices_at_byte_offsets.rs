    // Checks the lengths, then slices at byte offsets 8 and 3: a character of two bytes
    // across either offset panics instead of being an error.
    if line.len() < 8 {
        return Err(StatusLineError::Version);
    }
    let minor = match &line[..8] {
        "HTTP/1.0" => 0,
        "HTTP/1.1" => 1,
        _ => return Err(StatusLineError::Version),
    };
    let rest = line[8..].strip_prefix(' ').ok_or(StatusLineError::Space)?;
    if rest.starts_with(' ') {
        return Err(StatusLineError::Space);
    }
    if rest.len() < 3 {
        return Err(StatusLineError::Code);
    }
    let digits = &rest[..3];
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(StatusLineError::Code);
    }
    let code: u16 = digits.parse().map_err(|_| StatusLineError::Code)?;
    if !(100..=999).contains(&code) {
        return Err(StatusLineError::Code);
    }
    let reason = match &rest[3..] {
        "" => "",
        after => after.strip_prefix(' ').ok_or(StatusLineError::Space)?,
    };
    Ok(StatusLine {
        minor,
        code,
        reason: reason.to_string(),
    })
