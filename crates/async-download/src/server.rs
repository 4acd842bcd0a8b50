//! The corpus of lesson 3, served by tokio: the fast server the races use.
//!
//! The course has served the same corpus twice already. Lesson 3's server
//! ([`sockets::server`]) gives each connection a pool thread for its whole life; lesson
//! 4's ([`event_loop::step8_server`]) holds every connection in one thread, as an
//! explicit state machine woken by epoll. This one keeps the best of both: the code
//! reads like lesson 3's worker — read, parse, answer, loop; sleep through an injected
//! delay — but every wait is an `.await`, so a connection that waits holds no thread,
//! only a task: a few hundred bytes and its buffers. Tokio's runtime does what lesson
//! 4's loop did by hand (epoll, timers, waking the right task), on as many threads as
//! [`ServerConfig::workers`] asks.
//!
//! The corpus itself is unchanged: it is sans-IO ([`corpus::respond`] turns a parsed
//! request into bytes plus a plan), so this module only carries the plan out, exactly as
//! the other two servers do: the delay first, then [`Action::Send`], `SendThenClose`,
//! `Drop`, `Truncate` or `Drip`; a malformed request gets [`corpus::error_reply`] and a
//! close; pipelined requests are answered in order.
//!
//! It is the server of every race, so it must never be the bottleneck: a race measures
//! the *clients*. Hence a few choices made for speed, each noted where it is made: one
//! read buffer per connection for its whole life, each reply handed to the kernel whole
//! (one `write` system call, nearly always), `TCP_NODELAY`, and an idle timer that is
//! not re-armed on every request. Measured under load, the server's own code and tokio
//! take about 2% of its CPU; the corpus (making and hashing each article) and the
//! kernel's TCP take the rest, as in the other two servers.
//!
//! Three ways to run it:
//!
//! - [`start`]: on its own runtime and thread(s) in this process; [`RunningServer::stop`]
//!   ends it. Tests and tours use this.
//! - [`serve`]: the accept loop itself, for a runtime you already have.
//! - [`serve_as_child`]: the whole life of a server in a child process (see
//!   `procs::child_server`), so that a race measures a client's CPU and memory without
//!   the server's.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use sockets::corpus::{self, Action, FaultPlan, Reply};
use sockets::http::{Limits, Parsed, RequestParser};
use sockets::server::{Counters, ServerStats};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep, timeout};

/// How long a connection may stay silent — between requests, in the middle of one, or
/// not reading our reply — before the server closes it. Long enough for any client
/// that means to come back (a downloader's pool keeps connections for 20 s), short
/// enough that forgotten connections do not pile up for ever.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// After we close our side, how long we keep reading (and discarding) what the client
/// still sends; see [`close`]. The same as lessons 3 and 4.
const LINGER: Duration = Duration::from_millis(500);

/// The read buffer of a connection. Requests are a hundred bytes or so, and a request
/// split over two reads is fine (the parser keeps the first part), so a small buffer
/// costs nothing in speed — and at 10,000 connections it is 40 MB instead of 640 MB
/// for 64 KiB ones.
const READ_BUFFER: usize = 4 * 1024;

/// How long a child server (see [`serve_as_child`]) serves at most if its parent never
/// closes its stdin: a bound, so that no server outlives a broken test run for long.
pub const CHILD_MAX_LIFE: Duration = Duration::from_secs(3600);

/// How the tokio corpus server runs.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Where to listen: `127.0.0.1:0` (this machine, any free port) unless you need a
    /// fixed one.
    pub addr: SocketAddr,
    /// Latency and faults to inject.
    pub faults: FaultPlan,
    /// tokio worker threads; 0: one current-thread runtime.
    pub workers: usize,
}

impl Default for ServerConfig {
    /// `127.0.0.1:0`, no faults, one worker per core ([`default_workers`]).
    fn default() -> ServerConfig {
        ServerConfig {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            faults: FaultPlan::none(),
            workers: default_workers(),
        }
    }
}

