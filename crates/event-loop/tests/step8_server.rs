//! Step 8: the loop server on the wire — lifecycle, keep-alive, pipelining, every fault,
//! idle timeout, malformed requests, and lesson 3's blocking client against it.
//!
//! Every test runs inside `within`, so a loop that hangs fails the test instead of
//! hanging the suite, and every socket has read and write timeouts.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use event_loop::step8_server::{
    self, C10kError, LoopServerConfig, LoopServerHandle, LoopServerStats, c10k_client,
};
use sockets::client::{ClientConfig, Connection, read_some};
use sockets::corpus::{CHECKSUM_HEADER, FaultKind, FaultPlan, document, verify};
use sockets::http::{HttpError, Limits, Method, Parsed, Response, ResponseParser};
use sockets::url::Url;

/// Runs `test` on its own thread and fails if it takes longer than `limit`.
fn within(limit: Duration, test: impl FnOnce() + Send + 'static) {
    let (done, finished) = mpsc::channel();
    let thread = std::thread::spawn(move || {
        test();
        let _ = done.send(());
    });
    match finished.recv_timeout(limit) {
        Ok(()) => thread.join().unwrap(),
        // The test thread ended without sending: it panicked; show its message.
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            if let Err(panic) = thread.join() {
                std::panic::resume_unwind(panic);
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("the test took more than {limit:?}"),
    }
}

fn start(config: LoopServerConfig) -> LoopServerHandle {
    step8_server::start(config).expect("the server starts")
}

fn start_default() -> LoopServerHandle {
    start(LoopServerConfig::default())
}

/// A client socket, and the bytes read past the end of the last response (the start
/// of the next one, when the responses are pipelined).
struct Wire {
    stream: TcpStream,
    leftover: Vec<u8>,
}

impl std::ops::Deref for Wire {
    type Target = TcpStream;
    fn deref(&self) -> &TcpStream {
        &self.stream
    }
}

impl std::ops::DerefMut for Wire {
    fn deref_mut(&mut self) -> &mut TcpStream {
        &mut self.stream
    }
}

fn connect(addr: SocketAddr) -> Wire {
    let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream
        .set_write_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    Wire {
        stream,
        leftover: Vec::new(),
    }
}

fn get(target: &str) -> String {
    format!("GET {target} HTTP/1.1\r\nHost: test\r\n\r\n")
}

/// Reads one response from a kept-alive connection.
fn read_one(wire: &mut Wire, method: Method) -> Response {
    let mut parser = ResponseParser::new(method, Limits::default());
    let mut input = std::mem::take(&mut wire.leftover);
    let mut buf = [0u8; 4096];
    loop {
        if !input.is_empty() {
            match parser.feed(&input).expect("a valid response") {
                Parsed::Done { message, used } => {
                    wire.leftover = input.split_off(used);
                    return message;
                }
                Parsed::NeedMore => input.clear(),
            }
        }
        let n = read_some(&mut wire.stream, &mut buf).expect("a response within 5 s");
        if n == 0 {
            return parser
                .finish()
                .expect("a complete response")
                .expect("a response before the end of the stream");
        }
        input.extend_from_slice(&buf[..n]);
    }
}

/// Reads until end of stream; what came before it.
fn read_to_eof(stream: &mut Wire) -> Vec<u8> {
    let mut all = Vec::new();
    match stream.read_to_end(&mut all) {
        Ok(_) => all,
        Err(e) => panic!(
            "no clean end of stream within the read timeout: {e} (after {} bytes)",
            all.len()
        ),
    }
}

/// Sends `raw` on a new connection and reads until the server closes it.
fn exchange_to_eof(addr: SocketAddr, raw: &str) -> Vec<u8> {
    let mut stream = connect(addr);
    stream.write_all(raw.as_bytes()).unwrap();
    read_to_eof(&mut stream)
}

/// The head (as text) and the body bytes of a raw response.
fn split(raw: &[u8]) -> (String, &[u8]) {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete head");
    (String::from_utf8_lossy(&raw[..end]).into(), &raw[end + 4..])
}

fn header(head: &str, name: &str) -> Option<String> {
    head.lines().skip(1).find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
    })
}

