//! The hand-made engine: lesson 4's executor and reactor, one thread, one epoll.
//!
//! The worker is the same loop as the tokio engine's, written against lesson 4's
//! `spawn`, `TcpStream`, `timeout` and `sleep`, and the exchange itself is lesson 4's
//! [`send_and_receive`]. Two things it lacks compared with tokio, both visible in the
//! race: its `TcpStream` reads only into a buffer the task holds across the wait (so
//! each waiting connection keeps a 16 KiB buffer), and it has no resolver (a host name
//! is resolved by a blocking call, fine for addresses, which need no lookup).

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Instant;

use event_loop::step5_scheduler::FetchError as LoopError;
use event_loop::step7_executor::{TcpStream, block_on, send_and_receive, sleep, spawn, timeout};
use sockets::http::{Response, ResponseParser};
use sockets::url::{Scheme, Url};

use crate::engine::{CatchUnwind, Engine, EngineKind, Job, Panicked};
use crate::error::{DownloadError, FetchError};
use crate::policy::{self, Document};
use crate::redirect::{self, Hops};
use crate::target::Target;
use crate::wire::{self, get_request};

/// The read buffer each worker holds (a corpus document is at most 16 KiB).
const BUF_BYTES: usize = 16 * 1024;

/// `concurrency` tasks on lesson 4's executor.
#[derive(Debug, Clone, Copy)]
pub struct EventLoopEngine;

impl Engine for EventLoopEngine {
    fn name(&self) -> &'static str {
        EngineKind::EventLoop.name()
    }

    // ANCHOR: run
    fn run(&self, job: Arc<Job>) -> Result<(), DownloadError> {
        block_on(async move {
            // Panics are caught per document in the workers; one that escaped a worker
            // ends it, and is reported, never passed over.
            let workers: Vec<_> = (0..job.options.concurrency.max(1))
                .map(|_| {
                    let job = job.clone();
                    spawn(async move {
                        if let Err(Panicked(message)) = CatchUnwind::new(worker(job.clone())).await
                        {
                            job.collector.worker_panicked(message);
                        }
                    })
                })
                .collect();
            for handle in workers {
                let _ = handle.await;
            }
        })
        .map_err(|e| DownloadError::Runtime {
            what: "event loop",
            source: std::io::Error::other(e.to_string()),
        })
    }
    // ANCHOR_END: run
}

/// The host a worker last kept a connection to, and that connection while it is not in
/// use. The entry outlives its connection, so that the next one to the same host costs
/// no allocation.
struct Kept {
    host: String,
    port: u16,
    stream: Option<TcpStream>,
}

impl Kept {
    fn is_for(&self, url: &Url) -> bool {
        self.port == url.port && self.host == url.host
    }
}

async fn worker(job: Arc<Job>) {
    let mut kept: Option<Kept> = None;
    let mut buf = vec![0; BUF_BYTES];
    let mut request = Vec::with_capacity(256);
    while let Some(target) = job.feed.next(&job.collector) {
        // A panic while fetching fails this document (and the run), not the worker.
        let one = one_target(&mut kept, &mut buf, &mut request, &target, &job);
        if let Err(Panicked(message)) = CatchUnwind::new(one).await {
            kept = None; // it may be in the middle of an exchange
            job.collector.panicked(&target, message, 1);
        }
    }
}

/// One target with its retries.
async fn one_target(
    kept: &mut Option<Kept>,
    buf: &mut [u8],
    request: &mut Vec<u8>,
    target: &Target,
    job: &Job,
) {
    let started = Instant::now();
    let mut attempt = 0;
    loop {
        let answer = attempt_at(kept, buf, request, &target.url, attempt, job).await;
        let (answer, landed) = match answer {
            Ok(response) if redirect::is_redirect(response.status) => {
                let hops = follow(kept, buf, request, target, response, attempt, job);
                match Box::pin(hops).await {
                    Ok((response, landed)) => (Ok(response), Some(landed)),
                    Err(error) => (Err(error), None),
                }
            }
            answer => (answer, None),
        };
        let error = match answer.and_then(|r| check(r, job)) {
            Ok(body) => {
                let landed = landed.as_ref();
                return job
                    .collector
                    .document(target, &body, attempt + 1, started, landed);
            }
            Err(error) => error,
        };
        drop(landed);
        match policy::retry_delay(&job.options, target.name(), attempt + 1, &error) {
            Some(_) if job.feed.is_stopped() => {
                return job
                    .collector
                    .failure(target, FetchError::Interrupted, attempt + 1);
            }
            Some(delay) => {
                job.collector.retry();
                sleep(delay).await;
                attempt += 1;
            }
            None => return job.collector.failure(target, error, attempt + 1),
        }
    }
}

