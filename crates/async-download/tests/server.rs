//! The tokio corpus server: the same behaviour on the wire as lessons 3 and 4's — keep-
//! alive, HEAD, 404, 400 and a close for garbage, pipelining in order, every fault —
//! and a prompt stop. Checked with lesson 3's blocking client (which understands
//! chunked and close-delimited bodies) and, where the bytes themselves matter, with a
//! raw socket and lesson 3's response parser.
//!
//! Every wait is bounded: the client's reads and writes time out after five seconds, so
//! a server that stalls fails a test instead of hanging it.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_download::server::{self, RunningServer, ServerConfig};
use sockets::client::{ClientConfig, ClientError, Connection, read_some};
use sockets::corpus::{
    CHECKSUM_HEADER, DEFAULT_RETRY_AFTER_SECS, FaultKind, FaultPlan, SLOW_REPLY, document, verify,
};
use sockets::http::{HttpError, Limits, Method, Parsed, Response, ResponseParser};
use sockets::url::Url;

/// The longest any single read or write of a test may wait.
const IO_TIMEOUT: Duration = Duration::from_secs(5);

fn start(faults: FaultPlan) -> RunningServer {
    start_with_workers(faults, 2)
}

fn start_with_workers(faults: FaultPlan, workers: usize) -> RunningServer {
    server::start(ServerConfig {
        addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        faults,
        workers,
    })
    .expect("the server starts")
}

/// Lesson 3's keep-alive client, connected to `addr`.
fn client(addr: SocketAddr) -> Connection {
    let url = Url::parse(&format!("http://{addr}/")).expect("a valid URL");
    let config = ClientConfig {
        io_timeout: IO_TIMEOUT,
        ..ClientConfig::default()
    };
    Connection::open(&url, config).expect("the client connects")
}

/// A raw socket to `addr`, with the test's timeouts.
fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT).expect("connect");
    stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    stream
}

