//! The request side: what the client writes, and what the server's parser accepts,
//! whole and in pieces.

mod common;

use common::{Event, every_cut};
use sockets::http::{
    HttpError, Limits, Method, Parsed, Request, RequestHead, RequestParser, Section, Truncation,
    write_request,
};
use sockets::url::Url;

/// The events for `bytes`, checked to be the same fed whole, byte by byte and cut in two
/// at every position (the requests here are short: no position is left out).
fn check_with(limits: Limits, bytes: &[u8]) -> Vec<Event<Request>> {
    every_cut(|| RequestParser::new(limits), bytes)
}

fn check(bytes: &str) -> Vec<Event<Request>> {
    check_with(Limits::default(), bytes.as_bytes())
}

fn one(bytes: &str) -> Request {
    match check(bytes).as_slice() {
        [
            Event::Message {
                message: request,
                end,
            },
            Event::Closed(None),
        ] if *end == bytes.len() => request.clone(),
        other => panic!("expected one request from {bytes:?}, got {other:?}"),
    }
}

fn error(bytes: &str) -> HttpError {
    match check(bytes).last() {
        Some(Event::Failed(error)) => error.clone(),
        other => panic!("expected an error from {bytes:?}, got {other:?}"),
    }
}

#[test]
fn write_request_lays_out_the_head() {
    let mut out = Vec::new();
    write_request(
        &RequestHead {
            method: Method::Get,
            host: "localhost:8080",
            target: "/wiki/42?x=1",
            keep_alive: true,
            user_agent: "sockets/0.1",
        },
        &mut out,
    );
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "GET /wiki/42?x=1 HTTP/1.1\r\nHost: localhost:8080\r\nUser-Agent: sockets/0.1\r\nConnection: keep-alive\r\n\r\n"
    );
    let mut out = b"previous bytes stay;".to_vec();
    write_request(
        &RequestHead {
            method: Method::Head,
            host: "h",
            target: "",
            keep_alive: false,
            user_agent: "",
        },
        &mut out,
    );
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "previous bytes stay;HEAD / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
    );
}

#[test]
fn write_request_cannot_be_made_to_inject_lines() {
    let mut out = Vec::new();
    write_request(
        &RequestHead {
            method: Method::Get,
            host: "h\r\nX-Evil: 1",
            target: "/a b\r\nX-Evil: 2\r\n",
            keep_alive: true,
            user_agent: "ua\n\0",
        },
        &mut out,
    );
    let text = String::from_utf8(out.clone()).unwrap();
    assert_eq!(
        text,
        "GET /a%20b%0D%0AX-Evil:%202%0D%0A HTTP/1.1\r\nHost: hX-Evil: 1\r\nUser-Agent: ua\r\nConnection: keep-alive\r\n\r\n"
    );
    let request = one(&text);
    assert_eq!(request.headers.get("x-evil"), None);
}

#[test]
fn what_the_client_writes_the_server_reads() {
    for (url, method, keep_alive) in [
        ("http://localhost:8080/wiki/7", Method::Get, true),
        ("http://[::1]:9000/a?b=c", Method::Head, false),
        ("http://example.com/Caf\u{e9}", Method::Get, false),
    ] {
        let url = Url::parse(url).unwrap();
        let host = url.host_header();
        let mut bytes = Vec::new();
        write_request(
            &RequestHead {
                method,
                host: &host,
                target: &url.path,
                keep_alive,
                user_agent: "test",
            },
            &mut bytes,
        );
        let request = one(std::str::from_utf8(&bytes).unwrap());
        assert_eq!(request.method, method);
        assert_eq!(request.target, url.path);
        assert_eq!(request.version_minor, 1);
        assert_eq!(request.headers.get("host"), Some(host.as_str()));
        assert_eq!(request.headers.get("user-agent"), Some("test"));
        assert_eq!(request.keep_alive(), keep_alive);
    }
}

#[test]
fn keep_alive_by_version_and_connection() {
    let keep = |s: &str| one(s).keep_alive();
    assert!(keep("GET / HTTP/1.1\r\nHost: h\r\n\r\n"));
    assert!(!keep(
        "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
    ));
    assert!(!keep(
        "GET / HTTP/1.1\r\nConnection: keep-alive, CLOSE\r\n\r\n"
    ));
    assert!(!keep("GET / HTTP/1.0\r\n\r\n"));
    assert!(keep("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"));
}

#[test]
fn pipelined_requests_and_stray_empty_lines() {
    let stream = "GET /1 HTTP/1.1\r\nHost: h\r\n\r\nHEAD /2 HTTP/1.1\nHost: h\n\n\r\nGET /3 HTTP/1.0\r\n\r\n\r\n";
    let events = check(stream);
    let targets: Vec<(&str, Method, usize)> = events
        .iter()
        .filter_map(|e| match e {
            Event::Message {
                message: request,
                end,
            } => Some((request.target.as_str(), request.method, *end)),
            _ => None,
        })
        .collect();
    assert_eq!(
        targets,
        [
            ("/1", Method::Get, 28),
            ("/2", Method::Head, 54),
            ("/3", Method::Get, 75)
        ]
    );
    assert_eq!(events.last(), Some(&Event::Closed(None)));
}

