//! Exercise `sockets/dechunk`: a chunked body, decoded.
//!
//! When a server does not know a body's length in advance, it sends it in chunks, each
//! preceded by its size in hexadecimal, and ends with a chunk of size 0:
//!
//! ```text
//! 4\r\nWiki\r\n5;note=x\r\npedia\r\n0\r\n\r\n
//! ```
//!
//! After the size, `;name=value` extensions may follow (ignored); after the last chunk,
//! trailer header lines may follow before the final empty line (ignored here too).

/// What is wrong with a chunked body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DechunkError {
    /// The input ends before the body does: more bytes are needed.
    #[error("the chunked body is incomplete")]
    Incomplete,
    /// The chunk size at this byte offset is not hexadecimal (or overflows a u64).
    #[error("bad chunk size at byte {0}")]
    BadSize(usize),
    /// The CR LF expected at this byte offset (after a chunk's data) is missing.
    #[error("missing CR LF after the chunk data at byte {0}")]
    BadTerminator(usize),
}

/// Decodes the chunked body at the start of `input`. Returns the body and how many
/// bytes of `input` it took, up to and including the final empty line (bytes after it
/// belong to whatever comes next).
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
        let end = line_end(input, at)?;
        let line = &input[at..end];
        let size_part = line.split(|&b| b == b';').next().unwrap_or(&[]);
        let size_text = std::str::from_utf8(size_part)
            .map_err(|_| DechunkError::BadSize(at))?
            .trim();
        if size_text.is_empty() || !size_text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(DechunkError::BadSize(at));
        }
        let size = u64::from_str_radix(size_text, 16).map_err(|_| DechunkError::BadSize(at))?;
        let size = usize::try_from(size).map_err(|_| DechunkError::BadSize(at))?;
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
        let data_end = at.checked_add(size).ok_or(DechunkError::BadSize(at))?;
        if input.len() < data_end + 2 {
            return Err(DechunkError::Incomplete);
        }
        body.extend_from_slice(&input[at..data_end]);
        if &input[data_end..data_end + 2] != b"\r\n" {
            return Err(DechunkError::BadTerminator(data_end));
        }
        at = data_end + 2;
    }
    // END SOLUTION
}