fn assert_article(response: &Response, id: u64) {
    assert_eq!(response.status, 200);
    assert_eq!(response.body, document(id), "article {id}");
    assert!(verify(
        &response.body,
        response.headers.get(CHECKSUM_HEADER).unwrap()
    ));
}

#[test]
fn starts_on_loopback_serves_and_stops_promptly_with_connections_open() {
    within(Duration::from_secs(20), || {
        // Idle connections would be closed after a minute: a stop that waited for its
        // connections to end would take that long.
        let server = start(LoopServerConfig {
            idle_timeout: Duration::from_secs(60),
            ..LoopServerConfig::default()
        });
        let addr = server.addr();
        assert!(addr.ip().is_loopback() && addr.port() != 0, "{addr}");

        let mut first = connect(addr);
        first.write_all(get("/wiki/12").as_bytes()).unwrap();
        assert_article(&read_one(&mut first, Method::Get), 12);

        // Some connections idle, one in the middle of a minute-long injected delay.
        let idle: Vec<Wire> = (0..50).map(|_| connect(addr)).collect();
        let mut waiting = connect(addr);
        waiting
            .write_all(get("/wiki/1?latency=60000").as_bytes())
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        // Until the loop has taken all of them, and read the delayed request.
        let taken = |s: LoopServerStats| s.open_connections == 52 && s.requests == 2;
        while !taken(server.stats()) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        let stats = server.stats();
        assert_eq!(stats.open_connections, 52, "{stats}");
        assert_eq!(stats.peak_connections, 52, "{stats}");

        let stopping = Instant::now();
        let stats = server.stop();
        // A prompt stop takes milliseconds; one that waited for the delayed reply or the
        // idle connections would take a minute. 10 s tells the two apart on any machine.
        assert!(
            stopping.elapsed() < Duration::from_secs(10),
            "stop took {:?}",
            stopping.elapsed()
        );
        assert_eq!((stats.connections, stats.requests), (52, 2), "{stats}");
        assert!(stats.bytes_sent > document(12).len() as u64);
        // The delayed request is never answered: its connection ends.
        assert!(read_to_eof_or_reset(&mut waiting).is_empty());
        drop(idle);
        // The listening socket is closed with the server.
        assert!(TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err());
    });
}

/// Like `read_to_eof`, but a reset also counts as the end (dropping a socket with
/// unread bytes resets it).
fn read_to_eof_or_reset(stream: &mut Wire) -> Vec<u8> {
    let mut all = Vec::new();
    match stream.read_to_end(&mut all) {
        Ok(_) => all,
        Err(e) if e.kind() == ErrorKind::ConnectionReset => all,
        Err(e) => panic!("no end of stream: {e}"),
    }
}

#[test]
fn dropping_the_handle_stops_the_server() {
    within(Duration::from_secs(10), || {
        let server = start_default();
        let addr = server.addr();
        let _open = connect(addr);
        drop(server);
        assert!(TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err());
    });
}

