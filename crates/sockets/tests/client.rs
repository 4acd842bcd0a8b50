//! The blocking client against the corpus server (in this process, on 127.0.0.1 with a
//! port the system picks), in every fault mode, and against servers that misbehave in
//! ways the corpus cannot: silence, refusal. Every wait is bounded by the client's own
//! timeouts, so a hang shows up as a failed test.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use sockets::client::{ClientConfig, ClientError, Connection, fetch, fetch_with};
use sockets::corpus::{CHECKSUM_HEADER, document, verify};
use sockets::http::HttpError;
use sockets::server::{ServerConfig, ServerHandle, start};
use sockets::url::Url;

fn server() -> ServerHandle {
    start(ServerConfig::default()).expect("the corpus server starts on 127.0.0.1")
}

/// Timeouts that only a hang reaches: every exchange here takes milliseconds, even on
/// a busy machine. (Tests of the timeouts themselves set their own.)
fn quick() -> ClientConfig {
    ClientConfig {
        connect_timeout: Duration::from_secs(10),
        io_timeout: Duration::from_secs(10),
        ..ClientConfig::default()
    }
}

fn get(server: &ServerHandle, target: &str) -> Result<sockets::http::Response, ClientError> {
    fetch_with(&format!("http://{}{target}", server.addr()), quick())
}

#[test]
fn fetches_a_verified_document() {
    let s = server();
    let r = get(&s, "/wiki/12345").unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.body, document(12345));
    assert!(verify(&r.body, r.headers.get(CHECKSUM_HEADER).unwrap()));
    s.stop();
}

#[test]
fn one_connection_serves_many_requests() {
    let s = server();
    let url = Url::parse(&format!("http://{}/", s.addr())).unwrap();
    let mut c = Connection::open(&url, quick()).unwrap();
    for id in 0..50 {
        let r = c.get(&format!("/wiki/{id}")).unwrap();
        assert_eq!(r.body, document(id));
    }
    let head = c.head("/wiki/3").unwrap();
    assert!(head.body.is_empty(), "HEAD has no body");
    assert_eq!(
        c.connections_opened(),
        1,
        "keep-alive must reuse the connection"
    );
    s.stop();
}

#[test]
fn reconnects_when_the_server_closed_an_idle_connection() {
    // One worker: while it holds our idle connection, no other client is served. So
    // once another client has its answer, the server has closed our connection (after
    // its 200 ms idle timeout): a fact, not a guess at how long that takes.
    let s = start(ServerConfig {
        workers: 1,
        idle_timeout: Duration::from_millis(200),
        ..ServerConfig::default()
    })
    .unwrap();
    let url = Url::parse(&format!("http://{}/", s.addr())).unwrap();
    let mut c = Connection::open(&url, quick()).unwrap();
    c.get("/wiki/1").unwrap();
    let mut other = Connection::open(&url, quick()).unwrap();
    assert_eq!(other.get("/wiki/3").unwrap().body, document(3));
    drop(other);
    let r = c.get("/wiki/2").unwrap();
    assert_eq!(r.body, document(2));
    assert_eq!(c.connections_opened(), 2);
    s.stop();
}

