//! The blocking engines: lesson 2's thread pool running lesson 3's blocking client
//! (`threads`), or that same client on the calling thread alone (`sequential`).
//!
//! A worker is a thread that waits in `read` while its request is out: simple, and
//! each waiting costs a whole thread — its stack, its kernel task, its share of the
//! scheduler's attention. That cost is what the race measures at 10,000.

use std::sync::Arc;
use std::time::Instant;

use sockets::client::{ClientConfig, ClientError, Connection};
use sockets::http::{Method, Response};
use sockets::url::{Scheme, Url};
use threads::ThreadPool;

use crate::decode::ACCEPT_ENCODING;
use crate::engine::{Engine, EngineKind, Job};
use crate::error::{DownloadError, FetchError};
use crate::policy::{self, Document};
use crate::redirect::{self, Hops};
use crate::target::Target;
use crate::wire::ATTEMPT_HEADER;

/// Most hosts a worker keeps a connection to at once.
const HOSTS_KEPT: usize = 4;

/// `concurrency` threads of lesson 2's pool, each running [`blocking_worker`].
#[derive(Debug, Clone, Copy)]
pub struct ThreadsEngine;

/// One worker on the calling thread: the baseline every other engine is measured by.
#[derive(Debug, Clone, Copy)]
pub struct SequentialEngine;

impl Engine for ThreadsEngine {
    fn name(&self) -> &'static str {
        EngineKind::Threads.name()
    }

    // ANCHOR: run
    fn run(&self, job: Arc<Job>) -> Result<(), DownloadError> {
        let workers = job.options.concurrency.max(1);
        let pool = ThreadPool::new(workers).map_err(|e| DownloadError::Runtime {
            what: "thread pool",
            source: std::io::Error::other(e.to_string()),
        })?;
        for _ in 0..workers {
            let job = job.clone();
            pool.execute(move || blocking_worker(&job))
                .map_err(|e| DownloadError::Runtime {
                    what: "thread pool",
                    source: std::io::Error::other(e.to_string()),
                })?;
        }
        // Waits for every worker to finish its last document. A worker's own panics are
        // caught per document; one that still escaped is reported, never passed over.
        for message in pool.shutdown().panicked {
            job.collector.worker_panicked(message);
        }
        Ok(())
    }
    // ANCHOR_END: run
}

impl Engine for SequentialEngine {
    fn name(&self) -> &'static str {
        EngineKind::Sequential.name()
    }

    fn run(&self, job: Arc<Job>) -> Result<(), DownloadError> {
        // The worker's own panics are caught per document; one that still escaped is
        // reported, as the pool reports its workers'.
        let worker = std::panic::AssertUnwindSafe(|| blocking_worker(&job));
        if let Err(payload) = std::panic::catch_unwind(worker) {
            job.collector
                .worker_panicked(threads::error::panic_message(payload.as_ref()));
        }
        Ok(())
    }
}

// ANCHOR: worker
/// One worker: targets one after another, with a kept connection per host.
pub fn blocking_worker(job: &Job) {
    // Each kept connection with the URL whose host and port it goes to.
    let mut connections: Vec<(Url, Connection)> = Vec::new();
    while let Some(target) = job.feed.next(&job.collector) {
        // A panic while fetching fails this document (and the run), not the worker.
        let attempts = std::cell::Cell::new(0);
        let one =
            std::panic::AssertUnwindSafe(|| one_target(&mut connections, &target, job, &attempts));
        if let Err(payload) = std::panic::catch_unwind(one) {
            connections.clear(); // a connection in the middle of an exchange is lost
            let message = threads::error::panic_message(payload.as_ref());
            job.collector.panicked(&target, message, attempts.get() + 1);
        }
    }
}

