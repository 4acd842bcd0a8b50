//! Step 8: lesson 3's corpus served from one thread — thousands of keep-alive
//! connections, no thread per connection.
//!
//! Lesson 3's server ([`sockets::server`]) gives each connection a pool worker for its
//! whole life, even while the connection sits idle between requests: 1024 workers, and
//! the 1025th client waits. Here one thread holds every connection. It asks the kernel
//! (epoll, through mio) "which of these sockets can I read or write *now*?", does that
//! much work on each ready one without ever waiting, and asks again. An idle
//! connection costs no thread, no stack and no turn of the loop: only its entry in a
//! [`Slab`] and its kernel socket.
//!
//! The corpus is the same: it is sans-IO ([`sockets::corpus::respond`] turns a parsed
//! request into bytes plus a plan), so this server only changes *how* the plan is
//! carried out. Lesson 3's worker slept through an injected latency; here a sleep would
//! stall every connection, so a wait becomes a deadline in a timer heap (`timers`), and
//! the loop sleeps in `poll` only until the nearest deadline. The per-connection state
//! machine lives in `connection`.
//!
//! One turn of the loop:
//!
//! ```text
//! poll(timeout = nearest deadline)        the only place the thread sleeps
//!   ├─ the waker's token   → the handle asked us to stop
//!   ├─ the listener's token → accept until WouldBlock (or the limits say pause)
//!   └─ a connection's token → note readable/writable, drive its state machine
//! fire the deadlines that have come       (delays, drip pauses, idle and linger ends)
//! revisit connections that used their share of the turn
//! ```
//!
//! What it shares with lesson 3's server, so that tests and tools need not care which
//! one they talk to: the configuration (`addr` on 127.0.0.1:0 by default, faults, idle
//! timeout, parser limits), the behaviour on the wire (keep-alive, pipelining in order,
//! every fault, a 400 and a close for a malformed request, the lingering close), and
//! the counts. What differs: `max_connections` instead of `workers` — the most
//! connections held at once; past it the loop stops accepting and new clients wait in
//! the kernel's backlog, which is back-pressure, not failure.

mod c10k;
mod connection;
mod timers;

use std::io::{self, ErrorKind};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token, Waker};
use nix::errno::Errno;
use socket2::{Domain, Protocol, Socket, Type};
use sockets::corpus::FaultPlan;
use sockets::http::Limits;

use crate::slab::Slab;
use connection::{Connection, Context, Verdict};
use timers::{Deadline, Timers};

pub use c10k::{C10kError, C10kPlan, C10kReport, c10k_client, run_c10k};

/// How a [`start`]ed server behaves.
#[derive(Debug, Clone)]
pub struct LoopServerConfig {
    /// Where to listen. Default `127.0.0.1:0`: this machine only, any free port.
    pub addr: SocketAddr,
    /// Latency and faults to inject. Default none.
    pub faults: FaultPlan,
    /// How long a connection may stay silent (between requests, in the middle of one,
    /// or not reading our reply) before the server closes it. Default 10 s.
    pub idle_timeout: Duration,
    /// The parser's limits on a request head.
    pub limits: Limits,
    /// The most connections held at once; past it, new ones wait in the kernel's
    /// backlog until one closes. Default 100,000 (the descriptor limit usually binds
    /// first: see [`raise_fd_limit`]).
    pub max_connections: usize,
}

impl Default for LoopServerConfig {
    fn default() -> LoopServerConfig {
        LoopServerConfig {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            faults: FaultPlan::none(),
            idle_timeout: Duration::from_secs(10),
            limits: Limits::default(),
            max_connections: 100_000,
        }
    }
}

/// What a loop server did, counted as it went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoopServerStats {
    /// Connections accepted in all.
    pub connections: u64,
    /// Connections open now.
    pub open_connections: u64,
    /// The most connections open at once.
    pub peak_connections: u64,
    /// Requests answered (or dropped on purpose), malformed ones included.
    pub requests: u64,
    /// Bytes written to clients, heads and bodies.
    pub bytes_sent: u64,
    /// Replies that carried out a fault.
    pub faults: u64,
    /// Failed accepts (out of descriptors, mostly); each one paused accepting briefly.
    pub accept_errors: u64,
}

