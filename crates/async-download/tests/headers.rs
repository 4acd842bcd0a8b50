//! `-H` and `--user-agent`: the headers a user adds reach every request, on every
//! engine, retries included — checked in the bytes the server received.

mod support;

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_download::feed::Feed;
use async_download::headers::Header;
use async_download::wire::get_request;
use async_download::{EngineKind, Options, Target, download_with};
use sockets::url::Url;

use support::{TinyServer, always_ok, fast_options};

fn with_headers(user_agent: &str, headers: &[&str]) -> Options {
    Options {
        user_agent: user_agent.to_string(),
        headers: headers.iter().map(|h| Header::parse(h).unwrap()).collect(),
        ..fast_options(2, None)
    }
}

fn targets(server: &TinyServer, paths: &[&str]) -> Feed {
    let targets: Vec<Target> = paths
        .iter()
        .map(|p| Target::from_url(Url::parse(&format!("http://{}{p}", server.addr())).unwrap()))
        .collect();
    Feed::of_targets(targets.into_iter())
}

/// The header lines of a request head (the request line and the blank line left out).
fn header_lines(head: &str) -> Vec<&str> {
    let head = head
        .strip_suffix("\r\n\r\n")
        .expect("a head ends in a blank line");
    head.split("\r\n").skip(1).collect()
}

#[test]
fn the_request_bytes_carry_the_user_agent_and_the_headers_in_order() {
    let options = with_headers("probe/1", &["X-Token: abc", "Accept: text/plain"]);
    let url = Url::parse("http://h:8080/a?b").unwrap();
    let mut out = Vec::new();
    get_request(&url, 0, &options, &mut out);
    assert_eq!(
        String::from_utf8(out.clone()).unwrap(),
        "GET /a?b HTTP/1.1\r\nHost: h:8080\r\nUser-Agent: probe/1\r\nConnection: keep-alive\r\n\
         Accept-Encoding: gzip, deflate\r\nX-Token: abc\r\nAccept: text/plain\r\n\r\n"
    );
    get_request(&url, 2, &options, &mut out);
    let text = String::from_utf8(out.clone()).unwrap();
    assert!(
        text.ends_with("X-Token: abc\r\nAccept: text/plain\r\nX-Attempt: 2\r\n\r\n"),
        "{text}"
    );
    // No user agent at all, no header, no compression: the request of lesson 3, and
    // nothing else.
    let plain = Options {
        compress: false,
        ..with_headers("", &[])
    };
    get_request(&url, 0, &plain, &mut out);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "GET /a?b HTTP/1.1\r\nHost: h:8080\r\nConnection: keep-alive\r\n\r\n"
    );
}

#[test]
fn every_engine_sends_the_headers_with_every_request() {
    for kind in EngineKind::ALL {
        let server = TinyServer::start(always_ok(b"ok"));
        let options = with_headers("probe/1", &["X-Token: abc", "Accept: text/plain"]);
        let report =
            download_with(kind, targets(&server, &["/1", "/2", "/3"]), options).expect("a run");
        assert_eq!((report.ok, report.failed), (3, 0), "{kind:?}");
        let heads = server.heads();
        assert_eq!(heads.len(), 3, "{kind:?}");
        for head in &heads {
            let lines = header_lines(head);
            for want in ["User-Agent: probe/1", "X-Token: abc", "Accept: text/plain"] {
                assert_eq!(
                    lines.iter().filter(|l| **l == want).count(),
                    1,
                    "{kind:?}: {want} once in {head:?}"
                );
            }
            let agents = lines
                .iter()
                .filter(|l| l.to_ascii_lowercase().starts_with("user-agent:"))
                .count();
            assert_eq!(agents, 1, "{kind:?}: {head:?}");
        }
    }
}