/// One target with its retries; `attempts` counts the attempts made so far.
fn one_target(
    connections: &mut Vec<(Url, Connection)>,
    target: &Target,
    job: &Job,
    attempts: &std::cell::Cell<u32>,
) {
    let started = Instant::now();
    let mut attempt = 0;
    loop {
        attempts.set(attempt);
        // A permit of the host from the connect to the end of the response.
        let answer = attempt_at(connections, &target.url, attempt, job);
        let (answer, landed) = match answer {
            Ok(response) if redirect::is_redirect(response.status) => {
                match follow(connections, target, response, attempt, job) {
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
        match policy::retry_delay(&job.options, target.name(), attempt + 1, &error) {
            Some(_) if job.feed.is_stopped() => {
                return job
                    .collector
                    .failure(target, FetchError::Interrupted, attempt + 1);
            }
            Some(delay) => {
                job.collector.retry();
                std::thread::sleep(delay);
                attempt += 1;
            }
            None => return job.collector.failure(target, error, attempt + 1),
        }
    }
}
// ANCHOR_END: worker

/// One attempt at `url`, with a permit of its host from the connect to the end of the
/// response.
fn attempt_at(
    connections: &mut Vec<(Url, Connection)>,
    url: &Url,
    attempt: u32,
    job: &Job,
) -> Result<Response, FetchError> {
    let permit = job.gate.enter_blocking(url);
    let answer = fetch(connections, url, attempt, job);
    if answer.is_ok() {
        permit.answered();
    }
    answer
}

/// Follows the redirect `response` (to `target`'s URL), hop after hop; returns the
/// first answer that is not a redirect, and the URL it came from.
fn follow(
    connections: &mut Vec<(Url, Connection)>,
    target: &Target,
    mut response: Response,
    attempt: u32,
    job: &Job,
) -> Result<(Response, Url), FetchError> {
    let mut hops = Hops::new();
    let mut at = target.url.clone();
    loop {
        let next = hops.next(&target.url, &at, &response, job.options.max_redirects)?;
        response = attempt_at(connections, &next, attempt, job)?;
        at = next;
        if !redirect::is_redirect(response.status) {
            return Ok((response, at));
        }
    }
}

/// One attempt with the worker's connection to `url`'s host (opened if need be).
fn fetch(
    connections: &mut Vec<(Url, Connection)>,
    url: &Url,
    attempt: u32,
    job: &Job,
) -> Result<Response, FetchError> {
    // This engine writes every byte itself, and TLS is not among them.
    if url.scheme == Scheme::Https {
        return Err(FetchError::NoTls);
    }
    let at = match connections
        .iter()
        .position(|(h, _)| h.host == url.host && h.port == url.port)
    {
        Some(at) => at,
        None => {
            let config = ClientConfig {
                connect_timeout: job.options.connect_timeout,
                io_timeout: job.options.timeout,
                exchange_timeout: Some(job.options.timeout),
                user_agent: job.options.user_agent.clone(),
                limits: job.options.limits,
            };
            let connection = Connection::open(url, config).map_err(from_client)?;
            if connections.len() >= HOSTS_KEPT {
                connections.remove(0);
            }
            connections.push((url.clone(), connection));
            connections.len() - 1
        }
    };
    let attempt_text = attempt.to_string();
    let mut extra: Vec<(&str, &str)> = Vec::with_capacity(job.options.headers.len() + 2);
    // A user's own -H "Accept-Encoding: ..." replaces the downloader's.
    if job.options.compress
        && !job
            .options
            .headers
            .iter()
            .any(|h| h.name.eq_ignore_ascii_case("Accept-Encoding"))
    {
        extra.push(("Accept-Encoding", ACCEPT_ENCODING));
    }
    extra.extend(
        job.options
            .headers
            .iter()
            .map(|h| (h.name.as_str(), h.value.as_str())),
    );
    if attempt > 0 {
        extra.push((ATTEMPT_HEADER, attempt_text.as_str()));
    }
    connections[at]
        .1
        .request_with(Method::Get, &url.path, &extra)
        .map_err(from_client)
}

/// Lesson 3's client errors, in the downloader's terms.
fn from_client(error: ClientError) -> FetchError {
    match error {
        ClientError::Url(e) => FetchError::BadUrl(e.to_string()),
        ClientError::Resolve { host, source } => FetchError::Resolve {
            host,
            reason: source.to_string(),
        },
        ClientError::Connect { addr, source } => FetchError::Connect {
            addr: addr.to_string(),
            reason: source.to_string(),
        },
        ClientError::Timeout { doing, timeout, .. } => FetchError::Timeout {
            doing,
            after: timeout,
        },
        ClientError::Io { doing, source, .. } => FetchError::io(doing, &source),
        ClientError::ClosedBeforeResponse { .. } => FetchError::Closed,
        ClientError::Http { source, .. } => FetchError::Http(source),
    }
}

/// The document in `response`, decoded to at most the size limit, or why it is not one.
fn check(response: Response, job: &Job) -> Result<Document, FetchError> {
    policy::check(response, job.options.limits.max_body_bytes)
}