#[test]
fn other_methods_are_refused_with_their_name() {
    let err = error("POST /form HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc");
    assert_eq!(
        err,
        HttpError::MethodNotSupported {
            offset: 0,
            method: "POST".into()
        }
    );
    assert_eq!(err.status(), 501);
    assert!(err.to_string().contains("\"POST\""));
    assert!(matches!(
        error("\r\nOPTIONS * HTTP/1.1\r\n\r\n"),
        HttpError::MethodNotSupported { offset: 2, .. }
    ));
}

#[test]
fn request_bodies_are_refused() {
    let err = error("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc");
    assert_eq!(
        err,
        HttpError::RequestBodyNotSupported {
            offset: 41,
            framing: "Content-Length: 3".into()
        }
    );
    assert!(
        err.to_string()
            .contains("requests with a body are not supported")
    );
    assert!(matches!(
        error("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
        HttpError::RequestBodyNotSupported { offset: 35, .. }
    ));
    assert!(matches!(
        error("GET / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n"),
        HttpError::UnsupportedTransferEncoding { offset: 35, .. }
    ));
    assert!(matches!(
        error("GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
        HttpError::ConflictingContentLength { offset: 51, .. }
    ));
    // Content-Length: 0 is no body.
    let request = one("GET / HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(request.headers.get("content-length"), Some("0"));
}

#[test]
fn bad_requests_name_their_byte() {
    let err = error("GET /index.html HTTP/2.0\r\n\r\n");
    assert_eq!(
        err,
        HttpError::UnsupportedVersion {
            offset: 16,
            version: "HTTP/2.0".into()
        }
    );
    assert_eq!(err.status(), 505);
    for (bytes, at) in [
        ("GET /\r\n\r\n", 5),
        ("GET  / HTTP/1.1\r\n\r\n", 4),
        ("GET / HTTP/1.1 \r\n\r\n", 6),
        ("GET /a\x7fb HTTP/1.1\r\n\r\n", 6),
        ("\x16\x03\x01 TLS hello\r\n", 0),
    ] {
        match error(bytes) {
            HttpError::BadRequestLine { offset, .. } => assert_eq!(offset, at, "{bytes:?}"),
            other => panic!("{bytes:?}: {other:?}"),
        }
    }
    assert_eq!(
        error("GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n"),
        HttpError::ObsoleteLineFolding { offset: 25 }
    );
    assert_eq!(error("GET / HTTP/1.1\r\nBad Name: 1\r\n\r\n").status(), 400);
}

#[test]
fn request_limits() {
    let limits = Limits {
        max_head_bytes: 32,
        max_headers: 2,
        ..Limits::default()
    };
    let err = check_with(
        limits,
        b"GET / HTTP/1.1\r\nHost: a-rather-long-host\r\n\r\n",
    );
    assert_eq!(
        err.last(),
        Some(&Event::Failed(HttpError::HeadTooLarge {
            section: Section::Head,
            offset: 32,
            limit: 32
        }))
    );
    let limits = Limits {
        max_headers: 2,
        ..Limits::default()
    };
    let err = check_with(limits, b"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n");
    assert!(matches!(
        err.last(),
        Some(Event::Failed(HttpError::TooManyHeaders {
            offset: 28,
            limit: 2,
            ..
        }))
    ));
    if let Some(Event::Failed(e)) = err.last() {
        assert_eq!(e.status(), 431);
    }
}

#[test]
fn end_of_stream() {
    assert_eq!(check(""), [Event::Closed(None)]);
    assert_eq!(check("\r\n\r\n"), [Event::Closed(None)]);
    assert_eq!(
        check("GET / HTTP/1.1\r\nHost"),
        [Event::Failed(HttpError::Truncated {
            offset: 20,
            what: Truncation::Head
        })]
    );
}

#[test]
fn a_failed_parser_stays_failed() {
    let mut parser = RequestParser::new(Limits::default());
    let err = parser.feed(b"BREW /pot HTTP/1.1\r\n\r\n").unwrap_err();
    assert_eq!(parser.feed(b"GET / HTTP/1.1\r\n\r\n"), Err(err.clone()));
    assert_eq!(parser.finish(), Err(err));
    // `finish` ends the stream: the parser is fresh again.
    assert!(matches!(
        parser.feed(b"GET / HTTP/1.1\r\n\r\n"),
        Ok(Parsed::Done { used: 18, .. })
    ));
}