#[test]
fn every_fault_gives_a_document_or_a_clear_error() {
    let s = server();
    let start = Instant::now();
    // Bodies delimited in unusual ways still arrive whole and verified.
    for fault in ["chunked", "close", "drip"] {
        let r = get(&s, &format!("/wiki/77?fault={fault}")).unwrap();
        assert_eq!(r.body, document(77), "{fault}");
        assert!(
            verify(&r.body, r.headers.get(CHECKSUM_HEADER).unwrap_or("")),
            "{fault}"
        );
    }
    let r = get(&s, "/wiki/77?fault=unavailable").unwrap();
    assert_eq!(r.status, 503);
    assert!(
        r.headers.get("retry-after").is_some(),
        "503 carries Retry-After"
    );
    let err = get(&s, "/wiki/77?fault=drop").unwrap_err();
    assert!(
        matches!(err, ClientError::ClosedBeforeResponse { .. }),
        "{err}"
    );
    assert!(err.is_transient());
    let err = get(&s, "/wiki/77?fault=truncate").unwrap_err();
    assert!(
        matches!(
            err,
            ClientError::Http {
                source: HttpError::Truncated { .. },
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("Content-Length"), "{err}");
    assert!(err.is_transient());
    // Guards against a hang: the slowest of these (the drip) takes tens of milliseconds.
    assert!(start.elapsed() < Duration::from_secs(10));
    s.stop();
}

#[test]
fn missing_documents_and_routes_are_http_errors_not_client_errors() {
    let s = server();
    assert_eq!(get(&s, "/nowhere").unwrap().status, 404);
    assert_eq!(get(&s, "/wiki/not-a-number").unwrap().status, 404);
    s.stop();
}

#[test]
fn a_silent_server_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    // Accepts (the kernel does, via the backlog) and never answers.
    let config = ClientConfig {
        io_timeout: Duration::from_millis(300),
        ..quick()
    };
    let start = Instant::now();
    let err = fetch_with(&format!("http://{addr}/wiki/1"), config).unwrap_err();
    assert!(matches!(err, ClientError::Timeout { .. }), "{err}");
    // Guards against a hang: nothing but the 300 ms timeout can end this.
    assert!(start.elapsed() < Duration::from_secs(10));
    drop(listener);
}

#[test]
fn a_refused_connection_and_bad_urls_are_typed_errors() {
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let err = fetch_with(&format!("http://{addr}/"), quick()).unwrap_err();
    assert!(matches!(err, ClientError::Connect { .. }), "{err}");
    let err = fetch("https://example.org/").unwrap_err();
    assert!(matches!(err, ClientError::Url(_)), "{err}");
    assert!(err.to_string().to_lowercase().contains("https"), "{err}");
    let err = fetch("ftp://example.org/").unwrap_err();
    assert!(matches!(err, ClientError::Url(_)), "{err}");
}

/// Python's http.server: HTTP/1.0, a different implementation from ours. Skipped (and
/// says so) where python3 is not installed.
#[test]
fn works_against_pythons_http_server() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let dir = std::env::temp_dir().join(format!("sockets-py-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("page.txt"), "served by python\n").unwrap();
    let child = Command::new("python3")
        .args([
            "-u",
            "-m",
            "http.server",
            "0",
            "--bind",
            "127.0.0.1",
            "--directory",
        ])
        .arg(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn();
    let Ok(mut child) = child else {
        eprintln!("skipped: python3 is not installed");
        return;
    };
    let mut line = String::new();
    let stdout = child.stdout.take().unwrap();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    // "Serving HTTP on 127.0.0.1 port 43567 (http://127.0.0.1:43567/) ..."
    let port = line
        .split_whitespace()
        .skip_while(|w| *w != "port")
        .nth(1)
        .and_then(|p| p.parse::<u16>().ok());
    let result = port.map(|port| fetch_with(&format!("http://127.0.0.1:{port}/page.txt"), quick()));
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    let response = result
        .expect("python's http.server printed its port")
        .unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.body, b"served by python\n");
}

#[test]
fn a_drip_that_keeps_each_read_short_still_meets_the_exchange_deadline() {
    // A server that sends its answer one byte every 50 ms (50 s for the whole body): no
    // single read waits long, so only a deadline for the whole exchange can end it.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        use std::io::{Read, Write};
        if let Ok((mut stream, _)) = listener.accept() {
            let mut request = [0u8; 1024];
            let _ = stream.read(&mut request);
            let head = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
            let _ = stream.write_all(head);
            for _ in 0..1000 {
                if stream.write_all(b"x").is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    });
    let config = ClientConfig {
        io_timeout: Duration::from_secs(2),
        exchange_timeout: Some(Duration::from_millis(400)),
        ..quick()
    };
    let start = Instant::now();
    let err = fetch_with(&format!("http://{addr}/wiki/1"), config).unwrap_err();
    assert!(
        matches!(err, ClientError::Timeout { timeout, .. } if timeout == Duration::from_millis(400)),
        "{err}"
    );
    // Guards against a hang: the exchange deadline ends it after 400 ms; without one,
    // the drip would go on for 50 s.
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
    let _ = server.join();
}
