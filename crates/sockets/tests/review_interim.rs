//! Interim (1xx) responses cannot keep a client reading forever.
//!
//! A client skips `100 Continue` and `103 Early Hints` and waits for the final response.
//! A server that sends nothing but interim responses, quickly, keeps every read short
//! (no read timeout fires) and every head small (each is under `max_head_bytes`): only
//! a limit on the heads of the whole exchange ends it, as curl does.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::Duration;

use sockets::client::{ClientConfig, ClientError, fetch_with};
use sockets::http::{HttpError, Limits, Method, Parsed, ResponseParser};

const INTERIM: &[u8] = b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n";

#[test]
fn the_parser_counts_interim_heads_against_max_head_bytes() {
    let limits = Limits {
        max_head_bytes: 1024,
        ..Limits::default()
    };
    let mut parser = ResponseParser::new(Method::Get, limits);
    // Ten times the limit: far past where the heads of one exchange must stop.
    let mut fed = 0;
    let outcome = loop {
        match parser.feed(INTERIM) {
            Ok(Parsed::NeedMore) if fed < 10 * limits.max_head_bytes => fed += INTERIM.len(),
            other => break other,
        }
    };
    assert!(
        matches!(outcome, Err(HttpError::HeadTooLarge { limit: 1024, .. })),
        "after {fed} bytes of interim responses: {outcome:?}"
    );
}

#[test]
fn a_few_interim_responses_are_still_skipped() {
    let mut parser = ResponseParser::new(Method::Get, Limits::default());
    let mut bytes = INTERIM.repeat(3);
    bytes.extend_from_slice(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi");
    match parser.feed(&bytes) {
        Ok(Parsed::Done { message, used }) => {
            assert_eq!((message.status, message.body.as_slice()), (200, &b"hi"[..]));
            assert_eq!(used, bytes.len());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_server_that_only_sends_interim_responses_gets_an_error_not_a_hang() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let Ok((mut stream, _)) = listener.accept() else {
            return;
        };
        let mut request = [0u8; 1024];
        let _ = stream.read(&mut request);
        // Until the client goes away.
        while stream.write_all(INTERIM).is_ok() {}
    });
    let (done_tx, done_rx) = mpsc::channel();
    std::thread::spawn(move || {
        // The default configuration: no limit on the whole exchange.
        let result = fetch_with(&format!("http://{addr}/"), ClientConfig::default());
        let _ = done_tx.send(result);
    });
    // A hang guard only: the heads' limit is reached after 64 KiB, in milliseconds.
    let result = done_rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the client still reads interim responses after 60 s");
    assert!(
        matches!(
            result,
            Err(ClientError::Http {
                source: HttpError::HeadTooLarge { .. },
                ..
            })
        ),
        "{result:?}"
    );
}
