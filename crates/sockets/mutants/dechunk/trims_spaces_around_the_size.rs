    fn line_end(input: &[u8], from: usize) -> Result<usize, DechunkError> {
        input[from..]
            .windows(2)
            .position(|w| w == b"\r\n")
            .map(|p| from + p)
            .ok_or(DechunkError::Incomplete)
    }
    let mut body = Vec::new();
    let mut at = 0;
    loop {
        // Every size error names the start of its line, even once `at` has moved past it.
        let line_start = at;
        let end = line_end(input, at)?;
        let line = &input[at..end];
        let size_part = line.split(|&b| b == b';').next().unwrap_or(&[]);
        // Trims the size before checking its digits: " 4", "4 " and "4 ;x" are read as
        // the size 4, where the size line allows hex digits and nothing else.
        let size_text = std::str::from_utf8(size_part)
            .map_err(|_| DechunkError::BadSize(line_start))?
            .trim();
        if size_text.is_empty() || !size_text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(DechunkError::BadSize(line_start));
        }
        let size =
            u64::from_str_radix(size_text, 16).map_err(|_| DechunkError::BadSize(line_start))?;
        let size = usize::try_from(size).map_err(|_| DechunkError::BadSize(line_start))?;
        at = end + 2;
        if size == 0 {
            // Trailers, if any, then the final empty line.
            loop {
                let end = line_end(input, at)?;
                let empty = end == at;
                at = end + 2;
                if empty {
                    return Ok((body, at));
                }
            }
        }
        // A size near u64::MAX fits in a usize but its end does not: checked, so that it
        // is an error rather than an overflow (a panic in a debug build).
        let data_end = at
            .checked_add(size)
            .ok_or(DechunkError::BadSize(line_start))?;
        let chunk_end = data_end
            .checked_add(2)
            .ok_or(DechunkError::BadSize(line_start))?;
        if input.len() < chunk_end {
            return Err(DechunkError::Incomplete);
        }
        body.extend_from_slice(&input[at..data_end]);
        if &input[data_end..data_end + 2] != b"\r\n" {
            return Err(DechunkError::BadTerminator(data_end));
        }
        at = chunk_end;
    }
