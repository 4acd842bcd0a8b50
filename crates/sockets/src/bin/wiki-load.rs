//! `wiki-load`: a bounded load on a corpus server, to measure how many requests it serves.
//!
//! ```text
//! cargo run --release -p sockets --bin wiki-server -- --addr 127.0.0.1:8080 &
//! cargo run --release -p sockets --bin wiki-load -- --addr 127.0.0.1:8080 --connections 64 --seconds 5
//! ```
//!
//! Each connection is a thread with one keep-alive socket: it sends `GET /wiki/<id>`
//! for a random id, reads the whole response with the codec's response parser, checks
//! the status and the checksum, and starts again — one request in flight per
//! connection, like a browser tab or a downloader's worker. It stops at the time bound
//! or after `--requests` requests in all, whichever comes first, and prints the rate,
//! the throughput, the latency percentiles and the errors.
//!
//! "Bounded" on every side: a time limit, an optional count, and a timeout on every
//! connect, read and write, so a server that stalls cannot hang the load.

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use sockets::client::read_some;
use sockets::corpus::{CHECKSUM_HEADER, verify};
use sockets::http::{Limits, Method, Parsed, ResponseParser};
use threads::gate::Gate;

/// A bounded load on a corpus server (wiki-server, or lessons 4 and 5's).
#[derive(Debug, Clone, Parser)]
#[command(
    name = "wiki-load",
    version,
    after_help = "Exit codes: 0 requests were served, 1 none was (or the load could not \
                  start), 2 called wrongly."
)]
struct Options {
    /// The server, e.g. 127.0.0.1:8080
    #[arg(long, value_name = "IP:PORT")]
    addr: SocketAddr,
    /// Keep-alive connections, one thread each
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = connections)]
    connections: usize,
    /// Stop after S seconds [default: 5; 60 when --requests is given]
    #[arg(long = "seconds", value_name = "S", value_parser = sockets::cli::positive_seconds)]
    duration: Option<Duration>,
    /// Stop after N requests in all
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    requests: Option<u64>,
    /// Request ids drawn from 0..N
    #[arg(long, value_name = "N", default_value_t = 100_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    ids: u64,
    /// The limit on each connect, read and write, in seconds
    #[arg(long, value_name = "S", default_value = "5", value_parser = sockets::cli::positive_seconds)]
    timeout: Duration,
    /// Do not check the checksums (saves the client's CPU)
    #[arg(long = "no-verify", action = clap::ArgAction::SetFalse)]
    verify: bool,
}

impl Options {
    /// How long the load lasts: `--seconds`, or its default.
    fn duration(&self) -> Duration {
        let fallback = if self.requests.is_some() { 60 } else { 5 };
        self.duration.unwrap_or(Duration::from_secs(fallback))
    }
}

/// The most `--connections`: one thread each, and a machine runs out of threads (and
/// of the memory for their stacks) long before it runs out of sockets.
const MAX_CONNECTIONS: usize = 10_000;

/// Why `--connections` was refused.
#[derive(Debug, thiserror::Error)]
enum ConnectionsError {
    #[error("not a whole number above 0")]
    NotANumber,
    #[error(
        "at most {MAX_CONNECTIONS} (one thread each; for more, use lesson 4's loop or \
         lesson 5's tool)"
    )]
    TooMany,
}

fn connections(text: &str) -> Result<usize, ConnectionsError> {
    match text.parse::<u128>() {
        Ok(0) | Err(_) => Err(ConnectionsError::NotANumber),
        Ok(n) if n > MAX_CONNECTIONS as u128 => Err(ConnectionsError::TooMany),
        Ok(n) => Ok(n as usize),
    }
}

