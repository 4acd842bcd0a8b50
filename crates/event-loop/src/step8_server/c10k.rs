//! The C10K experiment's client: ten thousand keep-alive connections from one thread.
//!
//! "C10K" is the name Dan Kegel gave, in 1999, to the problem of one server holding ten
//! thousand clients at once. A thread per connection makes it a question of threads;
//! an event loop makes it a question of memory per connection. To measure that, a
//! client must *hold* that many connections open at the same moment — lesson 3's
//! `wiki-load` has a thread per connection, which would measure threads again — so the
//! client is an event loop too: one thread, non-blocking connects, a [`Slab`] of
//! connection state machines, lesson 3's codec ([`write_request`], [`ResponseParser`])
//! for the bytes.
//!
//! It runs in two phases, so that every connection is open at the same time:
//!
//! 1. **Open** all connections, a batch at a time (at most `connect_batch` connects in
//!    flight). A burst of 10,000 SYNs would overrun the server's listen backlog
//!    (`net.core.somaxconn`): the kernel drops what does not fit, and each dropped
//!    client retries its SYN only a second later, then three... A refused or reset
//!    connect is retried a few times, with a growing pause. When all are open, the
//!    resident memory of this process (and of the server, given its pid) is read: the
//!    difference from before, divided by the connections, is the memory per connection.
//! 2. **Download**: every connection fetches `requests_per_connection` articles in
//!    turn, each checked (status 200, the checksum header), then closes.
//!
//! A descriptor per connection: the process's limit (`RLIMIT_NOFILE`) is raised to its
//! hard limit first, and if that is still too few the run stops before it starts, with
//! the figures. Each *end* of a connection is a descriptor, so a server in the same
//! process needs as many again: run it in another process.
//!
//! Ports run out before memory does. Each connection from this client to the one
//! server address needs its own local port, taken from `net.ipv4.ip_local_port_range`
//! (about 28,000 ports by default), and `connect` searches the even half of the range
//! first, leaving the odd half to `bind`. Past about half the range the kernel's search
//! for a free port gets long, and opening connections costs system time out of
//! proportion: that is the client's limit here, not the server's. (More client
//! addresses — 127.0.0.2, 127.0.0.3... — or server ports would lift it.)
//!
//! What RSS counts and what it does not: the process's own pages (the slab, the
//! parsers, the buffers). The kernel's socket structures and buffers are not in any
//! process's RSS; they are the same whichever design holds the connection.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{self, ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use procs::measure::Usage;
use sockets::corpus::{CHECKSUM_HEADER, verify};
use sockets::http::{Limits, Method, Parsed, RequestHead, Response, ResponseParser, write_request};

use crate::fd_limit::raise_fd_limit;
use crate::slab::Slab;

/// Descriptors the process needs besides the connections: standard streams, epoll,
/// the test harness's own, a little room.
const FD_MARGIN: u64 = 64;
/// Attempts to open (or reopen) one connection before giving up on it.
const MAX_ATTEMPTS: u32 = 5;
/// The pause before the first retry; it doubles with each attempt.
const FIRST_BACKOFF: Duration = Duration::from_millis(50);
/// Reads and writes per visit, so that one connection cannot hold the loop.
pub const IO_PER_VISIT: usize = 16;
/// The loop's one read buffer.
const READ_BUFFER: usize = 64 * 1024;

/// What to run: [`C10kPlan::new`] has the usual values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct C10kPlan {
    /// The corpus server (lesson 3's, this lesson's, or lesson 5's).
    pub addr: SocketAddr,
    /// Connections to hold open at once.
    pub connections: usize,
    /// Articles each connection downloads, one after the other.
    pub requests_per_connection: usize,
    /// The whole run must end within this; what is unfinished then counts as failed.
    pub time_limit: Duration,
    /// The server's process id, if it runs in another process: its resident memory is
    /// read along with ours.
    pub server_pid: Option<u32>,
    /// The most connects in flight at once. Default 256: far below the backlog.
    pub connect_batch: usize,
    /// Steps one visit may take before the client lets the others run (default
    /// [`IO_PER_VISIT`]); a client that spends them all is visited again next turn.
    pub io_per_visit: usize,
}

