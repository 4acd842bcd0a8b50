//! Graded tests for exercise `sockets/fetch-raw`. Each test runs its own small server on
//! 127.0.0.1 (port 0: the system picks a free one), and every call to `fetch_raw` runs
//! under a deadline ([`within`]): a fetch that waits forever fails its test instead of
//! hanging it.
//!
//! Most of the servers are hostile on purpose, one way each:
//!
//! - a listener whose backlog is full: the SYN goes unanswered, and only a connect with
//!   a timeout gives up;
//! - a server that never reads: a request larger than the socket buffers blocks the
//!   write, and only a write timeout ends it;
//! - a server that goes silent, before or after part of its response: a read timeout
//!   is an error, never the end of the response, and the thread that waits for it
//!   sleeps (its CPU time and its wakeups are counted);
//! - a server that sends far more than [`MAX_RESPONSE`] and keeps the connection open:
//!   the limit must be found while reading, and exactly at the limit is still fine;
//! - signals that interrupt the write and the read (`EINTR`): the request is still sent
//!   whole and the response still read whole. A signal handler belongs to the whole
//!   process, so that test runs in a child process of its own.

// One test installs a signal handler, which only `unsafe` code can do (see
// `install_counting_handler`); nothing else here is unsafe.
#![allow(unsafe_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use sockets_fetch_raw::{MAX_RESPONSE, fetch_raw};

const SECOND: Duration = Duration::from_secs(1);

/// A short timeout for the fetches meant to time out: they fail in well under a second.
const SHORT: Duration = Duration::from_millis(300);

/// Runs `f` on a thread of its own and returns what it returns, or fails the test if it
/// has not returned within `limit` (a generous deadline against hangs, not a measure).
fn within<T: Send + 'static>(
    limit: Duration,
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(limit) {
        Ok(value) => value,
        Err(RecvTimeoutError::Timeout) => panic!("{what} did not return within {limit:?}"),
        Err(RecvTimeoutError::Disconnected) => panic!("{what} panicked"),
    }
}

/// `fetch_raw` under [`within`], with a deadline well beyond `timeout`.
fn fetch(addr: SocketAddr, host: &str, path: &str, timeout: Duration) -> std::io::Result<Vec<u8>> {
    let (host, path) = (host.to_string(), path.to_string());
    within(timeout * 4 + SECOND * 10, "fetch_raw", move || {
        fetch_raw(addr, &host, &path, timeout)
    })
}

fn is_timeout(error: &std::io::Error) -> bool {
    matches!(
        error.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}

/// `len` bytes that differ from their neighbours, so that a lost or repeated piece
/// shows.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// A path of 16 MiB: the request is then larger than the two socket buffers together
/// (a few MiB on loopback), so that writing it blocks until the server reads.
fn long_path() -> String {
    format!("/{}", "p".repeat(16 << 20))
}

/// Reads a request head from `stream`, up to and including its empty line. Returns what
/// it read, also when the client stops sending or the read times out before the end.
fn read_head(stream: &mut TcpStream) -> Vec<u8> {
    let mut seen = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    while !seen.ends_with(b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
    seen
}

/// What a server does with its connection once its handler returns.
enum After {
    /// Closes it.
    Close,
    /// Keeps it open, silent, until the test ends (drops its [`Server`]).
    Hold,
}

/// A server for one connection, alive as long as this value.
struct Server {
    addr: SocketAddr,
    /// The request heads the handler reported.
    seen: mpsc::Receiver<Vec<u8>>,
    /// Dropped with the server: a server that holds its connection lets go then.
    _release: mpsc::Sender<()>,
}

/// Accepts one connection and runs `handler` on it. Reads on the server's side time out
/// after 3 s, so that a client that never finishes its request cannot stall it.
fn serve(
    handler: impl FnOnce(&mut TcpStream, &mpsc::Sender<Vec<u8>>) -> After + Send + 'static,
) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (seen_tx, seen) = mpsc::channel();
    let (release, released) = mpsc::channel::<()>();
    std::thread::spawn(move || {
        let Ok((mut stream, _)) = listener.accept() else {
            return;
        };
        stream.set_read_timeout(Some(SECOND * 3)).unwrap();
        if let After::Hold = handler(&mut stream, &seen_tx) {
            // Until the test ends (its sender is dropped), bounded all the same.
            let _ = released.recv_timeout(SECOND * 60);
        }
    });
    Server {
        addr,
        seen,
        _release: release,
    }
}

/// Reads the request head, reports it, sends `reply`, then closes or holds.
fn serve_reply(reply: Vec<u8>, after: After) -> Server {
    serve(move |stream, seen| {
        let _ = seen.send(read_head(stream));
        let _ = stream.write_all(&reply);
        after
    })
}

#[test]
fn returns_every_byte_the_server_sent() {
    let reply = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi".to_vec();
    let server = serve_reply(reply.clone(), After::Close);
    assert_eq!(
        fetch(server.addr, "example.org", "/x", SECOND * 5).unwrap(),
        reply
    );
}

#[test]
fn sends_a_whole_get_with_host_and_connection_close() {
    let server = serve_reply(b"HTTP/1.1 204 No Content\r\n\r\n".to_vec(), After::Close);
    fetch(server.addr, "wiki.local:8080", "/wiki/7", SECOND * 10).unwrap();
    let seen = server.seen.recv_timeout(SECOND * 5).unwrap();
    let text = String::from_utf8_lossy(&seen);
    let mut headers = [httparse::EMPTY_HEADER; 16];
    let mut request = httparse::Request::new(&mut headers);
    // The server stops reading at the empty line; a head without one is incomplete.
    match request.parse(&seen) {
        Ok(httparse::Status::Complete(n)) if n == seen.len() => {}
        other => panic!("not one complete request head ({other:?}): {text:?}"),
    }
    assert_eq!(request.method, Some("GET"), "{text:?}");
    assert_eq!(request.path, Some("/wiki/7"), "{text:?}");
    assert_eq!(request.version, Some(1), "HTTP/1.1: {text:?}");
    let field = |name: &str| {
        request
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| String::from_utf8_lossy(h.value).to_ascii_lowercase())
    };
    assert_eq!(
        field("host").as_deref(),
        Some("wiki.local:8080"),
        "{text:?}"
    );
    assert_eq!(field("connection").as_deref(), Some("close"), "{text:?}");
}

