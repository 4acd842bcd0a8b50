//! What one turn of a loop costs, as idle connections pile up: `poll(2)` against epoll.
//!
//! The experiment: open `idle` TCP connections that never carry a byte, plus `active`
//! descriptors that are made ready before every turn (a byte written into a local socket
//! pair), then time one wait that returns at once (timeout zero) — once with `poll(2)`
//! over *all* the descriptors, once with epoll (mio's [`Poll::poll`]) on which all of
//! them are registered. Both find the same `active` ready descriptors.
//!
//! What the learner should see: `poll`'s time grows with the idle connections (the
//! kernel checks each one, every turn, and copies the whole list in and out), epoll's
//! hardly moves (it takes the ready list, which holds only the active ones). At 10,000
//! idle connections and a few active ones, a `poll` turn costs hundreds to thousands
//! of times more. And `poll` is given its list ready-made here: a real loop rebuilds it every turn,
//! which costs as much again.
//!
//! ## Ten thousand connections need twenty thousand descriptors
//!
//! Each end of a TCP connection is a file descriptor in the process that holds it. The
//! far ends of the idle connections therefore live in **another process**, the
//! [`Holder`]: this program started again with a hidden argument ([`HOLDER_ARG`]),
//! running [`hold_connections`] until every connection is closed. So each side needs
//! 10,000 descriptors and a few. A process may have at most `RLIMIT_NOFILE`
//! descriptors: a *soft* limit (what `ulimit -n` shows, often 1,024) that a process may
//! raise by itself up to the *hard* limit (`ulimit -Hn`), which only root can raise.
//! [`raise_fd_limit`] does the raising, and says clearly what to do when even the hard
//! limit is too low.
//!
//! Tests use a few hundred connections and hold them in a thread of the same process.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::os::fd::AsFd;
use std::process::{Child, ChildStdout, Command, ExitCode, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use mio::net::{TcpStream, UnixStream};
use mio::{Events, Interest, Poll, Token};
use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use procs::measure::Stats;
use socket2::SockRef;

use crate::fd_limit::{FdLimit, raise_fd_limit};
use crate::slab::Slab;

/// Descriptors a process needs besides the measured ones: standard streams, the epoll
/// instance, a listener, the test harness's own.
pub const SPARE_FDS: u64 = 64;
/// Untimed turns before the measured ones (caches, lazily allocated kernel structures).
const WARMUP_TURNS: usize = 5;
/// Longest wait for one connection to the holder.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Why the measurement could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TurnCostError {
    #[error(
        "{needed} file descriptors are needed, but this process may open at most {hard}: \
         `ulimit -n` shows {soft} (the soft limit, which a process raises by itself up to \
         the hard one), `ulimit -Hn` shows {hard} (the hard limit, which only root \
         raises). Measure with fewer connections, or raise the hard limit: \
         `sudo prlimit --nofile={needed}:{needed} --pid $$` for the current shell, \
         `LimitNOFILE={needed}` for a systemd service, `docker run --ulimit nofile={needed}`"
    )]
    TooFewFds { needed: u64, soft: u64, hard: u64 },
    #[error(
        "out of file descriptors after {opened} of {wanted} connections (the limit is \
         {soft}, `ulimit -n`): something else holds descriptors too"
    )]
    OutOfFds {
        opened: usize,
        wanted: usize,
        soft: u64,
    },
    #[error("connection {opened} of {wanted} to the holder at {addr} failed: {source}")]
    Connect {
        opened: usize,
        wanted: usize,
        addr: SocketAddr,
        #[source]
        source: io::Error,
    },
    #[error("{what} failed: {source}")]
    Sys {
        what: &'static str,
        #[source]
        source: io::Error,
    },
    #[error("the connection holder (a child process) {0}")]
    Holder(String),
    #[error("invalid {what}: {reason}")]
    Invalid { what: &'static str, reason: String },
}

fn sys(what: &'static str) -> impl Fn(io::Error) -> TurnCostError {
    move |source| TurnCostError::Sys { what, source }
}