#[test]
fn one_connection_carries_many_requests() {
    within(Duration::from_secs(20), || {
        let server = start_default();
        let mut stream = connect(server.addr());
        for id in 0..200 {
            stream
                .write_all(get(&format!("/wiki/{id}")).as_bytes())
                .unwrap();
            let response = read_one(&mut stream, Method::Get);
            assert_article(&response, id);
            assert!(response.keep_alive);
        }
        let stats = server.stop();
        assert_eq!((stats.connections, stats.requests), (1, 200), "{stats}");
    });
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    within(Duration::from_secs(20), || {
        let server = start_default();
        let mut stream = connect(server.addr());
        // Twenty requests in one write, a HEAD among them, a delayed one early on: the
        // replies must come in request order anyway.
        let mut raw = String::new();
        for id in 0..20u64 {
            match id {
                3 => raw.push_str(&get("/wiki/3?latency=100")),
                7 => raw.push_str("HEAD /wiki/7 HTTP/1.1\r\nHost: test\r\n\r\n"),
                _ => raw.push_str(&get(&format!("/wiki/{id}"))),
            }
        }
        stream.write_all(raw.as_bytes()).unwrap();
        for id in 0..20u64 {
            if id == 7 {
                let head = read_one(&mut stream, Method::Head);
                assert_eq!(head.status, 200);
                assert!(head.body.is_empty());
                assert_eq!(
                    head.headers.get("content-length"),
                    Some(document(7).len().to_string().as_str())
                );
            } else {
                assert_article(&read_one(&mut stream, Method::Get), id);
            }
        }
        server.stop();
    });
}

#[test]
fn a_client_that_pipelines_without_reading_is_held_back_not_buffered() {
    within(Duration::from_secs(30), || {
        let server = start_default();
        let mut stream = connect(server.addr());
        // 3,000 requests (about 100 KB) before reading a byte: the replies (about
        // 25 MB) do not fit in any buffer, so the server must stop taking requests
        // while its queue is full, and take them again as the client reads.
        let n = 3000u64;
        let mut raw = String::new();
        for id in 0..n {
            raw.push_str(&get(&format!("/wiki/{id}")));
        }
        let mut writer = stream.try_clone().unwrap();
        let sender = std::thread::spawn(move || writer.write_all(raw.as_bytes()));
        // Give the server time to fill its queue and the socket buffers.
        std::thread::sleep(Duration::from_millis(300));
        let mut parser = ResponseParser::new(Method::Get, Limits::default());
        let mut buf = vec![0u8; 64 * 1024];
        let mut pending = Vec::new();
        let mut next = 0u64;
        while next < n {
            let k = read_some(&mut stream.stream, &mut buf).expect("responses keep coming");
            assert!(k > 0, "closed after {next} responses");
            pending.extend_from_slice(&buf[..k]);
            let mut input = &pending[..];
            while !input.is_empty() {
                match parser.feed(input).expect("valid responses") {
                    Parsed::NeedMore => input = &[],
                    Parsed::Done { message, used } => {
                        assert_article(&message, next);
                        next += 1;
                        input = &input[used..];
                    }
                }
            }
            pending.clear();
        }
        sender.join().unwrap().expect("every request was taken");
        let stats = server.stop();
        assert_eq!(stats.requests, n, "{stats}");
    });
}

#[test]
fn drop_closes_without_a_byte() {
    within(Duration::from_secs(10), || {
        let server = start_default();
        let raw = exchange_to_eof(server.addr(), &get("/wiki/1?fault=drop"));
        assert_eq!(raw, b"");
        let stats = server.stop();
        assert_eq!(
            (stats.requests, stats.faults, stats.bytes_sent),
            (1, 1, 0),
            "{stats}"
        );
    });
}

#[test]
fn truncate_sends_less_body_than_announced_then_closes() {
    within(Duration::from_secs(10), || {
        let server = start_default();
        let raw = exchange_to_eof(server.addr(), &get("/wiki/2?fault=truncate"));
        let (head, body) = split(&raw);
        let announced: usize = header(&head, "content-length").unwrap().parse().unwrap();
        assert_eq!(announced, document(2).len());
        assert!(!body.is_empty() && body.len() < announced, "{}", body.len());
        assert_eq!(body, &document(2)[..body.len()]);
        let mut parser = ResponseParser::new(Method::Get, Limits::default());
        assert!(matches!(parser.feed(&raw), Ok(Parsed::NeedMore)));
        assert!(matches!(parser.finish(), Err(HttpError::Truncated { .. })));
        server.stop();
    });
}

