//! Graded tests for exercise `sockets/request-bytes`.

use sockets::exercises::request_bytes::post_request;

#[test]
fn writes_the_exact_bytes() {
    let got = post_request("example.org", "/submit", "text/plain", b"hello");
    let want = "POST /submit HTTP/1.1\r\nHost: example.org\r\nContent-Type: text/plain\r\n\
                Content-Length: 5\r\nConnection: close\r\n\r\nhello";
    assert_eq!(String::from_utf8_lossy(&got), want);
}

#[test]
fn the_length_counts_bytes_not_characters() {
    let body = "héllo wörld".as_bytes();
    let got = post_request("h", "/", "text/plain; charset=utf-8", body);
    let text = String::from_utf8_lossy(&got);
    assert!(text.contains("Content-Length: 13\r\n"), "{text}");
    assert!(got.ends_with(body));
}

#[test]
fn a_binary_or_empty_body_is_carried_as_is() {
    let body = [0u8, 255, 13, 10, 13, 10, 7];
    let got = post_request("h", "/b", "application/octet-stream", &body);
    assert!(got.ends_with(&body));
    let empty = post_request("h", "/e", "text/plain", b"");
    assert!(
        String::from_utf8_lossy(&empty).ends_with("Content-Length: 0\r\nConnection: close\r\n\r\n")
    );
}

#[test]
fn a_path_without_a_slash_gets_one() {
    let got = post_request("h", "form", "text/plain", b"x");
    assert!(got.starts_with(b"POST /form HTTP/1.1\r\n"));
}

#[test]
fn an_independent_parser_accepts_it() {
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
    assert_eq!(&got[head_len..], b"xyz");
}
