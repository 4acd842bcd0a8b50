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
        let line_start = at;
        let end = line_end(input, at)?;
        let line = &input[at..end];
        let size_part = line.split(|&b| b == b';').next().unwrap_or(&[]);
        let size_text =
            std::str::from_utf8(size_part).map_err(|_| DechunkError::BadSize(line_start))?;
        if size_text.is_empty() || !size_text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(DechunkError::BadSize(line_start));
        }
        // Sizes in a u32: a chunk of 4 GiB or more is refused as a bad size.
        let size = u32::from_str_radix(size_text, 16)
            .map_err(|_| DechunkError::BadSize(line_start))? as usize;
        at = end + 2;
        if size == 0 {
            loop {
                let end = line_end(input, at)?;
                let empty = end == at;
                at = end + 2;
                if empty {
                    return Ok((body, at));
                }
            }
        }
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