impl std::fmt::Display for LoopServerStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} connections ({} open, at most {} at once), {} requests, {} bytes sent, \
             {} faults, {} failed accepts",
            self.connections,
            self.open_connections,
            self.peak_connections,
            self.requests,
            self.bytes_sent,
            self.faults,
            self.accept_errors
        )
    }
}

/// The counters behind [`LoopServerStats`]. Only the loop thread writes them; atomics
/// let the handle read them from another thread. Relaxed: each count is independent.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    connections: AtomicU64,
    open: AtomicU64,
    peak: AtomicU64,
    requests: AtomicU64,
    bytes_sent: AtomicU64,
    faults: AtomicU64,
    accept_errors: AtomicU64,
}

impl Counters {
    fn add(counter: &AtomicU64, n: u64) {
        // Relaxed: a statistic publishes no other data; only its own count must be exact.
        counter.fetch_add(n, Ordering::Relaxed);
    }

    fn snapshot(&self) -> LoopServerStats {
        // Relaxed: each count is exact on its own; a snapshot taken mid-turn may mix moments.
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        LoopServerStats {
            connections: get(&self.connections),
            open_connections: get(&self.open),
            peak_connections: get(&self.peak),
            requests: get(&self.requests),
            bytes_sent: get(&self.bytes_sent),
            faults: get(&self.faults),
            accept_errors: get(&self.accept_errors),
        }
    }
}

/// What the loop thread and the handle share.
#[derive(Debug, Default)]
struct Shared {
    stats: Counters,
    /// Set by the handle, then the waker makes `poll` return so the loop sees it.
    stopping: AtomicBool,
}

/// A running loop server. [`LoopServerHandle::stop`] (or dropping the handle) stops it.
#[derive(Debug)]
pub struct LoopServerHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    waker: Waker,
    thread: Option<JoinHandle<()>>,
}

impl LoopServerHandle {
    /// The address the server listens on (with the real port when asked for port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The counts so far.
    pub fn stats(&self) -> LoopServerStats {
        self.shared.stats.snapshot()
    }

    /// Stops the loop, closes the listener and every connection (those in the middle
    /// of a reply or a delay too), and returns the final counts.
    pub fn stop(mut self) -> LoopServerStats {
        self.shutdown();
        self.stats()
    }

    fn shutdown(&mut self) {
        let Some(thread) = self.thread.take() else {
            return;
        };
        // The flag first, then the wake-up: the loop checks the flag after every
        // `poll`, so whichever turn the waker ends, it sees the flag. Nothing to wait
        // for: the loop never blocks anywhere but in `poll`.
        // Release, paired with the Acquire load in `run`: what this thread wrote before
        // is seen by the loop. The flag publishes no data, so Relaxed would do.
        self.shared.stopping.store(true, Ordering::Release);
        if self.waker.wake().is_err() {
            // Without a wake-up the loop would still stop, at its next event or
            // deadline; joining could then wait. This does not happen with eventfd.
            eprintln!("loop-server: could not wake the loop to stop it");
        }
        let _ = thread.join();
    }
}

impl Drop for LoopServerHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// The waker's token and the listener's: at the top of the token space, where slab
/// keys (small numbers, reused) never reach.
const WAKER: Token = Token(usize::MAX);
const LISTENER: Token = Token(usize::MAX - 1);
/// The listen backlog we ask for. The kernel caps it at `net.core.somaxconn` (4096 on
/// recent Linux). A burst of connects beyond it is dropped (the clients' SYNs are
/// retried after a second), so a C10K client connects in batches.
const BACKLOG: i32 = 4096;
/// Accepts per turn, so that a flood of connects cannot starve the open connections.
const ACCEPTS_PER_TURN: usize = 256;
/// After a failed accept (out of descriptors), how long the loop stops accepting.
const ACCEPT_PAUSE: Duration = Duration::from_millis(100);
/// Events fetched per `poll`; more ready sockets simply wait for the next turn.
const EVENTS: usize = 1024;
/// The loop's one read buffer: every connection reads into it in turn.
const READ_BUFFER: usize = 64 * 1024;