fn main() -> ExitCode {
    let options = Options::parse();
    let report = match run(&options) {
        Ok(report) => report,
        Err(e) => {
            eprintln!("wiki-load: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("{report}");
    if report.requests == 0 {
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// What one connection's thread measured.
#[derive(Debug, Default)]
struct Tally {
    requests: u64,
    /// Response bytes, heads included: what crossed the socket.
    bytes: u64,
    /// Each request's latency in microseconds, from the write to the complete response.
    latencies: Vec<u32>,
    errors: u64,
    /// The first error, as an example for the report.
    first_error: Option<String>,
}

impl Tally {
    fn error(&mut self, what: String) {
        self.errors += 1;
        self.first_error.get_or_insert(what);
    }
}

/// The whole run, printed as the result.
#[derive(Debug)]
struct Report {
    connections: usize,
    elapsed: Duration,
    requests: u64,
    bytes: u64,
    p50: Duration,
    p99: Duration,
    errors: u64,
    first_error: Option<String>,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secs = self.elapsed.as_secs_f64().max(1e-9);
        writeln!(
            f,
            "{} requests on {} connections in {:.2} s",
            self.requests, self.connections, secs
        )?;
        writeln!(f, "requests/s: {:.0}", self.requests as f64 / secs)?;
        writeln!(f, "MB/s:       {:.1}", self.bytes as f64 / secs / 1e6)?;
        writeln!(
            f,
            "latency:    p50 {:.2} ms, p99 {:.2} ms",
            self.p50.as_secs_f64() * 1e3,
            self.p99.as_secs_f64() * 1e3
        )?;
        write!(f, "errors:     {}", self.errors)?;
        if let Some(first) = &self.first_error {
            write!(f, " (first: {first})")?;
        }
        Ok(())
    }
}

/// Why one request failed, or the load could not start.
#[derive(Debug, thiserror::Error)]
enum LoadError {
    #[error("the system refused thread {index} of {of}: {source}; try fewer --connections")]
    Thread {
        index: usize,
        of: usize,
        source: std::io::Error,
    },
    #[error("write: {0}")]
    Write(std::io::Error),
    #[error("read: {0}")]
    Read(std::io::Error),
    #[error("the server closed the connection")]
    Closed,
    #[error(transparent)]
    Http(#[from] sockets::http::HttpError),
    #[error("status {0}")]
    Status(u16),
    #[error("checksum mismatch (header {0:?})")]
    Checksum(String),
}

fn run(options: &Options) -> Result<Report, LoadError> {
    // Every connection is opened before the clock starts: the measure is of serving,
    // not of connecting. Lesson 2's gate lines the threads up; `abort` sends them home
    // if the system refuses one of them a thread.
    let gate = Arc::new(Gate::new());
    let abort = Arc::new(AtomicBool::new(false));
    // Tickets for `--requests`: a thread takes one before each request.
    let tickets = Arc::new(AtomicU64::new(0));
    let mut threads = Vec::with_capacity(options.connections);
    let mut refused = None;
    for index in 0..options.connections {
        let (options_, gate_, abort_, tickets_) = (
            options.clone(),
            gate.clone(),
            abort.clone(),
            tickets.clone(),
        );
        let spawned = std::thread::Builder::new()
            .spawn(move || connection(index as u64, &options_, &gate_, &abort_, &tickets_));
        match spawned {
            Ok(thread) => threads.push(thread),
            Err(e) => {
                refused = Some(LoadError::Thread {
                    index: index + 1,
                    of: options.connections,
                    source: e,
                });
                break;
            }
        }
    }
    if refused.is_some() {
        // Set before the gate opens, and the gate's mutex orders it: Relaxed would do.
        abort.store(true, Ordering::SeqCst);
    } else {
        // Each thread arrives once it has connected (or failed to): a generous limit,
        // since every connect has its own timeout.
        let limit = options
            .timeout
            .saturating_mul(4)
            .saturating_add(Duration::from_secs(10));
        gate.wait_for_arrivals(threads.len(), limit);
    }
    gate.open();
    if let Some(refused) = refused {
        for thread in threads {
            let _ = thread.join();
        }
        return Err(refused);
    }
    let start = Instant::now();
    let mut all = Tally::default();
    for thread in threads {
        // A thread that panicked counts as one error: the rest of the run still counts.
        let tally = thread.join().unwrap_or_else(|_| Tally {
            errors: 1,
            first_error: Some("a load thread panicked".into()),
            ..Tally::default()
        });
        all.requests += tally.requests;
        all.bytes += tally.bytes;
        all.latencies.extend(tally.latencies);
        all.errors += tally.errors;
        if all.first_error.is_none() {
            all.first_error = tally.first_error;
        }
    }
    let elapsed = start.elapsed();
    all.latencies.sort_unstable();
    let percentile = |p: usize| {
        let n = all.latencies.len();
        let micros = if n == 0 {
            0
        } else {
            all.latencies[(n * p / 100).min(n - 1)]
        };
        Duration::from_micros(u64::from(micros))
    };
    Ok(Report {
        connections: options.connections,
        elapsed,
        requests: all.requests,
        bytes: all.bytes,
        p50: percentile(50),
        p99: percentile(99),
        errors: all.errors,
        first_error: all.first_error,
    })
}

/// One connection's loop: request, response, check, again, until a bound is reached.
fn connection(
    index: u64,
    options: &Options,
    gate: &Gate,
    abort: &AtomicBool,
    tickets: &AtomicU64,
) -> Tally {
    let mut tally = Tally::default();
    let mut stream = open(options);
    gate.wait();
    // After `gate.wait`, whose mutex orders the flag's store before this load: Relaxed would do.
    if abort.load(Ordering::SeqCst) {
        return tally;
    }
    let deadline = procs::deadline::from_now(options.duration());
    // A per-thread xorshift generator: the ids need to be spread, not unpredictable.
    let mut rng = 0x9e37_79b9_7f4a_7c15 ^ (index + 1).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    let mut request = Vec::with_capacity(128);
    let mut buf = vec![0u8; 64 * 1024];
    while Instant::now() < deadline {
        // Relaxed: the read-modify-write alone hands out each ticket once.
        let out_of_tickets = options
            .requests
            .is_some_and(|limit| tickets.fetch_add(1, Ordering::Relaxed) >= limit);
        if out_of_tickets {
            break;
        }
        let conn = match &mut stream {
            Ok(conn) => conn,
            Err(e) => {
                tally.error(format!("connect: {e}"));
                // Do not hammer a server that refuses: the error rate says enough.
                std::thread::sleep(Duration::from_millis(100));
                stream = open(options);
                continue;
            }
        };
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let id = rng % options.ids;
        request.clear();
        let _ = write!(
            request,
            "GET /wiki/{id} HTTP/1.1\r\nHost: {}\r\nUser-Agent: wiki-load\r\n\r\n",
            options.addr
        );
        let sent = Instant::now();
        match exchange(conn, &request, &mut buf, options.verify) {
            Ok((bytes, keep_alive)) => {
                let micros = sent.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
                tally.latencies.push(micros);
                tally.requests += 1;
                tally.bytes += bytes;
                if !keep_alive {
                    stream = open(options);
                }
            }
            Err(e) => {
                tally.error(format!("/wiki/{id}: {e}"));
                stream = open(options);
            }
        }
    }
    tally
}

fn open(options: &Options) -> std::io::Result<TcpStream> {
    let stream = TcpStream::connect_timeout(&options.addr, options.timeout)?;
    // Requests are small and each waits for its answer: send them at once (no Nagle).
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(options.timeout))?;
    stream.set_write_timeout(Some(options.timeout))?;
    Ok(stream)
}

/// Sends one request and reads its response; the bytes received and whether the
/// connection stays open, or what went wrong.
fn exchange(
    stream: &mut TcpStream,
    request: &[u8],
    buf: &mut [u8],
    check: bool,
) -> Result<(u64, bool), LoadError> {
    stream.write_all(request).map_err(LoadError::Write)?;
    let mut parser = ResponseParser::new(Method::Get, Limits::default());
    let mut received = 0u64;
    let response = loop {
        let n = match read_some(stream, buf) {
            Ok(0) => {
                // End of stream: fine only for a body delimited by the close.
                match parser.finish() {
                    Ok(Some(response)) => break response,
                    Ok(None) => return Err(LoadError::Closed),
                    Err(e) => return Err(e.into()),
                }
            }
            Ok(n) => n,
            Err(e) => return Err(LoadError::Read(e)),
        };
        received += n as u64;
        match parser.feed(&buf[..n]) {
            Ok(Parsed::NeedMore) => {}
            Ok(Parsed::Done { message, .. }) => break message,
            Err(e) => return Err(e.into()),
        }
    };
    if response.status != 200 {
        return Err(LoadError::Status(response.status));
    }
    if check {
        let sum = response.headers.get(CHECKSUM_HEADER).unwrap_or_default();
        if !verify(&response.body, sum) {
            return Err(LoadError::Checksum(sum.to_string()));
        }
    }
    Ok((received, response.keep_alive))
}
