//! Many documents, one thread: an `async fn` download on this executor.
//!
//! The same work as step 5's `Download` task — connect, send `GET`, feed the bytes to
//! lesson 3's codec until a response is complete, check it — but written as straight-line
//! code: each `.await` is a place where the task may be parked and the thread go on with
//! others. The compiler turns each `async fn` into a state machine much like the one step
//! 4 wrote by hand; its states are the `.await` points.
//!
//! Concurrency comes from tasks, not threads: `concurrency` worker tasks, each with one
//! keep-alive connection, take document ids from a shared counter until none are left.
//! The counter needs no lock and no atomic: every task runs on this one thread, and a
//! task is never interrupted between two `.await`s.
//!
//! Every wait has a time limit ([`timeout`]): a connection that stalls costs its worker
//! the time limit and one failed document, never the whole download.

use std::cell::Cell;
use std::io::{self, ErrorKind};
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use sockets::http::{Limits, Method, Parsed, Response, ResponseParser};

use super::executor::{JoinHandle, spawn};
use super::net::TcpStream;
use super::time::timeout;
use crate::step5_scheduler::fetch::{FetchError, check, end_of_stream, write_get};

/// How a [`download_with`] runs.
#[derive(Debug, Clone)]
pub struct DownloadConfig {
    /// Worker tasks, hence open connections, at once. Default 64.
    pub concurrency: usize,
    /// Longest wait for a TCP handshake. Default 5 s.
    pub connect_timeout: Duration,
    /// Longest wait for one request to be sent and its whole response received.
    /// Default 10 s.
    pub exchange_timeout: Duration,
    /// The codec's limits on a response.
    pub limits: Limits,
}

impl Default for DownloadConfig {
    fn default() -> DownloadConfig {
        DownloadConfig {
            concurrency: 64,
            connect_timeout: Duration::from_secs(5),
            exchange_timeout: Duration::from_secs(10),
            limits: Limits::default(),
        }
    }
}

/// What a download did.
#[derive(Debug, Default)]
pub struct DownloadReport {
    /// Documents received whole, status 200, checksum verified.
    pub ok: u64,
    /// Documents that could not be fetched (each one in `failures`).
    pub failed: u64,
    /// Body bytes of the documents received.
    pub bytes: u64,
    /// TCP connections opened (the workers, plus reconnections).
    pub connections: u64,
    /// From the start to the last worker's end.
    pub wall: Duration,
    /// Each failed document and why.
    pub failures: Vec<(u64, FetchError)>,
}

impl DownloadReport {
    /// Documents received per second of wall time.
    pub fn docs_per_sec(&self) -> f64 {
        let secs = self.wall.as_secs_f64();
        if secs > 0.0 {
            self.ok as f64 / secs
        } else {
            0.0
        }
    }

    fn merge(&mut self, tally: DownloadReport) {
        self.ok += tally.ok;
        self.failed += tally.failed;
        self.bytes += tally.bytes;
        self.connections += tally.connections;
        self.failures.extend(tally.failures);
    }
}

/// What the workers share: the job, and the counter they take ids from.
#[derive(Debug)]
struct Work {
    addr: SocketAddr,
    ids: Vec<u64>,
    next: Cell<usize>,
    config: DownloadConfig,
}

impl Work {
    /// The next id to fetch, `None` when all are taken.
    fn next_id(&self) -> Option<u64> {
        let i = self.next.get();
        let id = *self.ids.get(i)?;
        self.next.set(i + 1);
        Some(id)
    }
}

// ANCHOR: download
/// Fetches documents `ids` from the corpus server at `addr` with `concurrency` worker
/// tasks (connections), verifying each one's checksum.
pub async fn download(addr: SocketAddr, ids: Vec<u64>, concurrency: usize) -> DownloadReport {
    let config = DownloadConfig {
        concurrency,
        ..DownloadConfig::default()
    };
    download_with(addr, ids, config).await
}

/// [`download`] with every setting.
pub async fn download_with(
    addr: SocketAddr,
    ids: Vec<u64>,
    config: DownloadConfig,
) -> DownloadReport {
    let start = Instant::now();
    let workers = config.concurrency.clamp(1, ids.len().max(1));
    let work = Rc::new(Work {
        addr,
        ids,
        next: Cell::new(0),
        config,
    });
    let mut handles = AbortOnDrop((0..workers).map(|_| spawn(worker(work.clone()))).collect());
    let mut report = DownloadReport::default();
    for handle in &mut handles.0 {
        // Aborted only when the executor itself goes away: nothing to count then.
        if let Ok(tally) = handle.await {
            report.merge(tally);
        }
    }
    report.wall = start.elapsed();
    report
}
// ANCHOR_END: download

