//! Requests: written by the client, parsed by the server.
//!
//! The client side is one function, [`write_request`]: a request line and three header
//! fields. The server side is [`RequestParser`], which reads request heads from pieces
//! of input. This course's server serves documents, so a request is `GET` or `HEAD`
//! with no body; anything else is refused with an error that tells the server what to
//! answer ([`HttpError::status`]): 501 for other methods, 505 for other versions, 413
//! for a body.

use std::fmt;

use super::Parsed;
use super::error::{HttpError, Truncation};
use super::framing::{check_request_has_no_body, persistent};
use super::head::{HeadReader, Version, parse_version};
use super::headers::{Headers, decode_text, find_control_byte, is_tchar, is_text_byte};
use super::limits::Limits;

/// The methods this codec speaks: a downloader only ever fetches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// Fetch a document.
    Get,
    /// Fetch only the head of the response that GET would give: its response has no
    /// body even when it announces a Content-Length.
    Head,
}

impl Method {
    /// The method's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a client says in a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestHead<'a> {
    pub method: Method,
    /// The `Host` header: `host` or `host:port` (see `Url::host_header`).
    pub host: &'a str,
    /// The request target: the path and query (`/wiki/Rust?x=1`).
    pub target: &'a str,
    /// Ask the server to keep the connection open for another request.
    pub keep_alive: bool,
    /// The `User-Agent` header; left out when empty.
    pub user_agent: &'a str,
}

// ANCHOR: write_request_api
/// Appends the bytes of `head` as an HTTP/1.1 request to `out`:
///
/// ```text
/// GET /wiki/Rust HTTP/1.1\r\n
/// Host: localhost:8080\r\n
/// User-Agent: sockets/0.1\r\n
/// Connection: keep-alive\r\n
/// \r\n
/// ```
///
/// The output is always a well-formed request, whatever the strings hold: in the
/// target, bytes that may not appear there (spaces, controls, non-ASCII) are
/// percent-encoded, and control bytes are left out of the header values. A string
/// holding `\r\n` can thus never add a header line of its own ("header injection").
pub fn write_request(head: &RequestHead<'_>, out: &mut Vec<u8>) {
    write_request_with(head, &[], out);
}
// ANCHOR_END: write_request_api

// ANCHOR: write_request_with
/// [`write_request`] with more header lines after the usual ones (lesson 5's
/// downloader sends `X-Attempt`), each written as safely as the others: control bytes
/// are left out of the values, and a name is kept only if it is a valid token.
pub fn write_request_with(head: &RequestHead<'_>, extra: &[(&str, &str)], out: &mut Vec<u8>) {
    write_request_line(head.method, head.target, out);
    write_header_lines(head, extra, out);
}

/// The request line: `GET /wiki/Rust HTTP/1.1\r\n`.
pub fn write_request_line(method: Method, target: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(method.as_str().as_bytes());
    out.push(b' ');
    write_target(target, out);
    out.extend_from_slice(b" HTTP/1.1\r\n");
}

/// The header lines of `head` (its method and target aside), then `extra`'s, then the
/// empty line that ends the request. They are the same for every request of one
/// client to one host, so a client sending many may write them once and copy them
/// after each request line (lesson 5's downloader does).
pub fn write_header_lines(head: &RequestHead<'_>, extra: &[(&str, &str)], out: &mut Vec<u8>) {
    write_field("Host", head.host, out);
    if !head.user_agent.is_empty() {
        write_field("User-Agent", head.user_agent, out);
    }
    // HTTP/1.1 keeps connections open by default; saying so costs a line and makes
    // the request read the same to an HTTP/1.0 server.
    let connection = if head.keep_alive {
        "keep-alive"
    } else {
        "close"
    };
    write_field("Connection", connection, out);
    for &(name, value) in extra {
        if !name.is_empty() && name.bytes().all(is_tchar) {
            write_field(name, value, out);
        }
    }
    out.extend_from_slice(b"\r\n");
}
// ANCHOR_END: write_request_with

/// The target as visible ASCII: anything else percent-encoded; empty becomes `/`.
fn write_target(target: &str, out: &mut Vec<u8>) {
    if target.is_empty() {
        out.push(b'/');
    }
    // Nearly every target needs no encoding: then it is copied whole.
    if target.bytes().all(|b| b.is_ascii_graphic()) {
        out.extend_from_slice(target.as_bytes());
        return;
    }
    for &b in target.as_bytes() {
        if b.is_ascii_graphic() {
            out.push(b);
        } else {
            out.extend_from_slice(format!("%{b:02X}").as_bytes());
        }
    }
}