/// One worker thread per core this process may use: tokio's own default, and what
/// lets the server keep up with any client on the same machine.
pub fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// A corpus server running on its own thread(s) in this process.
/// [`RunningServer::stop`] (or dropping it) stops it.
#[derive(Debug)]
pub struct RunningServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    /// Sending on it (or dropping it) tells the accept loop to stop.
    stop: Option<oneshot::Sender<()>>,
    /// The thread that owns the runtime; it ends once the runtime is shut down.
    thread: Option<JoinHandle<()>>,
}

impl RunningServer {
    /// The address the server listens on (with the real port when asked for port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The counts so far: the same ones lesson 3's server keeps.
    pub fn stats(&self) -> ServerStats {
        self.shared.stats.snapshot()
    }

    /// Stops accepting, closes every connection (those in the middle of a reply or a
    /// delay too), shuts the runtime down and joins its thread. Takes milliseconds:
    /// nothing in the server blocks a thread, so every task can be cancelled at once.
    /// It does block the caller for those milliseconds: from async code, call it in
    /// `tokio::task::spawn_blocking`.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            // An error means the accept loop has already ended: nothing to tell.
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            // A panic on the server thread has been printed already; there is nothing
            // more to do with it here.
            let _ = thread.join();
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

// ANCHOR: start
/// Binds `config.addr` and serves on a runtime of its own, on a thread of its own;
/// returns once the socket listens, so a client may connect at once.
pub fn start(config: ServerConfig) -> io::Result<RunningServer> {
    start_with(config, IDLE_TIMEOUT)
}

fn start_with(config: ServerConfig, idle_timeout: Duration) -> io::Result<RunningServer> {
    // Lesson 3's `listen`: a backlog of thousands rather than std's 128, so that a burst of
    // clients connecting at once is not dropped by the kernel (and retried a second
    // later). tokio takes the socket over once it is non-blocking.
    let std_listener = sockets::server::listen(config.addr)?;
    std_listener.set_nonblocking(true)?;
    let addr = std_listener.local_addr()?;
    let shared = Arc::new(Shared {
        faults: Arc::new(config.faults),
        idle_timeout,
        stats: Counters::default(),
    });
    let (stop, stopped) = oneshot::channel::<()>();
    // The runtime is built, used and dropped on the server's own thread, never on the
    // caller's: tokio refuses to drop a runtime inside another one's task, and the
    // caller may well be one (a tour or a test written with `#[tokio::main]`). The
    // thread reports whether the runtime could start before serving.
    let (ready, is_ready) = std::sync::mpsc::channel::<io::Result<()>>();
    let workers = config.workers;
    let thread = std::thread::Builder::new()
        .name("corpus-tokio".into())
        .spawn({
            let shared = shared.clone();
            move || {
                let started = runtime(workers).and_then(|runtime| {
                    // Registering a socket with tokio needs a runtime to register it
                    // with: `enter` makes ours the current one for this scope.
                    let listener = {
                        let _inside = runtime.enter();
                        TcpListener::from_std(std_listener)?
                    };
                    Ok((runtime, listener))
                });
                let (runtime, listener) = match started {
                    Ok(started) => started,
                    Err(e) => {
                        let _ = ready.send(Err(e));
                        return;
                    }
                };
                let _ = ready.send(Ok(()));
                // The accept loop is spawned rather than run by `block_on` itself, so
                // that it runs on a worker and the connection tasks it spawns start in
                // that worker's own queue. `stopped` resolves on `stop()`, and also
                // when the handle is dropped (the sender goes away).
                let accept = runtime.spawn(accept_loop(listener, shared, async move {
                    let _ = stopped.await;
                }));
                let _ = runtime.block_on(accept);
                // Every task has ended (the accept loop cancels the connections before
                // it returns); this only bounds the wait for tokio's own threads.
                runtime.shutdown_timeout(Duration::from_secs(1));
            }
        })?;
    // `recv` fails only if the thread ended without a word, i.e. it panicked.
    let outcome = is_ready
        .recv()
        .unwrap_or_else(|_| Err(io::Error::other("the server thread failed to start")));
    let mut server = RunningServer {
        addr,
        shared,
        stop: Some(stop),
        thread: Some(thread),
    };
    match outcome {
        Ok(()) => Ok(server),
        Err(e) => {
            server.shutdown(); // joins the thread, which has already ended
            Err(e)
        }
    }
}
// ANCHOR_END: start

/// A runtime with `workers` threads, or a single-threaded one for 0. Either way with
/// the I/O driver (epoll) and the timer, and nothing else.
fn runtime(workers: usize) -> io::Result<tokio::runtime::Runtime> {
    let mut builder = if workers == 0 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(workers);
        builder
    };
    builder.thread_name("corpus-worker").enable_all().build()
}

