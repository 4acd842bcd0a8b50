//! Helpers shared by the integration tests: a driver that feeds a parser cut-up bytes
//! (the codec tests), and the pieces the corpus and server tests use to talk to a
//! server and read its raw replies.
//!
//! Every file in `tests/` is a crate of its own and includes this module with
//! `mod common;`. Cargo does not build `tests/common/mod.rs` as a test by itself: a
//! file in a subfolder is not a test target.

// Each test binary compiles this whole module but calls only its part of it (the codec
// tests never open a socket): without this, every helper a binary does not call would
// be a dead-code warning, and an error under `-D warnings`.
#![allow(dead_code)]

use std::fmt::Debug;
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use sockets::client::read_some;
use sockets::http::{
    HttpError, Limits, Method, Parsed, Request, RequestParser, Response, ResponseParser,
};

// ----- bytes, as a failure shows them -----

/// Bytes shown as a byte string, `b"HTTP/1.1 200 OK\r\n"`: printable ASCII as it is, CR,
/// LF and every other byte escaped, so that a failure shows exactly which bytes were
/// there. A long one is cut after [`Bytes::SHOWN`] characters, with its length (some
/// responses in the tests are 16 MiB). `Bytes::of(&slice)` copies a borrowed one.
#[derive(PartialEq)]
pub struct Bytes(pub Vec<u8>);

impl Bytes {
    /// Enough for a request head or a short response.
    pub const SHOWN: usize = 180;

    pub fn of(bytes: impl AsRef<[u8]>) -> Bytes {
        Bytes(bytes.as_ref().to_vec())
    }
}

impl Debug for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let all = &self.0;
        let mut text = String::new();
        let mut bytes = all.iter();
        while text.len() < Self::SHOWN {
            match bytes.next() {
                Some(byte) => text.extend(byte.escape_ascii().map(char::from)),
                None => return write!(f, "b\"{text}\""),
            }
        }
        if bytes.len() == 0 {
            write!(f, "b\"{text}\"")
        } else {
            write!(f, "b\"{text}\"... ({} bytes in all)", all.len())
        }
    }
}

// ----- running a parser over cut-up bytes -----

/// What happened on a stream: each message with the stream position where it ended,
/// then either an error or what `finish` said at the end of the stream (a response
/// delimited by the close, or nothing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event<T> {
    Message { message: T, end: usize },
    Failed(HttpError),
    Closed(Option<T>),
}

/// What both parsers have in common, so that one driver serves both.
pub trait Parser {
    type Message: Debug + PartialEq;
    fn feed(&mut self, input: &[u8]) -> Result<Parsed<Self::Message>, HttpError>;
    fn finish(&mut self) -> Result<Option<Self::Message>, HttpError>;
}

impl Parser for ResponseParser {
    type Message = Response;
    fn feed(&mut self, input: &[u8]) -> Result<Parsed<Response>, HttpError> {
        ResponseParser::feed(self, input)
    }
    fn finish(&mut self) -> Result<Option<Response>, HttpError> {
        ResponseParser::finish(self)
    }
}

impl Parser for RequestParser {
    type Message = Request;
    fn feed(&mut self, input: &[u8]) -> Result<Parsed<Request>, HttpError> {
        RequestParser::feed(self, input)
    }
    // No request runs until the end of the stream: a clean end is never a message.
    fn finish(&mut self) -> Result<Option<Request>, HttpError> {
        RequestParser::finish(self).map(|()| None)
    }
}

/// Feeds `bytes` in the pieces `cuts` makes (any order, duplicates allowed), then finishes.
pub fn events<P: Parser>(mut parser: P, bytes: &[u8], cuts: &[usize]) -> Vec<Event<P::Message>> {
    let mut cuts: Vec<usize> = cuts.iter().map(|&c| c.min(bytes.len())).collect();
    cuts.sort_unstable();
    let mut out = Vec::new();
    let mut start = 0;
    for end in cuts.into_iter().chain([bytes.len()]) {
        let mut piece = &bytes[start..end];
        let mut at = start;
        loop {
            match parser.feed(piece) {
                Ok(Parsed::NeedMore) => break,
                Ok(Parsed::Done { message, used }) => {
                    assert!(used <= piece.len(), "used {used} of {} bytes", piece.len());
                    at += used;
                    piece = &piece[used..];
                    out.push(Event::Message { message, end: at });
                    if piece.is_empty() {
                        break;
                    }
                }
                Err(error) => {
                    out.push(Event::Failed(error));
                    return out;
                }
            }
        }
        start = end;
    }
    out.push(match parser.finish() {
        Ok(last) => Event::Closed(last),
        Err(error) => Event::Failed(error),
    });
    out
}

/// The events for `bytes` fed whole to a parser from `new_parser`, checked to be the
/// same fed byte by byte and cut in two at every position (at a sample of about 512
/// positions for inputs longer than that, to keep the long ones quick).
pub fn every_cut<P: Parser>(new_parser: impl Fn() -> P, bytes: &[u8]) -> Vec<Event<P::Message>> {
    let whole = events(new_parser(), bytes, &[]);
    let bytewise: Vec<usize> = (1..bytes.len()).collect();
    assert_eq!(
        events(new_parser(), bytes, &bytewise),
        whole,
        "byte by byte differs from whole for {:?}",
        String::from_utf8_lossy(bytes)
    );
    let step = (bytes.len() / 512).max(1);
    for cut in (0..=bytes.len()).step_by(step) {
        assert_eq!(
            events(new_parser(), bytes, &[cut]),
            whole,
            "cut at {cut} differs from whole for {:?}",
            String::from_utf8_lossy(bytes)
        );
    }
    whole
}

// ----- raw replies, and a live server -----

/// A GET for `target`, as a client on a kept-alive connection sends it.
pub fn get_request(target: &str) -> String {
    format!("GET {target} HTTP/1.1\r\nHost: test\r\n\r\n")
}

/// The head (as text) and the body bytes of a raw response.
pub fn split(raw: &[u8]) -> (String, &[u8]) {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete head");
    let head = String::from_utf8(raw[..end].to_vec()).expect("an ASCII head");
    (head, &raw[end + 4..])
}

/// The value of the first field called `name` (in any case) in a head from [`split`].
pub fn header(head: &str, name: &str) -> Option<String> {
    head.lines().skip(1).find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
    })
}

/// A connection to a test server, with a timeout on every connect, read and write: a
/// server that stalls fails the test instead of hanging it.
pub fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream
        .set_write_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream
}

/// Reads responses to `methods`, in order, from one stream: the bytes of one read may
/// hold the end of a response and the start of the next.
pub fn read_responses(stream: &mut TcpStream, methods: &[Method]) -> Vec<Response> {
    let mut responses = Vec::new();
    let mut buf = [0u8; 4096];
    let mut pending: Vec<u8> = Vec::new();
    for &method in methods {
        let mut parser = ResponseParser::new(method, Limits::default());
        let response = 'one: loop {
            if !pending.is_empty() {
                match parser.feed(&pending).expect("a valid response") {
                    Parsed::Done { message, used } => {
                        pending.drain(..used);
                        break 'one message;
                    }
                    Parsed::NeedMore => pending.clear(),
                }
            }
            let n = read_some(stream, &mut buf).expect("a response within 5 s");
            assert!(n > 0, "closed after {} responses", responses.len());
            pending.extend_from_slice(&buf[..n]);
        };
        responses.push(response);
    }
    assert!(pending.is_empty(), "bytes after the last response");
    responses
}