impl C10kPlan {
    pub fn new(
        addr: SocketAddr,
        connections: usize,
        requests_per_connection: usize,
        time_limit: Duration,
    ) -> C10kPlan {
        C10kPlan {
            addr,
            connections,
            requests_per_connection,
            time_limit,
            server_pid: None,
            connect_batch: 256,
            io_per_visit: IO_PER_VISIT,
        }
    }
}

/// What a C10K run measured.
#[derive(Debug, Clone, PartialEq)]
pub struct C10kReport {
    pub connections: usize,
    pub requests_per_connection: usize,
    /// The most connections established at the same moment.
    pub peak_open: usize,
    /// Connections that could not be opened, retries included.
    pub connect_failures: usize,
    /// Connects retried after a refusal, a reset, or a close before any response.
    pub retries: u64,
    /// Articles received whole, with status 200 and a matching checksum.
    pub docs_ok: u64,
    /// Articles not received, or received wrong.
    pub docs_failed: u64,
    /// Response bytes received, heads included.
    pub bytes_received: u64,
    /// The first failure, as an example.
    pub first_error: Option<String>,
    /// From the first connect until every connection was open (or given up).
    pub open_time: Duration,
    /// The whole run.
    pub wall: Duration,
    /// CPU time (user + system) of this whole process during the run, in seconds. With
    /// the server in this process, its CPU time is in it too.
    pub cpu: f64,
    /// This process's resident memory before connecting and with every connection
    /// open, in bytes.
    pub rss_before: u64,
    pub rss_open: u64,
    /// The same for the server process, when [`C10kPlan::server_pid`] was given.
    pub server_rss_before: Option<u64>,
    pub server_rss_open: Option<u64>,
    /// The descriptor limit the run had (the soft limit, after raising it).
    pub fd_limit: u64,
}

impl C10kReport {
    /// The client's resident memory per open connection, in bytes.
    pub fn client_bytes_per_connection(&self) -> f64 {
        per(self.rss_before, self.rss_open, self.peak_open)
    }

    /// The server's resident memory per open connection, in bytes (if it was watched).
    pub fn server_bytes_per_connection(&self) -> Option<f64> {
        Some(per(
            self.server_rss_before?,
            self.server_rss_open?,
            self.peak_open,
        ))
    }
}

fn per(before: u64, after: u64, connections: usize) -> f64 {
    after.saturating_sub(before) as f64 / connections.max(1) as f64
}