/// What the accept loop and every connection task share.
#[derive(Debug)]
struct Shared {
    faults: Arc<FaultPlan>,
    idle_timeout: Duration,
    stats: Counters,
}

// ANCHOR: serve
/// Accepts connections on `listener` and serves each one in a task of its own, with
/// the faults of `faults`, until `shutdown` completes; then closes every connection
/// still open and returns the counts.
///
/// `shutdown` is any future: `async { let _ = stop_receiver.await; }`,
/// `tokio::signal::ctrl_c()`, a `sleep`... Run it on a multi-thread runtime to use
/// every core.
pub async fn serve(
    listener: TcpListener,
    faults: Arc<FaultPlan>,
    shutdown: impl Future<Output = ()>,
) -> ServerStats {
    let shared = Arc::new(Shared {
        faults,
        idle_timeout: IDLE_TIMEOUT,
        stats: Counters::default(),
    });
    accept_loop(listener, shared.clone(), shutdown).await;
    shared.stats.snapshot()
}
// ANCHOR_END: serve

// ANCHOR: accept_loop
/// The loop behind [`serve`]: one task per connection, kept in a [`JoinSet`] so that
/// stopping can cancel them all.
async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    shutdown: impl Future<Output = ()>,
) {
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            // `biased`: the branches are tried in this order, so a stop is seen even
            // while clients keep connecting.
            biased;
            () = &mut shutdown => break,
            // A finished connection's entry is taken out of the set at once, so that
            // the set holds the open connections only.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    Counters::add(&shared.stats.connections, 1);
                    connections.spawn(serve_connection(stream, shared.clone()));
                }
                // Out of file descriptors, or a connection reset before we took it: the
                // listener is fine. A short pause keeps a lasting error (EMFILE) from
                // spinning a core.
                Err(_) => sleep(Duration::from_millis(10)).await,
            },
        }
    }
    // Stop listening first, so that no client connects only to be dropped; then cancel
    // every connection task (each one is dropped at its current `.await`, which closes
    // its socket) and wait until they are all gone.
    drop(listener);
    connections.shutdown().await;
}
// ANCHOR_END: accept_loop

// ANCHOR: connection_setup
/// One connection's life: requests in, replies out, until one side closes or the client
/// stays silent for `idle_timeout`. Lesson 3's worker, with `.await` at every wait.
async fn serve_connection(mut stream: TcpStream, shared: Arc<Shared>) {
    // TCP_NODELAY: our replies are written whole, so Nagle's algorithm has nothing to
    // merge and would only hold a reply's last small segment back until the client's
    // delayed ACK (up to 40 ms on Linux). Drip pieces must leave at once too.
    if stream.set_nodelay(true).is_err() {
        return;
    }
    let idle_timeout = shared.idle_timeout;
    // One buffer and one parser for the connection's life: no allocation per request
    // here (the corpus allocates the reply it builds).
    let mut buf = vec![0u8; READ_BUFFER];
    let mut parser = RequestParser::new(Limits::default());

    // The idle timer. Re-arming a timer on every request would touch tokio's timer
    // wheel twice per request; instead we note when the connection was last busy (a
    // clock read is far cheaper) and, when the timer fires, look: silent long enough,
    // close; busy since, re-arm it for `last_busy + idle_timeout`. One timer event per
    // `idle_timeout` per connection, however many requests it carries.
    let idle = sleep(idle_timeout);
    tokio::pin!(idle);
    let mut last_busy = Instant::now();
    // ANCHOR_END: connection_setup

    // ANCHOR: connection_read
    loop {
        let read = loop {
            tokio::select! {
                biased;
                read = stream.read(&mut buf) => break read,
                () = &mut idle => {
                    let quiet_until = last_busy + idle_timeout;
                    if Instant::now() >= quiet_until {
                        return; // silent too long: dropping the stream closes it
                    }
                    idle.as_mut().reset(quiet_until);
                }
            }
        };
        let n = match read {
            // End of stream: the client has closed its side, and every request it sent
            // was answered. A request cut off in the middle is not answered.
            Ok(0) => return,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            // A reset, or another error: the connection is over.
            Err(_) => return,
        };
        // ANCHOR_END: connection_read
        // ANCHOR: connection_answer
        // One read may hold several pipelined requests, or the end of one and the start
        // of the next: answer each complete one in order, leave the rest in the parser.
        let mut input = buf.get(..n).unwrap_or_default();
        while !input.is_empty() {
            match parser.feed(input) {
                Ok(Parsed::NeedMore) => break,
                Ok(Parsed::Done { message, used }) => {
                    // The parser is ready for the next request by itself.
                    input = input.get(used..).unwrap_or_default();
                    let reply = corpus::respond(&message, &shared.faults);
                    if !carry_out(&mut stream, &reply, &shared).await {
                        return;
                    }
                }
                // Once the stream is malformed, where the next request would start is
                // unknown: answer with the error (its reply says close) and stop.
                Err(error) => {
                    carry_out(&mut stream, &corpus::error_reply(&error), &shared).await;
                    return;
                }
            }
        }
        last_busy = Instant::now();
    }
}
// ANCHOR_END: connection_answer