#[test]
fn a_large_response_arrives_whole() {
    let mut reply = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", 3 << 20).into_bytes();
    reply.extend_from_slice(&pattern(3 << 20));
    let server = serve_reply(reply.clone(), After::Close);
    let got = fetch(server.addr, "h", "/big", SECOND * 10).unwrap();
    assert_eq!(got.len(), reply.len());
    assert!(got == reply, "the bytes differ");
}

#[test]
fn a_response_of_exactly_the_limit_arrives_whole() {
    let reply = pattern(MAX_RESPONSE);
    let server = serve_reply(reply.clone(), After::Close);
    let got = fetch(server.addr, "h", "/", SECOND * 10).unwrap();
    assert_eq!(got.len(), MAX_RESPONSE);
    assert!(got == reply, "the bytes differ");
}

#[test]
fn a_response_one_byte_over_the_limit_is_invalid_data() {
    let server = serve_reply(pattern(MAX_RESPONSE + 1), After::Close);
    let err = fetch(server.addr, "h", "/", SECOND * 10).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidData, "{err:?}");
}

#[test]
fn an_endless_response_is_cut_at_the_limit_while_reading() {
    // Four times the limit, then the connection stays open: a client that reads to
    // the end before it checks the size never gets to check it.
    let server = serve(|stream, _| {
        let _ = read_head(stream);
        let chunk = vec![b'y'; 1 << 20];
        for _ in 0..4 * (MAX_RESPONSE >> 20) {
            if stream.write_all(&chunk).is_err() {
                break;
            }
        }
        After::Hold
    });
    let err = fetch(server.addr, "h", "/", SECOND * 5).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidData, "{err:?}");
}

#[test]
fn a_silent_server_is_a_read_timeout() {
    let server = serve(|stream, _| {
        let _ = read_head(stream);
        After::Hold
    });
    let start = Instant::now();
    let err = fetch(server.addr, "h", "/", SHORT).unwrap_err();
    assert!(is_timeout(&err), "{err:?}");
    // Generous: the timeout is 300 ms.
    assert!(start.elapsed() < SECOND * 5, "waited {:?}", start.elapsed());
}

/// What the calling thread spent while `f` ran: CPU time, and how many times it went
/// to sleep and was woken (voluntary context switches).
fn thread_cost<T>(f: impl FnOnce() -> T) -> (T, Duration, i64) {
    use nix::sys::resource::{UsageWho, getrusage};
    let cpu = |u: &nix::sys::resource::Usage| {
        let t = |tv: nix::sys::time::TimeVal| {
            Duration::from_secs(tv.tv_sec() as u64) + Duration::from_micros(tv.tv_usec() as u64)
        };
        t(u.user_time()) + t(u.system_time())
    };
    let before = getrusage(UsageWho::RUSAGE_THREAD).unwrap();
    let value = f();
    let after = getrusage(UsageWho::RUSAGE_THREAD).unwrap();
    let switches = after.voluntary_context_switches() - before.voluntary_context_switches();
    (value, cpu(&after) - cpu(&before), switches)
}

