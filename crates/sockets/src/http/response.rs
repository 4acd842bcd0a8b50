//! Responses, parsed by the client.
//!
//! [`ResponseParser`] turns the bytes a client receives into [`Response`]s. It knows
//! the method of the request each response answers, because a response to HEAD has no
//! body even when it announces one (the `framing` module has all the body rules).
//!
//! Interim responses (1xx, such as `100 Continue` or `103 Early Hints`) are read and
//! skipped: they announce that the real response is coming, and a client that sends
//! no request body has no use for them (RFC 9110, section 15.2: a client must be able
//! to parse any number of them before the final response). `101 Switching Protocols`
//! is the exception: it is returned like a final response (with `keep_alive` false),
//! because after it the connection no longer speaks HTTP/1.1 and the caller must know.
//!
//! A client reads what servers send, and RFC 9112 tells it what to forgive and what to
//! refuse. What it forgives, this parser forgives: a folded header line becomes a space
//! (section 5.2), a final coding other than `chunked` is read until the close (section
//! 6.3, rule 4). What could let two parsers disagree about where a response ends, it
//! refuses. The leniencies it keeps beyond what the RFC asks, each with its reason:
//!
//! - **A bare LF ends a line**, CR LF or not (RFC 9112, section 2.2, allows it): httparse,
//!   curl and browsers accept it, and old scripts send it. A CR elsewhere is refused.
//! - **Empty lines before the status line are skipped.** RFC 9112 (section 2.2) asks
//!   servers to skip them before a request; a server that sends a CRLF too many after
//!   a body makes a client need the same. They count toward `max_head_bytes`.
//! - **No space after the status code** when the reason is empty (`HTTP/1.1 204`): the
//!   grammar (section 4) wants `HTTP/1.1 204 `, but servers drop the space, and
//!   httparse accepts it. The reason phrase is never interpreted (section 4 says a
//!   client should ignore it).
//! - **Any three digits from 100 to 999** as a status code. RFC 9110 (section 15)
//!   defines 100 to 599: a client must treat a code it does not know in that range as
//!   the `x00` of its class, and one from 600 to 999 (invalid, but sent by some
//!   libraries) as a 5xx; it is not told to refuse either. A downloader treats every
//!   code but 200 as "not the document" anyway.
//! - **Bytes above 0x7f in values and the reason** (`obs-text`, RFC 9110 section 5.5)
//!   are kept, as UTF-8 or else Latin-1: they are legal, if obsolete.
//! - **Chunk extensions are not parsed** against their grammar, only checked for control
//!   bytes: a client must ignore the extensions it does not know (RFC 9112, section
//!   7.1.1), and it knows none. Whitespace after the chunk size is accepted, with or
//!   without a `;` after it, and the data's CRLF may be a bare LF, as everywhere.
//! - **Empty list elements** in Content-Length and Transfer-Encoding (`5,`) are ignored,
//!   as every list rule says (RFC 9110, section 5.6.1).
//!
//! Where the RFC leaves a recipient the choice between refusing and repairing, this
//! parser refuses, because each repair is a place where two parsers could read
//! different fields: a bare CR (section 2.2 allows replacing it with a space), other
//! control bytes in a value (RFC 9110, section 5.5), a line starting with whitespace
//! right after the status line (section 2.2 allows ignoring it), whitespace between a
//! field name and its colon (section 5.1 tells servers to refuse it and proxies to
//! remove it; some parsers have read such a field, others ignored it).

use std::borrow::Cow;

use super::Parsed;
use super::chunked::ChunkedDecoder;
use super::error::{HttpError, Truncation};
use super::framing::{BodyKind, Framing, persistent, response_body};
use super::head::{Head, HeadReader, Version, parse_version};
use super::headers::{Headers, decode_text, is_text_byte};
use super::limits::Limits;
use super::request::Method;

