//! Graded tests for exercise `sockets/request-bytes`.
//!
//! The request is compared byte for byte where the task fixes every byte, and checked
//! with `httparse` (an independent parser) where it says what a server must understand.
//! The inputs reach the edges a hand-written request gets wrong: a body whose length
//! in bytes differs from its length in characters, a body that is not text at all, an
//! empty body, an empty path, a path that already starts with two slashes, and a body
//! too long for a small integer.

use sockets_request_bytes::post_request;

/// The request as text, with any byte that is not UTF-8 shown as U+FFFD.
fn text(request: &[u8]) -> String {
    String::from_utf8_lossy(request).into_owned()
}

#[test]
fn writes_the_exact_bytes() {
    let got = post_request("example.org", "/submit", "text/plain", b"hello");
    let want = "POST /submit HTTP/1.1\r\nHost: example.org\r\nContent-Type: text/plain\r\n\
                Content-Length: 5\r\nConnection: close\r\n\r\nhello";
    assert_eq!(text(&got), want);
}

#[test]
fn the_length_counts_bytes_not_characters() {
    // 11 characters, 13 bytes: "é" and "ö" are two bytes each in UTF-8.
    let body = "héllo wörld".as_bytes();
    let got = post_request("h", "/", "text/plain; charset=utf-8", body);
    let text = text(&got);
    assert!(text.contains("\r\nContent-Length: 13\r\n"), "{text}");
    assert!(got.ends_with(body));
}

#[test]
fn a_binary_body_is_carried_byte_for_byte_and_nothing_follows_it() {
    // 255 is not UTF-8, and CR LF CR LF inside the body is data, not an end of head.
    let body = [0u8, 255, 13, 10, 13, 10, 7];
    let got = post_request("h", "/b", "application/octet-stream", &body);
    let mut want = b"POST /b HTTP/1.1\r\nHost: h\r\nContent-Type: application/octet-stream\r\n\
                     Content-Length: 7\r\nConnection: close\r\n\r\n"
        .to_vec();
    want.extend_from_slice(&body);
    assert_eq!(got, want, "got {:?}", text(&got));
}

#[test]
fn an_empty_body_still_ends_the_head_with_an_empty_line() {
    let got = post_request("h", "/e", "text/plain", b"");
    assert_eq!(
        text(&got),
        "POST /e HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain\r\n\
         Content-Length: 0\r\nConnection: close\r\n\r\n"
    );
}

#[test]
fn a_long_body_has_its_whole_length() {
    // 70,000 does not fit in a u16, and a body this long arrives whole.
    let body: Vec<u8> = (0..70_000u32).map(|i| (i % 251) as u8).collect();
    let got = post_request("h", "/upload", "application/octet-stream", &body);
    let head_len = got.len() - body.len();
    assert!(
        text(&got[..head_len]).ends_with("\r\nContent-Length: 70000\r\nConnection: close\r\n\r\n"),
        "{:?}",
        text(&got[..head_len.min(200)])
    );
    assert!(got[head_len..] == body[..], "the body differs");
}

#[test]
fn a_path_without_a_slash_gets_one() {
    let got = post_request("h", "form", "text/plain", b"x");
    assert!(
        got.starts_with(b"POST /form HTTP/1.1\r\n"),
        "{:?}",
        text(&got)
    );
}

#[test]
fn an_empty_path_becomes_a_single_slash() {
    let got = post_request("h", "", "text/plain", b"x");
    assert!(got.starts_with(b"POST / HTTP/1.1\r\n"), "{:?}", text(&got));
}

#[test]
fn a_path_that_starts_with_a_slash_is_sent_as_given() {
    for path in ["/", "//two/slashes", "/a/./b?c=d#e"] {
        let got = post_request("h", path, "text/plain", b"x");
        let want = format!("POST {path} HTTP/1.1\r\n");
        assert!(
            got.starts_with(want.as_bytes()),
            "path {path:?} gave {:?}",
            text(&got)
        );
    }
}

#[test]
fn an_independent_parser_reads_the_same_request() {
    let got = post_request("example.org:8080", "/a?b=c", "text/plain", b"xyz");
    let mut headers = [httparse::EMPTY_HEADER; 16];
    let mut request = httparse::Request::new(&mut headers);
    let status = request.parse(&got).expect("httparse accepts the request");
    let head_len = match status {
        httparse::Status::Complete(n) => n,
        httparse::Status::Partial => panic!("httparse says the head is incomplete"),
    };
    assert_eq!(request.method, Some("POST"));
    assert_eq!(request.path, Some("/a?b=c"));
    assert_eq!(request.version, Some(1), "HTTP/1.1");
    // The four fields, in the task's order, each value as given (the port stays in Host).
    let fields: Vec<(&str, &[u8])> = request.headers.iter().map(|h| (h.name, h.value)).collect();
    assert_eq!(
        fields,
        [
            ("Host", &b"example.org:8080"[..]),
            ("Content-Type", b"text/plain"),
            ("Content-Length", b"3"),
            ("Connection", b"close"),
        ]
    );
    assert_eq!(&got[head_len..], b"xyz");
}
