//! Exercise `sockets/dechunk`: a chunked body, decoded.
//!
//! When a server does not know a body's length in advance, it sends it in chunks, each
//! preceded by its size in hexadecimal, and ends with a chunk of size 0:
//!
//! ```text
//! 4\r\nWiki\r\n5;note=x\r\npedia\r\n0\r\n\r\n
//! ```
//!
//! The size is hex digits and nothing else, not even a space. After it, `;name=value`
//! extensions may follow (ignored); after the last chunk, trailer header lines may follow
//! before the final empty line (ignored here too).

// In your copy the body is `todo!()` and ignores its arguments until you write it:
// no warnings for that.
#![allow(unused_variables)]

/// What is wrong with a chunked body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DechunkError {
    /// The input ends before the body does, and nothing in it is wrong: more bytes are
    /// needed.
    #[error("the chunked body is incomplete")]
    Incomplete,
    /// The chunk size on the line that starts at this byte offset is not hex digits only,
    /// or is too large: it overflows a u64, or the offset where its chunk would end (after
    /// its CR LF) overflows a usize.
    #[error("bad chunk size at byte {0}")]
    BadSize(usize),
    /// The CR LF expected at this byte offset (after a chunk's data) is missing.
    #[error("missing CR LF after the chunk data at byte {0}")]
    BadTerminator(usize),
}

/// Decodes the chunked body at the start of `input`. Returns the body and how many
/// bytes of `input` it took, up to and including the final empty line (bytes after it
/// belong to whatever comes next).
///
/// - A size line is one or more hex digits, in either case (no sign, no `0x`, no spaces
///   or tabs; leading zeros are fine), then its CR LF, or `;` and extensions, ignored
///   whatever they hold. Anything else is [`DechunkError::BadSize`] at the offset where
///   the line starts, and so is a size too large to count (see `BadSize`); no size, up
///   to `u64::MAX`, may overflow your arithmetic.
/// - A size above 0 is followed by that many bytes of data (whatever they are, CR LF
///   included), then CR LF: two other bytes (a bare LF is not a CR LF) are
///   [`DechunkError::BadTerminator`] at the offset after the data, as soon as they have
///   come, even if nothing follows them.
/// - Any size whose value is 0 (`0`, `00`, `0;x`) is the last chunk; trailer lines may
///   follow it (ignored), then the final empty line.
/// - Input cut anywhere before the final empty line, with nothing wrong in what came, is
///   [`DechunkError::Incomplete`].
pub fn dechunk(input: &[u8]) -> Result<(Vec<u8>, usize), DechunkError> {
    // BEGIN SOLUTION
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
        // The size is everything before the first ';' (after it: extensions, ignored),
        // and all of it must be hex digits: no spaces around them, no sign.
        let size_part = line.split(|&b| b == b';').next().unwrap_or(&[]);
        let size_text =
            std::str::from_utf8(size_part).map_err(|_| DechunkError::BadSize(line_start))?;
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
    // END SOLUTION
}