/// A response as the client received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub version_minor: u8,
    /// The status code, 100 to 999.
    pub status: u16,
    /// The reason phrase (`OK`, `Not Found`), possibly empty. Informative only. The
    /// usual phrases are `'static` strings, not copies (see [`reason_text`]).
    pub reason: Cow<'static, str>,
    pub headers: Headers,
    /// The body, chunked coding removed; empty when the response has none.
    pub body: Vec<u8>,
    /// Body bytes read and counted but not kept, by a parser told to drop the bodies
    /// nobody needs (see [`ResponseParser::dropping_bodies`]); 0 otherwise. The body
    /// was `body.len() + dropped` bytes long.
    pub dropped: u64,
    /// Whether the connection may carry another request after this response: HTTP/1.1
    /// without `Connection: close`, or HTTP/1.0 with `Connection: keep-alive`; never
    /// after a body that ended with the connection, after 101, or after a response whose
    /// framing was suspicious (both Transfer-Encoding and Content-Length, or
    /// Transfer-Encoding in HTTP/1.0).
    pub keep_alive: bool,
}

/// The parsed status line.
#[derive(Debug)]
struct StatusLine {
    version_minor: u8,
    status: u16,
    reason: Cow<'static, str>,
}

// ANCHOR: parse_status_line
/// `HTTP-version SP 3DIGIT SP reason-phrase` (RFC 9112, section 4). As in httparse,
/// the space before an empty reason may be missing (`HTTP/1.1 204`).
fn parse_status_line(line: &[u8], offset: usize) -> Result<StatusLine, HttpError> {
    let bad = |at: usize, reason: &str| HttpError::BadStatusLine {
        offset: offset + at,
        reason: reason.to_string(),
    };
    let version_len = line.iter().position(|&b| b == b' ').unwrap_or(line.len());
    let version = &line[..version_len];
    let version_minor = match parse_version(version) {
        Version::Supported(minor) => minor,
        Version::Unsupported => {
            return Err(HttpError::UnsupportedVersion {
                offset,
                version: decode_text(version),
            });
        }
        Version::Malformed => return Err(bad(0, "expected HTTP/1.0 or HTTP/1.1 and a space")),
    };
    if version_len == line.len() {
        return Err(bad(
            version_len,
            "expected a space and a status code after the version",
        ));
    }
    let code_at = version_len + 1;
    let code = line
        .get(code_at..code_at + 3)
        .filter(|digits| digits.iter().all(u8::is_ascii_digit))
        .ok_or_else(|| {
            bad(
                code_at,
                "expected a three-digit status code after one space",
            )
        })?;
    let status = code
        .iter()
        .fold(0u16, |n, digit| n * 10 + u16::from(digit - b'0'));
    if status < 100 {
        return Err(bad(code_at, "a status code is at least 100"));
    }
    let reason = match line.get(code_at + 3) {
        None => Cow::Borrowed(""),
        Some(b' ') => {
            let reason_at = code_at + 4;
            let reason = &line[reason_at..];
            if let Some(i) = reason.iter().position(|&b| !is_text_byte(b)) {
                return Err(bad(reason_at + i, "control byte in the reason phrase"));
            }
            reason_text(reason)
        }
        Some(_) => return Err(bad(code_at + 3, "expected a space after the status code")),
    };
    Ok(StatusLine {
        version_minor,
        status,
        reason,
    })
}
// ANCHOR_END: parse_status_line

/// A reason phrase as text: one of the usual phrases without a copy (nearly every
/// response says `OK`, and copying it into a `String` would cost an allocation per
/// response), any other one decoded as header values are.
fn reason_text(reason: &[u8]) -> Cow<'static, str> {
    const USUAL: [&str; 12] = [
        "OK",
        "Partial Content",
        "No Content",
        "Moved Permanently",
        "Found",
        "See Other",
        "Not Modified",
        "Temporary Redirect",
        "Permanent Redirect",
        "Not Found",
        "Too Many Requests",
        "Service Unavailable",
    ];
    match USUAL.iter().find(|usual| usual.as_bytes() == reason) {
        Some(usual) => Cow::Borrowed(usual),
        None => Cow::Owned(decode_text(reason)),
    }
}