/// Binds `config.addr` and starts the loop on a thread of its own; returns once the
/// socket listens, so a client may connect at once.
pub fn start(config: LoopServerConfig) -> io::Result<LoopServerHandle> {
    let listener = listen(config.addr)?;
    let addr = listener.local_addr()?;
    let poll = Poll::new()?;
    let waker = Waker::new(poll.registry(), WAKER)?;
    let shared = Arc::new(Shared::default());
    let mut event_loop = EventLoop {
        poll,
        listener,
        connections: Slab::new(),
        timers: Timers::new(),
        again: Vec::new(),
        buf: vec![0; READ_BUFFER],
        next_id: 0,
        accept_pending: false,
        accept_resume: None,
        accept_warned: false,
        shared: shared.clone(),
        config,
    };
    event_loop
        .poll
        .registry()
        .register(&mut event_loop.listener, LISTENER, Interest::READABLE)?;
    let thread = std::thread::Builder::new()
        .name("loop-server".into())
        .spawn(move || {
            if let Err(e) = event_loop.run() {
                eprintln!("loop-server: the event loop failed: {e}");
            }
        })?;
    Ok(LoopServerHandle {
        addr,
        shared,
        waker,
        thread: Some(thread),
    })
}

/// A non-blocking listening socket with our backlog (std's and mio's `bind` choose
/// their own), and `SO_REUSEADDR` so that a restarted server can take its port back
/// while the old connections sit in TIME_WAIT.
fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    socket.set_nonblocking(true)?;
    Ok(TcpListener::from_std(socket.into()))
}

/// Everything the loop thread owns.
#[derive(Debug)]
struct EventLoop {
    poll: Poll,
    listener: TcpListener,
    /// The open connections, each under the slab key that is also its mio token.
    connections: Slab<Connection>,
    timers: Timers,
    /// Connections that used their share of a turn and have work left: (key, id).
    again: Vec<(usize, u64)>,
    buf: Vec<u8>,
    /// The next connection's serial number.
    next_id: u64,
    /// The listener may hold connections not accepted yet: mio's events are
    /// edge-triggered, so no new event will come for those.
    accept_pending: bool,
    /// Accepting is paused until then (after `EMFILE`).
    accept_resume: Option<Instant>,
    /// Whether the accept failure was reported already (once is enough).
    accept_warned: bool,
    shared: Arc<Shared>,
    config: LoopServerConfig,
}