impl std::fmt::Display for C10kReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "{} connections ({} open at once at most, {} failed to open, {} retries), \
             opened in {:.2} s",
            self.connections,
            self.peak_open,
            self.connect_failures,
            self.retries,
            self.open_time.as_secs_f64()
        )?;
        writeln!(
            f,
            "{} documents ok, {} failed, {:.1} MB, in {:.2} s wall, {:.2} s CPU",
            self.docs_ok,
            self.docs_failed,
            self.bytes_received as f64 / 1e6,
            self.wall.as_secs_f64(),
            self.cpu
        )?;
        write!(
            f,
            "client memory: {:.1} MiB -> {:.1} MiB, {:.0} bytes per connection",
            mib(self.rss_before),
            mib(self.rss_open),
            self.client_bytes_per_connection()
        )?;
        if let (Some(before), Some(open), Some(each)) = (
            self.server_rss_before,
            self.server_rss_open,
            self.server_bytes_per_connection(),
        ) {
            write!(
                f,
                "\nserver memory: {:.1} MiB -> {:.1} MiB, {each:.0} bytes per connection",
                mib(before),
                mib(open)
            )?;
        }
        if let Some(error) = &self.first_error {
            write!(f, "\nfirst error: {error}")?;
        }
        Ok(())
    }
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Why a C10K run could not be carried out (failed downloads are in the report).
#[derive(Debug, thiserror::Error)]
pub enum C10kError {
    #[error(
        "{connections} connections need about {needed} file descriptors in this process, \
         but its limit (RLIMIT_NOFILE) is {limit}, already raised to the hard limit. Each \
         end of a TCP connection is a descriptor: a server in this same process needs as \
         many again, so run it in another process; or ask for fewer connections, or raise \
         the hard limit (`ulimit -Hn`, /etc/security/limits.conf, systemd's LimitNOFILE)"
    )]
    TooFewDescriptors {
        connections: usize,
        needed: u64,
        limit: u64,
    },
    #[error("the C10K client could not {doing}: {source}")]
    Io {
        doing: &'static str,
        #[source]
        source: io::Error,
    },
    #[error("the C10K client could not measure: {0}")]
    Measure(#[from] procs::Error),
    #[error("invalid C10K plan: {0}")]
    Invalid(&'static str),
}

/// Opens `connections` keep-alive connections to `addr` from this one thread, holds
/// them all open at once, then has each download `requests_per_connection` articles;
/// the whole run bounded by `time_limit`. See [`run_c10k`] for more options.
pub fn c10k_client(
    addr: SocketAddr,
    connections: usize,
    requests_per_connection: usize,
    time_limit: Duration,
) -> Result<C10kReport, C10kError> {
    run_c10k(&C10kPlan::new(
        addr,
        connections,
        requests_per_connection,
        time_limit,
    ))
}

/// Runs the C10K experiment as `plan` says (see the module's documentation).
pub fn run_c10k(plan: &C10kPlan) -> Result<C10kReport, C10kError> {
    if plan.connections == 0 || plan.connect_batch == 0 {
        return Err(C10kError::Invalid(
            "connections and connect_batch must be at least 1",
        ));
    }
    let fd = raise_fd_limit().map_err(|source| C10kError::Io {
        doing: "read or raise the descriptor limit",
        source,
    })?;
    let needed = (plan.connections as u64).saturating_add(FD_MARGIN);
    if needed > fd.soft {
        return Err(C10kError::TooFewDescriptors {
            connections: plan.connections,
            needed,
            limit: fd.soft,
        });
    }
    let server_rss = || -> Result<Option<u64>, C10kError> {
        match plan.server_pid {
            Some(pid) => {
                let pid = i32::try_from(pid).map_err(|_| C10kError::Invalid("server pid"))?;
                Ok(Some(procs::proc::read_status(pid)?.vm_rss))
            }
            None => Ok(None),
        }
    };
    let poll = Poll::new().map_err(|source| C10kError::Io {
        doing: "create an epoll instance",
        source,
    })?;
    // Everything the run allocates up front is allocated before the first reading of
    // the memory, so that the difference is the connections' alone.
    let mut run = Run {
        poll,
        plan,
        host: plan.addr.to_string(),
        clients: Slab::with_capacity(plan.connections),
        backoffs: BinaryHeap::new(),
        again: Vec::new(),
        again_now: Vec::new(),
        buf: vec![0; READ_BUFFER],
        deadline: procs::deadline::from_now(plan.time_limit),
        go: false,
        next_index: 0,
        opening: 0,
        open_now: 0,
        tally: Tally::default(),
    };
    // ANCHOR: measure
    let rss_before = procs::proc::self_status()?.vm_rss;
    let server_rss_before = server_rss()?;
    let usage_before = Usage::of_self()?;
    let started = Instant::now();
    run.deadline = started + plan.time_limit;

    // Phase 1: open every connection, a batch at a time.
    run.open_all()?;
    let open_time = started.elapsed();
    let rss_open = procs::proc::self_status()?.vm_rss;
    let server_rss_open = server_rss()?;
    // ANCHOR_END: measure

    // Phase 2: every open connection downloads.
    run.download_all()?;
    let wall = started.elapsed();
    let cpu = Usage::of_self()?.since(&usage_before).cpu();
    let tally = run.tally;
    Ok(C10kReport {
        connections: plan.connections,
        requests_per_connection: plan.requests_per_connection,
        peak_open: tally.peak_open,
        connect_failures: tally.connect_failures,
        retries: tally.retries,
        docs_ok: tally.docs_ok,
        docs_failed: tally.docs_failed,
        bytes_received: tally.bytes,
        first_error: tally.first_error,
        open_time,
        wall,
        cpu,
        rss_before,
        rss_open,
        server_rss_before,
        server_rss_open,
        fd_limit: fd.soft,
    })
}

/// The counts of a run.
#[derive(Debug, Default)]
struct Tally {
    peak_open: usize,
    connect_failures: usize,
    retries: u64,
    docs_ok: u64,
    docs_failed: u64,
    bytes: u64,
    first_error: Option<String>,
}

impl Tally {
    fn failed(&mut self, docs: u64, why: impl FnOnce() -> String) {
        self.docs_failed += docs;
        if self.first_error.is_none() {
            self.first_error = Some(why());
        }
    }
}

/// Where one connection is.
#[derive(Debug)]
enum Stage {
    /// A non-blocking connect is under way: an event will tell how it went.
    Connecting,
    /// Open, waiting for the download phase.
    Open,
    /// Sending the request for the next document; `sent` bytes of it are out.
    Sending { sent: usize },
    /// Reading its response. The parser is boxed: it is the biggest part of a
    /// client's state and lives only while a response is coming, so an idle
    /// connection's slot stays small.
    Receiving {
        parser: Box<ResponseParser>,
        received: usize,
    },
    /// Waiting before the next connect attempt.
    Backoff { until: Instant },
}

/// One connection of the client and what it must remember between visits.
#[derive(Debug)]
struct Client {
    /// Which connection of the plan: it downloads articles `index * n ..`.
    index: usize,
    stream: Option<TcpStream>,
    stage: Stage,
    /// Documents finished, well or not.
    done: usize,
    /// Connect attempts used on failures.
    attempts: u32,
    /// Whether this connection has been open once (phase 1 waits for each to be).
    opened_once: bool,
    /// The request being sent.
    request: Vec<u8>,
    readable: bool,
    writable: bool,
}

/// What a visit decided.
enum Next {
    /// Wait for the next event.
    Stay,
    /// The visit's budget is spent with work left: visit again soon, without waiting
    /// for an event (the server's `Verdict::Again`).
    Again,
    /// The connect has succeeded (the run counts open connections).
    Connected,
    /// All its documents are done: remove it.
    Finished,
    /// The connection broke: `retry` the current document on a new one if attempts
    /// remain (nothing of its response came), else count it failed.
    Broken { why: String, retry: bool },
    /// The server closed after a complete response: reconnect for the next document.
    Reconnect,
}

/// A run in progress.
#[derive(Debug)]
struct Run<'a> {
    poll: Poll,
    plan: &'a C10kPlan,
    host: String,
    clients: Slab<Client>,
    /// Connections waiting to retry: (when, slab key).
    backoffs: BinaryHeap<Reverse<(Instant, usize)>>,
    /// Clients whose last visit spent its budget with work left: no event will come
    /// for that work (its edge has passed), so they are visited again after this turn.
    again: Vec<usize>,
    /// The list being visited again, kept to reuse its allocation.
    again_now: Vec<usize>,
    buf: Vec<u8>,
    deadline: Instant,
    /// Phase 2 has begun: open connections download.
    go: bool,
    /// The next connection of the plan to open.
    next_index: usize,
    /// Connections started but neither open once nor given up yet.
    opening: usize,
    /// Connections established now.
    open_now: usize,
    tally: Tally,
}

