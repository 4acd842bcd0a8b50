//! Graded tests for exercise `sockets/request-bytes`.
//!
//! The request is compared byte for byte where the task fixes every byte, and checked
//! with `httparse` (an independent parser) where it says what a server must understand.
//! The inputs reach the edges a hand-written request gets wrong: a body whose length
//! in bytes differs from its length in characters, a body that is not text at all, an
//! empty body, an empty path, a path that already starts with two slashes, and a body
//! too long for a small integer.
//!
//! Every check names the call it made (`post_request("h", "/b", ...)`) and the rule of
//! the task it checks ([`graded::case`]), and shows the request that came back as a byte
//! string (`b"POST /b HTTP/1.1\r\n..."`); a panic in `post_request` is reported as one,
//! with the call that caused it.

#[path = "../../../tests/common/mod.rs"]
mod common;

use common::Bytes;
use std::fmt;

use graded::{Case, case};
use sockets_request_bytes::post_request;

/// The arguments of one call of `post_request`: the input of a graded case, shown as
/// the call itself.
struct Call<'a> {
    host: &'a str,
    path: &'a str,
    content_type: &'a str,
    body: &'a [u8],
}

impl fmt::Debug for Call<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Call {
            host,
            path,
            content_type,
            body,
        } = self;
        let body = Bytes(body.to_vec());
        write!(
            f,
            "post_request({host:?}, {path:?}, {content_type:?}, {body:?})"
        )
    }
}

/// Calls `post_request` with these arguments as the case of `rule`, and returns the
/// case (for the checks) and the request. A panic in `post_request` fails the test
/// with the call that caused it. A failure points at the line that called it
/// (`track_caller`), not at this helper.
#[track_caller]
fn post(host: &str, path: &str, content_type: &str, body: &[u8], rule: &str) -> (Case, Vec<u8>) {
    let call = Call {
        host,
        path,
        content_type,
        body,
    };
    let c = case(call, rule);
    let request = c.run(|| post_request(host, path, content_type, body));
    (c, request)
}

/// The request as text, with any byte that is not UTF-8 shown as U+FFFD.
fn text(request: &[u8]) -> String {
    String::from_utf8_lossy(request).into_owned()
}

/// Where two byte strings first differ (or where the shorter one ends), if they do.
fn first_difference(a: &[u8], b: &[u8]) -> Option<usize> {
    let common = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    (common < a.len().max(b.len())).then_some(common)
}

#[test]
fn writes_the_exact_bytes() {
    let (c, got) = post(
        "example.org",
        "/submit",
        "text/plain",
        b"hello",
        "the request line, Host, Content-Type, Content-Length, Connection: close, each \
         ending with CR LF, an empty line, then the body and nothing after it",
    );
    let want = "POST /submit HTTP/1.1\r\nHost: example.org\r\nContent-Type: text/plain\r\n\
                Content-Length: 5\r\nConnection: close\r\n\r\nhello";
    c.eq(Bytes(got), Bytes(want.as_bytes().to_vec()));
}

#[test]
fn the_length_counts_bytes_not_characters() {
    // 11 characters, 13 bytes: "é" and "ö" are two bytes each in UTF-8.
    let body = "héllo wörld".as_bytes();
    let (c, got) = post(
        "h",
        "/",
        "text/plain; charset=utf-8",
        body,
        "Content-Length is the body's length in bytes: 13, not its 11 characters",
    );
    c.check(
        text(&got).contains("\r\nContent-Length: 13\r\n"),
        Bytes(got.clone()),
    );
    c.rule("the body follows the empty line byte for byte, nothing after it")
        .check(got.ends_with(body), Bytes(got));
}

#[test]
fn a_binary_body_is_carried_byte_for_byte_and_nothing_follows_it() {
    // 255 is not UTF-8, and CR LF CR LF inside the body is data, not an end of head.
    let body = [0u8, 255, 13, 10, 13, 10, 7];
    let (c, got) = post(
        "h",
        "/b",
        "application/octet-stream",
        &body,
        "the body byte for byte (any bytes, not only text) and nothing after it",
    );
    let mut want = b"POST /b HTTP/1.1\r\nHost: h\r\nContent-Type: application/octet-stream\r\n\
                     Content-Length: 7\r\nConnection: close\r\n\r\n"
        .to_vec();
    want.extend_from_slice(&body);
    c.eq(Bytes(got), Bytes(want));
}