fn errno(what: &'static str) -> impl Fn(Errno) -> TurnCostError {
    move |e| TurnCostError::Sys {
        what,
        source: e.into(),
    }
}

// ANCHOR: room_for_fds
/// Makes room for `needed` open descriptors: raises the soft limit to the hard one
/// ([`raise_fd_limit`]), and fails with [`TurnCostError::TooFewFds`], before anything
/// is opened, if even that is too low.
pub fn room_for_fds(needed: u64) -> Result<FdLimit, TurnCostError> {
    let limit = raise_fd_limit().map_err(sys("raising RLIMIT_NOFILE"))?;
    if limit.soft < needed {
        return Err(TurnCostError::TooFewFds {
            needed,
            // The soft limit this process started with (`ulimit -n` where it ran).
            soft: limit.before,
            hard: limit.hard,
        });
    }
    Ok(limit)
}
// ANCHOR_END: room_for_fds

/// Median times of one wait, with `idle` idle connections and `active` ready descriptors.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TurnCost {
    pub idle: usize,
    pub active: usize,
    /// One `poll(2)` call over all `idle + active` descriptors, in seconds.
    pub poll: Stats,
    /// One `epoll_wait` (mio `Poll::poll`) with all of them registered, in seconds.
    pub epoll: Stats,
    /// Calls that did not report exactly `active` ready descriptors (should be 0: a
    /// turn that missed one would not be the same work for both).
    pub mismatched: usize,
}

impl TurnCost {
    /// Median nanoseconds of one `poll(2)` turn.
    pub fn poll_ns(&self) -> f64 {
        self.poll.median * 1e9
    }

    /// Median nanoseconds of one epoll turn.
    pub fn epoll_ns(&self) -> f64 {
        self.epoll.median * 1e9
    }

    /// How many times an epoll turn a `poll` turn costs.
    pub fn ratio(&self) -> f64 {
        procs::measure::ratio(self.poll.median, self.epoll.median)
    }
}

/// Descriptors [`turn_cost`] needs in this process.
pub fn needed_fds(idle: usize, active: usize) -> u64 {
    idle as u64 + 2 * active as u64 + SPARE_FDS
}

// ANCHOR: turn_cost_setup
/// Opens `idle` connections to `holder` (a [`hold_connections`] listening there) and
/// `active` local socket pairs, then times `turns` waits of each kind, alternately:
/// `poll(2)` over all descriptors, and epoll with all of them registered. The same
/// `active` descriptors are made ready before each wait, and emptied after.
pub fn turn_cost(
    holder: SocketAddr,
    idle: usize,
    active: usize,
    turns: usize,
) -> Result<TurnCost, TurnCostError> {
    if turns == 0 {
        return Err(TurnCostError::Invalid {
            what: "turns",
            reason: "at least one turn is needed for a median".into(),
        });
    }
    let limit = room_for_fds(needed_fds(idle, active))?;
    let mut connections = open_idle(holder, idle, limit.soft)?;
    let mut pairs = socket_pairs(active)?;

    // epoll: everything registered once, under its index.
    let epoll = Poll::new().map_err(sys("epoll_create"))?;
    register_all(&epoll, &mut connections, &mut pairs)?;
    let mut epoll = epoll;
    let mut events = Events::with_capacity(active + 16);

    // poll(2): one list of everything, made once. (A real loop rebuilds it each turn.)
    let mut fds: Vec<PollFd<'_>> = connections
        .iter()
        .map(|c| c.as_fd())
        .chain(pairs.iter().map(|(_, reader)| reader.as_fd()))
        .map(|fd| PollFd::new(fd, PollFlags::POLLIN))
        .collect();
    // ANCHOR_END: turn_cost_setup

    // ANCHOR: turn_cost_measure
    let mut poll_samples = Vec::with_capacity(turns);
    let mut epoll_samples = Vec::with_capacity(turns);
    let mut mismatched = 0;
    for turn in 0..WARMUP_TURNS + turns {
        // Alternate which goes first, so that neither always meets the warmer caches.
        for poll_first in [turn % 2 == 0, turn % 2 != 0] {
            make_ready(&pairs)?;
            let (seconds, ready) = if poll_first {
                time_poll(&mut fds)?
            } else {
                time_epoll(&mut epoll, &mut events)?
            };
            empty(&pairs)?;
            mismatched += usize::from(ready != active);
            if turn >= WARMUP_TURNS {
                let samples = if poll_first {
                    &mut poll_samples
                } else {
                    &mut epoll_samples
                };
                samples.push(seconds);
            }
        }
    }
    let stats = |samples| {
        Stats::from_samples(samples).ok_or_else(|| TurnCostError::Invalid {
            what: "samples",
            reason: "no finite timing".into(),
        })
    };
    Ok(TurnCost {
        idle,
        active,
        poll: stats(poll_samples)?,
        epoll: stats(epoll_samples)?,
        mismatched,
    })
}
// ANCHOR_END: turn_cost_measure

