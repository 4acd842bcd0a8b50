//! The tokio engines: `concurrency` tasks on one thread (`tokio`), or on a thread per
//! core with work stealing (`tokio-multi`).
//!
//! A fixed set of worker tasks, each taking the next target when it is free, bounds the
//! work in flight without a semaphore and without ever making one task per URL: a
//! million URLs are a million iterations of a few thousand loops, not a million tasks.

use std::sync::Arc;
use std::time::Instant;

use crate::engine::{Engine, EngineKind, Job};
use crate::error::{DownloadError, FetchError};
use crate::policy;
use crate::target::Target;
use crate::wire::Connections;

/// `tokio` (current-thread) or `tokio-multi`.
#[derive(Debug, Clone, Copy)]
pub struct TokioEngine {
    pub multi_thread: bool,
}

impl Engine for TokioEngine {
    fn name(&self) -> &'static str {
        if self.multi_thread {
            EngineKind::TokioMulti.name()
        } else {
            EngineKind::Tokio.name()
        }
    }

    // ANCHOR: run
    fn run(&self, job: Arc<Job>) -> Result<(), DownloadError> {
        let mut builder = if self.multi_thread {
            tokio::runtime::Builder::new_multi_thread()
        } else {
            tokio::runtime::Builder::new_current_thread()
        };
        let runtime = builder
            .enable_all()
            .build()
            .map_err(|source| DownloadError::Runtime {
                what: "tokio runtime",
                source,
            })?;
        runtime.block_on(async move {
            let mut workers = tokio::task::JoinSet::new();
            for _ in 0..job.options.concurrency.max(1) {
                workers.spawn(worker(job.clone()));
            }
            while workers.join_next().await.is_some() {}
        });
        Ok(())
    }
    // ANCHOR_END: run
}

// ANCHOR: worker
/// One worker: its own connections, targets one after another until none are left.
async fn worker(job: Arc<Job>) {
    let mut connections = Connections::new();
    while let Some(target) = job.feed.next(&job.collector) {
        fetch_one(&mut connections, &target, &job).await;
    }
}

/// One document, with its retries.
async fn fetch_one(connections: &mut Connections, target: &Target, job: &Job) {
    let started = Instant::now();
    let mut attempt = 0;
    loop {
        let answer = connections.fetch(&target.url, attempt, &job.options).await;
        let error = match answer.and_then(policy::check) {
            Ok(body) => return job.collector.document(target, &body, attempt + 1, started),
            Err(error) => error,
        };
        match policy::retry_delay(&job.options, &target.name, attempt + 1, &error) {
            Some(_) if job.feed.is_stopped() => {
                return job
                    .collector
                    .failure(target, FetchError::Interrupted, attempt + 1);
            }
            Some(delay) => {
                job.collector.retry();
                tokio::time::sleep(delay).await;
                attempt += 1;
            }
            None => return job.collector.failure(target, error, attempt + 1),
        }
    }
}
// ANCHOR_END: worker