#[test]
fn a_wait_for_a_silent_server_sleeps_instead_of_polling() {
    // Half a second of silence. A read that blocks with a timeout sleeps through it
    // once; a loop on a non-blocking socket burns the CPU, or, if it sleeps a little
    // between tries, wakes hundreds of times. Both are measured on the waiting thread.
    let wait = Duration::from_millis(500);
    let server = serve(|stream, _| {
        let _ = read_head(stream);
        After::Hold
    });
    let addr = server.addr;
    let (result, cpu, wakeups) = within(SECOND * 20, "fetch_raw", move || {
        thread_cost(|| fetch_raw(addr, "h", "/", wait))
    });
    let err = result.unwrap_err();
    assert!(is_timeout(&err), "{err:?}");
    assert!(
        cpu < wait / 5,
        "the thread used {cpu:?} of CPU while it waited {wait:?} for a silent server"
    );
    assert!(
        wakeups < 25,
        "the thread was woken {wakeups} times while it waited {wait:?} for a silent server"
    );
}

#[test]
fn a_server_silent_after_part_of_its_response_is_an_error() {
    // A head and 3 of the 10 body bytes it announces, then nothing, connection open:
    // what has arrived is not the response.
    let reply = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhal".to_vec();
    let server = serve_reply(reply, After::Hold);
    let got = fetch(server.addr, "h", "/", SHORT);
    match got {
        Err(err) => assert!(is_timeout(&err), "{err:?}"),
        Ok(bytes) => panic!(
            "a read timeout was taken for the end: returned {:?}",
            String::from_utf8_lossy(&bytes)
        ),
    }
}

#[test]
fn a_server_that_stops_reading_is_a_write_timeout() {
    // Accepts and never reads: the 16 MiB request fills the socket buffers and the
    // write waits for room that never comes.
    let server = serve(|_, _| After::Hold);
    let err = fetch(server.addr, "h", &long_path(), SHORT).unwrap_err();
    assert!(is_timeout(&err), "{err:?}");
}

#[test]
fn a_full_backlog_is_a_connect_timeout() {
    // A listener with a backlog of 0 that never accepts: once its accept queue is full
    // (one connection on Linux), the kernel drops further SYNs and a connect would
    // wait for minutes of retransmissions. Fill it: connect until one connect times out.
    use socket2::{Domain, Socket, Type};
    let listener = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    listener
        .bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into())
        .unwrap();
    listener.listen(0).unwrap();
    let addr = listener.local_addr().unwrap().as_socket().unwrap();
    let mut queued = Vec::new();
    let full = (0..64).any(|_| match TcpStream::connect_timeout(&addr, SHORT) {
        Ok(stream) => {
            queued.push(stream);
            false
        }
        Err(_) => true,
    });
    assert!(full, "64 connections and the backlog is still not full");
    let err = fetch(addr, "h", "/", SHORT).unwrap_err();
    assert!(is_timeout(&err), "{err:?}");
    drop(listener);
}

#[test]
fn a_refused_connection_is_an_error() {
    // Bind, note the port, close: nobody listens there now.
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    assert!(fetch(addr, "h", "/", SECOND).is_err());
}

// ----- signals: EINTR in the write and in the read, in a child process -----

/// Set in the child process that [`signals_interrupt_neither_the_write_nor_the_read`]
/// starts: the test then runs its body instead of starting another child.
const SIGNAL_CHILD: &str = "FETCH_RAW_SIGNAL_CHILD";