// ANCHOR: carry_out_delay
/// Sends `reply` as its plan says; `false` when the connection is over (closed by the
/// plan, or broken, or the client stopped reading for `idle_timeout`).
async fn carry_out(stream: &mut TcpStream, reply: &Reply, shared: &Shared) -> bool {
    let stats = &shared.stats;
    Counters::add(&stats.requests, 1);
    if reply.fault.is_some() {
        Counters::add(&stats.faults, 1);
    }
    if !reply.delay.is_zero() {
        // Lesson 3's worker slept here and held a thread; this task holds nothing
        // while it waits. Stopping the server cancels the wait.
        sleep(reply.delay).await;
    }
    // ANCHOR_END: carry_out_delay
    // ANCHOR: carry_out_action
    match reply.action {
        Action::Send => send(stream, &reply.bytes, shared).await,
        Action::SendThenClose => {
            if send(stream, &reply.bytes, shared).await {
                close(stream).await;
            }
            false
        }
        Action::Drop => {
            close(stream).await;
            false
        }
        Action::Truncate { keep } => {
            let part = reply.bytes.get(..keep).unwrap_or(&reply.bytes);
            if send(stream, part, shared).await {
                close(stream).await;
            }
            false
        }
        Action::Drip {
            piece,
            pause,
            close: then_close,
        } => {
            for (i, part) in reply.bytes.chunks(piece.max(1)).enumerate() {
                if i > 0 {
                    sleep(pause).await;
                }
                if !send(stream, part, shared).await {
                    return false;
                }
            }
            if then_close {
                close(stream).await;
            }
            !then_close
        }
    }
}
// ANCHOR_END: carry_out_action

// ANCHOR: send
/// Writes `bytes` whole — head and body together, so they leave in as few segments as
/// the kernel likes; nearly always one `write` system call — unless the client stops
/// reading for the idle timeout. Whether it all went out.
///
/// The limit is on each write, not on the whole reply: a client that reads a 14 MB
/// `/index` slowly but steadily is served; one that stops reading is dropped. And
/// `timeout` polls the write first and arms its timer only if the write must wait: a
/// reply that fits in the socket's send buffer, the usual case, costs no timer.
async fn send(stream: &mut TcpStream, bytes: &[u8], shared: &Shared) -> bool {
    let mut rest = bytes;
    while !rest.is_empty() {
        let n = match timeout(shared.idle_timeout, stream.write(rest)).await {
            Ok(Ok(n)) if n > 0 => n,
            Ok(Err(e)) if e.kind() == io::ErrorKind::Interrupted => continue,
            // A reset or broken pipe, a socket that takes nothing more, or a client
            // that stopped reading.
            Ok(Ok(_)) | Ok(Err(_)) | Err(_) => return false,
        };
        Counters::add(&shared.stats.bytes_sent, n as u64);
        rest = rest.get(n..).unwrap_or_default();
    }
    true
}
// ANCHOR_END: send