/// One attempt at `url`, with a permit of its host from the connect to the end of the
/// response.
async fn attempt_at(
    kept: &mut Option<Kept>,
    buf: &mut [u8],
    request: &mut Vec<u8>,
    url: &Url,
    attempt: u32,
    job: &Job,
) -> Result<Response, FetchError> {
    get_request(url, attempt, &job.options, request);
    let permit = job.gate.enter(url).await;
    let answer = fetch(kept, url, request, buf, job).await;
    if answer.is_ok() {
        permit.answered();
    }
    answer
}

/// Follows the redirect `response` (to `target`'s URL), hop after hop; returns the
/// first answer that is not a redirect, and the URL it came from.
async fn follow(
    kept: &mut Option<Kept>,
    buf: &mut [u8],
    request: &mut Vec<u8>,
    target: &Target,
    mut response: Response,
    attempt: u32,
    job: &Job,
) -> Result<(Response, Url), FetchError> {
    let mut hops = Hops::new();
    let mut at = target.url.clone();
    loop {
        let next = hops.next(&target.url, &at, &response, job.options.max_redirects)?;
        response = attempt_at(kept, buf, request, &next, attempt, job).await?;
        at = next;
        if !redirect::is_redirect(response.status) {
            return Ok((response, at));
        }
    }
}

/// One attempt on the kept connection if it goes to `url`'s host (once more on a new
/// one if the server had closed it), or on a new one.
async fn fetch(
    kept: &mut Option<Kept>,
    url: &Url,
    request: &[u8],
    buf: &mut [u8],
    job: &Job,
) -> Result<Response, FetchError> {
    // This engine writes every byte itself, and TLS is not among them.
    if url.scheme == Scheme::Https {
        return Err(FetchError::NoTls);
    }
    // A connection to another host is closed (dropped) here.
    if kept.as_ref().is_some_and(|k| !k.is_for(url)) {
        *kept = None;
    }
    let reusable = kept.as_mut().and_then(|k| k.stream.take());
    let reused = reusable.is_some();
    let mut stream = match reusable {
        Some(stream) => stream,
        None => connect(url, job).await?,
    };
    let limit = job.options.timeout;
    let mut answer = timeout(
        limit,
        send_and_receive(&mut stream, request, buf, parser(job)),
    )
    .await;
    if reused && matches!(answer, Ok(Err(LoopError::Closed))) {
        stream = connect(url, job).await?;
        answer = timeout(
            limit,
            send_and_receive(&mut stream, request, buf, parser(job)),
        )
        .await;
    }
    let response = match answer {
        Ok(Ok(response)) => response,
        Ok(Err(error)) => return Err(from_loop(error)),
        Err(_) => {
            return Err(FetchError::Timeout {
                doing: "waiting for the response",
                after: limit,
            });
        }
    };
    if response.keep_alive {
        match kept {
            Some(kept) => kept.stream = Some(stream),
            None => {
                *kept = Some(Kept {
                    host: url.host.clone(),
                    port: url.port,
                    stream: Some(stream),
                });
            }
        }
    }
    Ok(response)
}

async fn connect(url: &Url, job: &Job) -> Result<TcpStream, FetchError> {
    let addr = resolve(url)?;
    let limit = job.options.connect_timeout;
    match timeout(limit, TcpStream::connect(addr)).await {
        Ok(Ok(stream)) => Ok(stream),
        Ok(Err(e)) => Err(FetchError::Connect {
            addr: addr.to_string(),
            reason: e.to_string(),
        }),
        Err(_) => Err(FetchError::Timeout {
            doing: "connecting",
            after: limit,
        }),
    }
}

/// The first address of the host (no lookup for an address; a blocking one for a name).
fn resolve(url: &Url) -> Result<SocketAddr, FetchError> {
    let fail = |reason: String| FetchError::Resolve {
        host: url.host.clone(),
        reason,
    };
    (url.host.as_str(), url.port)
        .to_socket_addrs()
        .map_err(|e| fail(e.to_string()))?
        .next()
        .ok_or_else(|| fail("no address".to_string()))
}

/// Lesson 4's fetch errors, in the downloader's terms.
fn from_loop(error: LoopError) -> FetchError {
    match error {
        LoopError::Connect { addr, source } => FetchError::Connect {
            addr: addr.to_string(),
            reason: source.to_string(),
        },
        LoopError::Io { doing, source } => FetchError::io(doing, &source),
        LoopError::Timeout { doing, after } => FetchError::Timeout { doing, after },
        LoopError::Closed => FetchError::Closed,
        LoopError::Http(e) => FetchError::Http(e),
        LoopError::Status { status, .. } => FetchError::Status {
            status,
            retry_after: None,
        },
        other => FetchError::Io {
            doing: "checking the response",
            reason: other.to_string(),
        },
    }
}

/// The codec for one exchange: as the tokio engines', it drops the bodies no check
/// needs when the run keeps no document.
fn parser(job: &Job) -> ResponseParser {
    wire::response_parser(job.options.limits, job.collector.keeps_documents())
}

/// The document in `response`, decoded to at most the size limit, or why it is not one.
fn check(response: Response, job: &Job) -> Result<Document, FetchError> {
    policy::check(response, job.options.limits.max_body_bytes)
}