#[test]
fn close_delimited_bodies_end_with_the_connection() {
    within(Duration::from_secs(10), || {
        let server = start_default();
        let raw = exchange_to_eof(server.addr(), &get("/wiki/3?fault=close"));
        let (head, body) = split(&raw);
        assert_eq!(header(&head, "content-length"), None);
        assert_eq!(header(&head, "connection").as_deref(), Some("close"));
        assert_eq!(body, document(3));
        server.stop();
    });
}

#[test]
fn chunked_and_unavailable_replies_keep_the_connection() {
    within(Duration::from_secs(10), || {
        let server = start_default();
        let mut stream = connect(server.addr());
        stream
            .write_all(get("/wiki/4?fault=chunked").as_bytes())
            .unwrap();
        let chunked = read_one(&mut stream, Method::Get);
        assert_eq!(chunked.headers.get("transfer-encoding"), Some("chunked"));
        assert_article(&chunked, 4);

        stream
            .write_all(get("/wiki/4?fault=unavailable&retry_after=3").as_bytes())
            .unwrap();
        let unavailable = read_one(&mut stream, Method::Get);
        assert_eq!(unavailable.status, 503);
        assert_eq!(unavailable.headers.get("retry-after"), Some("3"));

        stream.write_all(get("/wiki/4").as_bytes()).unwrap();
        assert_article(&read_one(&mut stream, Method::Get), 4);
        let stats = server.stop();
        assert_eq!((stats.connections, stats.faults), (1, 2), "{stats}");
    });
}

#[test]
fn a_drip_arrives_whole_in_pieces_over_time() {
    within(Duration::from_secs(10), || {
        let server = start_default();
        let mut stream = connect(server.addr());
        let id = 5;
        let started = Instant::now();
        stream
            .write_all(get(&format!("/wiki/{id}?fault=drip&piece=512&pause=10")).as_bytes())
            .unwrap();
        let response = read_one(&mut stream, Method::Get);
        let took = started.elapsed();
        assert_article(&response, id);
        // At least (pieces - 1) pauses: the loop did pause, without sleeping.
        let pieces = (document(id).len() + 200) / 512;
        let least = Duration::from_millis(10 * (pieces as u64).saturating_sub(1));
        assert!(took >= least, "{took:?} < {least:?}");
        // A drip on a keep-alive request keeps the connection.
        stream.write_all(get("/wiki/6").as_bytes()).unwrap();
        assert_article(&read_one(&mut stream, Method::Get), 6);
        server.stop();
    });
}

#[test]
fn a_delayed_reply_does_not_hold_up_other_connections() {
    within(Duration::from_secs(20), || {
        let server = start_default();
        let addr = server.addr();
        let mut slow = connect(addr);
        let mut quick = connect(addr);
        // A minute of delay: a loop that slept through it would not answer the quick
        // request within the read timeout (5 s), however fast or busy the machine.
        slow.write_all(get("/wiki/8?latency=60000").as_bytes())
            .unwrap();
        // Make sure the slow request is in the loop's hands first.
        let deadline = Instant::now() + Duration::from_secs(5);
        while server.stats().requests < 1 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(server.stats().requests, 1, "the slow request arrived");
        quick.write_all(get("/wiki/9").as_bytes()).unwrap();
        assert_article(&read_one(&mut quick, Method::Get), 9);
        // Answered while the delayed reply is still pending: nothing for `slow` yet.
        slow.set_nonblocking(true).unwrap();
        let mut byte = [0u8; 1];
        let pending = slow.read(&mut byte);
        assert!(
            matches!(&pending, Err(e) if e.kind() == ErrorKind::WouldBlock),
            "{pending:?}"
        );
        let stats = server.stop();
        assert_eq!(stats.requests, 2, "{stats}");
    });
}