/// `name: value\r\n`, control bytes (CR and LF among them) left out of the value.
fn write_field(name: &str, value: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    // A value with no control byte (nearly all) is copied whole, not byte by byte.
    match find_control_byte(value.as_bytes()) {
        None => out.extend_from_slice(value.as_bytes()),
        Some(_) => out.extend(value.bytes().filter(|&b| is_text_byte(b))),
    }
    out.extend_from_slice(b"\r\n");
}

/// A request as a server received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: Method,
    /// The request target as sent (`/wiki/Rust?x=1`, or an absolute URL through a proxy).
    pub target: String,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub version_minor: u8,
    pub headers: Headers,
}

impl Request {
    /// Whether the client wants the connection kept open after the response: HTTP/1.1
    /// unless it says `Connection: close`, HTTP/1.0 only with `Connection: keep-alive`.
    pub fn keep_alive(&self) -> bool {
        persistent(self.version_minor, &self.headers)
    }
}

/// The parsed request line.
#[derive(Debug)]
struct RequestLine {
    method: Method,
    target: String,
    version_minor: u8,
}

// ANCHOR: parse_request_line
/// `method SP request-target SP HTTP-version` (RFC 9112, section 3), checked in that
/// order: syntax first, then the version (505), then the method (501).
fn parse_request_line(line: &[u8], offset: usize) -> Result<RequestLine, HttpError> {
    let bad = |at: usize, reason: &str| HttpError::BadRequestLine {
        offset: offset + at,
        reason: reason.to_string(),
    };
    let method_len = line.iter().take_while(|&&b| is_tchar(b)).count();
    if method_len == 0 {
        return Err(bad(0, "expected a method such as GET"));
    }
    if line.get(method_len) != Some(&b' ') {
        return Err(bad(method_len, "expected one space after the method"));
    }
    let target_at = method_len + 1;
    let target_len = line[target_at..]
        .iter()
        .take_while(|b| b.is_ascii_graphic())
        .count();
    if target_len == 0 {
        return Err(bad(
            target_at,
            "expected a request target such as /index.html",
        ));
    }
    let version_at = target_at + target_len + 1;
    match line.get(version_at - 1) {
        Some(b' ') => {}
        Some(_) => {
            return Err(bad(
                version_at - 1,
                "expected one space after the request target",
            ));
        }
        None => {
            return Err(bad(
                version_at - 1,
                "no HTTP version (HTTP/0.9 is not supported)",
            ));
        }
    }
    let version = &line[version_at..];
    let version_minor = match parse_version(version) {
        Version::Supported(minor) => minor,
        Version::Unsupported => {
            return Err(HttpError::UnsupportedVersion {
                offset: offset + version_at,
                version: decode_text(version),
            });
        }
        Version::Malformed => {
            return Err(bad(
                version_at,
                "expected HTTP/1.0 or HTTP/1.1 to end the line",
            ));
        }
    };
    let method = match &line[..method_len] {
        b"GET" => Method::Get,
        b"HEAD" => Method::Head,
        other => {
            return Err(HttpError::MethodNotSupported {
                offset,
                method: decode_text(other),
            });
        }
    };
    Ok(RequestLine {
        method,
        target: decode_text(&line[target_at..target_at + target_len]),
        version_minor,
    })
}
// ANCHOR_END: parse_request_line

/// Parses requests from the bytes a server receives, one after another.
///
/// Feed it whatever `read` returned. [`Parsed::NeedMore`] means every byte was taken
/// and the request is not complete yet; [`Parsed::Done`] gives a request and how many
/// bytes of this input it used: the rest belongs to the next request (a pipelining
/// client sends several at once), so feed it again. After `Done` the parser is ready
/// for the next request. After an error it stays failed: every later call returns the
/// same error, since no one can tell where the next request would start.
#[derive(Debug)]
pub struct RequestParser {
    limits: Limits,
    /// Bytes of the current request taken so far.
    offset: usize,
    state: State,
}

#[derive(Debug)]
enum State {
    Head(HeadReader<RequestLine>),
    Failed(HttpError),
}

impl RequestParser {
    pub fn new(limits: Limits) -> RequestParser {
        RequestParser {
            limits,
            offset: 0,
            state: State::Head(HeadReader::message()),
        }
    }

