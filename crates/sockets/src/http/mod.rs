//! A *sans-IO* HTTP/1.1 codec: bytes in, requests and responses out, no socket in sight.
//!
//! The parsers here never read from a socket and never wait. They are handed whatever
//! bytes have arrived, in pieces of any size, and answer either "not complete yet" or
//! "here is a message, and it used this many of your bytes". Who reads the socket, and
//! how it waits (a blocking `read` in lesson 3, an event loop in lesson 4, tokio in
//! lesson 5) is the caller's business; the same codec serves all three unchanged. It is
//! also why it can be tested thoroughly: a test is a byte string, cut in every possible
//! way, and a fuzzer can throw arbitrary bytes at it.
//!
//! ```text
//! bytes from read() ──► ResponseParser::feed ──► NeedMore            (all bytes taken)
//!                                            └─► Done { message, used }
//!                                                 (input[used..] is the next message)
//! end of stream ──────► ResponseParser::finish ─► the close-delimited body, or Truncated
//! ```
//!
//! What the codec accepts, in one place (each rule is explained in the module that
//! applies it; the leniencies, each with its reason, are listed in `response`):
//!
//! | Question | Answer | Where |
//! |---|---|---|
//! | Line endings | CRLF, and a bare LF too (RFC 9112, section 2.2, allows it; httparse, curl and browsers do it); a lone CR is an error | `head` |
//! | Empty lines before a start line | skipped (RFC 9112, section 2.2) | `head` |
//! | Status line | `HTTP/1.0` or `HTTP/1.1`, one space, three digits (100 to 999), then a space and a reason, or nothing | `response` |
//! | Header names | tokens, no space before the colon; case-insensitive | `headers` |
//! | Header values | spaces and tabs around them trimmed; control bytes refused; bytes above 0x7f kept (UTF-8, else Latin-1) | `headers` |
//! | Obsolete line folding (a line starting with a space) | in a response, replaced by one space (RFC 9112, section 5.2); in a request, refused; right after the start line, refused | `head` |
//! | Repeated headers | all kept, in order | [`Headers`] |
//! | Content-Length | repeated or listed with equal values: fine; different values, a sign, a space inside: error | `framing` |
//! | Transfer-Encoding | it wins over Content-Length, and then the connection is not reused; `chunked` last frames by chunks, any other last coding means until the close; a coding other than one final `chunked` is refused once the body has been read | `framing` |
//! | Chunk extensions / trailers | ignored / checked then dropped | `chunked` |
//! | No body | responses to HEAD, 1xx, 204, 304 | `framing` |
//! | 1xx responses | skipped, except 101 which is returned; their heads count toward the final head's `max_head_bytes` | `response` |
//! | Neither length nor chunked | response: body until the connection closes; request: no body | `framing` |
//! | Requests | GET and HEAD, HTTP/1.0 and 1.1, no body | `request` |
//! | Sizes | every buffer bounded by [`Limits`] | `limits` |
//!
//! Errors ([`HttpError`]) carry the offset of the offending byte, counted from the
//! start of the message, and their messages name the rule that refused it (`RFC 9112
//! §6.3 rule 5`).
//!
//! Cost: however the bytes are cut, no byte is looked at more than a few times (the
//! parsers never rescan from the start of a message), so parsing is linear in the
//! bytes received. The parsers keep the current line, the fields read so far and the
//! body; never the whole stream.

mod chunked;
mod error;
mod framing;
mod head;
mod headers;
mod limits;
mod request;
mod response;

pub use error::{HttpError, Section, Truncation};
pub use headers::{Headers, Iter as HeaderIter};
pub use limits::Limits;
pub use request::{
    Method, Request, RequestHead, RequestParser, write_header_lines, write_request,
    write_request_line, write_request_with,
};
pub use response::{Response, ResponseParser};

// ANCHOR: parsed
/// What a parser says after taking some bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed<T> {
    /// The message is not complete: every byte given was taken and kept. Feed more.
    NeedMore,
    /// A complete message, which used the first `used` bytes of the input just given;
    /// the rest of that input belongs to the next message.
    Done { message: T, used: usize },
}
// ANCHOR_END: parsed