#[test]
fn a_retried_request_carries_the_headers_too_on_every_engine() {
    for kind in EngineKind::ALL {
        // The first request of each connection is a 503 to retry at once, then 200s.
        let served = AtomicUsize::new(0);
        let server = TinyServer::start(move |_target, stream| {
            // The read-modify-write alone picks the first request: Relaxed would do.
            let reply: &[u8] = if served.fetch_add(1, Ordering::SeqCst) == 0 {
                b"HTTP/1.1 503 Busy\r\nRetry-After: 0\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            } else {
                b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
            };
            let _ = stream.write_all(reply);
        });
        let options = with_headers("", &["X-Token: abc"]);
        let report = download_with(kind, targets(&server, &["/only"]), options).expect("a run");
        assert_eq!((report.ok, report.retried), (1, 1), "{kind:?}");
        let heads = server.heads();
        assert_eq!(heads.len(), 2, "{kind:?}");
        for head in &heads {
            let lines = header_lines(head);
            assert!(lines.contains(&"X-Token: abc"), "{kind:?}: {head:?}");
            assert!(
                !lines.iter().any(|l| l.starts_with("User-Agent")),
                "{kind:?}: an empty user agent sends none: {head:?}"
            );
        }
        assert!(
            header_lines(&heads[1]).contains(&"X-Attempt: 1"),
            "{kind:?}"
        );
    }
}

/// A server on 127.0.0.1 that keeps its connections open and answers the request it
/// gets second (counting across connections) with a 503 to retry at once, every other
/// one with `ok`. It keeps each request's head, in order of arrival. It stops accepting
/// when dropped, or after 30 s.
struct KeepingServer {
    addr: std::net::SocketAddr,
    heads: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    accept: Option<std::thread::JoinHandle<()>>,
}

impl KeepingServer {
    fn start() -> KeepingServer {
        use std::time::{Duration, Instant};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        // Polled, so that the accepting thread ends when told to, or after 30 s.
        listener.set_nonblocking(true).unwrap();
        let heads = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (kept, stopped) = (heads.clone(), stop.clone());
        let accept = std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(30);
            while !stopped.load(Ordering::SeqCst) && Instant::now() < deadline {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let heads = kept.clone();
                        // Each connection's thread ends when the client closes, or after
                        // 10 s without a byte.
                        std::thread::spawn(move || answer(stream, &heads));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        KeepingServer {
            addr,
            heads,
            stop,
            accept: Some(accept),
        }
    }
}

impl Drop for KeepingServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

/// Answers the requests of one kept connection, as [`KeepingServer`] says.
fn answer(mut stream: std::net::TcpStream, heads: &std::sync::Mutex<Vec<String>>) {
    use std::io::Read;
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(10)));
    let (mut got, mut buf) = (Vec::new(), [0; 4096]);
    loop {
        while let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            let head: Vec<u8> = got.drain(..end + 4).collect();
            let mut heads = heads.lock().unwrap();
            heads.push(String::from_utf8_lossy(&head).into_owned());
            let reply: &[u8] = match heads.len() {
                2 => b"HTTP/1.1 503 Busy\r\nRetry-After: 0\r\nContent-Length: 0\r\n\r\n",
                _ => b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
            };
            drop(heads);
            if stream.write_all(reply).is_err() {
                return;
            }
        }
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// On a kept connection, every engine sends each request whole: the first GETs, and
/// the retry too, which alone says `X-Attempt`.
#[test]
fn requests_on_a_kept_connection_are_whole_on_every_engine() {
    for kind in EngineKind::ALL {
        let server = KeepingServer::start();
        let options = Options {
            concurrency: 1,
            ..with_headers("probe/1", &["X-Token: abc"])
        };
        let addr = server.addr;
        let targets: Vec<Target> = ["/1", "/2", "/3"]
            .iter()
            .map(|p| Target::from_url(Url::parse(&format!("http://{addr}{p}")).unwrap()))
            .collect();
        let feed = Feed::of_targets(targets.into_iter());
        let report = download_with(kind, feed, options.clone()).expect("a run");
        assert_eq!((report.ok, report.retried), (3, 1), "{kind:?}");
        // Written out in full, not by `get_request`: the bytes on the wire are checked
        // against the task's text, whatever path wrote them.
        let want: Vec<String> = [
            ("/1", ""),
            ("/2", ""),
            ("/2", "X-Attempt: 1\r\n"),
            ("/3", ""),
        ]
        .iter()
        .map(|&(path, attempt)| {
            format!(
                "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: probe/1\r\n\
                     Connection: keep-alive\r\nAccept-Encoding: gzip, deflate\r\n\
                     X-Token: abc\r\n{attempt}\r\n"
            )
        })
        .collect();
        assert_eq!(*server.heads.lock().unwrap(), want, "{kind:?}");
    }
}
