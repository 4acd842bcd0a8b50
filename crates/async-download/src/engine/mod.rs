//! The same download, run five ways, behind one trait.
//!
//! Every engine does the same work: take targets from the [`Feed`] with `concurrency`
//! workers, fetch each one (retrying what [`policy`](crate::policy) says to retry, after
//! the delay it says), and hand the outcome to the [`Collector`]. What differs is only
//! the machinery that lets many fetches wait at once — the course's five answers:
//!
//! | engine           | a worker is...                    | waiting is done by                 |
//! |------------------|-----------------------------------|------------------------------------|
//! | `sequential`     | the calling thread, alone         | the kernel, one socket at a time   |
//! | `threads`        | a thread of lesson 2's pool       | the kernel, a blocked thread each  |
//! | `event-loop`     | a task on lesson 4's executor     | one epoll on one thread            |
//! | `tokio`          | a tokio task, one thread          | tokio's reactor (epoll)            |
//! | `tokio-multi`    | a tokio task, a thread per core   | tokio's reactor, work stealing     |
//!
//! So the race in [`crate::race`] compares machinery, not algorithms.

mod event_loop;
mod threads;
mod tokio;

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::collect::{Collector, Report};
use crate::error::DownloadError;
use crate::feed::Feed;
use crate::options::Options;
use crate::polite::HostGate;
use crate::progress::Progress;
use crate::target::Target;

pub use self::event_loop::EventLoopEngine;
pub use self::threads::{SequentialEngine, ThreadsEngine};
pub use self::tokio::{TokioEngine, fetch_future_bytes, worker_future_bytes};

/// Everything a run shares between its workers.
#[derive(Debug)]
pub struct Job {
    pub feed: Feed,
    pub collector: Collector,
    pub options: Options,
    /// The per-host limits (`options.per_host`): one permit per attempt.
    pub gate: HostGate,
}

// ANCHOR: catch_unwind
/// A future that turns a panic inside `F` into `Err(message)`, so that a bug in one
/// document's code fails that document, and the run with it, loudly: a panic that went
/// unseen in a worker would end the worker, and the run could finish "successfully"
/// without the documents it held. (Boxed, so this wrapper is `Unpin` without `unsafe`.)
pub struct CatchUnwind<F>(Pin<Box<F>>);

impl<F: Future> CatchUnwind<F> {
    pub fn new(future: F) -> Self {
        CatchUnwind(Box::pin(future))
    }
}

/// A panic caught by [`CatchUnwind`]: its message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("panicked: {0}")]
pub struct Panicked(pub String);

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, Panicked>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = &mut self.get_mut().0;
        // AssertUnwindSafe: after a panic the future is never polled again, so no
        // half-updated state of it is ever seen.
        match std::panic::catch_unwind(AssertUnwindSafe(|| inner.as_mut().poll(cx))) {
            Ok(poll) => poll.map(Ok),
            Err(payload) => Poll::Ready(Err(Panicked(::threads::error::panic_message(
                payload.as_ref(),
            )))),
        }
    }
}
// ANCHOR_END: catch_unwind

impl<F> std::fmt::Debug for CatchUnwind<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CatchUnwind")
    }
}

// ANCHOR: engine
/// A way to run many downloads at once.
pub trait Engine {
    /// Its name on the command line (`--engine`).
    fn name(&self) -> &'static str;

    /// Fetches every target of `job.feed` with `job.options.concurrency` workers,
    /// handing each outcome to `job.collector`; returns when all workers are done.
    fn run(&self, job: Arc<Job>) -> Result<(), DownloadError>;
}
// ANCHOR_END: engine

/// The engines, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum EngineKind {
    Sequential,
    Threads,
    EventLoop,
    Tokio,
    TokioMulti,
}

impl EngineKind {
    pub const ALL: [EngineKind; 5] = [
        EngineKind::Sequential,
        EngineKind::Threads,
        EngineKind::EventLoop,
        EngineKind::Tokio,
        EngineKind::TokioMulti,
    ];

    /// The engine's name on the command line (`--engine`) and in reports.
    pub fn name(self) -> &'static str {
        match self {
            EngineKind::Sequential => "sequential",
            EngineKind::Threads => "threads",
            EngineKind::EventLoop => "event-loop",
            EngineKind::Tokio => "tokio",
            EngineKind::TokioMulti => "tokio-multi",
        }
    }

    pub fn parse(text: &str) -> Option<EngineKind> {
        EngineKind::ALL.into_iter().find(|kind| kind.name() == text)
    }

    pub fn engine(self) -> Box<dyn Engine> {
        match self {
            EngineKind::Sequential => Box::new(SequentialEngine),
            EngineKind::Threads => Box::new(ThreadsEngine),
            EngineKind::EventLoop => Box::new(EventLoopEngine),
            EngineKind::Tokio => Box::new(TokioEngine {
                multi_thread: false,
            }),
            EngineKind::TokioMulti => Box::new(TokioEngine { multi_thread: true }),
        }
    }

    /// How many workers this engine really runs for a wish of `concurrency`: the
    /// sequential engine has one, whatever is asked.
    pub fn workers(self, concurrency: usize) -> usize {
        match self {
            EngineKind::Sequential => 1,
            _ => concurrency.max(1),
        }
    }
}

/// Runs `job` on `kind` and returns the report.
pub fn run(kind: EngineKind, job: Arc<Job>) -> Result<Report, DownloadError> {
    kind.engine().run(job.clone())?;
    if job.feed.is_stopped() {
        job.collector.interrupt();
    }
    let workers = kind.workers(job.options.concurrency);
    let report = job.collector.report(kind.name(), workers);
    if let Some(store) = job.collector.store() {
        store.finish()?;
    }
    if let Some(source) = job.feed.take_input_error() {
        return Err(DownloadError::Input {
            what: "input".to_string(),
            source,
        });
    }
    Ok(report)
}

// ANCHOR: download_all
/// Downloads `targets` on tokio (multi-thread) with `options`, without a progress
/// display, and reports. With `options.out`, documents are saved there and a run that
/// was killed resumes where it stopped.
pub fn download_all(
    targets: impl Iterator<Item = Target> + Send + 'static,
    options: Options,
) -> Result<Report, DownloadError> {
    download_with(EngineKind::TokioMulti, Feed::of_targets(targets), options)
}
// ANCHOR_END: download_all

/// Downloads what `feed` gives on `kind`, without a progress display.
pub fn download_with(
    kind: EngineKind,
    feed: Feed,
    options: Options,
) -> Result<Report, DownloadError> {
    let store = match &options.out {
        Some(dir) => Some(crate::store::Store::open(dir)?),
        None => None,
    };
    let options = Options {
        concurrency: kind.workers(options.concurrency),
        ..options
    };
    let job = Arc::new(Job {
        feed,
        collector: Collector::new(store, Progress::hidden()),
        gate: HostGate::new(options.per_host),
        options,
    });
    run(kind, job)
}

/// Documents `0..n` of the corpus server at `addr`, on `kind`.
pub fn download_corpus(
    kind: EngineKind,
    addr: std::net::SocketAddr,
    n: u64,
    options: Options,
) -> Result<Report, DownloadError> {
    let feed = Feed::new(Box::new(crate::target::corpus(addr, n).map(Ok)));
    download_with(kind, feed, options)
}