    /// Takes the next bytes of the stream.
    pub fn feed(&mut self, input: &[u8]) -> Result<Parsed<Request>, HttpError> {
        let result = self.advance(input);
        if let Err(error) = &result {
            self.state = State::Failed(error.clone());
        }
        result
    }

    /// Says the stream has ended. `Ok` if it ended between requests (nothing, or only
    /// empty lines, received since the last one); [`HttpError::Truncated`] if it ended
    /// in the middle of a request. The parser is then ready for a new stream.
    pub fn finish(&mut self) -> Result<(), HttpError> {
        let state = std::mem::replace(&mut self.state, State::Head(HeadReader::message()));
        let offset = std::mem::take(&mut self.offset);
        match state {
            State::Failed(error) => Err(error),
            State::Head(reader) if reader.is_blank() => Ok(()),
            State::Head(_) => Err(HttpError::Truncated {
                offset,
                what: Truncation::Head,
            }),
        }
    }

    fn advance(&mut self, input: &[u8]) -> Result<Parsed<Request>, HttpError> {
        let reader = match &mut self.state {
            State::Failed(error) => return Err(error.clone()),
            State::Head(reader) => reader,
        };
        let (used, head) = reader.read(input, self.offset, &self.limits, parse_request_line)?;
        self.offset += used;
        let Some(head) = head else {
            return Ok(Parsed::NeedMore);
        };
        check_request_has_no_body(&head.framing)?;
        self.state = State::Head(HeadReader::message());
        self.offset = 0;
        Ok(Parsed::Done {
            message: Request {
                method: head.start.method,
                target: head.start.target,
                version_minor: head.start.version_minor,
                headers: head.headers,
            },
            used,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(s: &str) -> Result<(Method, String, u8), HttpError> {
        parse_request_line(s.as_bytes(), 0).map(|l| (l.method, l.target, l.version_minor))
    }

    #[test]
    fn request_lines() {
        assert_eq!(line("GET / HTTP/1.1"), Ok((Method::Get, "/".into(), 1)));
        assert_eq!(
            line("HEAD /a?b=c HTTP/1.0"),
            Ok((Method::Head, "/a?b=c".into(), 0))
        );
        assert_eq!(
            line("GET http://h/x HTTP/1.1"),
            Ok((Method::Get, "http://h/x".into(), 1))
        );
    }

    #[test]
    fn bad_request_lines() {
        let offset = |s: &str| match line(s) {
            Err(HttpError::BadRequestLine { offset, .. }) => offset,
            other => panic!("{s:?}: {other:?}"),
        };
        assert_eq!(offset(" GET / HTTP/1.1"), 0);
        assert_eq!(offset("GET  / HTTP/1.1"), 4);
        assert_eq!(offset("GET /"), 5);
        assert_eq!(offset("GET /a\tb HTTP/1.1"), 6);
        assert_eq!(offset("GET / HTTP/1.1 "), 6);
        assert_eq!(offset("GET / http/1.1"), 6);
        assert_eq!(offset("G(T / HTTP/1.1"), 1);
    }

    #[test]
    fn versions_then_methods() {
        assert_eq!(
            line("GET / HTTP/2.0"),
            Err(HttpError::UnsupportedVersion {
                offset: 6,
                version: "HTTP/2.0".into()
            })
        );
        assert_eq!(
            line("POST / HTTP/1.1"),
            Err(HttpError::MethodNotSupported {
                offset: 0,
                method: "POST".into()
            })
        );
        // Methods are case-sensitive.
        assert!(matches!(
            line("get / HTTP/1.1"),
            Err(HttpError::MethodNotSupported { .. })
        ));
        assert_eq!(line("POST / HTTP/3").unwrap_err().status(), 505);
        assert_eq!(line("DELETE / HTTP/1.0").unwrap_err().status(), 501);
    }

    #[test]
    fn versions() {
        assert_eq!(parse_version(b"HTTP/1.1"), Version::Supported(1));
        assert_eq!(parse_version(b"HTTP/1.0"), Version::Supported(0));
        assert_eq!(parse_version(b"HTTP/2"), Version::Unsupported);
        assert_eq!(parse_version(b"HTTP/1.2"), Version::Unsupported);
        assert_eq!(parse_version(b"HTTP/0.9"), Version::Unsupported);
        assert_eq!(parse_version(b"HTTP/1."), Version::Malformed);
        assert_eq!(parse_version(b"HTTP/11.1"), Version::Malformed);
        assert_eq!(parse_version(b"HTTPS/1.1"), Version::Malformed);
        assert_eq!(parse_version(b""), Version::Malformed);
    }
}
