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
//!   process, so that test runs in a child process of its own, and its failure is
//!   passed on to the test that started it.
//!
//! Every check names the call it made and what the server does ([`graded::scene`]),
//! the rule of the task it checks, and what came back: the bytes as a byte string
//! (`b"HTTP/1.1 200 OK\r\n..."`, cut when long), or the error's kind and message. A
//! panic in `fetch_raw`, on the thread that runs it, is reported as one, with the case.

// One test installs a signal handler, which only `unsafe` code can do (see
// `install_counting_handler`); nothing else here is unsafe.
#![allow(unsafe_code)]

#[path = "../../../tests/common/mod.rs"]
mod common;

use common::Bytes;
use std::any::Any;
use std::fmt;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use graded::{Case, scene};
use sockets_fetch_raw::{MAX_RESPONSE, fetch_raw};

const SECOND: Duration = Duration::from_secs(1);

/// A short timeout for the fetches meant to time out: they fail in well under a second.
const SHORT: Duration = Duration::from_millis(300);

// ----- what a failure shows -----

/// What `fetch_raw` returned: the response as [`Bytes`], or the error's kind and message.
struct Returned<'a>(&'a io::Result<Vec<u8>>);

impl fmt::Debug for Returned<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Ok(bytes) => write!(f, "Ok({:?})", Bytes::of(bytes)),
            Err(e) => write!(f, "Err({:?}: {e})", e.kind()),
        }
    }
}

/// Where two byte strings first differ (or where the shorter one ends), if they do.
fn first_difference(a: &[u8], b: &[u8]) -> Option<usize> {
    let common = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    (common < a.len().max(b.len())).then_some(common)
}

// ----- the call, its deadline and its checks -----

/// One call of `fetch_raw` against a test's server: the input of a graded case.
struct Fetch {
    host: &'static str,
    path: String,
    timeout: Duration,
}

impl Fetch {
    fn new(host: &'static str, path: impl Into<String>, timeout: Duration) -> Fetch {
        Fetch {
            host,
            path: path.into(),
            timeout,
        }
    }

    /// The case of this call against a server that does what `server` says, for the
    /// task's `rule`. A long path is shown by its start and its length.
    fn case(&self, server: &str, rule: &str) -> Case {
        let path = if self.path.len() > 40 {
            let start: String = self.path.chars().take(8).collect();
            format!("{start:?}... ({} bytes)", self.path.len())
        } else {
            format!("{:?}", self.path)
        };
        scene(
            format!(
                "fetch_raw(<server>, {:?}, {path}, {:?}), where the server {server}",
                self.host, self.timeout
            ),
            rule,
        )
    }

    /// Runs the call under [`within`], with a deadline well beyond its timeout.
    #[track_caller]
    fn run(&self, c: &Case, addr: SocketAddr) -> io::Result<Vec<u8>> {
        let (host, path, timeout) = (self.host, self.path.clone(), self.timeout);
        within(c, timeout * 4 + SECOND * 10, move || {
            fetch_raw(addr, host, &path, timeout)
        })
    }
}

/// Runs `f` on a thread of its own and returns what it returns. Fails the case if `f`
/// panics (the learner's code did: [`report_panic`]) or has not returned within
/// `limit` (a generous deadline against hangs, not a measure).
#[track_caller]
fn within<T: Send + 'static>(
    c: &Case,
    limit: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        // AssertUnwindSafe: after a panic nothing `f` touched is used again; only the
        // panic's message goes on, to the test's thread.
        let _ = tx.send(catch_unwind(AssertUnwindSafe(f)));
    });
    match rx.recv_timeout(limit) {
        Ok(Ok(value)) => value,
        Ok(Err(payload)) => report_panic(c, payload),
        Err(RecvTimeoutError::Timeout) => {
            c.fail_with(&format!("fetch_raw had not returned after {limit:?}"))
        }
        Err(RecvTimeoutError::Disconnected) => {
            c.fail_with("the thread that ran fetch_raw ended without its result")
        }
    }
}

/// Fails the case with a panic of `fetch_raw` that the thread which ran it caught: raised
/// again inside [`Case::run`], which reports it as a panic of the learner's code, with
/// the case, at the test's line. (`graded::rethrow` says the same, but its failure
/// points into the graded crate, where `cargo xtask grade` takes it for the learner's.)
#[track_caller]
fn report_panic(c: &Case, payload: Box<dyn Any + Send>) -> ! {
    c.run::<()>(|| std::panic::resume_unwind(payload));
    unreachable!("Case::run fails the test when the code it runs panics")
}

