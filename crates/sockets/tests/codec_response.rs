//! The response parser, rule by rule, each case fed whole, byte by byte and cut in two
//! at every position: all the ways must give the same responses and the same errors,
//! at the same offsets.

mod common;

use common::{Event, every_cut};
use sockets::http::{
    HttpError, Limits, Method, Parsed, Response, ResponseParser, Section, Truncation,
};

/// The events for `bytes`, checked to be the same fed whole, byte by byte and cut in two
/// at every position (at a sample of positions for long inputs).
fn check_with(method: Method, limits: Limits, bytes: &[u8]) -> Vec<Event<Response>> {
    every_cut(|| ResponseParser::new(method, limits), bytes)
}

fn check(bytes: &str) -> Vec<Event<Response>> {
    check_with(Method::Get, Limits::default(), bytes.as_bytes())
}

/// The one response in `bytes` (followed by a clean end of stream).
fn one(bytes: &str) -> Response {
    one_with(Method::Get, Limits::default(), bytes)
}

fn one_with(method: Method, limits: Limits, bytes: &str) -> Response {
    match check_with(method, limits, bytes.as_bytes()).as_slice() {
        [
            Event::Message {
                message: response,
                end,
            },
            Event::Closed(None),
        ] => {
            assert_eq!(*end, bytes.len(), "the response should use every byte");
            response.clone()
        }
        // A body delimited by the end of the stream.
        [Event::Closed(Some(response))] => response.clone(),
        other => panic!("expected one response from {bytes:?}, got {other:?}"),
    }
}

/// The error `bytes` gives, the same however they are cut.
fn error_with(limits: Limits, bytes: &[u8]) -> HttpError {
    match check_with(Method::Get, limits, bytes).last() {
        Some(Event::Failed(error)) => error.clone(),
        other => panic!(
            "expected an error from {:?}, got {other:?}",
            String::from_utf8_lossy(bytes)
        ),
    }
}

fn error(bytes: &str) -> HttpError {
    error_with(Limits::default(), bytes.as_bytes())
}

// ----- the table: valid responses, whole and in pieces -----

#[test]
fn a_table_of_responses_parses_the_same_however_it_is_cut() {
    // (bytes, method, status, body, keep_alive)
    let table: &[(&str, Method, u16, &[u8], bool)] = &[
        (
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
            Method::Get,
            200,
            b"hello",
            true,
        ),
        (
            "HTTP/1.1 200 OK\nContent-Length: 2\n\nhi",
            Method::Get,
            200,
            b"hi",
            true,
        ),
        (
            "HTTP/1.1 200 OK\r\nContent-Length: 2\n\r\nhi",
            Method::Get,
            200,
            b"hi",
            true,
        ),
        (
            "\r\n\nHTTP/1.1 204 No Content\r\n\r\n",
            Method::Get,
            204,
            b"",
            true,
        ),
        (
            "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
            Method::Get,
            200,
            b"",
            true,
        ),
        (
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5;a=b\r\npedia\r\n0\r\nX-T: 1\r\n\r\n",
            Method::Get,
            200,
            b"Wikipedia",
            true,
        ),
        (
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            Method::Get,
            200,
            b"",
            true,
        ),
        (
            "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
            Method::Get,
            200,
            b"ok",
            false,
        ),
        (
            "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n",
            Method::Head,
            200,
            b"",
            true,
        ),
        (
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
            Method::Head,
            200,
            b"",
            true,
        ),
        (
            "HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n",
            Method::Get,
            304,
            b"",
            true,
        ),
        (
            "HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n",
            Method::Get,
            204,
            b"",
            true,
        ),
        (
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx",
            Method::Get,
            200,
            b"x",
            true,
        ),
        (
            "HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\nHTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
            Method::Get,
            404,
            b"",
            true,
        ),
        (
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
            Method::Get,
            101,
            b"",
            false,
        ),
        (
            "HTTP/1.1 200 OK\r\n\r\nuntil the end",
            Method::Get,
            200,
            b"until the end",
            false,
        ),
        (
            "HTTP/1.0 200 OK\r\n\r\nold",
            Method::Get,
            200,
            b"old",
            false,
        ),
        (
            "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx",
            Method::Get,
            200,
            b"x",
            false,
        ),
        (
            "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nx",
            Method::Get,
            200,
            b"x",
            true,
        ),
        (
            "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n",
            Method::Get,
            200,
            b"x",
            false,
        ),
        (
            "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx",
            Method::Get,
            200,
            b"x",
            false,
        ),
        (
            "HTTP/1.1 200\r\nContent-Length: 1\r\n\r\nx",
            Method::Get,
            200,
            b"x",
            true,
        ),
        (
            "HTTP/1.1 200 \r\nContent-Length: 1\r\n\r\nx",
            Method::Get,
            200,
            b"x",
            true,
        ),
        (
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\ncontent-length: 2, 2\r\n\r\nab",
            Method::Get,
            200,
            b"ab",
            true,
        ),
        (
            "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 4\r\n\r\nbusy",
            Method::Get,
            503,
            b"busy",
            true,
        ),
    ];
    for &(bytes, method, status, body, keep_alive) in table {
        let response = one_with(method, Limits::default(), bytes);
        assert_eq!(response.status, status, "{bytes:?}");
        assert_eq!(response.body, body, "{bytes:?}");
        assert_eq!(response.keep_alive, keep_alive, "{bytes:?}");
    }
}

