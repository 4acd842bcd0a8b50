//! The corpus served with threads: one connection per pool job, blocking reads.
//!
//! This is the simplest server that is correct under load, and lesson 2's
//! [`ThreadPool`] makes it cheap to write: an accept thread takes connections from the
//! listening socket and hands each one to the pool; the worker that gets it runs a
//! keep-alive loop — read bytes, feed the sans-IO parser, answer every complete request
//! (pipelined ones too, in order) with [`corpus::respond`], carry out the reply's plan —
//! until the client or the reply closes the connection or it stays idle too long.
//!
//! The trade-off, in the open: **a connection holds a worker for its whole life**, even
//! while it waits for the next request. So the pool needs as many workers as there are
//! simultaneous keep-alive connections, hence the default of 1024 workers. Idle threads
//! are cheap (lesson 2 measured their memory: a few pages each), but not free: each one
//! is a stack and a kernel task, and the 1025th simultaneous connection waits in the
//! queue — then, once the queue is full, in the kernel's accept backlog — until another
//! connection closes. That wait is back-pressure, not failure. Lesson 4 removes the limit:
//! one thread and an event loop watch thousands of connections, and work is only spent
//! on connections that have bytes to read.
//!
//! Every wait is bounded: reads by `idle_timeout` (a silent connection is closed),
//! writes by the same (a client that stops reading is dropped), injected delays by the
//! server's stop. [`ServerHandle::stop`] ends promptly even with connections open: it
//! shuts every open socket down, which wakes the workers blocked on them.

use std::collections::HashMap;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use threads::ThreadPool;

use crate::corpus::{self, Action, FaultPlan, Reply};
use crate::http::{Limits, Parsed, RequestParser};

/// How a [`start`]ed server behaves.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Where to listen. Default `127.0.0.1:0`: this machine only, any free port (the
    /// handle tells which).
    pub addr: SocketAddr,
    /// Pool workers, i.e. the most connections served at once. Default 1024.
    pub workers: usize,
    /// Latency and faults to inject. Default none.
    pub faults: FaultPlan,
    /// How long a connection may stay silent (between requests, or in the middle of one)
    /// before the server closes it; also bounds each write. Default 10 s.
    pub idle_timeout: Duration,
    /// The parser's limits on a request head.
    pub limits: Limits,
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            workers: 1024,
            faults: FaultPlan::none(),
            idle_timeout: Duration::from_secs(10),
            limits: Limits::default(),
        }
    }
}

impl ServerConfig {
    /// The default server, waiting `latency` before every reply: the slow server that
    /// the client tours, examples and tests of lessons 3 and 4 download from.
    pub fn with_latency(latency: Duration) -> ServerConfig {
        ServerConfig {
            faults: FaultPlan {
                latency,
                ..FaultPlan::none()
            },
            ..ServerConfig::default()
        }
    }
}

/// What a server did, counted as it went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServerStats {
    /// Connections accepted.
    pub connections: u64,
    /// Requests answered (or dropped on purpose), malformed ones included.
    pub requests: u64,
    /// Bytes written to clients, heads and bodies.
    pub bytes_sent: u64,
    /// Replies that carried out a fault.
    pub faults: u64,
}

impl std::fmt::Display for ServerStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} connections, {} requests, {} bytes sent, {} faults",
            self.connections, self.requests, self.bytes_sent, self.faults
        )
    }
}

/// A running server. [`ServerHandle::stop`] (or dropping the handle) stops it.
#[derive(Debug)]
pub struct ServerHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

/// How many accepted connections may wait for a free worker before the accept thread
/// itself waits (and new connections wait in the kernel's backlog).
const ACCEPT_QUEUE: usize = 64;
/// After a close, how long the server keeps reading (and discarding) what the client
/// still sends; see [`close`].
const LINGER: Duration = Duration::from_millis(500);

/// How many finished handshakes the kernel may hold for us before `accept` takes them.
/// std's `TcpListener::bind` asks for 128; a burst of 512 clients connecting at once
/// overflows that, the kernel drops their SYNs, and each retries only after a second.
/// Lesson 5's race opens 10,000 at once, so ask for more than that; the kernel caps the
/// figure at `net.core.somaxconn` (4096 on current Linux, 128 on old ones).
pub const BACKLOG: i32 = 16 * 1024;