/// Parses the responses a client receives on one connection, one after another.
///
/// The contract, shared with [`RequestParser`](super::RequestParser):
///
/// - [`feed`](Self::feed) takes the next bytes of the stream, in any pieces.
///   [`Parsed::NeedMore`] means every byte was taken (kept inside the parser) and the
///   response is not complete. [`Parsed::Done`] gives the response and how many bytes
///   of *this* input it used: the bytes after `used` belong to the next response (a
///   pipelining client has several requests in flight). After `Done` the parser is
///   ready for the next response, to a request of the same method; to change the
///   method, make a new parser.
/// - [`finish`](Self::finish) says the stream has ended: it completes a body that runs
///   until the connection closes, or says what was cut off.
/// - After an error the parser stays failed (every later call returns that error):
///   nobody can tell where the next response would start, so the connection must go.
#[derive(Debug)]
pub struct ResponseParser {
    method: Method,
    limits: Limits,
    /// Bytes of the current exchange taken so far (skipped 1xx responses included).
    offset: usize,
    /// Whether a 1xx response was skipped in the current exchange.
    interim_seen: bool,
    /// Whether a response's body is kept, decided from its head (see
    /// [`dropping_bodies`](Self::dropping_bodies)).
    keep_body: fn(&Response) -> bool,
    state: State,
}

#[derive(Debug)]
enum State {
    Head(HeadReader<StatusLine>),
    Body {
        response: Response,
        body: BodyReader,
        /// Body bytes handed out already by [`ResponseParser::take_body`], or dropped:
        /// no longer in `response.body`, still counted for the framing and the limit.
        taken: u64,
        /// Whether the body's bytes are kept in `response.body`, or only counted.
        keep: bool,
        /// The error to give instead of the response once its body has been read: its
        /// transfer coding cannot be undone (RFC 9112, section 6.3, rule 4). Boxed: it is
        /// rare, and every parser waiting for a body would otherwise carry room for it.
        refuse_after: Option<Box<HttpError>>,
    },
    Failed(HttpError),
}

/// The body being read, by how it is delimited.
#[derive(Debug)]
enum BodyReader {
    Length { expected: u64 },
    Chunked(ChunkedDecoder),
    UntilClose,
}

/// What a complete head leads to.
enum Next {
    /// A 1xx response: skip it, read the next head.
    Interim,
    /// A response without a body: done.
    Complete(Response),
    /// A body to read, and the error to give once it is read, if any.
    Body(Response, BodyReader, Option<Box<HttpError>>),
}

impl ResponseParser {
    /// A parser for the responses to requests made with `method`.
    pub fn new(method: Method, limits: Limits) -> ResponseParser {
        ResponseParser {
            method,
            limits,
            offset: 0,
            interim_seen: false,
            keep_body: |_| true,
            state: new_head(),
        }
    }

    /// The same parser, but one that keeps a response's body only when `keep`, asked
    /// with the response's head, says it is needed. Any other body is read as usual
    /// (framed, limited, its end found) and counted in [`Response::dropped`], but not
    /// copied: a client that checks documents and throws them away pays for neither
    /// the copy nor the memory.
    pub fn dropping_bodies(self, keep: fn(&Response) -> bool) -> ResponseParser {
        ResponseParser {
            keep_body: keep,
            ..self
        }
    }

    /// The head of the response whose body is being read, once its head is complete and
    /// before its body is (its `body` holds what arrived since the last
    /// [`take_body`](Self::take_body)). `None` while a head is read, after an error, and
    /// between responses. A client that saves a large body to a file looks here first
    /// (the status, `Content-Range`, the validators) and then drains the body as it comes.
    pub fn body_head(&self) -> Option<&Response> {
        match &self.state {
            State::Body { response, .. } => Some(response),
            _ => None,
        }
    }

