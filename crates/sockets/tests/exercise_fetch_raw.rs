//! Graded tests for exercise `sockets/fetch-raw`. Each test runs its own small server on
//! 127.0.0.1 (port 0: the system picks a free one), bounded in time.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use sockets::exercises::fetch_raw::{MAX_RESPONSE, fetch_raw};

/// Serves one connection: reads the request head, sends `reply` (then closes), and
/// reports the request it saw.
fn serve_once(reply: Vec<u8>, close: bool) -> (SocketAddr, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let Ok((mut stream, _)) = listener.accept() else {
            return;
        };
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut seen = Vec::new();
        let mut buf = [0u8; 1024];
        while !seen.ends_with(b"\r\n\r\n") {
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
        let _ = tx.send(String::from_utf8_lossy(&seen).into_owned());
        let _ = stream.write_all(&reply);
        if !close {
            std::thread::sleep(Duration::from_secs(10));
        }
    });
    (addr, rx)
}

const SECOND: Duration = Duration::from_secs(1);

#[test]
fn returns_every_byte_the_server_sent() {
    let reply = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi".to_vec();
    let (addr, _) = serve_once(reply.clone(), true);
    assert_eq!(
        fetch_raw(addr, "example.org", "/x", SECOND * 5).unwrap(),
        reply
    );
}

#[test]
fn sends_a_get_with_host_and_connection_close() {
    let (addr, seen) = serve_once(b"HTTP/1.1 204 No Content\r\n\r\n".to_vec(), true);
    fetch_raw(addr, "wiki.local:8080", "/wiki/7", SECOND * 5).unwrap();
    let request = seen.recv_timeout(SECOND * 5).unwrap();
    assert!(
        request.starts_with("GET /wiki/7 HTTP/1.1\r\n"),
        "{request:?}"
    );
    let lower = request.to_ascii_lowercase();
    assert!(
        lower.contains("\r\nhost: wiki.local:8080\r\n"),
        "{request:?}"
    );
    assert!(lower.contains("\r\nconnection: close\r\n"), "{request:?}");
}

#[test]
fn a_large_response_arrives_whole() {
    let body = vec![b'x'; 3 << 20];
    let mut reply =
        format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
    reply.extend_from_slice(&body);
    let (addr, _) = serve_once(reply.clone(), true);
    assert_eq!(
        fetch_raw(addr, "h", "/big", SECOND * 10).unwrap().len(),
        reply.len()
    );
}

#[test]
fn a_silent_server_is_an_error_within_the_timeout() {
    let (addr, _) = serve_once(Vec::new(), false);
    let start = Instant::now();
    let err = fetch_raw(addr, "h", "/", Duration::from_millis(300)).unwrap_err();
    assert!(
        matches!(
            err.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
        "{err:?}"
    );
    assert!(start.elapsed() < SECOND * 3, "waited {:?}", start.elapsed());
}

#[test]
fn a_refused_connection_is_an_error() {
    // Bind, note the port, close: nobody listens there now.
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    assert!(fetch_raw(addr, "h", "/", SECOND).is_err());
}

#[test]
fn an_endless_response_is_cut_at_the_limit() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        if let Ok((mut stream, _)) = listener.accept() {
            // Read the request first: closing a socket with unread input resets the
            // connection, and the client would see a reset instead of the limit.
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let mut seen = Vec::new();
            let mut buf = [0u8; 1024];
            while !seen.ends_with(b"\r\n\r\n") {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => seen.extend_from_slice(&buf[..n]),
                }
            }
            let chunk = vec![b'y'; 1 << 20];
            // Bounded: a little more than the limit, then stop.
            for _ in 0..(MAX_RESPONSE >> 20) + 2 {
                if stream.write_all(&chunk).is_err() {
                    return;
                }
            }
        }
    });
    let err = fetch_raw(addr, "h", "/", SECOND * 10).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidData, "{err:?}");
}
