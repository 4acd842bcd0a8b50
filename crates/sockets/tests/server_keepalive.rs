//! The threaded corpus server's connections: keep-alive, pipelining, idle timeouts.

mod common;

use std::io::{ErrorKind, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use common::{get_request, read_responses};
use sockets::client::read_some;
use sockets::corpus::{CHECKSUM_HEADER, document, verify};
use sockets::http::Method;
use sockets::server::{self, ServerConfig, ServerHandle};

fn start(idle_timeout: Duration) -> ServerHandle {
    server::start(ServerConfig {
        workers: 8,
        idle_timeout,
        ..ServerConfig::default()
    })
    .unwrap()
}

/// [`common::connect`] with Nagle's algorithm off: each small write goes out at once,
/// so a request written byte by byte reaches the server as that many pieces.
fn connect(addr: SocketAddr) -> TcpStream {
    let stream = common::connect(addr);
    stream.set_nodelay(true).unwrap();
    stream
}

/// Whether the server ends the stream within `within` (end of file or reset).
fn ends_within(stream: &mut TcpStream, within: Duration) -> bool {
    stream.set_read_timeout(Some(within)).unwrap();
    let mut buf = [0u8; 64];
    loop {
        match read_some(stream, &mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
    }
}

#[test]
fn one_connection_serves_many_requests() {
    let server = start(Duration::from_secs(10));
    let mut stream = connect(server.addr());
    for id in 0..200u64 {
        let target = format!("/wiki/{}", id * 7919);
        stream.write_all(get_request(&target).as_bytes()).unwrap();
        let response = read_responses(&mut stream, &[Method::Get]).remove(0);
        assert_eq!(response.status, 200);
        assert!(response.keep_alive);
        let sum = response.headers.get(CHECKSUM_HEADER).unwrap();
        assert!(verify(&response.body, sum), "{target}");
        assert_eq!(response.body, document(id * 7919));
    }
    let stats = server.stop();
    assert_eq!((stats.connections, stats.requests), (1, 200));
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let server = start(Duration::from_secs(10));
    let mut stream = connect(server.addr());
    // Five requests in one write: the server sees them in one or a few reads.
    let all = [
        get_request("/wiki/1"),
        "HEAD /wiki/2 HTTP/1.1\r\nHost: test\r\n\r\n".to_string(),
        get_request("/nowhere"),
        get_request("/wiki/3?fault=chunked"),
        get_request("/wiki/4"),
    ]
    .concat();
    stream.write_all(all.as_bytes()).unwrap();
    let methods = [
        Method::Get,
        Method::Head,
        Method::Get,
        Method::Get,
        Method::Get,
    ];
    let responses = read_responses(&mut stream, &methods);
    let statuses: Vec<u16> = responses.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [200, 200, 404, 200, 200]);
    assert_eq!(responses[0].body, document(1));
    assert!(responses[1].body.is_empty());
    assert_eq!(
        responses[1].headers.get("content-length"),
        Some(document(2).len().to_string().as_str())
    );
    assert_eq!(responses[3].body, document(3));
    assert_eq!(responses[4].body, document(4));
    server.stop();
}

#[test]
fn a_request_arriving_byte_by_byte_is_served() {
    let server = start(Duration::from_secs(10));
    let mut stream = connect(server.addr());
    for byte in get_request("/wiki/5").bytes() {
        stream.write_all(&[byte]).unwrap();
    }
    let response = read_responses(&mut stream, &[Method::Get]).remove(0);
    assert_eq!(response.body, document(5));
    server.stop();
}

#[test]
fn connection_close_ends_the_connection_after_the_reply() {
    // A minute of idle time: a connection that ends within 10 s was closed for the
    // `Connection: close`, not for being idle, on any machine.
    let server = start(Duration::from_secs(60));
    let mut stream = connect(server.addr());
    // The second request says close; the third, already sent, is not answered.
    let all = [
        get_request("/wiki/1"),
        "GET /wiki/2 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".to_string(),
        get_request("/wiki/3"),
    ]
    .concat();
    stream.write_all(all.as_bytes()).unwrap();
    let responses = read_responses(&mut stream, &[Method::Get, Method::Get]);
    assert!(responses[0].keep_alive && !responses[1].keep_alive);
    assert!(ends_within(&mut stream, Duration::from_secs(10)));

    // HTTP/1.0 without keep-alive: one request per connection.
    let mut old = connect(server.addr());
    old.write_all(b"GET /wiki/9 HTTP/1.0\r\n\r\n").unwrap();
    let response = read_responses(&mut old, &[Method::Get]).remove(0);
    assert_eq!(response.body, document(9));
    assert!(ends_within(&mut old, Duration::from_secs(10)));
    server.stop();
}

#[test]
fn a_silent_connection_is_closed_after_the_idle_timeout() {
    let server = start(Duration::from_millis(200));
    let addr = server.addr();
    // Closed within 5 s: 25 times the idle timeout, and half the default one (10 s) that
    // a server ignoring the setting would keep.
    let within = Duration::from_secs(5);

    // The clock starts before the connection exists, so the server's 200 ms (counted
    // from when a worker starts reading it) fit in it, however busy the machine. Only
    // 150 ms are asserted: a socket timeout counts in kernel ticks (up to 10 ms each)
    // and may end a tick or so early.
    let opened = Instant::now();
    let mut silent = connect(addr);
    assert!(ends_within(&mut silent, within));
    let waited = opened.elapsed();
    assert!(waited >= Duration::from_millis(150), "{waited:?}");

    // After a request, the same: the timeout counts from the last bytes.
    let mut used = connect(addr);
    used.write_all(get_request("/wiki/1").as_bytes()).unwrap();
    read_responses(&mut used, &[Method::Get]);
    assert!(ends_within(&mut used, within));

    // Half a request, then nothing: closed too, not waited for forever.
    let mut half = connect(addr);
    half.write_all(b"GET /wiki/1 HTTP/1.1\r\nHo").unwrap();
    assert!(ends_within(&mut half, within));
    server.stop();
}
