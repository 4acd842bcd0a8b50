//! How much a peer may make the codec hold.
//!
//! The codec keeps what it receives until a message is complete, so a peer that never
//! ends its head, sends a million header lines or announces a body of a terabyte would
//! make it grow without end. Every such growth has a limit here, and going past one is a
//! typed error naming the limit ([`HttpError::HeadTooLarge`](super::HttpError),
//! `TooManyHeaders`, `BodyTooLarge`, `ChunkLineTooLong`), never a crash or a silent cut.

// ANCHOR: limits
/// The limits the request and response parsers enforce. `Limits::default()` suits the
/// course's corpus and ordinary web servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The most bytes of one head: the start line, the header lines and the empty line
    /// that ends them, line endings included. A response's interim (1xx) heads count
    /// toward the final head's limit. Also bounds a chunked body's trailer section.
    /// Default 64 KiB (servers usually stop at 8 to 64 KiB).
    pub max_head_bytes: usize,
    /// The most header lines in one head (and trailer lines in one trailer section).
    /// Default 100.
    pub max_headers: usize,
    /// The most bytes of one body, after chunked decoding. Default 16 MiB.
    pub max_body_bytes: usize,
    /// The most bytes of one chunk-size line, extensions and line ending included.
    /// Default 1 KiB: a size needs at most 16 hex digits, the rest is extensions.
    pub max_chunk_line_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_head_bytes: 64 * 1024,
            max_headers: 100,
            max_body_bytes: 16 * 1024 * 1024,
            max_chunk_line_bytes: 1024,
        }
    }
}
// ANCHOR_END: limits