impl Run<'_> {
    fn open_all(&mut self) -> Result<(), C10kError> {
        let mut events = Events::with_capacity(1024);
        loop {
            let now = Instant::now();
            while self.opening < self.plan.connect_batch && self.next_index < self.plan.connections
            {
                let key = self.clients.insert(Client {
                    index: self.next_index,
                    stream: None,
                    stage: Stage::Backoff { until: now },
                    done: 0,
                    attempts: 0,
                    opened_once: false,
                    request: Vec::new(),
                    readable: false,
                    writable: false,
                });
                self.next_index += 1;
                self.opening += 1;
                self.connect(key, now);
            }
            if self.opening == 0 && self.next_index == self.plan.connections {
                return Ok(());
            }
            if now >= self.deadline {
                return Ok(()); // phase 2 will count what is left as failed
            }
            self.turn(&mut events)?;
        }
    }

    fn download_all(&mut self) -> Result<(), C10kError> {
        self.go = true;
        let now = Instant::now();
        let keys: Vec<usize> = self.clients.keys().collect();
        for key in keys {
            self.visit(key, now);
        }
        let mut events = Events::with_capacity(1024);
        while !self.clients.is_empty() && Instant::now() < self.deadline {
            self.turn(&mut events)?;
        }
        // Out of time: whatever is left failed.
        let n = self.plan.requests_per_connection;
        let left: u64 = self
            .clients
            .iter()
            .map(|(_, client)| n.saturating_sub(client.done) as u64)
            .sum();
        if left > 0 {
            let limit = self.plan.time_limit;
            self.tally.failed(left, || {
                format!("not done within the time limit of {limit:?}")
            });
        }
        Ok(())
    }

    /// One wait in `poll` (until the next retry or the deadline), then the visits.
    fn turn(&mut self, events: &mut Events) -> Result<(), C10kError> {
        let now = Instant::now();
        let wake = match self.backoffs.peek() {
            Some(Reverse((at, _))) => (*at).min(self.deadline),
            None => self.deadline,
        };
        // Clients with work left from their last visit: look at the sockets without
        // sleeping, then visit them again below.
        let wake = if self.again.is_empty() { wake } else { now };
        match self
            .poll
            .poll(events, Some(wake.saturating_duration_since(now)))
        {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => return Ok(()),
            Err(source) => {
                return Err(C10kError::Io {
                    doing: "wait in epoll",
                    source,
                });
            }
        }
        let now = Instant::now();
        for event in events.iter() {
            let key = event.token().0;
            // A hint, as in the server: the slot may be empty or hold a newer stream.
            let Some(client) = self.clients.get_mut(key) else {
                continue;
            };
            let error = event.is_error();
            if event.is_readable() || event.is_read_closed() || error {
                client.readable = true;
            }
            if event.is_writable() || event.is_write_closed() || error {
                client.writable = true;
            }
            self.visit(key, now);
        }
        // The clients that spent their budget last turn, and only those: a visit that
        // spends it again puts its client back on `again` for the next turn.
        std::mem::swap(&mut self.again, &mut self.again_now);
        for i in 0..self.again_now.len() {
            let key = self.again_now[i];
            self.visit(key, now);
        }
        self.again_now.clear();
        while let Some(Reverse((at, key))) = self.backoffs.peek().copied() {
            if at > now {
                break;
            }
            self.backoffs.pop();
            // Only if it still waits for this very retry.
            let waiting = matches!(
                self.clients.get(key),
                Some(Client { stage: Stage::Backoff { until }, .. }) if *until == at
            );
            if waiting {
                self.connect(key, now);
            }
        }
        Ok(())
    }

    /// Starts a non-blocking connect for the client under `key`.
    fn connect(&mut self, key: usize, now: Instant) {
        let Some(client) = self.clients.get_mut(key) else {
            return;
        };
        let result = TcpStream::connect(self.plan.addr).and_then(|mut stream| {
            self.poll.registry().register(
                &mut stream,
                Token(key),
                Interest::READABLE | Interest::WRITABLE,
            )?;
            Ok(stream)
        });
        match result {
            Ok(stream) => {
                client.stream = Some(stream);
                client.stage = Stage::Connecting;
                client.readable = false;
                client.writable = false;
            }
            // Refused at once, out of ports or descriptors: retry later, or give up.
            Err(e) => {
                let addr = self.plan.addr;
                self.after(
                    key,
                    Next::Broken {
                        why: format!("connecting to {addr}: {e}"),
                        retry: true,
                    },
                    now,
                );
            }
        }
    }

    /// Moves a client forward as far as its socket allows.
    fn visit(&mut self, key: usize, now: Instant) {
        let Some(client) = self.clients.get_mut(key) else {
            return;
        };
        let next = client.step(&mut Visit {
            go: self.go,
            budget: self.plan.io_per_visit.max(1),
            n: self.plan.requests_per_connection,
            host: &self.host,
            buf: &mut self.buf,
            tally: &mut self.tally,
        });
        self.after(key, next, now);
    }

    /// Carries out what a visit decided.
    fn after(&mut self, key: usize, next: Next, now: Instant) {
        let n = self.plan.requests_per_connection;
        match next {
            Next::Stay => {}
            Next::Again => self.again.push(key),
            Next::Connected => {
                self.open_now += 1;
                self.tally.peak_open = self.tally.peak_open.max(self.open_now);
                if let Some(client) = self.clients.get_mut(key) {
                    if !client.opened_once {
                        client.opened_once = true;
                        self.opening -= 1;
                    }
                }
                // In phase 2 (a reconnect), the request goes out at once.
                self.visit(key, now);
            }
            Next::Finished => {
                self.close_stream(key);
                self.clients.remove(key);
            }
            Next::Reconnect => {
                self.close_stream(key);
                self.connect(key, now);
            }
            Next::Broken { why, retry } => {
                self.close_stream(key);
                let Some(client) = self.clients.get_mut(key) else {
                    return;
                };
                if retry && client.attempts + 1 < MAX_ATTEMPTS {
                    client.attempts += 1;
                    self.tally.retries += 1;
                    let until = now + FIRST_BACKOFF * (1 << client.attempts.min(8));
                    client.stage = Stage::Backoff { until };
                    self.backoffs.push(Reverse((until, key)));
                    return;
                }
                let index = client.index;
                let doc = index * n + client.done;
                if client.opened_once || self.go {
                    // The current document failed; the connection goes on with the
                    // next one on a new connection, if attempts remain.
                    client.done += 1;
                    self.tally
                        .failed(1, || format!("connection {index}, /wiki/{doc}: {why}"));
                    if client.done < n && client.attempts + 1 < MAX_ATTEMPTS {
                        client.attempts += 1;
                        self.connect(key, now);
                        return;
                    }
                } else {
                    self.opening -= 1;
                    self.tally.connect_failures += 1;
                }
                // Given up: the rest of its documents fail with it.
                if let Some(client) = self.clients.remove(key) {
                    let left = n.saturating_sub(client.done) as u64;
                    if left > 0 {
                        self.tally.failed(left, || {
                            format!(
                                "connection {index}: gave up after {MAX_ATTEMPTS} attempts: {why}"
                            )
                        });
                    }
                }
            }
        }
    }

    /// Closes the client's socket, if it has one.
    fn close_stream(&mut self, key: usize) {
        let Some(client) = self.clients.get_mut(key) else {
            return;
        };
        if let Some(mut stream) = client.stream.take() {
            let _ = self.poll.registry().deregister(&mut stream);
            if !matches!(client.stage, Stage::Connecting) {
                self.open_now -= 1;
            }
        }
    }
}