impl EventLoop {
    // ANCHOR: run_wait
    /// Turns until the handle says stop. Every wait is in `poll`, and bounded by the
    /// nearest deadline.
    fn run(&mut self) -> io::Result<()> {
        let mut events = Events::with_capacity(EVENTS);
        loop {
            let timeout = self.poll_timeout(Instant::now());
            match self.poll.poll(&mut events, timeout) {
                Ok(()) => {}
                // A signal interrupted the wait: simply wait again.
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            // Acquire: pairs with the Release store in `shutdown` (see there).
            if self.shared.stopping.load(Ordering::Acquire) {
                // Dropping the connections closes them (the listener goes with the
                // loop); no reply is finished, no linger: a stop is a stop.
                self.connections = Slab::new();
                // Relaxed: a statistic, and this thread is its only writer.
                self.shared.stats.open.store(0, Ordering::Relaxed);
                return Ok(());
            }
            // ANCHOR_END: run_wait
            // ANCHOR: run_events
            let now = Instant::now();
            for event in events.iter() {
                match event.token() {
                    WAKER => {}
                    LISTENER => self.accept_pending = true,
                    Token(key) => {
                        // An event is a hint: the connection may have closed earlier in
                        // this same batch (then the slot is empty), and a read or write
                        // that finds nothing to do says WouldBlock, which is harmless.
                        let Some(connection) = self.connections.get_mut(key) else {
                            continue;
                        };
                        // An error or a hang-up is news for both directions: the next
                        // read or write reports it.
                        let error = event.is_error();
                        if event.is_read_closed() || error {
                            connection.hung_up = true;
                        }
                        if event.is_readable() || event.is_read_closed() || error {
                            connection.readable = true;
                        }
                        if event.is_writable() || event.is_write_closed() || error {
                            connection.writable = true;
                        }
                        self.visit(key, now, Visit::Ready);
                    }
                }
            }
            self.accept(now);
            self.fire_deadlines(now);
            for (key, id) in std::mem::take(&mut self.again) {
                if self.connections.get(key).is_some_and(|c| c.id == id) {
                    self.visit(key, now, Visit::Ready);
                }
            }
        }
    }
    // ANCHOR_END: run_events

    /// How long `poll` may sleep: until the nearest deadline, not at all if work is
    /// left over from this turn, forever if nothing is scheduled.
    fn poll_timeout(&self, now: Instant) -> Option<Duration> {
        let can_accept = self.accept_pending
            && self.accept_resume.is_none()
            && self.connections.len() < self.config.max_connections;
        if !self.again.is_empty() || can_accept {
            return Some(Duration::ZERO);
        }
        let next = match (self.timers.next(), self.accept_resume) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        next.map(|at| at.saturating_duration_since(now))
    }

    /// Drives one connection, then closes it or records its next deadline.
    fn visit(&mut self, key: usize, now: Instant, why: Visit) {
        let Some(connection) = self.connections.get_mut(key) else {
            return;
        };
        let cx = Context {
            now,
            faults: &self.config.faults,
            idle_timeout: self.config.idle_timeout,
            stats: &self.shared.stats,
        };
        let verdict = match why {
            Visit::Ready => connection.drive(&cx, &mut self.buf),
            Visit::Deadline => connection.on_deadline(&cx, &mut self.buf),
        };
        match verdict {
            Verdict::Close => {
                self.close(key);
                return;
            }
            Verdict::Again => self.again.push((key, connection.id)),
            Verdict::Keep => {}
        }
        // A heap entry is needed only if none is pending at or before the connection's
        // next deadline: an entry that comes up early finds nothing to do, and pushes
        // the next one then (see `fire_deadlines`). So the idle clock, restarted by
        // every byte, costs no heap operation at all.
        let due = connection.next_deadline();
        if connection.scheduled.is_none_or(|at| due < at) {
            // An earlier deadline (a reply's delay, a drip pause, a linger) comes before
            // the pending entry, which stays in the heap: remember it, so that when the
            // earlier one has come and gone, no third entry is pushed for a deadline
            // the pending one already covers.
            connection.later = connection.scheduled;
            connection.scheduled = Some(due);
            self.timers.push(Deadline {
                at: due,
                key,
                id: connection.id,
            });
        }
    }

    /// Visits the connections whose deadline has come.
    fn fire_deadlines(&mut self, now: Instant) {
        while let Some(deadline) = self.timers.pop_due(now) {
            let Some(connection) = self.connections.get_mut(deadline.key) else {
                continue; // that connection is gone
            };
            if connection.id != deadline.id {
                continue; // a newer connection in the same slot: not its deadline
            }
            if connection.scheduled == Some(deadline.at) {
                connection.scheduled = connection.later.take();
            }
            self.visit(deadline.key, now, Visit::Deadline);
        }
    }

    fn close(&mut self, key: usize) {
        if let Some(mut connection) = self.connections.remove(key) {
            // Closing the descriptor would remove it from epoll too; saying so first
            // keeps the registration and the socket's life visibly paired.
            let _ = self.poll.registry().deregister(&mut connection.stream);
            // Relaxed: a statistic, and this thread is its only writer.
            self.shared.stats.open.fetch_sub(1, Ordering::Relaxed);
        }
    }

    // ANCHOR: accept_take
    /// Accepts waiting connections until the listener has none left, the turn's share
    /// is used, the connection limit is reached, or an error pauses accepting.
    fn accept(&mut self, now: Instant) {
        if let Some(at) = self.accept_resume {
            if now < at {
                return;
            }
            self.accept_resume = None;
        }
        for _ in 0..ACCEPTS_PER_TURN {
            if !self.accept_pending || self.connections.len() >= self.config.max_connections {
                return;
            }
            match self.listener.accept() {
                Ok((stream, _peer)) => self.admit(stream, now),
                Err(e) if e.kind() == ErrorKind::WouldBlock => self.accept_pending = false,
                // A client that gave up before we took its connection, or a signal.
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::Interrupted | ErrorKind::ConnectionAborted
                    ) => {}
                // ANCHOR_END: accept_take
                // ANCHOR: accept_pause
                Err(e) => {
                    // EMFILE (this process's descriptor limit), ENFILE (the system's),
                    // ENOBUFS/ENOMEM. The connection stays in the backlog, and with
                    // edge-triggered events the listener will not be reported again —
                    // but retrying at once would fail again and spin a core. So: pause,
                    // and retry when the pause ends (its instant bounds `poll`'s sleep).
                    Counters::add(&self.shared.stats.accept_errors, 1);
                    self.accept_resume = Some(now + ACCEPT_PAUSE);
                    if !self.accept_warned {
                        self.accept_warned = true;
                        let hint = match e.raw_os_error().map(Errno::from_raw) {
                            Some(Errno::EMFILE | Errno::ENFILE) => {
                                " (out of file descriptors: raise `ulimit -n`)"
                            }
                            _ => "",
                        };
                        eprintln!(
                            "loop-server: accept failed: {e}{hint}; pausing accepts for \
                             {} ms (reported once)",
                            ACCEPT_PAUSE.as_millis()
                        );
                    }
                    return;
                }
            }
        }
    }
    // ANCHOR_END: accept_pause