// ----- status line -----

#[test]
fn status_line_fields() {
    let r = one("HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(
        (r.version_minor, r.status, r.reason.as_ref()),
        (0, 404, "Not Found")
    );
    let r = one("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n");
    assert_eq!((r.status, r.reason.as_ref()), (200, ""));
    let r = one("HTTP/1.1 299 Whatever  it\tsays\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(r.reason, "Whatever  it\tsays");
}

#[test]
fn bad_status_lines_name_their_byte() {
    let offset = |bytes: &str| match error(bytes) {
        HttpError::BadStatusLine { offset, .. } => offset,
        other => panic!("{bytes:?}: {other:?}"),
    };
    assert_eq!(offset("HTTP/1.1 2OO OK\r\n\r\n"), 9);
    assert_eq!(offset("HTTP/1.1  200 OK\r\n\r\n"), 9);
    assert_eq!(offset("HTTP/1.1 200OK\r\n\r\n"), 12);
    assert_eq!(offset("HTTP/1.1 200 O\x01K\r\n\r\n"), 14);
    assert_eq!(offset("HTTP/1.1 000 Zero\r\n\r\n"), 9);
    assert_eq!(offset("ICY 200 OK\r\n\r\n"), 0);
    assert_eq!(offset("<html>\r\n"), 0);
    // Counted from the first byte of the stream, skipped empty lines included.
    assert_eq!(offset("\r\n\r\nHTTP/1.1 2\r\n\r\n"), 13);
    // A lone CR is not a line ending.
    assert_eq!(offset("HTTP/1.1 200 OK\r\rContent-Length: 0\r\n\r\n"), 15);
}

#[test]
fn other_versions_are_refused() {
    assert_eq!(
        error("HTTP/2.0 200 OK\r\n\r\n"),
        HttpError::UnsupportedVersion {
            offset: 0,
            version: "HTTP/2.0".into()
        }
    );
    assert!(matches!(
        error("\nHTTP/1.2 200 OK\r\n\r\n"),
        HttpError::UnsupportedVersion { offset: 1, .. }
    ));
}

// ----- header lines -----

#[test]
fn headers_keep_order_case_and_duplicates() {
    let r = one(
        "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nX-Empty:\r\nset-cookie:b=2  \r\nX-Ows: \t v a l \t\r\nContent-Length: 0\r\n\r\n",
    );
    let fields: Vec<(&str, &str)> = r.headers.iter().collect();
    assert_eq!(
        fields,
        [
            ("Set-Cookie", "a=1"),
            ("X-Empty", ""),
            ("set-cookie", "b=2"),
            ("X-Ows", "v a l"),
            ("Content-Length", "0"),
        ]
    );
    assert_eq!(r.headers.get("SET-COOKIE"), Some("a=1"));
    assert_eq!(
        r.headers.get_all("set-cookie").collect::<Vec<_>>(),
        ["a=1", "b=2"]
    );
    assert_eq!(r.headers.len(), 5);
}

#[test]
fn opaque_bytes_in_values_are_kept() {
    let mut bytes = b"HTTP/1.1 200 OK\r\nX-Utf8: caf\xc3\xa9\r\nX-Latin1: caf\xe9\r\n".to_vec();
    bytes.extend_from_slice(b"Content-Length: 0\r\n\r\n");
    let events = check_with(Method::Get, Limits::default(), &bytes);
    let Event::Message {
        message: response, ..
    } = &events[0]
    else {
        panic!("{events:?}");
    };
    assert_eq!(response.headers.get("x-utf8"), Some("café"));
    assert_eq!(response.headers.get("x-latin1"), Some("caf\u{e9}"));
}

#[test]
fn bad_header_lines() {
    for (bytes, at) in [
        ("HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n", 17),
        ("HTTP/1.1 200 OK\r\n: empty name\r\n\r\n", 17),
        ("HTTP/1.1 200 OK\r\nName : space before colon\r\n\r\n", 21),
    ] {
        match error(bytes) {
            HttpError::BadHeaderLine { offset, .. } => assert_eq!(offset, at, "{bytes:?}"),
            other => panic!("{bytes:?}: {other:?}"),
        }
    }
}

#[test]
fn obsolete_line_folding_is_replaced_by_a_space() {
    // A user agent must undo a fold, not refuse it (RFC 9112, section 5.2).
    let r = one("HTTP/1.1 200 OK\r\nX-Long: part one\r\n  part two\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(r.headers.get("x-long"), Some("part one part two"));
    // Whitespace before the first header continues nothing: refused (section 2.2).
    assert_eq!(
        error("HTTP/1.1 200 OK\r\n\tX: 1\r\n\r\n"),
        HttpError::WhitespaceBeforeFirstField { offset: 17 }
    );
}

#[test]
fn invalid_header_characters() {
    assert_eq!(
        error("HTTP/1.1 200 OK\r\nX-A\"b: 1\r\n\r\n"),
        HttpError::InvalidHeaderName {
            offset: 20,
            byte: b'"'
        }
    );
    assert_eq!(
        error_with(Limits::default(), b"HTTP/1.1 200 OK\r\nX\x80: 1\r\n\r\n"),
        HttpError::InvalidHeaderName {
            offset: 18,
            byte: 0x80
        }
    );
    assert_eq!(
        error("HTTP/1.1 200 OK\r\nX-A: a\0b\r\n\r\n"),
        HttpError::InvalidHeaderValue {
            offset: 23,
            name: "X-A".into(),
            byte: 0
        }
    );
    // A CR that does not end the line is a control byte in the value.
    assert_eq!(
        error("HTTP/1.1 200 OK\r\nX-A: a\rInjected: 1\r\n\r\n"),
        HttpError::InvalidHeaderValue {
            offset: 23,
            name: "X-A".into(),
            byte: b'\r'
        }
    );
}

// ----- framing -----

#[test]
fn content_length_conflicts_and_nonsense() {
    assert_eq!(
        error("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello"),
        HttpError::ConflictingContentLength {
            offset: 52,
            first: 5,
            second: 6
        }
    );
    assert_eq!(
        error("HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nhello"),
        HttpError::ConflictingContentLength {
            offset: 36,
            first: 5,
            second: 6
        }
    );
    for value in [
        "-1",
        "+5",
        "0x5",
        "5.0",
        "",
        "1 000",
        "18446744073709551616",
    ] {
        let bytes = format!("HTTP/1.1 200 OK\r\nContent-Length: {value}\r\n\r\n");
        match error(&bytes) {
            HttpError::InvalidContentLength {
                offset, value: v, ..
            } => {
                assert_eq!((offset, v.as_str()), (33, value), "{value:?}");
            }
            other => panic!("{value:?}: {other:?}"),
        }
    }
}

#[test]
fn transfer_codings_other_than_chunked_are_framed_then_refused() {
    // The body is read to its end first (RFC 9112, section 6.3, rule 4): until the
    // last chunk when `chunked` comes last, until the close otherwise.
    for (value, body, coding) in [
        ("gzip", "", "gzip"),
        ("identity", "body", "identity"),
        ("gzip, chunked", "1\r\nx\r\n0\r\n\r\n", "gzip"),
        ("chunked, chunked", "0\r\n\r\n", "chunked"),
    ] {
        let bytes = format!("HTTP/1.1 200 OK\r\nTransfer-Encoding: {value}\r\n\r\n{body}");
        assert_eq!(
            error(&bytes),
            HttpError::UnsupportedTransferEncoding {
                offset: 36,
                value: coding.into()
            }
        );
    }
}

#[test]
fn framing_headers_of_bodyless_responses_are_not_interpreted() {
    let r = one_with(
        Method::Head,
        Limits::default(),
        "HTTP/1.1 200 OK\r\nContent-Length: nonsense\r\nTransfer-Encoding: gzip\r\n\r\n",
    );
    assert_eq!(r.headers.get("content-length"), Some("nonsense"));
    one("HTTP/1.1 304 Not Modified\r\nContent-Length: 1, 2\r\n\r\n");
}

#[test]
fn chunked_wins_over_an_invalid_content_length() {
    let r = one(
        "HTTP/1.1 200 OK\r\nContent-Length: -5\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n",
    );
    assert_eq!((r.body.as_slice(), r.keep_alive), (&b"x"[..], false));
}

// ----- chunked -----

#[test]
fn chunked_extensions_trailers_and_bare_lf() {
    let r = one(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n3;x=\"y z\"\r\nabc\r\n0A\ndefghijklm\n0 ; last\r\nExpires: never\r\nX: y\n\r\n",
    );
    assert_eq!(r.body, b"abcdefghijklm");
    // Trailers are dropped, never merged into the headers.
    assert_eq!(r.headers.get("expires"), None);
}

#[test]
fn bad_chunk_sizes_and_terminators() {
    let head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    let at = head.len();
    for (chunks, offset) in [
        ("xyz\r\n", at),
        ("\r\n", at),
        ("5x\r\n", at + 1),
        ("1;\0\r\n", at + 2),
    ] {
        match error(&format!("{head}{chunks}")) {
            HttpError::BadChunkSize { offset: o, .. } => assert_eq!(o, offset, "{chunks:?}"),
            other => panic!("{chunks:?}: {other:?}"),
        }
    }
    assert_eq!(
        error(&format!("{head}3\r\nabcd\r\n0\r\n\r\n")),
        HttpError::BadChunkTerminator {
            offset: at + 6,
            found: b'd'
        }
    );
    assert_eq!(
        error(&format!("{head}3\r\nabc\rX")),
        HttpError::BadChunkTerminator {
            offset: at + 7,
            found: b'X'
        }
    );
    assert!(matches!(
        error(&format!("{head}1\r\nx\r\n0\r\nBad trailer\r\n\r\n")),
        HttpError::BadHeaderLine { .. }
    ));
}

// ----- limits -----

#[test]
fn head_too_large() {
    let limits = Limits {
        max_head_bytes: 64,
        ..Limits::default()
    };
    // Exactly 64 bytes of head: accepted.
    let fits = format!(
        "HTTP/1.1 200 OK\r\nX: {}\r\nContent-Length: 0\r\n\r\n",
        "a".repeat(21)
    );
    assert_eq!(fits.len(), 64);
    let events = check_with(Method::Get, limits, fits.as_bytes());
    assert!(matches!(events[0], Event::Message { .. }), "{events:?}");
    let over = format!(
        "HTTP/1.1 200 OK\r\nX: {}\r\nContent-Length: 0\r\n\r\n",
        "a".repeat(22)
    );
    assert_eq!(
        error_with(limits, over.as_bytes()),
        HttpError::HeadTooLarge {
            section: Section::Head,
            offset: 64,
            limit: 64
        }
    );
    // A line feed never comes: the error comes at the limit, not at the end of memory.
    assert!(matches!(
        error_with(limits, &[b'H'; 1000]),
        HttpError::HeadTooLarge { offset: 64, .. }
    ));
    // Empty lines before the start line count too.
    assert!(matches!(
        error_with(limits, &b"\r\n".repeat(100)),
        HttpError::HeadTooLarge { offset: 64, .. }
    ));
    // The default limit, with a head that never ends.
    let huge = vec![b'a'; 70 * 1024];
    assert!(matches!(
        error_with(Limits::default(), &huge),
        HttpError::HeadTooLarge {
            offset: 65536,
            limit: 65536,
            ..
        }
    ));
}

#[test]
fn too_many_headers() {
    let limits = Limits {
        max_headers: 3,
        ..Limits::default()
    };
    let ok = "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nContent-Length: 0\r\n\r\n";
    assert!(matches!(
        check_with(Method::Get, limits, ok.as_bytes())[0],
        Event::Message { .. }
    ));
    let over = "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nContent-Length: 0\r\n\r\n";
    assert_eq!(
        error_with(limits, over.as_bytes()),
        HttpError::TooManyHeaders {
            section: Section::Head,
            offset: 35,
            limit: 3
        }
    );
    let trailers = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n";
    assert!(matches!(
        error_with(limits, trailers.as_bytes()),
        HttpError::TooManyHeaders {
            section: Section::Trailers,
            offset: 68,
            ..
        }
    ));
}

#[test]
fn body_too_large() {
    let limits = Limits {
        max_body_bytes: 10,
        ..Limits::default()
    };
    let ok = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789";
    assert!(matches!(
        check_with(Method::Get, limits, ok.as_bytes())[0],
        Event::Message { .. }
    ));
    // Announced: refused before a byte of the body arrives.
    assert_eq!(
        error_with(limits, b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n"),
        HttpError::BodyTooLarge {
            offset: 33,
            size: 11,
            limit: 10
        }
    );
    // Chunked: at the chunk-size line that goes over.
    let chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n012345\r\n5\r\n01234\r\n0\r\n\r\n";
    assert_eq!(
        error_with(limits, chunked.as_bytes()),
        HttpError::BodyTooLarge {
            offset: 58,
            size: 11,
            limit: 10
        }
    );
    // Until close: at the eleventh byte.
    let until_close = "HTTP/1.1 200 OK\r\n\r\n0123456789X";
    assert_eq!(
        error_with(limits, until_close.as_bytes()),
        HttpError::BodyTooLarge {
            offset: 29,
            size: 11,
            limit: 10
        }
    );
    let exactly = "HTTP/1.1 200 OK\r\n\r\n0123456789";
    assert_eq!(one_with(Method::Get, limits, exactly).body, b"0123456789");
}

#[test]
fn chunk_line_too_long() {
    let limits = Limits {
        max_chunk_line_bytes: 8,
        ..Limits::default()
    };
    let head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    // 8 bytes with the CRLF: fits.
    let fits = format!("{head}1;abcd\r\nx\r\n0\r\n\r\n");
    assert_eq!(one_with(Method::Get, limits, &fits).body, b"x");
    assert_eq!(
        error_with(
            limits,
            format!("{head}1;abcde\r\nx\r\n0\r\n\r\n").as_bytes()
        ),
        HttpError::ChunkLineTooLong {
            offset: head.len(),
            limit: 8
        }
    );
    // The second size line, after a chunk.
    assert_eq!(
        error_with(limits, format!("{head}1\r\nx\r\n000000001\r\n").as_bytes()),
        HttpError::ChunkLineTooLong {
            offset: head.len() + 6,
            limit: 8
        }
    );
}

// ----- the end of the stream -----

#[test]
fn end_of_stream() {
    // Nothing at all: a closed idle connection.
    assert_eq!(check(""), [Event::Closed(None)]);
    assert_eq!(check("\r\n"), [Event::Closed(None)]);
    // In the head.
    assert_eq!(
        check("HTTP/1.1 200 OK\r\nContent-Le"),
        [Event::Failed(HttpError::Truncated {
            offset: 27,
            what: Truncation::Head
        })]
    );
    // After an interim response, the final one never came.
    assert_eq!(
        check("HTTP/1.1 100 Continue\r\n\r\n"),
        [Event::Failed(HttpError::Truncated {
            offset: 25,
            what: Truncation::Head
        })]
    );
    // In a body of known length.
    let truncated = check("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
    assert_eq!(
        truncated,
        [Event::Failed(HttpError::Truncated {
            offset: 42,
            what: Truncation::Body {
                expected: 10,
                received: 3
            }
        })]
    );
    let message = match &truncated[0] {
        Event::Failed(error) => error.to_string(),
        other => panic!("{other:?}"),
    };
    assert!(
        message.contains("after 3 of the 10 body bytes"),
        "{message}"
    );
    // In a chunked body, even between chunks.
    assert_eq!(
        check("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n"),
        [Event::Failed(HttpError::Truncated {
            offset: 55,
            what: Truncation::Chunked { received: 3 }
        })]
    );
}

#[test]
fn the_parser_is_reusable_after_finish_and_stays_failed_after_an_error() {
    let mut parser = ResponseParser::new(Method::Get, Limits::default());
    assert_eq!(
        parser.feed(b"HTTP/1.1 200 OK\r\n\r\nab"),
        Ok(Parsed::NeedMore)
    );
    assert_eq!(
        parser.finish().map(|r| r.map(|r| r.body)),
        Ok(Some(b"ab".to_vec()))
    );
    let done = parser.feed(b"HTTP/1.1 204 No Content\r\n\r\n");
    assert!(
        matches!(done, Ok(Parsed::Done { used: 27, .. })),
        "{done:?}"
    );

    let error = parser.feed(b"garbage\r\n").unwrap_err();
    assert_eq!(parser.feed(b"HTTP/1.1 200 OK\r\n\r\n"), Err(error.clone()));
    assert_eq!(parser.finish(), Err(error));
    assert_eq!(parser.finish(), Ok(None));
}

// ----- pipelining -----

#[test]
fn pipelined_responses() {
    let stream = concat!(
        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none",
        "HTTP/1.1 100 Continue\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\ntwo\r\n0\r\n\r\n",
        "HTTP/1.1 204 No Content\r\n\r\n",
        "\r\n",
        "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n",
        "HTTP/1.1 200 OK\r\n\r\nthe rest, until the end",
    );
    let events = check(stream);
    let summary: Vec<(u16, String, Option<usize>)> = events
        .iter()
        .map(|event| match event {
            Event::Message {
                message: response,
                end,
            } => (
                response.status,
                String::from_utf8_lossy(&response.body).into_owned(),
                Some(*end),
            ),
            Event::Closed(Some(response)) => (
                response.status,
                String::from_utf8_lossy(&response.body).into_owned(),
                None,
            ),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        summary,
        [
            (200, "one".into(), Some(41)),
            (200, "two".into(), Some(41 + 25 + 60)),
            (204, String::new(), Some(41 + 25 + 60 + 27)),
            (304, String::new(), Some(41 + 25 + 60 + 27 + 2 + 49)),
            (200, "the rest, until the end".into(), None),
        ]
    );
}

#[test]
fn pipelined_head_responses() {
    let stream = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\n";
    let events = check_with(Method::Head, Limits::default(), stream.as_bytes());
    assert!(matches!(
        events.as_slice(),
        [
            Event::Message { end: 38, .. },
            Event::Message { end: 83, .. },
            Event::Closed(None)
        ]
    ));
}

#[test]
fn offsets_restart_with_each_response() {
    let stream = "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 2x\r\n";
    let events = check(stream);
    assert_eq!(
        events[1],
        Event::Failed(HttpError::BadStatusLine {
            offset: 9,
            reason: "expected a three-digit status code after one space".into()
        })
    );
}

#[test]
fn errors_say_where_and_what() {
    let message =
        error("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n").to_string();
    assert_eq!(
        message,
        "conflicting Content-Length at byte 52: 6 after 5 (RFC 9112 §6.3 rule 5)"
    );
    let message = error("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n").to_string();
    assert!(message.contains("\"gzip\" at byte 36"), "{message}");
}
