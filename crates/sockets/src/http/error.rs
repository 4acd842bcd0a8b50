//! Everything that can be wrong with the bytes a peer sends.
//!
//! A parser error is worth as much as it helps someone find the fault, so every variant
//! carries `offset`: the byte where the problem is, counted from the first byte of the
//! message (after a `Done`, the next message counts from 0 again). Open a capture at that
//! byte and you are looking at the culprit. The errors are plain data (`Clone`, `Eq`)
//! so that tests can compare them whole and a parser can hand the same error out again.

/// The part of a message a limit or a line belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// The start line and the header lines.
    Head,
    /// The header-like lines after the last chunk of a chunked body.
    Trailers,
}

impl std::fmt::Display for Section {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Section::Head => "head",
            Section::Trailers => "trailer section",
        })
    }
}

/// Where a message was when its stream ended.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Truncation {
    #[error("in the head, before the empty line that ends it")]
    Head,
    #[error("after {received} of the {expected} body bytes that Content-Length announced")]
    Body { expected: u64, received: u64 },
    #[error(
        "in a chunked body after {received} body bytes, before the last (zero-size) chunk and its end"
    )]
    Chunked { received: u64 },
}

/// Why bytes are not an HTTP/1.x message this codec accepts.
///
/// Each message ends with the rule that refused the bytes, `(RFC 9112 §6.3 rule 5)`, so
/// that a report shown to a person says not only what was wrong but where the standard
/// says so. The errors that are this codec's own choices, not the RFC's (a limit, a
/// method it does not serve), cite nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    /// Not `HTTP/1.x SP 3DIGIT [SP reason]`.
    #[error("bad status line at byte {offset}: {reason} (RFC 9112 §4)")]
    BadStatusLine { offset: usize, reason: String },

    /// Not `method SP target SP HTTP/1.x`.
    #[error("bad request line at byte {offset}: {reason} (RFC 9112 §3)")]
    BadRequestLine { offset: usize, reason: String },

    /// A well-formed version other than 1.0 and 1.1 (`HTTP/2.0`, `HTTP/0.9`...).
    #[error(
        "unsupported version {version:?} at byte {offset}: only HTTP/1.0 and HTTP/1.1 are spoken here (RFC 9112 §2.3)"
    )]
    UnsupportedVersion { offset: usize, version: String },

    /// A well-formed request whose method is neither GET nor HEAD (a server answers 501).
    #[error("method {method:?} at byte {offset} is not supported: only GET and HEAD are")]
    MethodNotSupported { offset: usize, method: String },

    /// A header line that is not `name: value` (no colon, empty name, space before the colon).
    #[error("bad header line at byte {offset}: {reason} (RFC 9112 §5.1)")]
    BadHeaderLine { offset: usize, reason: String },

    /// In a *request*, a line starting with a space or tab after a header line: the
    /// obsolete way to continue its value on the next line (`obs-fold`). RFC 9112
    /// (section 5.2) lets a server reject it with 400, and this one does. (A client
    /// must not: in a response, the parser replaces each fold with a space.)
    #[error(
        "obsolete line folding at byte {offset}: a header line of a request starts with whitespace (RFC 9112 §5.2)"
    )]
    ObsoleteLineFolding { offset: usize },

    /// A line starting with a space or tab right after the start line (or as the first
    /// line of a trailer section): there is no field before it for it to continue.
    /// RFC 9112 (section 2.2) lets a recipient reject it or ignore it; ignoring it
    /// would hide a field from us that another parser might see, so it is rejected.
    #[error(
        "whitespace at byte {offset} before the first field: a line starts with a space or tab, and no field comes before it to continue (RFC 9112 §2.2)"
    )]
    WhitespaceBeforeFirstField { offset: usize },

    /// A header name holds a byte that is not a token character (RFC 9110, section 5.6.2).
    #[error(
        "invalid byte {byte:#04x} in a header name at byte {offset}: a field name is a token (RFC 9110 §5.1)"
    )]
    InvalidHeaderName { offset: usize, byte: u8 },

    /// A header value holds a control byte (anything below 0x20 but tab, or 0x7f).
    #[error(
        "invalid byte {byte:#04x} in the value of header {name:?} at byte {offset} (RFC 9110 §5.5)"
    )]
    InvalidHeaderValue {
        offset: usize,
        name: String,
        byte: u8,
    },

    /// Two Content-Length values that differ: which one frames the body is anybody's
    /// guess, and guessing differently from a proxy is how responses get smuggled.
    #[error(
        "conflicting Content-Length at byte {offset}: {second} after {first} (RFC 9112 §6.3 rule 5)"
    )]
    ConflictingContentLength {
        offset: usize,
        first: u64,
        second: u64,
    },

    /// A Content-Length that is not a decimal number (`-1`, `+5`, `0x10`, empty, huge).
    #[error("invalid Content-Length {value:?} at byte {offset}: {reason} (RFC 9112 §6.3 rule 5)")]
    InvalidContentLength {
        offset: usize,
        value: String,
        reason: &'static str,
    },

    /// A transfer coding this codec cannot undo: anything but one `chunked`, applied
    /// last (`gzip`, `gzip, chunked`, `chunked, chunked`, `identity`). `value` is that
    /// coding as the message spelled it, `offset` where it is.
    ///
    /// In a response it comes only after the body has been framed as RFC 9112 section
    /// 6.3 rule 4 says and read to its end (until the last chunk, or until the server
    /// closed the connection): the bytes are all accounted for, only their content
    /// cannot be decoded. A request with it is refused at once.
    #[error(
        "unsupported transfer coding {value:?} at byte {offset}: only `chunked`, once and last, is decoded here (RFC 9112 §6.1)"
    )]
    UnsupportedTransferEncoding { offset: usize, value: String },

    /// No end of the head (or trailer section) within `max_head_bytes`.
    #[error("the {section} is larger than max_head_bytes ({limit} bytes): no end by byte {offset}")]
    HeadTooLarge {
        section: Section,
        offset: usize,
        limit: usize,
    },

    /// More than `max_headers` lines in the head (or trailer section).
    #[error("too many lines in the {section} at byte {offset}: max_headers is {limit}")]
    TooManyHeaders {
        section: Section,
        offset: usize,
        limit: usize,
    },

    /// A body announced or received beyond `max_body_bytes`.
    #[error(
        "the body is too large at byte {offset}: at least {size} bytes, max_body_bytes is {limit}"
    )]
    BodyTooLarge {
        offset: usize,
        size: u64,
        limit: usize,
    },

    /// A chunk-size line with no end within `max_chunk_line_bytes`.
    #[error(
        "the chunk-size line at byte {offset} is longer than max_chunk_line_bytes ({limit} bytes)"
    )]
    ChunkLineTooLong { offset: usize, limit: usize },

    /// A chunk-size line that is not `HEX [; extensions]`.
    #[error("bad chunk size at byte {offset}: {reason} (RFC 9112 §7.1)")]
    BadChunkSize { offset: usize, reason: String },

    /// Chunk data not followed by CRLF: the size line lied, or the stream is not chunked.
    #[error(
        "bad chunk terminator at byte {offset}: expected CRLF after the chunk data, found byte {found:#04x} (RFC 9112 §7.1)"
    )]
    BadChunkTerminator { offset: usize, found: u8 },

    /// The stream ended before the message did (`offset` is where it ended): RFC 9112
    /// (section 8) calls the message incomplete, and it is never taken for a whole one.
    #[error("the connection closed at byte {offset} {what}")]
    Truncated { offset: usize, what: Truncation },

    /// A request with Content-Length above 0 or Transfer-Encoding: this server reads no
    /// request bodies, and cannot find the next request without reading this one's body.
    #[error("requests with a body are not supported ({framing} at byte {offset})")]
    RequestBodyNotSupported { offset: usize, framing: String },
}

