//! Each fault of the corpus, observed on the wire with a raw socket.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::{connect, get_request, header, read_responses, split};
use sockets::client::read_some;
use sockets::corpus::{CHECKSUM_HEADER, FaultKind, FaultPlan, document, verify};
use sockets::http::{HttpError, Limits, Method, Parsed, ResponseParser};
use sockets::server::{self, ServerConfig, ServerHandle};

fn start(faults: FaultPlan) -> ServerHandle {
    server::start(ServerConfig {
        workers: 8,
        faults,
        ..ServerConfig::default()
    })
    .unwrap()
}

/// Sends `raw` on a new connection and reads until the server closes it.
fn exchange_to_eof(addr: SocketAddr, raw: &str) -> Vec<u8> {
    let mut stream = connect(addr);
    stream.write_all(raw.as_bytes()).unwrap();
    let mut all = Vec::new();
    stream
        .read_to_end(&mut all)
        .expect("the server ends the stream (no reset, no timeout)");
    all
}

#[test]
fn drop_closes_without_a_byte() {
    let server = start(FaultPlan::none());
    assert_eq!(
        exchange_to_eof(server.addr(), &get_request("/wiki/1?fault=drop")),
        b""
    );
    let stats = server.stop();
    assert_eq!((stats.requests, stats.faults, stats.bytes_sent), (1, 1, 0));
}

#[test]
fn truncate_sends_less_body_than_announced_then_closes() {
    let server = start(FaultPlan::none());
    let raw = exchange_to_eof(server.addr(), &get_request("/wiki/2?fault=truncate"));
    let (head, body) = split(&raw);
    let announced: usize = header(&head, "content-length").unwrap().parse().unwrap();
    assert_eq!(announced, document(2).len());
    assert!(
        !body.is_empty() && body.len() < announced,
        "{} bytes",
        body.len()
    );
    assert_eq!(body, &document(2)[..body.len()]);

    // What a client's parser makes of it: a truncation error, not a short document.
    let mut parser = ResponseParser::new(Method::Get, Limits::default());
    assert!(matches!(parser.feed(&raw), Ok(Parsed::NeedMore)));
    assert!(matches!(parser.finish(), Err(HttpError::Truncated { .. })));
    server.stop();
}

#[test]
fn close_delimited_bodies_end_with_the_connection() {
    let server = start(FaultPlan::none());
    let raw = exchange_to_eof(server.addr(), &get_request("/wiki/3?fault=close"));
    let (head, body) = split(&raw);
    assert_eq!(header(&head, "content-length"), None);
    assert_eq!(header(&head, "connection").as_deref(), Some("close"));
    assert_eq!(body, document(3));

    let mut parser = ResponseParser::new(Method::Get, Limits::default());
    assert!(matches!(parser.feed(&raw), Ok(Parsed::NeedMore)));
    let response = parser
        .finish()
        .unwrap()
        .expect("a close-delimited response");
    assert_eq!(response.body, document(3));
    server.stop();
}

#[test]
fn chunked_and_unavailable_replies_keep_the_connection() {
    let server = start(FaultPlan::none());
    let mut stream = connect(server.addr());

    stream
        .write_all(get_request("/wiki/4?fault=chunked").as_bytes())
        .unwrap();
    let chunked = read_responses(&mut stream, &[Method::Get]).remove(0);
    assert_eq!(chunked.headers.get("transfer-encoding"), Some("chunked"));
    assert_eq!(chunked.body, document(4));
    assert!(verify(
        &chunked.body,
        chunked.headers.get(CHECKSUM_HEADER).unwrap()
    ));

    stream
        .write_all(get_request("/wiki/4?fault=unavailable&retry_after=3").as_bytes())
        .unwrap();
    let unavailable = read_responses(&mut stream, &[Method::Get]).remove(0);
    assert_eq!(unavailable.status, 503);
    assert_eq!(unavailable.headers.get("retry-after"), Some("3"));

    stream.write_all(get_request("/wiki/4").as_bytes()).unwrap();
    assert_eq!(
        read_responses(&mut stream, &[Method::Get]).remove(0).body,
        document(4)
    );
    let stats = server.stop();
    assert_eq!((stats.connections, stats.requests, stats.faults), (1, 3, 2));
}