/// What a visit needs besides the client itself.
struct Visit<'a> {
    /// Phase 2 has begun.
    go: bool,
    /// Steps this visit may take.
    budget: usize,
    /// Documents per connection.
    n: usize,
    host: &'a str,
    buf: &'a mut [u8],
    tally: &'a mut Tally,
}

impl Client {
    /// One visit: moves the state machine as far as the socket allows, without waiting,
    /// and says what the run must do next.
    fn step(&mut self, cx: &mut Visit<'_>) -> Next {
        for _ in 0..cx.budget {
            let next = match self.stage {
                Stage::Backoff { .. } => return Next::Stay,
                Stage::Connecting => return self.check_connect(),
                Stage::Open if !cx.go => return Next::Stay,
                Stage::Open if self.done >= cx.n => return Next::Finished,
                Stage::Open => {
                    self.start_request(cx);
                    continue;
                }
                Stage::Sending { .. } => self.send(),
                Stage::Receiving { .. } => self.receive(cx),
            };
            match next {
                Some(next) => return next,
                None => continue,
            }
        }
        // Out of budget, not out of work: a visit that stopped here waiting for an event
        // could wait forever (a response already read, a writable edge already taken).
        Next::Again
    }

    /// A non-blocking connect is over when the socket turns writable (or reports an
    /// error); `SO_ERROR` then says whether it worked. The event may also be spurious:
    /// `peer_addr` tells "connected" from "not yet".
    fn check_connect(&mut self) -> Next {
        let Some(stream) = self.stream.as_ref() else {
            return Next::Stay;
        };
        if !self.writable && !self.readable {
            return Next::Stay;
        }
        let broken = |e: io::Error| Next::Broken {
            why: format!("connect: {e}"),
            retry: true,
        };
        match stream.take_error() {
            Ok(None) => {}
            Ok(Some(e)) | Err(e) => return broken(e),
        }
        match stream.peer_addr() {
            Ok(_) => {
                // Requests are small and each waits for its answer: no Nagle.
                let _ = stream.set_nodelay(true);
                self.stage = Stage::Open;
                Next::Connected
            }
            Err(e) if e.kind() == ErrorKind::NotConnected => {
                self.readable = false;
                self.writable = false;
                Next::Stay
            }
            Err(e) => broken(e),
        }
    }