// ANCHOR: close
/// Closes a connection so that the client reads everything we sent, then end-of-file.
///
/// Closing a socket whose receive buffer still holds unread bytes (a pipelined request
/// we will not answer, the rest of a malformed one) makes the kernel send a reset
/// instead of a normal end, and the client's kernel then throws away the reply it has
/// not read yet. So, as in lessons 3 and 4: end our direction (`shutdown` sends the FIN
/// after the data), read and discard what the client still sends until it closes too,
/// for at most [`LINGER`]; the caller then drops the stream.
async fn close(stream: &mut TcpStream) {
    if stream.shutdown().await.is_err() {
        return;
    }
    let mut sink = [0u8; 512];
    let _ = timeout(LINGER, async {
        loop {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
}
// ANCHOR_END: close

/// The hidden first argument that makes a program of this crate a corpus server in a
/// child process (see [`serve_as_child`]): the downloader's `--corpus`, the race and the
/// tour start their server this way, and a benchmark that links this crate can too.
pub const SERVE_CORPUS: &str = "--serve-corpus";

/// The tokio corpus server, run as a child process (the first argument,
/// --serve-corpus, chooses this mode). It prints `listening on http://ADDR`, then serves
/// until its stdin closes.
#[derive(Debug, clap::Parser)]
#[command(name = "corpus server", no_binary_name = true)]
struct ChildOptions {
    #[command(flatten)]
    flags: sockets::cli::ServerFlags,
    /// tokio worker threads; 0: one current-thread runtime [default: one per core]
    #[arg(long, value_name = "N")]
    workers: Option<usize>,
    /// Close a connection silent for this many seconds
    #[arg(long, value_name = "S", default_value = "60", value_parser = sockets::cli::positive_seconds)]
    idle_timeout: Duration,
}

// ANCHOR: serve_as_child
/// The whole life of a corpus server in a child process (see `procs::child_server`):
/// `args` are the arguments after the hidden `--serve-corpus` that chose this mode,
/// the same flags as `wiki-server` and `loop-server` (read by
/// [`sockets::cli::ServerFlags`]) plus `--workers N`. Prints `listening on
/// http://ADDR`, serves until the parent closes our stdin (or `--for`, at most
/// [`CHILD_MAX_LIFE`]), then stops. Exit code 2 for wrong arguments, 1 if it cannot
/// listen.
pub fn serve_as_child(args: &[String]) -> ExitCode {
    let options = match <ChildOptions as clap::Parser>::try_parse_from(args) {
        Ok(options) => options,
        // Help (exit code 0) or a usage error (2), printed where clap prints it. Not
        // `e.exit()`: a caller in the same process (a test) gets the code back.
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    if let Err(e) = options.flags.check() {
        eprintln!("corpus server: {e}");
        return ExitCode::from(procs::exit::Exit::Usage);
    }
    let config = ServerConfig {
        addr: options.flags.addr,
        faults: options.flags.faults(),
        workers: options.workers.unwrap_or_else(default_workers),
    };
    let (idle_timeout, max_life) = (
        options.idle_timeout,
        options.flags.serve_for.unwrap_or(CHILD_MAX_LIFE),
    );
    // Every connection is a file descriptor and the soft limit is often 1024, too few
    // for a race at concurrency 10,000. Raising it to the hard limit is allowed to any
    // process; if it fails, the server still runs, and accepts pause at the limit.
    let _ = event_loop::fd_limit::raise_fd_limit();
    match start_with(config, idle_timeout) {
        Ok(server) => {
            // Nothing may be printed on stdout after this line: the parent reads only
            // that one, then closes its end of the pipe.
            procs::child_server::announce_and_wait(server.addr(), max_life);
            server.stop();
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("corpus server: cannot start: {e}");
            ExitCode::FAILURE
        }
    }
}
// ANCHOR_END: serve_as_child