    /// Hands out the body bytes received so far and forgets them: a large body need not
    /// be held whole. They still count, for the framing (a `Content-Length` is met by
    /// the bytes taken and the bytes still to come) and for `max_body_bytes`; the
    /// response [`feed`](Self::feed) returns at the end holds only what came after the
    /// last call. Empty while no body is being read.
    pub fn take_body(&mut self) -> Vec<u8> {
        match &mut self.state {
            State::Body {
                response, taken, ..
            } => {
                *taken += response.body.len() as u64;
                std::mem::take(&mut response.body)
            }
            _ => Vec::new(),
        }
    }

    /// Takes the next bytes of the stream (see the type's documentation).
    pub fn feed(&mut self, input: &[u8]) -> Result<Parsed<Response>, HttpError> {
        let result = self.advance(input);
        if let Err(error) = &result {
            self.state = State::Failed(error.clone());
        }
        result
    }

    // ANCHOR: finish_head
    /// Says the stream has ended (`read` returned 0):
    ///
    /// - `Ok(Some(response))` completes a body delimited by the end of the connection;
    /// - `Ok(None)` if nothing (or only empty lines) arrived since the last response:
    ///   the server closed an idle keep-alive connection, and the client reconnects;
    /// - [`HttpError::Truncated`] if a response was cut off, saying where: in the head,
    ///   or how many body bytes were expected and how many came.
    ///
    /// Whatever it returns, the parser is then ready for a new connection.
    pub fn finish(&mut self) -> Result<Option<Response>, HttpError> {
        let state = std::mem::replace(&mut self.state, new_head());
        let offset = std::mem::take(&mut self.offset);
        let interim_seen = std::mem::take(&mut self.interim_seen);
        let what = match state {
            State::Failed(error) => return Err(error),
            State::Head(reader) if reader.is_blank() && !interim_seen => return Ok(None),
            State::Head(_) => Truncation::Head,
            // ANCHOR_END: finish_head
            // ANCHOR: finish_body
            State::Body {
                response,
                body,
                taken,
                keep,
                refuse_after,
            } => match body {
                // The close ends the body: now, and only now, it may be refused.
                BodyReader::UntilClose => {
                    return match refuse_after {
                        Some(error) => Err(*error),
                        None => Ok(Some(dropped_counted(response, taken, keep))),
                    };
                }
                BodyReader::Length { expected } => Truncation::Body {
                    expected,
                    received: taken + response.body.len() as u64,
                },
                BodyReader::Chunked(_) => Truncation::Chunked {
                    received: taken + response.body.len() as u64,
                },
            },
        };
        Err(HttpError::Truncated { offset, what })
    }
    // ANCHOR_END: finish_body

    // ANCHOR: advance_head
    fn advance(&mut self, input: &[u8]) -> Result<Parsed<Response>, HttpError> {
        let mut pos = 0;
        loop {
            // The state is moved out, and each arm puts back the one that comes next.
            let state = std::mem::replace(&mut self.state, new_head());
            match state {
                State::Failed(error) => {
                    self.state = State::Failed(error.clone());
                    return Err(error);
                }
                State::Head(mut reader) => {
                    let (taken, head) =
                        reader.read(&input[pos..], self.offset, &self.limits, parse_status_line)?;
                    pos += taken;
                    self.offset += taken;
                    let Some(head) = head else {
                        self.state = State::Head(reader);
                        return Ok(Parsed::NeedMore);
                    };
                    match self.after_head(head)? {
                        // Read the next head, which shares `max_head_bytes` with the
                        // interim ones before it (as in curl): each is skipped, so a
                        // server sending them without end would otherwise keep us
                        // reading forever, every read short and every head small.
                        Next::Interim => {
                            self.interim_seen = true;
                            self.state =
                                State::Head(HeadReader::message_after(self.offset).unfolding());
                        }
                        Next::Complete(response) => return Ok(self.done(response, pos)),
                        Next::Body(response, body, refuse_after) => {
                            self.state = self.start_body(response, body, refuse_after);
                        }
                    }
                }
                // ANCHOR_END: advance_head
                // ANCHOR: advance_body
                State::Body {
                    mut response,
                    mut body,
                    taken: mut handed_out,
                    keep,
                    refuse_after,
                } => {
                    let kept = keep.then_some(&mut response.body);
                    let (taken, complete) = body.read(
                        &input[pos..],
                        self.offset,
                        &mut handed_out,
                        kept,
                        &self.limits,
                    )?;
                    pos += taken;
                    self.offset += taken;
                    if complete {
                        // The body was framed and read whole; only its coding is refused.
                        return match refuse_after {
                            Some(error) => Err(*error),
                            None => {
                                let response = dropped_counted(response, handed_out, keep);
                                Ok(self.done(response, pos))
                            }
                        };
                    }
                    self.state = State::Body {
                        response,
                        body,
                        taken: handed_out,
                        keep,
                        refuse_after,
                    };
                    return Ok(Parsed::NeedMore);
                }
            }
        }
    }
    // ANCHOR_END: advance_body

