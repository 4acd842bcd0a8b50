//! The threaded corpus server: it starts, serves, and stops promptly whatever is open.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{connect, get_request, read_responses};
use sockets::client::read_some;
use sockets::corpus::document;
use sockets::http::{Limits, Method, Parsed, Response, ResponseParser};
use sockets::server::{self, ServerConfig};

/// A minute of idle time: a stop (or a test) that waited for idle connections to time
/// out would take that long, far beyond the 10 s the tests allow for a prompt one.
fn config() -> ServerConfig {
    ServerConfig {
        workers: 16,
        idle_timeout: Duration::from_secs(60),
        ..ServerConfig::default()
    }
}

/// How long a prompt stop may take: it takes milliseconds, and waiting for any of the
/// connections below would take a minute.
const PROMPT: Duration = Duration::from_secs(10);

/// Sends a GET for `target` and reads its response.
fn get(stream: &mut TcpStream, target: &str) -> Response {
    stream.write_all(get_request(target).as_bytes()).unwrap();
    read_responses(stream, &[Method::Get]).remove(0)
}

/// Reads until end of stream; what came before it.
fn read_to_eof(stream: &mut TcpStream) -> Vec<u8> {
    let mut all = Vec::new();
    match stream.read_to_end(&mut all) {
        Ok(_) => all,
        // A reset also ends the stream; what matters here is that it ended.
        Err(e) if e.kind() == ErrorKind::ConnectionReset => all,
        Err(e) => panic!("no end of stream within the read timeout: {e}"),
    }
}

#[test]
fn a_server_listens_on_loopback_serves_and_stops() {
    let started = Instant::now();
    let server = server::start(config()).unwrap();
    let addr = server.addr();
    assert!(addr.ip().is_loopback() && addr.port() != 0, "{addr}");

    let mut stream = connect(addr);
    let response = get(&mut stream, "/wiki/12");
    assert_eq!(response.status, 200);
    assert_eq!(response.body, document(12));
    drop(stream);

    let stats = server.stop();
    assert_eq!((stats.connections, stats.requests, stats.faults), (1, 1, 0));
    assert!(stats.bytes_sent > document(12).len() as u64);
    assert!(started.elapsed() < PROMPT, "{:?}", started.elapsed());
    // The listening socket is closed with the server.
    assert!(TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err());
}

#[test]
fn stop_ends_promptly_with_connections_open_and_replies_pending() {
    let server = server::start(config()).unwrap();
    let addr = server.addr();
    // Idle keep-alive connections, with a request behind them...
    let mut idle: Vec<TcpStream> = (0..4).map(|_| connect(addr)).collect();
    for stream in &mut idle {
        assert_eq!(get(stream, "/wiki/1").status, 200);
    }
    // ...one that never sent a byte, one waiting out a minute's latency, one dripping
    // a byte a second.
    let silent = connect(addr);
    let mut slow = connect(addr);
    write!(
        slow,
        "GET /wiki/2?latency=60000 HTTP/1.1\r\nHost: t\r\n\r\n"
    )
    .unwrap();
    let mut drip = connect(addr);
    write!(
        drip,
        "GET /wiki/3?fault=drip&piece=1&pause=1000 HTTP/1.1\r\nHost: t\r\n\r\n"
    )
    .unwrap();
    // Let the workers get there: every connection taken, both requests read.
    let deadline = Instant::now() + Duration::from_secs(10);
    let there = |s: server::ServerStats| s.connections == 7 && s.requests == 6;
    while !there(server.stats()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(there(server.stats()), "{}", server.stats());

    let stopping = Instant::now();
    let stats = server.stop();
    assert!(
        stopping.elapsed() < PROMPT,
        "stop took {:?}",
        stopping.elapsed()
    );
    assert_eq!(stats.connections, 7);
    // Every client sees its connection end (no reply for the delayed one).
    for stream in idle.iter_mut().chain([&mut slow]) {
        assert!(read_to_eof(stream).is_empty());
    }
    assert!(read_to_eof(&mut drip).len() < 100, "the drip was cut short");
    drop(silent);
}

#[test]
fn dropping_the_handle_stops_the_server_too() {
    let server = server::start(config()).unwrap();
    let addr = server.addr();
    let mut stream = connect(addr);
    assert_eq!(get(&mut stream, "/").status, 200);
    let dropping = Instant::now();
    drop(server);
    assert!(dropping.elapsed() < PROMPT);
    assert!(read_to_eof(&mut stream).is_empty());
}

#[test]
fn a_connection_holds_a_worker_so_extra_connections_wait_for_one() {
    // Two workers: the lesson's trade-off in miniature.
    let server = server::start(ServerConfig {
        workers: 2,
        ..config()
    })
    .unwrap();
    let addr = server.addr();
    let mut first = connect(addr);
    let mut second = connect(addr);
    assert_eq!(get(&mut first, "/wiki/1").status, 200);
    assert_eq!(get(&mut second, "/wiki/2").status, 200);

    // Both workers are now waiting on their (idle) keep-alive connections: the third
    // connection is accepted and queued, but nobody reads its request.
    let mut third = connect(addr);
    third
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    write!(third, "GET /wiki/3 HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
    let mut byte = [0u8; 1];
    let waited = third.read(&mut byte);
    assert!(
        matches!(&waited, Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)),
        "{waited:?}"
    );

    // One connection closes, its worker takes the queued one, which gets its answer.
    drop(first);
    third
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut parser = ResponseParser::new(Method::Get, Limits::default());
    let mut buf = [0u8; 8192];
    let response = loop {
        let n = read_some(&mut third, &mut buf).expect("served once a worker is free");
        assert!(n > 0);
        if let Parsed::Done { message, .. } = parser.feed(&buf[..n]).unwrap() {
            break message;
        }
    };
    assert_eq!(response.body, document(3));
    server.stop();
}