#[test]
fn signals_interrupt_neither_the_write_nor_the_read() {
    if std::env::var_os(SIGNAL_CHILD).is_some() {
        signals_in_this_process();
        return;
    }
    // The handler would be installed for the whole process, and `cargo test` runs
    // every test of this file in one process: run this one alone, in a child.
    let name = "signals_interrupt_neither_the_write_nor_the_read";
    let child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(SIGNAL_CHILD, "1")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let output = match rx.recv_timeout(SECOND * 60) {
        Ok(output) => output.unwrap(),
        Err(_) => {
            // Our own child, not yet reaped (its waiting thread has not returned).
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
            panic!("the child process did not finish within 60 s");
        }
    };
    assert!(
        output.status.success(),
        "in the child process ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// How many SIGUSR1 the handler has run for.
static SIGNALS_HANDLED: AtomicUsize = AtomicUsize::new(0);

extern "C" fn count_signal(_: nix::libc::c_int) {
    // An atomic add is async-signal-safe.
    SIGNALS_HANDLED.fetch_add(1, Ordering::SeqCst);
}

/// Installs a SIGUSR1 handler *without* SA_RESTART: a blocking read or write that the
/// signal interrupts then returns EINTR (`ErrorKind::Interrupted`), or the count of
/// bytes it wrote so far, instead of being restarted by the kernel.
fn install_counting_handler() {
    use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};
    let action = SigAction::new(
        SigHandler::Handler(count_signal),
        SaFlags::empty(),
        SigSet::empty(),
    );
    // SAFETY: the handler only adds to an atomic, which is async-signal-safe, and it
    // replaces no handler that other code relies on: this runs in a child process that
    // runs this one test.
    unsafe { sigaction(Signal::SIGUSR1, &action) }.expect("sigaction");
}

/// The state letter of thread `tid` of this process (`S`: asleep, waiting for
/// something), or `None` once the thread has ended.
fn thread_state(tid: nix::unistd::Pid) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).ok()?;
    // "tid (name) S ...": the name may hold spaces and parentheses, so look after the
    // last ')'.
    stat[stat.rfind(')')? + 1..].trim_start().chars().next()
}

/// Interrupts the fetch thread `times` times while it is blocked: waits until it is
/// asleep (in the write or the read it is blocked in), signals it, waits until the
/// handler has run. Fails if the thread ends first.
fn interrupt(
    tid: nix::unistd::Pid,
    thread: nix::sys::pthread::Pthread,
    times: usize,
    result: &mpsc::Receiver<std::io::Result<Vec<u8>>>,
) {
    let deadline = Instant::now() + SECOND * 20;
    for _ in 0..times {
        loop {
            match thread_state(tid) {
                Some('S') => break,
                Some(_) => {}
                None => match result.recv_timeout(SECOND * 5) {
                    Ok(Err(err)) => panic!("fetch_raw failed before the server replied: {err:?}"),
                    Ok(Ok(bytes)) => panic!(
                        "fetch_raw returned {} bytes before the server replied",
                        bytes.len()
                    ),
                    Err(_) => panic!("the fetch thread ended without a result"),
                },
            }
            assert!(Instant::now() < deadline, "the fetch thread never waits");
            std::thread::sleep(Duration::from_millis(1));
        }
        let before = SIGNALS_HANDLED.load(Ordering::SeqCst);
        nix::sys::pthread::pthread_kill(thread, nix::sys::signal::Signal::SIGUSR1).unwrap();
        while SIGNALS_HANDLED.load(Ordering::SeqCst) == before {
            assert!(Instant::now() < deadline, "the signal was never handled");
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

/// The body of [`signals_interrupt_neither_the_write_nor_the_read`], in the child.
fn signals_in_this_process() {
    install_counting_handler();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    // The server reads nothing until told to, then replies when told to.
    let server = serve(move |stream, seen| {
        if go_rx.recv().is_ok() {
            let _ = seen.send(read_head(stream));
        }
        if go_rx.recv().is_ok() {
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
        }
        After::Close
    });
    let path = long_path();
    let (ids_tx, ids_rx) = mpsc::channel();
    let (result_tx, result) = mpsc::channel();
    let addr = server.addr;
    let sent_path = path.clone();
    std::thread::spawn(move || {
        let _ = ids_tx.send((nix::unistd::gettid(), nix::sys::pthread::pthread_self()));
        let _ = result_tx.send(fetch_raw(addr, "h", &sent_path, SECOND * 10));
    });
    let (tid, thread) = ids_rx.recv_timeout(SECOND * 5).unwrap();
    // The server does not read yet and the request is larger than the socket buffers:
    // the fetch thread is blocked in its write. Each signal ends that write early, with
    // the count of bytes written so far.
    interrupt(tid, thread, 3, &result);
    go_tx.send(()).unwrap();
    let seen = server.seen.recv_timeout(SECOND * 20).unwrap();
    // The server has the request: the fetch thread now waits in its read.
    interrupt(tid, thread, 3, &result);
    go_tx.send(()).unwrap();
    let got = result.recv_timeout(SECOND * 20).unwrap();
    let start = format!("GET {path} HTTP/1.1\r\n");
    assert!(
        seen.starts_with(start.as_bytes()) && seen.ends_with(b"\r\n\r\n"),
        "the server got {} bytes of a request of at least {}: the write was cut short",
        seen.len(),
        start.len() + 4
    );
    match got {
        Ok(bytes) => assert_eq!(
            String::from_utf8_lossy(&bytes),
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
        ),
        Err(err) => panic!("a signal during the read ended the fetch: {err:?}"),
    }
}