#[test]
fn an_empty_body_still_ends_the_head_with_an_empty_line() {
    let (c, got) = post(
        "h",
        "/e",
        "text/plain",
        b"",
        "an empty body: the head still ends with its empty line, Content-Length: 0",
    );
    let want = "POST /e HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain\r\n\
                Content-Length: 0\r\nConnection: close\r\n\r\n";
    c.eq(Bytes(got), Bytes(want.as_bytes().to_vec()));
}

#[test]
fn a_long_body_has_its_whole_length() {
    // 70,000 does not fit in a u16, and a body this long arrives whole. It holds no
    // CR LF CR LF (its bytes count up, 13 is followed by 14), so the first one in the
    // request ends the head.
    let body: Vec<u8> = (0..70_000u32).map(|i| (i % 251) as u8).collect();
    let (c, got) = post(
        "h",
        "/upload",
        "application/octet-stream",
        &body,
        "Content-Length is the body's length in bytes (70000), then the empty line",
    );
    let Some(head_len) = got
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|at| at + 4)
    else {
        c.rule("the head ends with an empty line")
            .fail_with(&format!("no empty line in {:?}", Bytes(got)))
    };
    c.check(
        text(&got[..head_len]).ends_with("\r\nContent-Length: 70000\r\nConnection: close\r\n\r\n"),
        Bytes(got[..head_len].to_vec()),
    );
    if let Some(at) = first_difference(&got[head_len..], &body) {
        c.rule("the body follows the empty line byte for byte (70000 bytes), nothing after it")
            .fail_with(&format!(
                "{} bytes after the head, which differ from the body from byte {at} on",
                got.len() - head_len
            ));
    }
}

#[test]
fn a_path_without_a_slash_gets_one() {
    let (c, got) = post(
        "h",
        "form",
        "text/plain",
        b"x",
        "a path that does not start with / gets one in front: POST /form HTTP/1.1",
    );
    c.check(got.starts_with(b"POST /form HTTP/1.1\r\n"), Bytes(got));
}

#[test]
fn an_empty_path_becomes_a_single_slash() {
    let (c, got) = post(
        "h",
        "",
        "text/plain",
        b"x",
        "an empty path becomes /: POST / HTTP/1.1",
    );
    c.check(got.starts_with(b"POST / HTTP/1.1\r\n"), Bytes(got));
}

#[test]
fn a_path_that_starts_with_a_slash_is_sent_as_given() {
    for path in ["/", "//two/slashes", "/a/./b?c=d#e"] {
        let (c, got) = post(
            "h",
            path,
            "text/plain",
            b"x",
            "a path that starts with / is sent as given, every slash kept",
        );
        let want = format!("POST {path} HTTP/1.1\r\n");
        c.check(got.starts_with(want.as_bytes()), Bytes(got));
    }
}

#[test]
fn an_independent_parser_reads_the_same_request() {
    let (c, got) = post(
        "example.org:8080",
        "/a?b=c",
        "text/plain",
        b"xyz",
        "a request that an HTTP parser (httparse) reads whole",
    );
    let mut headers = [httparse::EMPTY_HEADER; 16];
    let mut request = httparse::Request::new(&mut headers);
    let head_len = match request.parse(&got) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => {
            c.rule("the head ends with an empty line")
                .fail_with(&format!(
                    "httparse finds no end of head in {:?}",
                    Bytes(got)
                ))
        }
        Err(e) => c.fail_with(&format!("httparse refuses it ({e}): {:?}", Bytes(got))),
    };
    let request_line = c.rule("the request line is `POST path HTTP/1.1`");
    request_line.eq(request.method, Some("POST"));
    request_line.eq(request.path, Some("/a?b=c"));
    c.rule("the request line ends with HTTP/1.1 (httparse's version 1)")
        .eq(request.version, Some(1));
    // The four fields, in the task's order, each value as given (the port stays in Host).
    let fields: Vec<(&str, Bytes)> = request
        .headers
        .iter()
        .map(|h| (h.name, Bytes(h.value.to_vec())))
        .collect();
    let want = [
        ("Host", "example.org:8080"),
        ("Content-Type", "text/plain"),
        ("Content-Length", "3"),
        ("Connection", "close"),
    ];
    c.rule("Host (port included), Content-Type, Content-Length, Connection: close, in order")
        .eq(
            fields,
            want.iter()
                .map(|&(name, value)| (name, Bytes(value.as_bytes().to_vec())))
                .collect(),
        );
    c.rule("after the head, the body and nothing else")
        .eq(Bytes(got[head_len..].to_vec()), Bytes(b"xyz".to_vec()));
}