// ANCHOR: listen
/// A listening socket with a backlog of [`BACKLOG`] (socket2: std cannot set it).
pub fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    // Lets a restarted server bind its port again at once, despite old connections in
    // TIME_WAIT.
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    Ok(socket.into())
}
// ANCHOR_END: listen

/// Binds `config.addr` and starts serving in the background; returns once the socket
/// listens, so a client may connect at once.
pub fn start(config: ServerConfig) -> io::Result<ServerHandle> {
    let listener = listen(config.addr)?;
    let addr = listener.local_addr()?;
    let pool = ThreadPool::bounded(config.workers, ACCEPT_QUEUE).map_err(io::Error::other)?;
    let shared = Arc::new(Shared {
        faults: config.faults,
        idle_timeout: config.idle_timeout,
        limits: config.limits,
        stats: Counters::default(),
        open: Mutex::new(Open::default()),
        stopping: Condvar::new(),
    });
    let accept = std::thread::Builder::new()
        .name("wiki-accept".into())
        .spawn({
            let shared = shared.clone();
            move || accept_loop(&listener, &shared, pool)
        })?;
    Ok(ServerHandle {
        addr,
        shared,
        accept: Some(accept),
    })
}

impl ServerHandle {
    /// The address the server listens on (with the real port when asked for port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The counts so far.
    pub fn stats(&self) -> ServerStats {
        self.shared.stats.snapshot()
    }

    /// Stops accepting, closes every connection (those in the middle of a reply too),
    /// waits for the workers, and returns the final counts.
    pub fn stop(mut self) -> ServerStats {
        self.shutdown();
        self.stats()
    }

    fn shutdown(&mut self) {
        let Some(accept) = self.accept.take() else {
            return;
        };
        // 1. Mark the server as stopping, and shut every open connection down. A worker
        //    blocked reading one wakes with end-of-file, one blocked writing with an
        //    error, one waiting out an injected delay by the condition variable.
        {
            let mut open = self.shared.lock_open();
            open.stopping = true;
            for stream in open.streams.values() {
                let _ = stream.shutdown(Shutdown::Both);
            }
        }
        self.shared.stopping.notify_all();
        // 2. The accept thread sleeps in `accept()`, which no flag can interrupt; a
        //    connection can. It sees the flag and leaves its loop.
        let mut wake = self.addr;
        if wake.ip().is_unspecified() {
            wake.set_ip(if wake.is_ipv4() {
                [127, 0, 0, 1].into()
            } else {
                std::net::Ipv6Addr::LOCALHOST.into()
            });
        }
        let _ = TcpStream::connect_timeout(&wake, Duration::from_secs(1));
        // 3. It then shuts the pool down, which joins the workers.
        let _ = accept.join();
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// What the accept thread, the workers and the handle share.
#[derive(Debug)]
struct Shared {
    faults: FaultPlan,
    idle_timeout: Duration,
    limits: Limits,
    stats: Counters,
    /// The open connections, so that `stop` can shut them down.
    open: Mutex<Open>,
    /// Signalled when `stop` begins; injected delays wait on it.
    stopping: Condvar,
}

#[derive(Debug, Default)]
struct Open {
    stopping: bool,
    next_id: u64,
    /// A second handle (`try_clone`) to each open connection's socket.
    streams: HashMap<u64, TcpStream>,
}

impl Shared {
    fn lock_open(&self) -> MutexGuard<'_, Open> {
        // A poisoned lock means a worker panicked while holding it; the map is still
        // usable (each change is a single insert or remove).
        self.open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn is_stopping(&self) -> bool {
        self.lock_open().stopping
    }

    /// Records a connection; `None` if the server is stopping (or the socket could
    /// not be duplicated): then the connection is dropped. Checking the flag under the
    /// same lock as `stop`'s sweep means no connection slips in after the sweep.
    fn register(&self, stream: &TcpStream) -> Option<u64> {
        let clone = stream.try_clone().ok()?;
        let mut open = self.lock_open();
        if open.stopping {
            return None;
        }
        let id = open.next_id;
        open.next_id += 1;
        open.streams.insert(id, clone);
        Some(id)
    }

    /// Sleeps for `duration` unless the server stops first; `false` if it did.
    fn pause(&self, duration: Duration) -> bool {
        let open = self.lock_open();
        let (open, _) = self
            .stopping
            .wait_timeout_while(open, duration, |open| !open.stopping)
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        !open.stopping
    }
}

/// An open connection's entry in [`Open::streams`], removed when the guard drops.
struct Registered<'a> {
    shared: &'a Shared,
    id: u64,
}

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        self.shared.lock_open().streams.remove(&self.id);
    }
}