fn get_request(target: &str) -> String {
    format!("GET {target} HTTP/1.1\r\nHost: test\r\n\r\n")
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

/// The responses in `raw`, one per method (a HEAD response has no body), in order; an
/// incomplete last one is an error.
fn parse_responses(mut raw: &[u8], methods: &[Method]) -> Vec<Response> {
    let mut responses = Vec::new();
    for &method in methods {
        let mut parser = ResponseParser::new(method, Limits::default());
        match parser.feed(raw) {
            Ok(Parsed::Done { message, used }) => {
                responses.push(message);
                raw = &raw[used..];
            }
            other => panic!("response {} of {methods:?}: {other:?}", responses.len()),
        }
    }
    assert!(raw.is_empty(), "{} bytes after the responses", raw.len());
    responses
}

/// Asserts that `response` is article `id`, whole, with a checksum that matches.
fn assert_article(response: &Response, id: u64) {
    assert_eq!(response.status, 200);
    assert_eq!(response.body, document(id), "article {id}");
    let checksum = response
        .headers
        .get(CHECKSUM_HEADER)
        .expect("a checksum header");
    assert!(verify(&response.body, checksum), "article {id}'s checksum");
}

#[test]
fn articles_come_whole_and_checked_on_one_keep_alive_connection() {
    for workers in [0, 2] {
        let server = start_with_workers(FaultPlan::none(), workers);
        let mut connection = client(server.addr());
        for id in [0, 1, 7, 12_345, u64::MAX] {
            let response = connection.get(&format!("/wiki/{id}")).unwrap();
            assert_article(&response, id);
            assert!(response.keep_alive);
        }
        assert_eq!(connection.connections_opened(), 1, "workers = {workers}");
        let stats = server.stats();
        assert_eq!((stats.connections, stats.requests, stats.faults), (1, 5, 0));
        server.stop();
    }
}

#[test]
fn head_gets_the_head_of_get_without_a_body() {
    let server = start(FaultPlan::none());
    let mut connection = client(server.addr());
    let head = connection.head("/wiki/5").unwrap();
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    let length = document(5).len().to_string();
    assert_eq!(head.headers.get("content-length"), Some(length.as_str()));
    let checksum = head
        .headers
        .get(CHECKSUM_HEADER)
        .expect("a checksum header");
    assert!(verify(&document(5), checksum));
    // The connection is still in step: the next GET gets its own answer.
    assert_article(&connection.get("/wiki/5").unwrap(), 5);
    assert_eq!(connection.connections_opened(), 1);
    server.stop();
}

#[test]
fn unknown_paths_get_404_and_the_connection_stays() {
    let server = start(FaultPlan::none());
    let mut connection = client(server.addr());
    for target in ["/nowhere", "/wiki/", "/wiki/007", "/wiki/-1"] {
        let response = connection.get(target).unwrap();
        assert_eq!(response.status, 404, "{target}");
    }
    assert_eq!(connection.get("/").unwrap().status, 200);
    assert_eq!(connection.connections_opened(), 1);
    server.stop();
}

#[test]
fn a_malformed_request_gets_an_error_status_and_a_close() {
    let server = start(FaultPlan::none());
    let addr = server.addr();
    // Garbage, then more bytes the server will never read: its 400 must still get
    // through before the close (no reset that would swallow it).
    let raw = exchange_to_eof(addr, "NOT HTTP AT ALL\r\n\r\nand more garbage after it\r\n");
    let response = parse_responses(&raw, &[Method::Get]).remove(0);
    assert_eq!(response.status, 400);
    assert_eq!(response.headers.get("connection"), Some("close"));
    assert!(!response.body.is_empty(), "the body says what was wrong");

    let raw = exchange_to_eof(addr, "DELETE /wiki/1 HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(parse_responses(&raw, &[Method::Get])[0].status, 501);

    // A head over the limits: the server answers before it has read it all, so our
    // write may fail; the answer is what counts.
    let big = format!("GET / HTTP/1.1\r\nX-Big: {}\r\n\r\n", "b".repeat(70_000));
    let mut stream = connect(addr);
    let _ = stream.write_all(big.as_bytes());
    let mut all = Vec::new();
    match stream.read_to_end(&mut all) {
        Ok(_) => {}
        Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
        Err(e) => panic!("{e}"),
    }
    assert!(
        all.starts_with(b"HTTP/1.1 431 "),
        "{:?}",
        String::from_utf8_lossy(&all)
    );
    server.stop();
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let server = start(FaultPlan::none());
    // Four requests in one write; the last one asks to close, so the server ends the
    // stream after answering it and we can read to the end.
    let raw = format!(
        "{}HEAD /wiki/2 HTTP/1.1\r\nHost: t\r\n\r\n{}{}",
        get_request("/wiki/1"),
        get_request("/nowhere"),
        "GET /wiki/3 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    );
    let all = exchange_to_eof(server.addr(), &raw);
    let methods = [Method::Get, Method::Head, Method::Get, Method::Get];
    let responses = parse_responses(&all, &methods);
    assert_article(&responses[0], 1);
    assert_eq!((responses[1].status, responses[1].body.len()), (200, 0));
    assert_eq!(responses[2].status, 404);
    assert_article(&responses[3], 3);
    assert!(!responses[3].keep_alive);

    // A request cut in two by the network is one request: the parser keeps the first
    // part until the rest comes.
    let mut stream = connect(server.addr());
    let request = get_request("/wiki/4");
    let (first, second) = request.split_at(10);
    stream.write_all(first.as_bytes()).unwrap();
    std::thread::sleep(Duration::from_millis(20));
    stream.write_all(second.as_bytes()).unwrap();
    let mut parser = ResponseParser::new(Method::Get, Limits::default());
    let mut buf = vec![0u8; 64 * 1024];
    let response = loop {
        let n = read_some(&mut stream, &mut buf).expect("the reply comes");
        assert!(n > 0, "closed before the reply");
        if let Parsed::Done { message, .. } = parser.feed(&buf[..n]).unwrap() {
            break message;
        }
    };
    assert_article(&response, 4);
    server.stop();
}

#[test]
fn drop_closes_without_a_byte() {
    let server = start(FaultPlan::none());
    assert_eq!(
        exchange_to_eof(server.addr(), &get_request("/wiki/1?fault=drop")),
        b""
    );
    // Lesson 3's client tries a request on a kept-alive connection once more on a new
    // one when the server closed without answering (it may have closed it idle): so
    // two attempts, both dropped.
    let mut connection = client(server.addr());
    let error = connection.get("/wiki/1?fault=drop").unwrap_err();
    assert!(
        matches!(error, ClientError::ClosedBeforeResponse { .. }),
        "{error}"
    );
    let stats = server.stats();
    assert_eq!((stats.requests, stats.faults, stats.bytes_sent), (3, 3, 0));
    server.stop();
}

#[test]
fn unavailable_is_a_503_with_retry_after_and_keeps_the_connection() {
    let server = start(FaultPlan::none());
    let mut connection = client(server.addr());
    let response = connection.get("/wiki/4?fault=unavailable").unwrap();
    assert_eq!(response.status, 503);
    let default = DEFAULT_RETRY_AFTER_SECS.to_string();
    assert_eq!(response.headers.get("retry-after"), Some(default.as_str()));
    let response = connection
        .get("/wiki/4?fault=unavailable&retry_after=3")
        .unwrap();
    assert_eq!(response.headers.get("retry-after"), Some("3"));
    assert_article(&connection.get("/wiki/4").unwrap(), 4);
    assert_eq!(connection.connections_opened(), 1);
    server.stop();
}

#[test]
fn truncate_sends_half_the_body_then_closes() {
    let server = start(FaultPlan::none());
    let mut connection = client(server.addr());
    let error = connection.get("/wiki/2?fault=truncate").unwrap_err();
    assert!(
        matches!(
            error,
            ClientError::Http {
                source: HttpError::Truncated { .. },
                ..
            }
        ),
        "{error}"
    );
    // On the wire: the whole length announced, a part of the body sent.
    let raw = exchange_to_eof(server.addr(), &get_request("/wiki/2?fault=truncate"));
    let head_end = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let body = &raw[head_end..];
    assert!(!body.is_empty() && body.len() < document(2).len());
    assert_eq!(body, &document(2)[..body.len()]);
    // The connection the client had is gone; the next request opens another.
    assert_article(&connection.get("/wiki/2").unwrap(), 2);
    assert_eq!(connection.connections_opened(), 2);
    server.stop();
}

#[test]
fn chunked_bodies_decode_to_the_article_and_keep_the_connection() {
    let server = start(FaultPlan::none());
    let mut connection = client(server.addr());
    for id in [4, 9, 10_000] {
        let response = connection
            .get(&format!("/wiki/{id}?fault=chunked"))
            .unwrap();
        assert_eq!(response.headers.get("transfer-encoding"), Some("chunked"));
        assert_article(&response, id);
        assert!(response.keep_alive);
    }
    assert_eq!(connection.connections_opened(), 1);
    server.stop();
}

#[test]
fn close_delimited_bodies_end_with_the_connection() {
    let server = start(FaultPlan::none());
    let mut connection = client(server.addr());
    let response = connection.get("/wiki/3?fault=close").unwrap();
    assert_eq!(response.headers.get("content-length"), None);
    assert_eq!(response.headers.get("connection"), Some("close"));
    assert_article(&response, 3);
    assert!(!response.keep_alive);
    assert_article(&connection.get("/wiki/3").unwrap(), 3);
    assert_eq!(connection.connections_opened(), 2);
    server.stop();
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
    let mut buf = vec![0u8; 64 * 1024];
    let response = loop {
        let n = read_some(&mut stream, &mut buf).expect("pieces keep coming");
        assert!(n > 0, "closed in the middle of the drip");
        reads += 1;
        if let Parsed::Done { message, .. } = parser.feed(&buf[..n]).unwrap() {
            break message;
        }
    };
    assert_article(&response, 6);
    // The head is over 100 bytes: the reply fills at least this many pieces.
    let pieces = (document(6).len() + 100).div_ceil(64) as u64;
    assert!(reads >= 2, "{reads} reads: the reply came in one go");
    // The pauses begin after the request arrives, after `sent`: a lower bound no busy
    // machine can break.
    let least = Duration::from_millis(20 * (pieces - 1));
    assert!(sent.elapsed() >= least, "{:?} < {least:?}", sent.elapsed());

    // And through the client, on a connection that stays open after the drip.
    let mut connection = client(server.addr());
    let response = connection
        .get("/wiki/6?fault=drip&piece=4096&pause=1")
        .unwrap();
    assert_article(&response, 6);
    assert_article(&connection.get("/wiki/6").unwrap(), 6);
    assert_eq!(connection.connections_opened(), 1);
    server.stop();
}

#[test]
fn latency_delays_the_reply() {
    let server = start(FaultPlan::none());
    let mut connection = client(server.addr());
    // Each delay begins when its request arrives, after `sent`.
    let sent = Instant::now();
    assert_article(&connection.get("/wiki/7?latency=120").unwrap(), 7);
    assert!(
        sent.elapsed() >= Duration::from_millis(120),
        "{:?}",
        sent.elapsed()
    );

    let sent = Instant::now();
    assert_article(&connection.get("/wiki/7?fault=latency").unwrap(), 7);
    assert!(sent.elapsed() >= SLOW_REPLY, "{:?}", sent.elapsed());
    assert_eq!(server.stats().faults, 1);
    server.stop();
}

#[test]
fn a_delayed_reply_does_not_hold_up_other_connections() {
    // The point of tasks: one connection waiting out a long delay, another served at
    // once — even on a single-threaded runtime.
    let server = start_with_workers(FaultPlan::none(), 0);
    let mut slow = connect(server.addr());
    // A minute of delay: a server that waited it out first could not answer the other
    // connection within the client's 5 s, however fast or busy the machine.
    slow.write_all(get_request("/wiki/1?latency=60000").as_bytes())
        .unwrap();
    // Make sure the slow request is in the server's hands first.
    let deadline = Instant::now() + IO_TIMEOUT;
    while server.stats().requests < 1 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(server.stats().requests, 1, "the slow request arrived");
    let mut connection = client(server.addr());
    assert_article(&connection.get("/wiki/2").unwrap(), 2);
    // Answered while the delayed reply is still pending: nothing for `slow` yet.
    slow.set_nonblocking(true).unwrap();
    let pending = slow.read(&mut [0u8; 1]);
    assert!(
        matches!(&pending, Err(e) if e.kind() == ErrorKind::WouldBlock),
        "{pending:?}"
    );
    server.stop();
}

#[test]
fn the_global_plan_applies_to_articles_only() {
    for kind in [FaultKind::Unavailable, FaultKind::Chunked, FaultKind::Drop] {
        let server = start(FaultPlan {
            rate: 1.0,
            kinds: vec![kind],
            ..FaultPlan::none()
        });
        let mut connection = client(server.addr());
        for id in 0..3 {
            let result = connection.get(&format!("/wiki/{id}"));
            match kind {
                FaultKind::Unavailable => assert_eq!(result.unwrap().status, 503),
                FaultKind::Chunked => {
                    let response = result.unwrap();
                    assert_eq!(response.headers.get("transfer-encoding"), Some("chunked"));
                    assert_article(&response, id);
                }
                _ => assert!(result.is_err(), "{kind}: article {id} was served"),
            }
        }
        // Only articles roll: the home page is served.
        assert_eq!(connection.get("/").unwrap().status, 200, "{kind}");
        assert!(server.stats().faults >= 3, "{kind}: {}", server.stats());
        server.stop();
    }
}

#[test]
fn the_attempt_header_gets_a_fresh_roll() {
    let plan = FaultPlan {
        rate: 0.5,
        kinds: vec![FaultKind::Unavailable],
        seed: 42,
        ..FaultPlan::none()
    };
    // An article that is unlucky on attempt 0 and lucky on attempt 1: with even odds,
    // one among the first few hundred ids.
    let id = (0..1000)
        .find(|&id| plan.pick(id, 0).is_some() && plan.pick(id, 1).is_none())
        .expect("such an id");
    let server = start(plan);
    let addr = server.addr();
    let ask = |attempt: Option<u64>| {
        let header = attempt.map_or(String::new(), |n| format!("X-Attempt: {n}\r\n"));
        let raw =
            format!("GET /wiki/{id} HTTP/1.1\r\nHost: t\r\n{header}Connection: close\r\n\r\n");
        parse_responses(&exchange_to_eof(addr, &raw), &[Method::Get]).remove(0)
    };
    // The same request meets the same fault, every time; a retry that says so does not.
    assert_eq!(ask(None).status, 503);
    assert_eq!(ask(Some(0)).status, 503);
    assert_eq!(ask(None).status, 503);
    assert_article(&ask(Some(1)), id);
    server.stop();
}

#[test]
fn stop_is_prompt_with_connections_open_and_waiting() {
    let server = start(FaultPlan::none());
    let addr = server.addr();
    // One connection idle, one in the middle of a request, one waiting out a long
    // delay, one in a slow drip, one kept alive after a reply.
    let idle = connect(addr);
    let mut partial = connect(addr);
    partial.write_all(b"GET /wiki/1 HTTP/1.1\r\nHo").unwrap();
    let mut delayed = connect(addr);
    delayed
        .write_all(get_request("/wiki/1?latency=60000").as_bytes())
        .unwrap();
    let mut dripping = connect(addr);
    dripping
        .write_all(get_request("/wiki/1?fault=drip&piece=1&pause=1000").as_bytes())
        .unwrap();
    let mut kept = client(addr);
    assert_article(&kept.get("/wiki/1").unwrap(), 1);
    std::thread::sleep(Duration::from_millis(50));

    let stopping = Instant::now();
    server.stop();
    // A prompt stop takes milliseconds; one that waited for the delayed reply or the
    // drip would take a minute or more. 10 s tells the two apart on any machine.
    assert!(
        stopping.elapsed() < Duration::from_secs(10),
        "stop took {:?}",
        stopping.elapsed()
    );
    // Every connection has been closed: a read ends (end of stream, or a reset)
    // instead of timing out.
    for mut stream in [idle, partial, delayed, dripping] {
        let mut rest = Vec::new();
        match stream.read_to_end(&mut rest) {
            Ok(_) => {}
            Err(e) => assert_ne!(e.kind(), ErrorKind::WouldBlock, "still open"),
        }
    }
    // And nobody listens any more.
    assert!(TcpStream::connect_timeout(&addr, IO_TIMEOUT).is_err());
}

#[test]
fn dropping_the_handle_stops_the_server_too() {
    let server = start(FaultPlan::none());
    let addr = server.addr();
    let _open = connect(addr);
    let dropping = Instant::now();
    drop(server);
    // The open connection would keep a server that waited for it for a minute (its
    // idle timeout): 10 s is far from that, and far beyond a busy machine's delay.
    assert!(dropping.elapsed() < Duration::from_secs(10));
    assert!(TcpStream::connect_timeout(&addr, IO_TIMEOUT).is_err());
}

#[test]
fn serve_runs_on_a_runtime_of_ours_until_shutdown() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let stats = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = tokio::spawn(server::serve(
            listener,
            Arc::new(FaultPlan::none()),
            async move {
                let _ = stopped.await;
            },
        ));
        // A blocking client, on a thread of its own: it must not block the runtime.
        let fetching = tokio::task::spawn_blocking(move || {
            let mut connection = client(addr);
            let response = connection.get("/wiki/9").unwrap();
            (response, connection)
        });
        let (response, _still_open) = fetching.await.unwrap();
        assert_article(&response, 9);
        // The client's connection is still open: the shutdown closes it. (A serve that
        // waited for it would wait forever; 10 s only bounds that.)
        stop.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(10), serving)
            .await
            .expect("serve returns promptly")
            .unwrap()
    });
    assert_eq!((stats.connections, stats.requests), (1, 1));
}