/// Registers every connection and every pair's reader with `epoll`, each under its
/// index, for readable.
fn register_all(
    epoll: &Poll,
    connections: &mut [TcpStream],
    pairs: &mut [Pair],
) -> Result<(), TurnCostError> {
    let readers = pairs
        .iter_mut()
        .map(|(_, reader)| reader as &mut dyn mio::event::Source);
    let sources = connections
        .iter_mut()
        .map(|c| c as &mut dyn mio::event::Source)
        .chain(readers);
    for (i, source) in sources.enumerate() {
        epoll
            .registry()
            .register(source, Token(i), Interest::READABLE)
            .map_err(sys("epoll_ctl(EPOLL_CTL_ADD)"))?;
    }
    Ok(())
}

/// One `poll(2)` call that does not wait: (seconds, descriptors ready).
fn time_poll(fds: &mut [PollFd<'_>]) -> Result<(f64, usize), TurnCostError> {
    loop {
        let start = Instant::now();
        let result = poll(fds, PollTimeout::ZERO);
        let seconds = start.elapsed().as_secs_f64();
        match result {
            Ok(n) => return Ok((seconds, usize::try_from(n).unwrap_or(0))),
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(errno("poll")(e)),
        }
    }
}

/// One epoll wait that does not wait: (seconds, events).
fn time_epoll(epoll: &mut Poll, events: &mut Events) -> Result<(f64, usize), TurnCostError> {
    loop {
        let start = Instant::now();
        let result = epoll.poll(events, Some(Duration::ZERO));
        let seconds = start.elapsed().as_secs_f64();
        match result {
            Ok(()) => return Ok((seconds, events.iter().count())),
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(sys("epoll_wait")(e)),
        }
    }
}

/// `count` connections to `addr`, opened one after the other.
fn open_idle(addr: SocketAddr, count: usize, soft: u64) -> Result<Vec<TcpStream>, TurnCostError> {
    let mut connections = Vec::with_capacity(count);
    for opened in 0..count {
        let stream =
            std::net::TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT).map_err(|source| {
                match Errno::from_raw(source.raw_os_error().unwrap_or(0)) {
                    Errno::EMFILE | Errno::ENFILE => TurnCostError::OutOfFds {
                        opened,
                        wanted: count,
                        soft,
                    },
                    _ => TurnCostError::Connect {
                        opened,
                        wanted: count,
                        addr,
                        source,
                    },
                }
            })?;
        // Closing with a reset instead of the usual goodbye: otherwise each of ten
        // thousand closed connections keeps a local port for a minute (TIME_WAIT), and
        // running the measurement twice in a row could run out of ports.
        SockRef::from(&stream)
            .set_linger(Some(Duration::ZERO))
            .map_err(sys("setsockopt(SO_LINGER)"))?;
        // mio wants non-blocking sockets (nothing is ever read from these).
        stream
            .set_nonblocking(true)
            .map_err(sys("fcntl(O_NONBLOCK)"))?;
        connections.push(TcpStream::from_std(stream));
    }
    Ok(connections)
}