#[test]
fn a_server_wide_plan_applies_to_every_article() {
    within(Duration::from_secs(10), || {
        let server = start(LoopServerConfig {
            faults: FaultPlan {
                rate: 1.0,
                kinds: vec![FaultKind::Truncate],
                ..FaultPlan::none()
            },
            ..LoopServerConfig::default()
        });
        for id in 0..5 {
            let raw = exchange_to_eof(server.addr(), &get(&format!("/wiki/{id}")));
            let (_, body) = split(&raw);
            assert!(body.len() < document(id).len(), "article {id}");
        }
        assert_eq!(server.stop().faults, 5);
    });
}

#[test]
fn a_connection_idle_past_the_timeout_is_closed() {
    within(Duration::from_secs(10), || {
        let server = start(LoopServerConfig {
            idle_timeout: Duration::from_millis(200),
            ..LoopServerConfig::default()
        });
        let addr = server.addr();
        // Silent from the start. The clock starts before the connection exists, so
        // the server's idle time (counted from when it took the connection) fits in it:
        // closed after 200 ms at the earliest, however busy the machine. (A server that
        // ignored the setting would keep its default of 10 s, and the read would time
        // out after 5 s instead of seeing the end of the stream.)
        let started = Instant::now();
        let mut silent = connect(addr);
        assert!(read_to_eof(&mut silent).is_empty());
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(200), "{took:?}");
        // Silent after a request: answered, then closed.
        let mut once = connect(addr);
        once.write_all(get("/wiki/10").as_bytes()).unwrap();
        assert_article(&read_one(&mut once, Method::Get), 10);
        assert!(read_to_eof(&mut once).is_empty());
        // Silent in the middle of a request.
        let mut half = connect(addr);
        half.write_all(b"GET /wiki/11 HTTP/1.1\r\nHo").unwrap();
        assert!(read_to_eof(&mut half).is_empty());

        // The server counts a connection closed just after closing it: give it a moment
        // (5 s, which only a hang would use up).
        let deadline = Instant::now() + Duration::from_secs(5);
        while server.stats().open_connections > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        let stats = server.stop();
        assert_eq!((stats.connections, stats.open_connections), (3, 0));
    });
}

#[test]
fn an_injected_delay_longer_than_the_idle_timeout_is_still_answered() {
    within(Duration::from_secs(10), || {
        // The idle clock measures the client's silence, not our own waits.
        let server = start(LoopServerConfig {
            idle_timeout: Duration::from_millis(200),
            ..LoopServerConfig::default()
        });
        let mut stream = connect(server.addr());
        let sent = Instant::now();
        stream
            .write_all(get("/wiki/13?latency=500").as_bytes())
            .unwrap();
        assert_article(&read_one(&mut stream, Method::Get), 13);
        // The delay counts from the request's arrival, after `sent`: a lower bound no
        // busy machine can break.
        assert!(sent.elapsed() >= Duration::from_millis(500));
        server.stop();
    });
}

#[test]
fn a_malformed_request_gets_a_400_then_the_end() {
    within(Duration::from_secs(10), || {
        let server = start_default();
        // Garbage, and a valid request after it that must not be answered.
        let raw = exchange_to_eof(server.addr(), &format!("GARBAGE\r\n\r\n{}", get("/wiki/1")));
        let (head, body) = split(&raw);
        assert!(head.starts_with("HTTP/1.1 400 "), "{head}");
        assert_eq!(header(&head, "connection").as_deref(), Some("close"));
        assert!(!body.is_empty());
        assert_eq!(raw.windows(8).filter(|w| w == b"HTTP/1.1").count(), 1);

        // A head over the limits: 431.
        let long = format!(
            "GET / HTTP/1.1\r\nX-Long: {}\r\n\r\n",
            "a".repeat(200 * 1024)
        );
        let raw = exchange_to_eof(server.addr(), &long);
        let (head, _) = split(&raw);
        assert!(head.starts_with("HTTP/1.1 431 "), "{head}");
        server.stop();
    });
}