#[test]
fn start_works_from_async_code() {
    // A tour written with `#[tokio::main]` starts the server from inside a runtime: the
    // server's own runtime must live (and be dropped) on its own thread.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let server = start(FaultPlan::none());
        let addr = server.addr();
        let response = tokio::task::spawn_blocking(move || client(addr).get("/wiki/3"))
            .await
            .unwrap()
            .unwrap();
        assert_article(&response, 3);
        // `stop` joins a thread: blocking work, so not on a runtime worker.
        tokio::task::spawn_blocking(move || server.stop())
            .await
            .unwrap();
    });
}

// ----- serve_as_child, in a child process -----

/// The environment variable that turns this test binary into a corpus server: its
/// value is the arguments, separated by spaces.
const CHILD_ARGS: &str = "ASYNC_DOWNLOAD_TEST_SERVE_CORPUS";

/// Not a test of its own: the entry point of the child server. In a normal run the
/// variable is unset and it passes at once; in the child it serves, then ends the
/// process before the test harness can print anything more.
#[test]
fn child_entry() {
    let Ok(args) = std::env::var(CHILD_ARGS) else {
        return;
    };
    let args: Vec<String> = args.split_whitespace().map(String::from).collect();
    let code = server::serve_as_child(&args);
    std::process::exit(if code == ExitCode::SUCCESS { 0 } else { 1 });
}