    /// Decides what follows a head: another head (1xx), nothing, or a body.
    fn after_head(&self, head: Head<StatusLine>) -> Result<Next, HttpError> {
        let Head {
            start,
            headers,
            framing,
        } = head;
        // ANCHOR: no_body
        let status = start.status;
        if (100..200).contains(&status) && status != 101 {
            return Ok(Next::Interim);
        }
        let mut keep_alive = persistent(start.version_minor, &headers) && status != 101;
        let no_body = self.method == Method::Head
            || (100..200).contains(&status)
            || status == 204
            || status == 304;
        let Framing { kind, refuse_after } = if no_body {
            Framing::new(BodyKind::None)
        } else {
            response_body(&framing, start.version_minor, &self.limits, &mut keep_alive)?
        };
        // ANCHOR_END: no_body
        let response = Response {
            version_minor: start.version_minor,
            status,
            reason: start.reason,
            headers,
            body: Vec::new(),
            dropped: 0,
            keep_alive,
        };
        Ok(match kind {
            BodyKind::None | BodyKind::Length(0) => Next::Complete(response),
            BodyKind::Length(expected) => {
                Next::Body(response, BodyReader::Length { expected }, refuse_after)
            }
            BodyKind::Chunked => Next::Body(
                response,
                BodyReader::Chunked(ChunkedDecoder::new()),
                refuse_after,
            ),
            BodyKind::UntilClose => Next::Body(response, BodyReader::UntilClose, refuse_after),
        })
    }

    /// The state that reads the body of `response`: kept, or only counted, as
    /// `keep_body` says from its head.
    fn start_body(
        &self,
        mut response: Response,
        body: BodyReader,
        refuse_after: Option<Box<HttpError>>,
    ) -> State {
        let keep = (self.keep_body)(&response);
        if let (true, BodyReader::Length { expected }) = (keep, &body) {
            // Reserve what was announced (it passed `max_body_bytes`), but not more
            // than a read or two would bring: a server may announce and not send.
            let first = usize::try_from(*expected).map_or(64 * 1024, |n| n.min(64 * 1024));
            response.body.reserve(first);
        }
        State::Body {
            response,
            body,
            taken: 0,
            keep,
            refuse_after,
        }
    }

    /// A response is complete: reset for the next one.
    fn done(&mut self, response: Response, used: usize) -> Parsed<Response> {
        self.state = new_head();
        self.offset = 0;
        self.interim_seen = false;
        Parsed::Done {
            message: response,
            used,
        }
    }
}

/// The state before a response's first byte: a head reader that undoes folded lines,
/// as a user agent must (RFC 9112, section 5.2).
fn new_head() -> State {
    State::Head(HeadReader::message().unfolding())
}