/// A connected local socket pair: a blocking writer, and a non-blocking reader for mio.
type Pair = (std::os::unix::net::UnixStream, UnixStream);

/// `count` socket pairs.
fn socket_pairs(count: usize) -> Result<Vec<Pair>, TurnCostError> {
    (0..count)
        .map(|_| {
            let (writer, reader) =
                std::os::unix::net::UnixStream::pair().map_err(sys("socketpair"))?;
            reader
                .set_nonblocking(true)
                .map_err(sys("fcntl(O_NONBLOCK)"))?;
            Ok((writer, UnixStream::from_std(reader)))
        })
        .collect()
}

/// One byte into each pair: its reader becomes readable (at once: a local socket's
/// write lands in the peer's queue within the call).
fn make_ready(pairs: &[Pair]) -> Result<(), TurnCostError> {
    for (writer, _) in pairs {
        let mut writer = writer;
        writer
            .write_all(b"!")
            .map_err(sys("write to a socket pair"))?;
    }
    Ok(())
}

/// Reads every reader until `WouldBlock`: nothing is ready any more.
fn empty(pairs: &[Pair]) -> Result<(), TurnCostError> {
    let mut sink = [0u8; 64];
    for (_, reader) in pairs {
        let mut reader = reader;
        loop {
            match reader.read(&mut sink) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(sys("read from a socket pair")(e)),
            }
        }
    }
    Ok(())
}

/// What [`hold_connections`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HoldReport {
    pub accepted: usize,
    /// The most connections open at once.
    pub most_open: usize,
    /// Whether it stopped at its deadline rather than after the last close.
    pub timed_out: bool,
    /// Why it stopped accepting early, if it did (e.g. out of descriptors).
    pub accept_error: Option<String>,
}

// ANCHOR: hold_connections
/// The far end of the idle connections: accepts up to `max` connections on `listener`
/// and keeps them open, reading (and dropping) anything sent, until all `max` have been
/// closed by the other side, or `deadline`. One thread, an epoll loop — the same rules as
/// [`MioLoop`](super::MioLoop): drain until `WouldBlock`, skip unknown tokens.
pub fn hold_connections(
    listener: TcpListener,
    max: usize,
    deadline: Instant,
) -> io::Result<HoldReport> {
    const LISTENER: Token = Token(usize::MAX);
    listener.set_nonblocking(true)?;
    let mut listener = mio::net::TcpListener::from_std(listener);
    let mut poll = Poll::new()?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    let mut listener = Some(listener);
    let mut open: Slab<mio::net::TcpStream> = Slab::new();
    let mut events = Events::with_capacity(1024);
    let mut report = HoldReport::default();
    let mut sink = [0u8; 4096];
    while report.accepted < max || !open.is_empty() {
        let Some(left) = deadline.checked_duration_since(Instant::now()) else {
            report.timed_out = true;
            break;
        };
        match poll.poll(&mut events, Some(left)) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        for event in events.iter() {
            if event.token() == LISTENER {
                if let Some(l) = listener.as_mut() {
                    if !accept_all(l, &poll, &mut open, max, &mut report) {
                        // Done accepting: closing the listener refuses any more.
                        let _ = poll.registry().deregister(l);
                        listener = None;
                    }
                }
            } else if let Some(stream) = open.get_mut(event.token().0) {
                if !drain(stream, &mut sink) {
                    let _ = poll.registry().deregister(stream);
                    open.remove(event.token().0);
                }
            }
        }
        report.most_open = report.most_open.max(open.len());
    }
    Ok(report)
}
// ANCHOR_END: hold_connections