/// The workers' handles. If the download is dropped before its end (a `timeout` around
/// it, say), its workers must stop too, not run on detached: dropping this aborts them.
struct AbortOnDrop(Vec<JoinHandle<DownloadReport>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        for handle in &self.0 {
            handle.abort();
        }
    }
}

// ANCHOR: worker
/// One worker: one connection, documents one after another until none are left.
async fn worker(work: Rc<Work>) -> DownloadReport {
    let mut tally = DownloadReport::default();
    let mut connection = Connection::new();
    while let Some(id) = work.next_id() {
        match connection.fetch(&work, id).await {
            Ok(len) => {
                tally.ok += 1;
                tally.bytes += len as u64;
            }
            Err(error) => {
                // Whatever went wrong, the stream's state is unknown: start afresh.
                connection.stream = None;
                tally.failed += 1;
                tally.failures.push((id, error));
            }
        }
    }
    tally.connections = connection.opened;
    tally
}
// ANCHOR_END: worker

/// A keep-alive connection, reopened when the server closes it.
struct Connection {
    stream: Option<TcpStream>,
    /// Bytes from the socket; a document (at most 16 KiB) fits in one or two reads.
    buf: Vec<u8>,
    request: Vec<u8>,
    opened: u64,
}

impl Connection {
    fn new() -> Connection {
        Connection {
            stream: None,
            buf: vec![0; 32 * 1024],
            request: Vec::with_capacity(256),
            opened: 0,
        }
    }

    /// Fetches and checks document `id`; returns its length.
    async fn fetch(&mut self, work: &Work, id: u64) -> Result<usize, FetchError> {
        let reused = self.stream.is_some();
        let response = match self.exchange(work, id).await {
            // A kept-alive connection may have been closed by the server while idle:
            // once more on a new one (GET changes nothing on the server).
            Err(FetchError::Closed) if reused => {
                self.stream = None;
                self.exchange(work, id).await
            }
            other => other,
        }?;
        if !response.keep_alive {
            self.stream = None;
        }
        check(id, &response)
    }

    /// Sends the request for `id` and reads the response, within the time limit,
    /// connecting first if need be.
    async fn exchange(&mut self, work: &Work, id: u64) -> Result<Response, FetchError> {
        let stream = match &mut self.stream {
            Some(stream) => stream,
            None => {
                self.opened += 1;
                self.stream.insert(connect(work).await?)
            }
        };
        self.request.clear();
        write_get(work.addr, id, &mut self.request);
        let limit = work.config.exchange_timeout;
        let parser = ResponseParser::new(Method::Get, work.config.limits);
        let exchange = send_and_receive(stream, &self.request, &mut self.buf, parser);
        timeout(limit, exchange)
            .await
            .unwrap_or(Err(FetchError::Timeout {
                doing: "waiting for the response",
                after: limit,
            }))
    }
}

async fn connect(work: &Work) -> Result<TcpStream, FetchError> {
    let (addr, limit) = (work.addr, work.config.connect_timeout);
    match timeout(limit, TcpStream::connect(addr)).await {
        Ok(Ok(stream)) => Ok(stream),
        Ok(Err(source)) => Err(FetchError::Connect { addr, source }),
        Err(_) => Err(FetchError::Timeout {
            doing: "connecting",
            after: limit,
        }),
    }
}

// ANCHOR: send_and_receive
/// One exchange on an open connection: the request out, bytes in until the codec has
/// a whole response. The loop ends: each turn either completes the response, fails, or
/// adds bytes that the codec's limits bound (and the caller's timeout bounds the time).
/// The caller gives the parser, with its limits. Lesson 5's event-loop engine drives
/// its requests through this same function.
pub async fn send_and_receive(
    stream: &mut TcpStream,
    request: &[u8],
    buf: &mut [u8],
    mut parser: ResponseParser,
) -> Result<Response, FetchError> {
    stream
        .write_all(request)
        .await
        .map_err(|e| io_error("writing the request", e))?;
    loop {
        let n = stream
            .read(buf)
            .await
            .map_err(|e| io_error("reading the response", e))?;
        if n == 0 {
            return end_of_stream(&mut parser);
        }
        if let Parsed::Done { message, .. } = parser.feed(&buf[..n])? {
            return Ok(message);
        }
    }
}
// ANCHOR_END: send_and_receive

/// A reset or a broken pipe means the server closed the connection: for a reused one,
/// worth one more try on a new connection.
fn io_error(doing: &'static str, source: io::Error) -> FetchError {
    match source.kind() {
        ErrorKind::BrokenPipe | ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted => {
            FetchError::Closed
        }
        _ => FetchError::Io { doing, source },
    }
}