/// This test binary as a child server with `args`, found through
/// `procs::child_server`. The test harness prints "running 1 test", then "test
/// child_entry ... " on the line the server's address goes to, so a small shell filter
/// passes on only the address, as a line of its own (then swallows the rest): the
/// parent sees exactly what a real child server prints.
fn child_server(args: &str) -> procs::child_server::ChildServer {
    let me = std::env::current_exe().unwrap();
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(
            r#""$0" --exact child_entry --nocapture --test-threads=1 | while IFS= read -r line; do
                 case "$line" in *"listening on "*) printf 'listening on %s\n' "${line#*listening on }"; exec cat >/dev/null;; esac
               done"#,
        )
        .arg(me)
        // `--for`: should the address never reach us, the child still ends soon.
        .env(CHILD_ARGS, format!("{args} --for 30"));
    procs::child_server::ChildServer::start_command(command).expect("the child server starts")
}

#[test]
fn serve_as_child_announces_serves_and_stops_when_stdin_closes() {
    let child = child_server("--workers 1 --fault-rate 1 --faults unavailable --idle-timeout 0.3");
    let addr = child.addr();
    assert!(addr.ip().is_loopback());
    let mut connection = client(addr);
    // The flags reached the server: every article meets the fault asked for.
    assert_eq!(connection.get("/wiki/1").unwrap().status, 503);
    assert_eq!(connection.get("/").unwrap().status, 200);

    // --idle-timeout too: a silent connection is closed after 0.3 s. The clock starts
    // before the connection exists, so the server's 0.3 s (counted from when it took the
    // connection) fit in it, however busy the machine. A server that kept its default
    // (60 s) would make the read time out after 5 s instead.
    let opened = Instant::now();
    let mut silent = connect(addr);
    let mut rest = Vec::new();
    silent
        .read_to_end(&mut rest)
        .expect("closed, not timed out");
    assert!(rest.is_empty());
    let waited = opened.elapsed();
    assert!(waited >= Duration::from_millis(300), "{waited:?}");

    // Closing its stdin stops it. (`stop` kills it after 5 s, but that would leave the
    // server itself running: it is a grandchild, behind the shell of `child_server`.
    // So the check is that nobody listens any more, not how long the stop took.)
    child.stop();
    assert!(TcpStream::connect_timeout(&addr, IO_TIMEOUT).is_err());
}

#[test]
fn serve_as_child_refuses_wrong_arguments() {
    let args = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    for wrong in [
        args(&["--bogus"]),
        args(&["--workers"]),
        args(&["--workers", "many"]),
        args(&["--fault-rate", "2"]),
        args(&["--addr", "10.1.2.3:80"]),
    ] {
        assert!(
            server::serve_as_child(&wrong) == ExitCode::from(2),
            "{wrong:?}"
        );
    }
    assert!(server::serve_as_child(&args(&["--help"])) == ExitCode::SUCCESS);
}