impl HttpError {
    /// The byte, counted from the start of the message, the error points at.
    pub fn offset(&self) -> usize {
        match *self {
            HttpError::BadStatusLine { offset, .. }
            | HttpError::BadRequestLine { offset, .. }
            | HttpError::UnsupportedVersion { offset, .. }
            | HttpError::MethodNotSupported { offset, .. }
            | HttpError::BadHeaderLine { offset, .. }
            | HttpError::ObsoleteLineFolding { offset }
            | HttpError::WhitespaceBeforeFirstField { offset }
            | HttpError::InvalidHeaderName { offset, .. }
            | HttpError::InvalidHeaderValue { offset, .. }
            | HttpError::ConflictingContentLength { offset, .. }
            | HttpError::InvalidContentLength { offset, .. }
            | HttpError::UnsupportedTransferEncoding { offset, .. }
            | HttpError::HeadTooLarge { offset, .. }
            | HttpError::TooManyHeaders { offset, .. }
            | HttpError::BodyTooLarge { offset, .. }
            | HttpError::ChunkLineTooLong { offset, .. }
            | HttpError::BadChunkSize { offset, .. }
            | HttpError::BadChunkTerminator { offset, .. }
            | HttpError::Truncated { offset, .. }
            | HttpError::RequestBodyNotSupported { offset, .. } => offset,
        }
    }

    /// The status a server answers a request that failed with this error:
    /// 501 Not Implemented for what it does not do (other methods, transfer codings),
    /// 505 for other HTTP versions, 431 for heads over the limits, 413 for bodies,
    /// 400 Bad Request for malformed bytes.
    pub fn status(&self) -> u16 {
        match self {
            HttpError::MethodNotSupported { .. }
            | HttpError::UnsupportedTransferEncoding { .. } => 501,
            HttpError::UnsupportedVersion { .. } => 505,
            HttpError::HeadTooLarge { .. } | HttpError::TooManyHeaders { .. } => 431,
            HttpError::RequestBodyNotSupported { .. } | HttpError::BodyTooLarge { .. } => 413,
            _ => 400,
        }
    }
}