/// A response whose body was dropped says how long it was.
fn dropped_counted(mut response: Response, taken: u64, keep: bool) -> Response {
    if !keep {
        response.dropped = taken;
    }
    response
}

impl BodyReader {
    /// Reads body bytes from `input` (at byte `offset` of the message) into `body`,
    /// after the `taken` bytes handed out already; with no `body` (a body dropped),
    /// they are only counted, in `taken`. Returns how many bytes of `input` it took and
    /// whether the body is complete.
    fn read(
        &mut self,
        input: &[u8],
        offset: usize,
        taken: &mut u64,
        body: Option<&mut Vec<u8>>,
        limits: &Limits,
    ) -> Result<(usize, bool), HttpError> {
        let so_far = *taken + body.as_ref().map_or(0, |b| b.len() as u64);
        let (bytes, complete) = match self {
            BodyReader::Length { expected } => {
                let remaining = expected.saturating_sub(so_far);
                let n = input
                    .len()
                    .min(usize::try_from(remaining).unwrap_or(usize::MAX));
                (&input[..n], so_far + n as u64 == *expected)
            }
            BodyReader::Chunked(decoder) => {
                return match body {
                    Some(body) => decoder.decode(input, offset, *taken, body, limits),
                    // Decoded into a scratch buffer, which is counted and dropped.
                    None => {
                        let mut scratch = Vec::new();
                        let read = decoder.decode(input, offset, *taken, &mut scratch, limits);
                        *taken += scratch.len() as u64;
                        read
                    }
                };
            }
            BodyReader::UntilClose => {
                let room = limits
                    .max_body_bytes
                    .saturating_sub(usize::try_from(so_far).unwrap_or(usize::MAX));
                if input.len() > room {
                    return Err(HttpError::BodyTooLarge {
                        offset: offset + room,
                        size: limits.max_body_bytes as u64 + 1,
                        limit: limits.max_body_bytes,
                    });
                }
                (input, false)
            }
        };
        match body {
            Some(body) => body.extend_from_slice(bytes),
            None => *taken += bytes.len() as u64,
        }
        Ok((bytes.len(), complete))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usual_reasons_are_not_copied_others_are_decoded() {
        let reason = |line: &[u8]| parse_status_line(line, 0).unwrap().reason;
        assert!(matches!(reason(b"HTTP/1.1 200 OK"), Cow::Borrowed("OK")));
        assert!(matches!(
            reason(b"HTTP/1.1 404 Not Found"),
            Cow::Borrowed("Not Found")
        ));
        // Not the usual spelling: kept as it came.
        assert!(matches!(reason(b"HTTP/1.1 200 ok"), Cow::Owned(r) if r == "ok"));
        assert!(matches!(reason(b"HTTP/1.1 200 OK "), Cow::Owned(r) if r == "OK "));
        assert!(matches!(reason(b"HTTP/1.1 200 caf\xe9"), Cow::Owned(r) if r == "caf\u{e9}"));
        assert!(matches!(reason(b"HTTP/1.1 204"), Cow::Borrowed("")));
    }

    fn status(s: &str) -> Result<(u8, u16, String), HttpError> {
        parse_status_line(s.as_bytes(), 0)
            .map(|l| (l.version_minor, l.status, l.reason.into_owned()))
    }

    #[test]
    fn status_lines() {
        assert_eq!(status("HTTP/1.1 200 OK"), Ok((1, 200, "OK".into())));
        assert_eq!(
            status("HTTP/1.0 404 Not Found"),
            Ok((0, 404, "Not Found".into()))
        );
        assert_eq!(status("HTTP/1.1 204 "), Ok((1, 204, String::new())));
        assert_eq!(status("HTTP/1.1 204"), Ok((1, 204, String::new())));
        assert_eq!(
            status("HTTP/1.1 200  two\tspaces "),
            Ok((1, 200, " two\tspaces ".into()))
        );
        assert_eq!(status("HTTP/1.1 999 x"), Ok((1, 999, "x".into())));
    }

    #[test]
    fn bad_status_lines() {
        let offset = |s: &str| match status(s) {
            Err(HttpError::BadStatusLine { offset, .. }) => offset,
            other => panic!("{s:?}: {other:?}"),
        };
        assert_eq!(offset("HTTP/1.1"), 8);
        assert_eq!(offset("http/1.1 200 OK"), 0);
        assert_eq!(offset("HTTP/1.1  200 OK"), 9);
        assert_eq!(offset("HTTP/1.1 20 OK"), 9);
        assert_eq!(offset("HTTP/1.1 2000 OK"), 12);
        assert_eq!(offset("HTTP/1.1 099 Low"), 9);
        assert_eq!(offset("HTTP/1.1 200 O\0K"), 14);
        assert_eq!(offset("HTTP/1.1 200 OK\r"), 15);
        assert_eq!(
            status("HTTP/2 200 OK"),
            Err(HttpError::UnsupportedVersion {
                offset: 0,
                version: "HTTP/2".into()
            })
        );
    }

    /// Feeds `input` to `parser` and expects it to want more.
    fn more(parser: &mut ResponseParser, input: &[u8]) {
        assert!(matches!(parser.feed(input), Ok(Parsed::NeedMore)));
    }

    #[test]
    fn a_body_taken_as_it_comes_still_meets_its_length() {
        let mut parser = ResponseParser::new(Method::Get, Limits::default());
        assert!(parser.body_head().is_none(), "no head yet");
        more(
            &mut parser,
            b"HTTP/1.1 206 Partial\r\nContent-Length: 10\r\nETag: \"v1\"\r\n\r\nabc",
        );
        let head = parser
            .body_head()
            .expect("the head, before the body is whole");
        assert_eq!(head.status, 206);
        assert_eq!(head.headers.get("ETag"), Some("\"v1\""));
        assert_eq!(parser.take_body(), b"abc");
        assert_eq!(parser.take_body(), b"", "taken once");
        more(&mut parser, b"defg");
        assert_eq!(parser.take_body(), b"defg");
        // Three more make ten: the response ends, holding what came after the last take.
        match parser.feed(b"hijNEXT") {
            Ok(Parsed::Done { message, used }) => {
                assert_eq!(message.body, b"hij");
                assert_eq!(used, 3, "the bytes after the body are not taken");
            }
            other => panic!("{other:?}"),
        }
        assert!(parser.body_head().is_none(), "between responses");
        assert_eq!(parser.take_body(), b"");
    }

    #[test]
    fn bytes_taken_count_for_the_limit_and_for_a_truncation() {
        let limits = Limits {
            max_body_bytes: 10,
            ..Limits::default()
        };
        // Chunked: 6 taken, then a chunk of 6 passes the limit of 10.
        let mut parser = ResponseParser::new(Method::Get, limits);
        more(
            &mut parser,
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n",
        );
        assert_eq!(parser.take_body(), b"abcdef");
        assert!(matches!(
            parser.feed(b"6\r\n"),
            Err(HttpError::BodyTooLarge { size: 12, .. })
        ));
        // Until the close: the same.
        let mut parser = ResponseParser::new(Method::Get, limits);
        more(&mut parser, b"HTTP/1.1 200 OK\r\n\r\n12345678");
        assert_eq!(parser.take_body().len(), 8);
        assert!(matches!(
            parser.feed(b"abc"),
            Err(HttpError::BodyTooLarge { .. })
        ));
        // A length cut short says how much came, taken bytes included.
        let mut parser = ResponseParser::new(Method::Get, Limits::default());
        more(
            &mut parser,
            b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabcd",
        );
        assert_eq!(parser.take_body(), b"abcd");
        more(&mut parser, b"ef");
        assert!(matches!(
            parser.finish(),
            Err(HttpError::Truncated {
                what: Truncation::Body {
                    expected: 9,
                    received: 6
                },
                ..
            })
        ));
    }
}