/// Accepts until `WouldBlock`; `false` when it should accept no more (max reached, or
/// an error such as running out of descriptors, recorded in the report).
fn accept_all(
    listener: &mut mio::net::TcpListener,
    poll: &Poll,
    open: &mut Slab<mio::net::TcpStream>,
    max: usize,
    report: &mut HoldReport,
) -> bool {
    while report.accepted < max {
        match listener.accept() {
            Ok((stream, _)) => {
                report.accepted += 1;
                let key = open.insert(stream);
                if let Some(stream) = open.get_mut(key) {
                    if poll
                        .registry()
                        .register(stream, Token(key), Interest::READABLE)
                        .is_err()
                    {
                        open.remove(key);
                    }
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => return true,
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::Interrupted | ErrorKind::ConnectionAborted
                ) => {}
            Err(e) => {
                report.accept_error = Some(e.to_string());
                return false;
            }
        }
    }
    false
}

/// Reads until `WouldBlock`; `false` once the connection is over (closed or broken).
fn drain(stream: &mut mio::net::TcpStream, sink: &mut [u8]) -> bool {
    loop {
        match stream.read(sink) {
            Ok(0) => return false,
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock => return true,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
}

/// The hidden first argument that makes a program a connection holder:
/// `PROGRAM --hold-connections MAX SECONDS`.
pub const HOLDER_ARG: &str = "--hold-connections";

// ANCHOR: run_holder_if_asked
/// Call first thing in `main` of a program that measures with [`Holder::spawn`]: if this
/// process was started as a holder, it holds connections and returns the exit code to
/// end with; otherwise `None`, and `main` goes on.
///
/// The holder raises its descriptor limit, listens on 127.0.0.1 (a free port), prints
/// the address as one line on stdout for the parent, and holds.
pub fn run_holder_if_asked() -> Option<ExitCode> {
    // `args_os`: `args` would panic on an argument that is not UTF-8.
    let mut args = std::env::args_os().skip(1);
    if args.next().as_deref() != Some(HOLDER_ARG.as_ref()) {
        return None;
    }
    let mut number = || args.next()?.to_str()?.parse::<u64>().ok();
    let max = number().and_then(|n| usize::try_from(n).ok());
    let seconds = number();
    let (Some(max), Some(seconds)) = (max, seconds) else {
        eprintln!("usage: PROGRAM {HOLDER_ARG} MAX_CONNECTIONS SECONDS");
        return Some(ExitCode::from(procs::exit::Exit::Usage));
    };
    match hold_in_this_process(max, Duration::from_secs(seconds)) {
        Ok(_) => Some(ExitCode::SUCCESS),
        Err(e) => {
            eprintln!("connection holder: {e}");
            Some(ExitCode::FAILURE)
        }
    }
}
// ANCHOR_END: run_holder_if_asked

fn hold_in_this_process(max: usize, lifetime: Duration) -> Result<HoldReport, TurnCostError> {
    room_for_fds(max as u64 + SPARE_FDS)?;
    let listener = TcpListener::bind("127.0.0.1:0").map_err(sys("bind 127.0.0.1:0"))?;
    let addr = listener.local_addr().map_err(sys("getsockname"))?;
    let mut out = io::stdout().lock();
    writeln!(out, "{addr}")
        .and_then(|()| out.flush())
        .map_err(sys("telling the parent the address"))?;
    hold_connections(listener, max, procs::deadline::from_now(lifetime))
        .map_err(sys("holding connections"))
}

/// A child process holding the far ends of connections (see [`run_holder_if_asked`]).
/// Dropping it kills the child if it is still running.
#[derive(Debug)]
pub struct Holder {
    child: Child,
    addr: SocketAddr,
    /// Kept open so that the child never writes into a closed pipe.
    _stdout: ChildStdout,
}

impl Holder {
    /// Starts this very program again as a holder of up to `max` connections, for at
    /// most `lifetime`, and waits (at most 10 s) for its address.
    pub fn spawn(max: usize, lifetime: Duration) -> Result<Holder, TurnCostError> {
        let exe = std::env::current_exe().map_err(sys("finding this program's path"))?;
        let mut command = Command::new(exe);
        command.args([
            HOLDER_ARG.to_string(),
            max.to_string(),
            lifetime.as_secs().max(1).to_string(),
        ]);
        Holder::spawn_command(command)
    }

    /// Starts `command`, which must run [`run_holder_if_asked`] (with its arguments), and
    /// waits (at most 10 s) for the address it prints.
    pub fn spawn_command(mut command: Command) -> Result<Holder, TurnCostError> {
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = command
            .spawn()
            .map_err(sys("starting the connection holder"))?;
        let Some(mut stdout) = child.stdout.take() else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(TurnCostError::Holder("has no stdout".into()));
        };
        match read_address(&mut stdout, Duration::from_secs(10)) {
            Ok(addr) => Ok(Holder {
                child,
                addr,
                _stdout: stdout,
            }),
            Err(e) => {
                let _ = child.kill();
                let status = child.wait().ok();
                Err(TurnCostError::Holder(format!(
                    "did not say where it listens ({e}); it ended with {status:?}"
                )))
            }
        }
    }

    /// Where the holder listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Waits up to `timeout` for the holder to end by itself (it does once all its
    /// connections are closed), then kills it. Its exit status.
    pub fn finish(mut self, timeout: Duration) -> Result<ExitStatus, TurnCostError> {
        let deadline = procs::deadline::from_now(timeout);
        loop {
            match self
                .child
                .try_wait()
                .map_err(sys("waiting for the holder"))?
            {
                Some(status) => return Ok(status),
                None if Instant::now() >= deadline => {
                    let _ = self.child.kill();
                    return self.child.wait().map_err(sys("waiting for the holder"));
                }
                None => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Why the holder's first line did not give its address.
#[derive(Debug, thiserror::Error)]
enum AddressError {
    #[error("no address within {0:?}")]
    Late(Duration),
    #[error("poll: {0}")]
    Poll(Errno),
    #[error("it closed its stdout")]
    Closed,
    #[error("reading its stdout: {0}")]
    Read(io::Error),
    #[error("its first line is too long")]
    TooLong,
    #[error("{line:?} is not an address: {source}")]
    NotAnAddress {
        line: String,
        source: std::net::AddrParseError,
    },
}

/// Reads one line ("127.0.0.1:PORT") from the child, waiting at most `timeout` in
/// `poll(2)` — a plain `read` would wait forever for a child that hangs.
fn read_address(stdout: &mut ChildStdout, timeout: Duration) -> Result<SocketAddr, AddressError> {
    let deadline = procs::deadline::from_now(timeout);
    let mut line = Vec::new();
    let mut chunk = [0u8; 64];
    while !line.contains(&b'\n') {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(AddressError::Late(timeout));
        }
        let millis = u16::try_from(left.as_millis().max(1)).unwrap_or(u16::MAX);
        let mut fds = [PollFd::new(stdout.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::from(millis)) {
            Ok(0) | Err(Errno::EINTR) => continue,
            Ok(_) => {}
            Err(e) => return Err(AddressError::Poll(e)),
        }
        match stdout.read(&mut chunk) {
            Ok(0) => return Err(AddressError::Closed),
            Ok(n) => line.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(AddressError::Read(e)),
        }
        if line.len() > 256 {
            return Err(AddressError::TooLong);
        }
    }
    let text = String::from_utf8_lossy(&line);
    let first = text.lines().next().unwrap_or("").trim();
    first.parse().map_err(|source| AddressError::NotAnAddress {
        line: first.to_string(),
        source,
    })
}

/// [`turn_cost`] with the far ends in a child process ([`Holder::spawn`]: this program,
/// whose `main` must call [`run_holder_if_asked`] first). The child ends when the
/// connections close.
pub fn turn_cost_with_child(
    idle: usize,
    active: usize,
    turns: usize,
) -> Result<TurnCost, TurnCostError> {
    let holder = Holder::spawn(idle, Duration::from_secs(120))?;
    let cost = turn_cost(holder.addr(), idle, active, turns);
    // The connections are closed (dropped) by now; the holder sees it and exits.
    let _ = holder.finish(Duration::from_secs(5));
    cost
}