    /// Writes the request for the next document: lesson 3's `write_request`.
    fn start_request(&mut self, cx: &Visit<'_>) {
        let target = format!("/wiki/{}", self.index * cx.n + self.done);
        self.request.clear();
        write_request(
            &RequestHead {
                method: Method::Get,
                host: cx.host,
                target: &target,
                keep_alive: true,
                user_agent: "c10k",
            },
            &mut self.request,
        );
        self.stage = Stage::Sending { sent: 0 };
    }

    /// Sends (more of) the request; `None` to go on with the visit.
    fn send(&mut self) -> Option<Next> {
        let (Some(stream), Stage::Sending { sent }) = (self.stream.as_mut(), &mut self.stage)
        else {
            return Some(Next::Stay);
        };
        if *sent >= self.request.len() {
            self.stage = Stage::Receiving {
                parser: Box::new(ResponseParser::new(Method::Get, Limits::default())),
                received: 0,
            };
            return None;
        }
        if !self.writable {
            return Some(Next::Stay);
        }
        match stream.write(self.request.get(*sent..).unwrap_or_default()) {
            Ok(0) => Some(Next::Broken {
                why: "the socket took no bytes".into(),
                retry: true,
            }),
            Ok(k) => {
                *sent += k;
                None
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                self.writable = false;
                Some(Next::Stay)
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => None,
            // The server closed the kept-alive connection (a reset, a broken pipe):
            // nothing of this request was answered, so it may be sent again.
            Err(e) => Some(Next::Broken {
                why: format!("sending the request: {e}"),
                retry: true,
            }),
        }
    }

    /// Reads (more of) the response, and checks it once complete; `None` to go on.
    fn receive(&mut self, cx: &mut Visit<'_>) -> Option<Next> {
        let (Some(stream), Stage::Receiving { parser, received }) =
            (self.stream.as_mut(), &mut self.stage)
        else {
            return Some(Next::Stay);
        };
        if !self.readable {
            return Some(Next::Stay);
        }
        let broken = |why: String, retry: bool| Some(Next::Broken { why, retry });
        let response = match stream.read(cx.buf) {
            Ok(0) => match parser.finish() {
                Ok(Some(response)) => response, // a body delimited by the close
                // Closed before a byte of the response: an idle keep-alive connection
                // the server let go. The request can be sent again.
                Ok(None) => return broken("the server closed before responding".into(), true),
                Err(e) => return broken(e.to_string(), false),
            },
            Ok(k) => {
                *received += k;
                cx.tally.bytes += k as u64;
                match parser.feed(cx.buf.get(..k).unwrap_or_default()) {
                    Ok(Parsed::NeedMore) => return None,
                    Ok(Parsed::Done { message, .. }) => message,
                    Err(e) => return broken(e.to_string(), false),
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                self.readable = false;
                return Some(Next::Stay);
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => return None,
            Err(e) => {
                let retry = *received == 0;
                return broken(format!("reading the response: {e}"), retry);
            }
        };
        check(&response, self.index * cx.n + self.done, cx.tally);
        self.done += 1;
        self.stage = Stage::Open;
        if self.done >= cx.n {
            Some(Next::Finished)
        } else if response.keep_alive {
            None // the next request, on the same connection
        } else {
            Some(Next::Reconnect)
        }
    }
}

/// Counts a response as a good or a failed document.
fn check(response: &Response, doc: usize, tally: &mut Tally) {
    if response.status != 200 {
        tally.failed(1, || format!("/wiki/{doc}: status {}", response.status));
        return;
    }
    let sum = response.headers.get(CHECKSUM_HEADER).unwrap_or_default();
    if verify(&response.body, sum) {
        tally.docs_ok += 1;
    } else {
        tally.failed(1, || {
            format!("/wiki/{doc}: checksum mismatch (header {sum:?})")
        });
    }
}