    /// Takes an accepted socket into the slab and registers it.
    fn admit(&mut self, stream: TcpStream, now: Instant) {
        // No Nagle: replies are written whole, and a drip piece must leave at once
        // (lesson 3's server explains the 40 ms stall otherwise).
        if stream.set_nodelay(true).is_err() {
            return;
        }
        let id = self.next_id;
        self.next_id += 1;
        let cx = Context {
            now,
            faults: &self.config.faults,
            idle_timeout: self.config.idle_timeout,
            stats: &self.shared.stats,
        };
        let connection = Connection::new(id, stream, self.config.limits, &cx);
        let key = self.connections.insert(connection);
        let registered = match self.connections.get_mut(key) {
            // Keys are small slot numbers; the two reserved tokens are never reached.
            Some(connection) if Token(key) != WAKER && Token(key) != LISTENER => {
                // Both directions, once: edge-triggered events come only when readiness
                // changes, so an idle socket costs nothing, and no re-registration is
                // needed each time a write blocks (level-triggered would need it).
                self.poll.registry().register(
                    &mut connection.stream,
                    Token(key),
                    Interest::READABLE | Interest::WRITABLE,
                )
            }
            _ => Err(io::Error::other("no token for this connection")),
        };
        if registered.is_err() {
            self.connections.remove(key);
            return;
        }
        let stats = &self.shared.stats;
        Counters::add(&stats.connections, 1);
        // Relaxed: statistics, and this thread is their only writer.
        let open = stats.open.fetch_add(1, Ordering::Relaxed) + 1;
        stats.peak.fetch_max(open, Ordering::Relaxed);
        // Its first deadline: the idle timeout, should the client never speak.
        self.visit(key, now, Visit::Deadline);
    }
}

/// Why a connection is visited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Visit {
    /// Its socket is (or may be) ready, or it has work left from the last turn.
    Ready,
    /// One of its deadlines has come.
    Deadline,
}