/// The counters behind [`ServerStats`], shared by every corpus server of the course
/// (lesson 5's tokio server counts with these too). Relaxed atomics: each count is
/// independent, and nobody reads one to decide about another.
#[derive(Debug, Default)]
pub struct Counters {
    pub connections: AtomicU64,
    pub requests: AtomicU64,
    pub bytes_sent: AtomicU64,
    pub faults: AtomicU64,
}

impl Counters {
    /// Adds `n` to one of the counters.
    pub fn add(counter: &AtomicU64, n: u64) {
        // Relaxed: a statistic publishes no other data; only its own count must be exact.
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// The counts as of now.
    pub fn snapshot(&self) -> ServerStats {
        ServerStats {
            // Relaxed: each count is exact on its own; a snapshot may mix moments.
            connections: self.connections.load(Ordering::Relaxed),
            requests: self.requests.load(Ordering::Relaxed),
            bytes_sent: self.bytes_sent.load(Ordering::Relaxed),
            faults: self.faults.load(Ordering::Relaxed),
        }
    }
}

// ANCHOR: accept_loop
/// Takes connections and queues them for the pool, until the server stops.
fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>, pool: ThreadPool) {
    for incoming in listener.incoming() {
        if shared.is_stopping() {
            break;
        }
        let stream = match incoming {
            Ok(stream) => stream,
            // Out of file descriptors, or a connection reset before we took it: the
            // listener is fine. A short pause keeps a persistent error (EMFILE) from
            // spinning a core.
            Err(_) => {
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        let Some(id) = shared.register(&stream) else {
            continue;
        };
        Counters::add(&shared.stats.connections, 1);
        let job_shared = shared.clone();
        let queued = pool.execute(move || {
            // The guard unregisters the connection however `serve` ends (even by a
            // panic, which the pool catches).
            let _registered = Registered {
                shared: &job_shared,
                id,
            };
            serve(stream, &job_shared);
        });
        if queued.is_err() {
            break; // every worker is gone: nothing can serve anymore
        }
    }
    // Queued connections are dropped (closed); running ones end on the shut-down
    // sockets. Then the workers are joined.
    pool.shutdown_now();
}
// ANCHOR_END: accept_loop

// ANCHOR: serve_setup
/// One connection's life: requests in, replies out, until one side closes.
fn serve(stream: TcpStream, shared: &Shared) {
    // TCP_NODELAY: the kernel's Nagle algorithm holds back a small segment while an
    // earlier one is unacknowledged, hoping to merge it with more data. Our replies
    // are written whole, so there is nothing more to merge, and the client delays its
    // ACK (on Linux by 40 ms at least, up to 200 ms) — a keep-alive connection would
    // stall on every reply whose last segment is small. The drip fault needs its pieces
    // to leave at once too.
    if stream.set_nodelay(true).is_err()
        || stream.set_read_timeout(Some(shared.idle_timeout)).is_err()
        || stream.set_write_timeout(Some(shared.idle_timeout)).is_err()
    {
        return;
    }
    // One buffer for the connection's life; the parser keeps what a request needs.
    let mut buf = vec![0u8; 16 * 1024];
    let mut parser = RequestParser::new(shared.limits);
    // ANCHOR_END: serve_setup
    // ANCHOR: serve_loop
    loop {
        let n = match (&stream).read(&mut buf) {
            // End of stream: the client closed (or `stop` shut the socket down).
            Ok(0) => return,
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            // Idle timeout (WouldBlock or TimedOut), or a reset: nothing more to do.
            Err(_) => return,
        };
        // One read may hold several pipelined requests, or the end of one and the start
        // of the next: answer each complete one in order, keep the rest in the parser.
        let mut input = &buf[..n];
        while !input.is_empty() {
            match parser.feed(input) {
                Ok(Parsed::NeedMore) => break,
                Ok(Parsed::Done { message, used }) => {
                    // The parser is ready for the next request by itself.
                    input = input.get(used..).unwrap_or_default();
                    let reply = corpus::respond(&message, &shared.faults);
                    if !carry_out(&stream, &reply, shared) {
                        return;
                    }
                }
                Err(error) => {
                    carry_out(&stream, &corpus::error_reply(&error), shared);
                    return;
                }
            }
        }
    }
}
// ANCHOR_END: serve_loop

/// Sends `reply` as its plan says; `false` when the connection is over (closed by the
/// plan, or broken).
fn carry_out(stream: &TcpStream, reply: &Reply, shared: &Shared) -> bool {
    let stats = &shared.stats;
    Counters::add(&stats.requests, 1);
    if reply.fault.is_some() {
        Counters::add(&stats.faults, 1);
    }
    if !reply.delay.is_zero() && !shared.pause(reply.delay) {
        return false;
    }
    let mut out = stream;
    // One write per reply: head and body leave together, in as few segments as the
    // kernel likes.
    let mut send = |bytes: &[u8]| match out.write_all(bytes) {
        Ok(()) => {
            Counters::add(&stats.bytes_sent, bytes.len() as u64);
            true
        }
        Err(_) => false,
    };
    match reply.action {
        Action::Send => send(&reply.bytes),
        Action::SendThenClose => {
            if send(&reply.bytes) {
                close(stream);
            }
            false
        }
        Action::Drop => {
            close(stream);
            false
        }
        Action::Truncate { keep } => {
            if send(&reply.bytes[..keep.min(reply.bytes.len())]) {
                close(stream);
            }
            false
        }
        Action::Drip {
            piece,
            pause,
            close: then_close,
        } => {
            for (i, part) in reply.bytes.chunks(piece.max(1)).enumerate() {
                if (i > 0 && !shared.pause(pause)) || !send(part) {
                    return false;
                }
            }
            if then_close {
                close(stream);
            }
            !then_close
        }
    }
}

// ANCHOR: close
/// Closes a connection so that the client reads everything we sent, then end-of-file.
///
/// Closing a socket whose receive buffer still holds unread bytes (a pipelined request
/// we will not answer, the rest of a malformed one) makes the kernel send a reset
/// instead of a normal end. Our kernel drops what it has not sent yet, and the client's
/// kernel may drop what the client has not read yet (RFC 9112, section 9.6): the client
/// sees "connection reset" instead of our 400. So: end our
/// direction (`shutdown(Write)` sends the FIN after the data), read and discard what
/// the client still sends until it closes too, for at most [`LINGER`], then close.
fn close(stream: &TcpStream) {
    if stream.shutdown(Shutdown::Write).is_err() {
        return;
    }
    let deadline = Instant::now() + LINGER;
    let mut sink = [0u8; 1024];
    let mut reader = stream;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        if left.is_zero() || reader.set_read_timeout(Some(left)).is_err() {
            return;
        }
        match reader.read(&mut sink) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}
// ANCHOR_END: close

/// The whole life of a corpus server in a child process (see `procs::child_server`):
/// serves with `latency` added to every reply, announces its address on stdout, and
/// stops when the parent closes its stdin (or after ten minutes at most). The tours of
/// this lesson and the next start their servers this way, so that a client's memory and
/// CPU are measured without the server's.
pub fn serve_as_child(latency: Duration) -> std::process::ExitCode {
    match start(ServerConfig::with_latency(latency)) {
        Ok(server) => {
            procs::child_server::announce_and_wait(server.addr(), Duration::from_secs(600));
            server.stop();
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: cannot start the corpus server: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