#[test]
fn drip_trickles_the_reply_in_pieces() {
    let server = start(FaultPlan::none());
    let mut stream = connect(server.addr());
    let sent = Instant::now();
    // 64-byte pieces, 20 ms apart: the reply takes (pieces - 1) * 20 ms at least, over
    // a third of a second. Many small pieces, so that the reader keeps up with them on
    // any machine: only a reader kept off the CPU for the whole drip could get it all in
    // one read.
    stream
        .write_all(get_request("/wiki/6?fault=drip&piece=64&pause=20").as_bytes())
        .unwrap();
    let mut parser = ResponseParser::new(Method::Get, Limits::default());
    let mut reads = 0;
    let mut buf = [0u8; 64 * 1024];
    let response = loop {
        let n = read_some(&mut stream, &mut buf).expect("pieces keep coming");
        assert!(n > 0);
        reads += 1;
        if let Parsed::Done { message, .. } = parser.feed(&buf[..n]).unwrap() {
            break message;
        }
    };
    assert_eq!(response.body, document(6));
    // The head is over 100 bytes: the reply fills at least this many pieces.
    let pieces = (document(6).len() + 100).div_ceil(64) as u64;
    assert!(reads >= 2, "{reads} reads: the reply came in one go");
    // The pauses begin after the request arrives, after `sent`: a lower bound no busy
    // machine can break.
    let least = Duration::from_millis(20 * (pieces - 1));
    assert!(sent.elapsed() >= least, "{:?} < {least:?}", sent.elapsed());
    server.stop();
}

#[test]
fn latency_delays_the_reply() {
    let server = start(FaultPlan::none());
    let mut stream = connect(server.addr());
    let sent = Instant::now();
    stream
        .write_all(get_request("/wiki/7?latency=120").as_bytes())
        .unwrap();
    assert_eq!(
        read_responses(&mut stream, &[Method::Get]).remove(0).body,
        document(7)
    );
    // The delay begins when the request arrives, after `sent`.
    assert!(
        sent.elapsed() >= Duration::from_millis(120),
        "{:?}",
        sent.elapsed()
    );
    server.stop();
}

#[test]
fn a_malformed_request_gets_a_400_and_a_close() {
    let server = start(FaultPlan::none());
    let addr = server.addr();
    // Garbage, then more bytes the server will never read: it must still get its 400
    // through before closing (no reset that would swallow it).
    let raw = exchange_to_eof(addr, "NOT HTTP AT ALL\r\n\r\nand more garbage after it\r\n");
    let (head, body) = split(&raw);
    assert!(head.starts_with("HTTP/1.1 400 "), "{head}");
    assert_eq!(header(&head, "connection").as_deref(), Some("close"));
    assert!(!body.is_empty(), "the body says what was wrong");

    let raw = exchange_to_eof(addr, "DELETE /wiki/1 HTTP/1.1\r\nHost: t\r\n\r\n");
    assert!(split(&raw).0.starts_with("HTTP/1.1 501 "));

    let big = format!("GET / HTTP/1.1\r\nX-Big: {}\r\n\r\n", "b".repeat(70_000));
    let mut stream = connect(addr);
    // The server may answer (and close) before it has read all of this: a failed
    // write is fine, the answer is what we check.
    let _ = stream.write_all(big.as_bytes());
    let mut all = Vec::new();
    match stream.read_to_end(&mut all) {
        Ok(_) => {}
        Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
        Err(e) => panic!("{e}"),
    }
    assert!(split(&all).0.starts_with("HTTP/1.1 431 "));
    server.stop();
}

#[test]
fn the_global_plan_applies_to_articles() {
    let server = start(FaultPlan {
        rate: 1.0,
        kinds: vec![FaultKind::Drop],
        ..FaultPlan::none()
    });
    let addr = server.addr();
    for id in 0..5 {
        assert_eq!(
            exchange_to_eof(addr, &get_request(&format!("/wiki/{id}"))),
            b""
        );
    }
    // Only articles roll: the home page is served.
    let mut stream = connect(addr);
    stream.write_all(get_request("/").as_bytes()).unwrap();
    assert_eq!(
        read_responses(&mut stream, &[Method::Get]).remove(0).status,
        200
    );
    let stats = server.stop();
    assert_eq!((stats.requests, stats.faults), (6, 5));
}

#[test]
fn the_global_latency_delays_every_reply() {
    let server = start(FaultPlan {
        latency: Duration::from_millis(50),
        ..FaultPlan::none()
    });
    let mut stream = connect(server.addr());
    let sent = Instant::now();
    for _ in 0..3 {
        stream.write_all(get_request("/").as_bytes()).unwrap();
        assert_eq!(
            read_responses(&mut stream, &[Method::Get]).remove(0).status,
            200
        );
    }
    assert!(sent.elapsed() >= Duration::from_millis(150));
    server.stop();
}