#[test]
fn connection_close_and_half_close_are_honoured() {
    within(Duration::from_secs(10), || {
        let server = start_default();
        // `Connection: close`: one answer, then the end.
        let raw = exchange_to_eof(
            server.addr(),
            "GET /wiki/14 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        );
        let (head, body) = split(&raw);
        assert_eq!(header(&head, "connection").as_deref(), Some("close"));
        assert_eq!(body, document(14));

        // Two requests, then the client ends its side: both answered, then the end.
        let mut stream = connect(server.addr());
        stream
            .write_all(format!("{}{}", get("/wiki/15"), get("/wiki/16")).as_bytes())
            .unwrap();
        stream.shutdown(std::net::Shutdown::Write).unwrap();
        let raw = read_to_eof(&mut stream);
        let mut parser = ResponseParser::new(Method::Get, Limits::default());
        let Parsed::Done { message, used } = parser.feed(&raw).unwrap() else {
            panic!("no first response");
        };
        assert_article(&message, 15);
        let Parsed::Done { message, .. } = parser.feed(&raw[used..]).unwrap() else {
            panic!("no second response");
        };
        assert_article(&message, 16);
        server.stop();
    });
}

#[test]
fn lesson_3_blocking_client_works_against_the_loop_server() {
    within(Duration::from_secs(10), || {
        let server = start_default();
        let url = Url::parse(&format!("http://{}/", server.addr())).unwrap();
        let mut connection = Connection::open(&url, ClientConfig::default()).unwrap();
        for id in [0, 1, 99, 12345] {
            assert_article(&connection.get(&format!("/wiki/{id}")).unwrap(), id);
        }
        let head = connection.head("/wiki/2").unwrap();
        assert_eq!(head.status, 200);
        assert!(head.body.is_empty());
        // A chunked reply through the client, on the same connection.
        assert_article(&connection.get("/wiki/3?fault=chunked").unwrap(), 3);
        assert_eq!(connection.connections_opened(), 1);
        assert_eq!(server.stop().connections, 1);
    });
}

#[test]
fn past_max_connections_clients_wait_instead_of_failing() {
    within(Duration::from_secs(10), || {
        let server = start(LoopServerConfig {
            max_connections: 2,
            ..LoopServerConfig::default()
        });
        let addr = server.addr();
        let mut first = connect(addr);
        let second = connect(addr);
        // The third completes its handshake (the kernel does that), but the loop does
        // not take it yet: its request waits.
        let mut third = connect(addr);
        third.write_all(get("/wiki/20").as_bytes()).unwrap();
        third
            .set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        let mut byte = [0u8; 1];
        let early = third.read(&mut byte);
        assert!(
            matches!(&early, Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::TimedOut),
            "{early:?}"
        );
        // One closes: the third is taken and answered.
        first.write_all(get("/wiki/19").as_bytes()).unwrap();
        assert_article(&read_one(&mut first, Method::Get), 19);
        drop(first);
        third
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        assert_article(&read_one(&mut third, Method::Get), 20);
        drop(second);
        let stats = server.stop();
        assert_eq!(stats.peak_connections, 2, "{stats}");
    });
}

#[test]
fn the_c10k_client_says_how_many_descriptors_it_lacks_before_opening_any() {
    within(Duration::from_secs(10), || {
        let server = start_default();
        // More connections than any descriptor limit allows.
        let error = c10k_client(server.addr(), 1 << 40, 1, Duration::from_secs(5)).unwrap_err();
        let C10kError::TooFewDescriptors { needed, limit, .. } = &error else {
            panic!("{error}");
        };
        assert!(needed > limit);
        let message = error.to_string();
        assert!(
            message.contains("Each end of a TCP connection"),
            "{message}"
        );
        assert!(message.contains(&limit.to_string()), "{message}");
        assert_eq!(server.stop().connections, 0);
    });
}