/// Fails the case unless the fetch returned `want`, every byte of it. A short response
/// is shown whole beside the one expected; of a long one, the failure says where it
/// first differs.
#[track_caller]
fn returns(c: &Case, got: &io::Result<Vec<u8>>, want: &[u8]) {
    let Ok(bytes) = got else {
        c.fail(Returned(got))
    };
    if want.len() <= 100 {
        c.eq(Bytes::of(bytes), Bytes::of(want));
    } else if let Some(at) = first_difference(bytes, want) {
        c.fail_with(&format!(
            "{} bytes instead of {}, the same only up to byte {at}: {:?}",
            bytes.len(),
            want.len(),
            Bytes::of(bytes)
        ));
    }
}

/// Fails the case unless the fetch returned an error whose kind `wanted` accepts.
#[track_caller]
fn fails(c: &Case, got: &io::Result<Vec<u8>>, wanted: impl Fn(ErrorKind) -> bool) {
    if !matches!(got, Err(e) if wanted(e.kind())) {
        c.fail(Returned(got));
    }
}

/// The kinds of error a read or write timeout gives (which one depends on the system).
fn is_timeout(kind: ErrorKind) -> bool {
    matches!(kind, ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

// ----- the test servers -----

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
    let listener = TcpListener::bind("127.0.0.1:0").expect("a test server binds 127.0.0.1:0");
    let addr = listener.local_addr().expect("a test server has an address");
    let (seen_tx, seen) = mpsc::channel();
    let (release, released) = mpsc::channel::<()>();
    std::thread::spawn(move || {
        let Ok((mut stream, _)) = listener.accept() else {
            return;
        };
        stream
            .set_read_timeout(Some(SECOND * 3))
            .expect("a test server sets its read timeout");
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

// ----- the tests -----

#[test]
fn returns_every_byte_the_server_sent() {
    let reply = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi".to_vec();
    let server = serve_reply(reply.clone(), After::Close);
    let call = Fetch::new("example.org", "/x", SECOND * 5);
    let c = call.case(
        &format!("replies {:?} and closes", Bytes::of(&reply)),
        "returns every byte the server sent, until it closes the connection",
    );
    let got = call.run(&c, server.addr);
    returns(&c, &got, &reply);
}

#[test]
fn sends_a_whole_get_with_host_and_connection_close() {
    let server = serve_reply(b"HTTP/1.1 204 No Content\r\n\r\n".to_vec(), After::Close);
    let call = Fetch::new("wiki.local:8080", "/wiki/7", SECOND * 10);
    let c = call.case(
        "reads the request head, replies b\"HTTP/1.1 204 No Content\\r\\n\\r\\n\" and closes",
        "returns the response once the server closes the connection",
    );
    let got = call.run(&c, server.addr);
    if got.is_err() {
        c.fail(Returned(&got));
    }
    let Ok(seen) = server.seen.recv_timeout(SECOND * 5) else {
        c.rule("sends a GET request")
            .fail_with("the server received no request")
    };
    // Each check below shows the whole request, as the server received it.
    let sent = |holds: bool, rule: &str| {
        if !holds {
            c.rule(rule)
                .fail_with(&format!("the server received {:?}", Bytes::of(&seen)));
        }
    };
    let mut headers = [httparse::EMPTY_HEADER; 16];
    let mut request = httparse::Request::new(&mut headers);
    // The server stops reading at the empty line; a head without one is incomplete.
    sent(
        matches!(request.parse(&seen), Ok(httparse::Status::Complete(n)) if n == seen.len()),
        "the request is a whole head that ends with its empty line, and nothing after it",
    );
    sent(
        request.method == Some("GET")
            && request.path == Some("/wiki/7")
            && request.version == Some(1),
        "the request line is `GET path HTTP/1.1`: GET /wiki/7 HTTP/1.1",
    );
    let field = |name: &str| {
        request
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| String::from_utf8_lossy(h.value).to_ascii_lowercase())
    };
    sent(
        field("host").as_deref() == Some("wiki.local:8080"),
        "a Host field, as given: Host: wiki.local:8080",
    );
    sent(
        field("connection").as_deref() == Some("close"),
        "a Connection: close field",
    );
}

#[test]
fn a_large_response_arrives_whole() {
    let mut reply = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", 3 << 20).into_bytes();
    reply.extend_from_slice(&pattern(3 << 20));
    let server = serve_reply(reply.clone(), After::Close);
    let call = Fetch::new("h", "/big", SECOND * 10);
    let c = call.case(
        &format!("replies {} bytes (3 MiB of body) and closes", reply.len()),
        "returns every byte the server sent, until it closes the connection",
    );
    let got = call.run(&c, server.addr);
    returns(&c, &got, &reply);
}

#[test]
fn a_response_of_exactly_the_limit_arrives_whole() {
    let reply = pattern(MAX_RESPONSE);
    let server = serve_reply(reply.clone(), After::Close);
    let call = Fetch::new("h", "/", SECOND * 10);
    let c = call.case(
        &format!("replies exactly MAX_RESPONSE ({MAX_RESPONSE}) bytes and closes"),
        "a response of exactly MAX_RESPONSE bytes is returned",
    );
    let got = call.run(&c, server.addr);
    returns(&c, &got, &reply);
}

#[test]
fn a_response_one_byte_over_the_limit_is_invalid_data() {
    let server = serve_reply(pattern(MAX_RESPONSE + 1), After::Close);
    let call = Fetch::new("h", "/", SECOND * 10);
    let c = call.case(
        &format!(
            "replies MAX_RESPONSE + 1 ({}) bytes and closes",
            MAX_RESPONSE + 1
        ),
        "one byte more than MAX_RESPONSE is an InvalidData error",
    );
    let got = call.run(&c, server.addr);
    fails(&c, &got, |kind| kind == ErrorKind::InvalidData);
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
    let call = Fetch::new("h", "/", SECOND * 5);
    let c = call.case(
        "sends four times MAX_RESPONSE bytes and keeps the connection open",
        "more than MAX_RESPONSE bytes is InvalidData, found while reading",
    );
    let got = call.run(&c, server.addr);
    fails(&c, &got, |kind| kind == ErrorKind::InvalidData);
}

#[test]
fn a_silent_server_is_a_read_timeout() {
    let server = serve(|stream, _| {
        let _ = read_head(stream);
        After::Hold
    });
    let call = Fetch::new("h", "/", SHORT);
    let c = call.case(
        "reads the request and never replies, the connection open",
        "each read waits at most `timeout`, and a timeout is an error",
    );
    let start = Instant::now();
    let got = call.run(&c, server.addr);
    fails(&c, &got, is_timeout);
    // Generous: the timeout is 300 ms.
    let waited = start.elapsed();
    if waited >= SECOND * 5 {
        c.rule("each read waits at most `timeout` (300 ms here; 5 s are allowed)")
            .fail_with(&format!("it returned after {waited:?}"));
    }
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
    let usage = || getrusage(UsageWho::RUSAGE_THREAD).expect("getrusage(RUSAGE_THREAD)");
    let before = usage();
    let value = f();
    let after = usage();
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
    let c = Fetch::new("h", "/", wait).case(
        "reads the request and never replies, the connection open",
        "each read waits at most `timeout`, and a timeout is an error",
    );
    let (got, cpu, wakeups) = within(&c, SECOND * 20, move || {
        thread_cost(|| fetch_raw(addr, "h", "/", wait))
    });
    fails(&c, &got, is_timeout);
    let sleeps = c.rule(
        "the thread sleeps while it waits (a blocking call with a timeout, not a loop that polls)",
    );
    if cpu >= wait / 5 {
        sleeps.fail_with(&format!(
            "the thread used {cpu:?} of CPU while it waited {wait:?} (a fifth of it is allowed)"
        ));
    }
    if wakeups >= 25 {
        sleeps.fail_with(&format!(
            "the thread was woken {wakeups} times while it waited {wait:?} (fewer than 25 are \
             allowed; a blocking read wakes once)"
        ));
    }
}

#[test]
fn a_server_silent_after_part_of_its_response_is_an_error() {
    // A head and 3 of the 10 body bytes it announces, then nothing, connection open:
    // what has arrived is not the response.
    let reply = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhal".to_vec();
    let server = serve_reply(reply.clone(), After::Hold);
    let call = Fetch::new("h", "/", SHORT);
    let c = call.case(
        &format!(
            "sends {:?}, 3 of the 10 body bytes, then nothing, the connection open",
            Bytes::of(&reply)
        ),
        "a read timeout is an error, never the end of the response",
    );
    let got = call.run(&c, server.addr);
    fails(&c, &got, is_timeout);
}

#[test]
fn a_server_that_stops_reading_is_a_write_timeout() {
    // Accepts and never reads: the 16 MiB request fills the socket buffers and the
    // write waits for room that never comes.
    let server = serve(|_, _| After::Hold);
    let call = Fetch::new("h", long_path(), SHORT);
    let c = call.case(
        "accepts the connection and never reads",
        "each write waits at most `timeout`, and a timeout is an error",
    );
    let got = call.run(&c, server.addr);
    fails(&c, &got, is_timeout);
}

#[test]
fn a_full_backlog_is_a_connect_timeout() {
    // A listener with a backlog of 0 that never accepts: once its accept queue is full
    // (one connection on Linux), the kernel drops further SYNs and a connect would
    // wait for minutes of retransmissions. Fill it: connect until one connect times out.
    use socket2::{Domain, Socket, Type};
    let listener =
        Socket::new(Domain::IPV4, Type::STREAM, None).expect("a socket for the listener");
    let any_port: SocketAddr = "127.0.0.1:0".parse().expect("an address");
    listener
        .bind(&any_port.into())
        .expect("the listener binds 127.0.0.1:0");
    listener.listen(0).expect("the listener listens");
    let addr = listener
        .local_addr()
        .ok()
        .and_then(|a| a.as_socket())
        .expect("the listener has an address");
    let mut queued = Vec::new();
    let full = (0..64).any(|_| match TcpStream::connect_timeout(&addr, SHORT) {
        Ok(stream) => {
            queued.push(stream);
            false
        }
        Err(_) => true,
    });
    assert!(full, "64 connections and the backlog is still not full");
    let call = Fetch::new("h", "/", SHORT);
    let c = call.case(
        "never accepts, and its backlog is full (a connect gets no answer)",
        "the connect waits at most `timeout`, and a timeout is an error",
    );
    let got = call.run(&c, addr);
    fails(&c, &got, is_timeout);
    drop(listener);
}

#[test]
fn a_refused_connection_is_an_error() {
    // Bind, note the port, close: nobody listens there now.
    let addr = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port on 127.0.0.1");
    let call = Fetch::new("h", "/", SECOND);
    let c = call.case(
        "is not there: nobody listens on the port",
        "a connection that cannot be made is an error",
    );
    let got = call.run(&c, addr);
    fails(&c, &got, |_| true);
}

// ----- signals: EINTR in the write and in the read, in a child process -----

/// Set in the child process that [`signals_interrupt_neither_the_write_nor_the_read`]
/// starts: the test then runs its body instead of starting another child.
const SIGNAL_CHILD: &str = "FETCH_RAW_SIGNAL_CHILD";

/// The call of the signal test, and its case: the same in the test and in its child.
fn signal_call() -> (Fetch, Case) {
    let call = Fetch::new("h", long_path(), SECOND * 10);
    let c = call.case(
        "lets SIGUSR1 (a handler without SA_RESTART) interrupt the fetching thread 3 \
         times in its write, then 3 times in its read, replies 200 OK \"hello\", closes",
        "a signal that interrupts a write or a read (Interrupted) is retried, not an error",
    );
    (call, c)
}

#[test]
fn signals_interrupt_neither_the_write_nor_the_read() {
    if std::env::var_os(SIGNAL_CHILD).is_some() {
        signals_in_this_process();
        return;
    }
    // The handler would be installed for the whole process, and `cargo test` runs
    // every test of this file in one process: run this one alone, in a child.
    let name = "signals_interrupt_neither_the_write_nor_the_read";
    let child = std::process::Command::new(std::env::current_exe().expect("this test's path"))
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(SIGNAL_CHILD, "1")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start this test again in a child process");
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let (_, c) = signal_call();
    let output = match rx.recv_timeout(SECOND * 60) {
        Ok(output) => output.expect("the child process's output"),
        Err(_) => {
            // Our own child, not yet reaped (its waiting thread has not returned).
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
            c.fail_with("the child process that runs this test had not finished after 60 s");
        }
    };
    if !output.status.success() {
        // The child ran with --nocapture: its failures (a graded check's message, with
        // the input and the rule, and any panic of fetch_raw) are in its stderr. Printed
        // here they are this test's own output, where `cargo xtask grade` finds them.
        // Not its stdout: only the test harness's lines, which would cut this report.
        eprint!("{}", String::from_utf8_lossy(&output.stderr));
        c.fail_with(&format!(
            "the child process that runs this test failed ({}): its report is above",
            output.status
        ));
    }
}

/// How many SIGUSR1 the handler has run for.
static SIGNALS_HANDLED: AtomicUsize = AtomicUsize::new(0);

extern "C" fn count_signal(_: nix::libc::c_int) {
    // An atomic add is async-signal-safe.
    // A count, polled by the test until it moves: Relaxed would do; SeqCst is simplest.
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

/// What the fetching thread of the signal test sends back: what `fetch_raw` returned,
/// or the payload of its panic.
type Outcome = std::thread::Result<io::Result<Vec<u8>>>;

/// Interrupts the fetch thread `times` times while it is blocked: waits until it is
/// asleep (in the write or the read it is blocked in), signals it, waits until the
/// handler has run. Fails the case if the thread ends first.
fn interrupt(
    c: &Case,
    tid: nix::unistd::Pid,
    thread: nix::sys::pthread::Pthread,
    times: usize,
    result: &mpsc::Receiver<Outcome>,
) {
    let deadline = Instant::now() + SECOND * 20;
    for _ in 0..times {
        loop {
            match thread_state(tid) {
                Some('S') => break,
                Some(_) => {}
                None => match result.recv_timeout(SECOND * 5) {
                    Ok(Ok(got)) => c.fail_with(&format!(
                        "fetch_raw returned before the server replied: {:?}",
                        Returned(&got)
                    )),
                    Ok(Err(payload)) => report_panic(c, payload),
                    Err(_) => c.fail_with("the fetching thread ended without a result"),
                },
            }
            if Instant::now() >= deadline {
                c.rule("the thread sleeps while it waits (a blocking call)")
                    .fail_with("the fetching thread did not go to sleep within 20 s");
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        // A count (see `count_signal`): only its value matters.
        let before = SIGNALS_HANDLED.load(Ordering::SeqCst);
        nix::sys::pthread::pthread_kill(thread, nix::sys::signal::Signal::SIGUSR1)
            .expect("send SIGUSR1 to the fetching thread");
        while SIGNALS_HANDLED.load(Ordering::SeqCst) == before {
            if Instant::now() >= deadline {
                c.fail_with("the signal sent to the fetching thread was not handled within 20 s");
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

/// The body of [`signals_interrupt_neither_the_write_nor_the_read`], in the child.
fn signals_in_this_process() {
    install_counting_handler();
    let (call, c) = signal_call();
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
    let (ids_tx, ids_rx) = mpsc::channel();
    let (result_tx, result) = mpsc::channel();
    let addr = server.addr;
    let sent_path = call.path.clone();
    std::thread::spawn(move || {
        let _ = ids_tx.send((nix::unistd::gettid(), nix::sys::pthread::pthread_self()));
        // A panic of fetch_raw is caught and sent as it is, for the case to report.
        let fetched = catch_unwind(|| fetch_raw(addr, "h", &sent_path, SECOND * 10));
        let _ = result_tx.send(fetched);
    });
    let (tid, thread) = ids_rx
        .recv_timeout(SECOND * 5)
        .expect("the fetching thread starts");
    // The server does not read yet and the request is larger than the socket buffers:
    // the fetch thread is blocked in its write. Each signal ends that write early, with
    // the count of bytes written so far.
    interrupt(&c, tid, thread, 3, &result);
    go_tx
        .send(())
        .expect("the test server waits for its turn to read");
    let Ok(seen) = server.seen.recv_timeout(SECOND * 20) else {
        c.fail_with("the server received no request within 20 s")
    };
    // The server has the request: the fetch thread now waits in its read.
    interrupt(&c, tid, thread, 3, &result);
    go_tx
        .send(())
        .expect("the test server waits for its turn to reply");
    let got = match result.recv_timeout(SECOND * 20) {
        Ok(Ok(got)) => got,
        Ok(Err(payload)) => report_panic(&c, payload),
        Err(_) => c.fail_with("fetch_raw had not returned 20 s after the server replied"),
    };
    let start = format!("GET {} HTTP/1.1\r\n", call.path);
    if !(seen.starts_with(start.as_bytes()) && seen.ends_with(b"\r\n\r\n")) {
        c.rule("the whole request is sent, however many writes that takes")
            .fail_with(&format!(
                "the server received {} bytes of a request of at least {}: {:?}",
                seen.len(),
                start.len() + 4,
                Bytes::of(&seen)
            ));
    }
    match &got {
        Ok(bytes) => c.eq(
            Bytes::of(bytes),
            Bytes::of(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"),
        ),
        Err(_) => c.fail(Returned(&got)),
    }
}
