//! The tokio engines: `concurrency` tasks on one thread (`tokio`), or on a thread per
//! core with work stealing (`tokio-multi`).
//!
//! A fixed set of worker tasks, each taking the next target when it is free, bounds the
//! work in flight without a semaphore and without ever making one task per URL: a
//! million URLs are a million iterations of a few thousand loops, not a million tasks.

use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Instant;

use crate::engine::{CatchUnwind, Engine, EngineKind, Job, Panicked};
use crate::error::{DownloadError, FetchError};
use crate::part::Part;
use crate::policy::{self, Document};
use crate::redirect::{self, Hops};
use crate::target::Target;
use crate::wire::Connections;
use sockets::http::Response;
use sockets::url::Url;

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
            // Panics are caught per document in the workers; one that escaped a worker
            // ends it, and is reported, never passed over.
            while let Some(ended) = workers.join_next().await {
                if let Err(error) = ended {
                    job.collector.worker_panicked(error.to_string());
                }
            }
        });
        Ok(())
    }
    // ANCHOR_END: run
}

// ANCHOR: task_bytes
/// The size of one worker's future: what tokio allocates for each task, the same for a
/// waiting task and a busy one. A future is as large as the most it must keep across
/// any one `.await` on any path, so one rare path kept inline makes every task larger.
pub fn worker_future_bytes() -> usize {
    fn future_of<A, F>(_: fn(A) -> F) -> usize {
        std::mem::size_of::<F>()
    }
    future_of(worker)
}

/// The size of one document's fetch, retries and redirects included: the worker boxes
/// it (see [`CatchUnwind`]), so this is allocated once per document and held only while
/// the document is in flight.
pub fn fetch_future_bytes() -> usize {
    fn future_of<A, B, C, F>(_: fn(A, B, C) -> F) -> usize {
        std::mem::size_of::<F>()
    }
    future_of(fetch_one)
}
// ANCHOR_END: task_bytes

/// One worker: its own connections, targets one after another until none are left.
/// (A plain `fn` that returns an `async` block, as `fetch_one` is: see the size of a
/// task in the chapter.)
#[allow(
    clippy::manual_async_fn,
    reason = "an `async fn` keeps its arguments twice in its future; an `async` block, once"
)]
// ANCHOR: worker
fn worker(job: Arc<Job>) -> impl Future<Output = ()> {
    async move {
        let mut connections = Connections::new(job.collector.keeps_documents());
        if job.options.pipeline > 1 {
            // A batch travels together: a panic in it is the worker's, not one target's.
            if let Err(Panicked(message)) =
                CatchUnwind::new(pipelined_worker(&mut connections, &job)).await
            {
                job.collector.worker_panicked(message);
            }
            return;
        }
        let mut saving = Saving::default();
        loop {
            // The target lives in this block: lent to the fetch, it keeps its room in
            // the task until its scope ends. `let else`, not `while let`, whose
            // Option would live until the end of the loop's body.
            let handed = {
                let Some(target) = job.feed.next(&job.collector) else {
                    break;
                };
                // A panic while fetching fails this document (and the run), not the
                // worker. No `.await` in the `match`: its answer lives until it ends.
                match CatchUnwind::new(fetch_one(&mut connections, &target, &job)).await {
                    Ok(Some(arrived)) => Some(Handed::new(&job, target, arrived)),
                    Ok(None) => None,
                    Err(Panicked(message)) => {
                        // One may be in the middle of an exchange.
                        connections = Connections::new(job.collector.keeps_documents());
                        job.collector.panicked(&target, message, 1);
                        None
                    }
                }
            };
            saving.then(handed).await;
        }
        saving.then(None).await;
    }
}
// ANCHOR_END: worker

/// A document that arrived whole and checked, for the collector to save (with `--out`,
/// or `-o`) and count. A run that saves nothing counts its documents as they arrive.
struct Arrived {
    document: Document,
    attempts: u32,
    started: Instant,
    landed: Option<Url>,
}

/// A document handed over for saving, with what saving it needs.
struct Handed {
    job: Arc<Job>,
    target: Target,
    arrived: Arrived,
}

impl Handed {
    /// Boxed: until it has a task, a worker's task keeps a pointer, not a document.
    fn new(job: &Arc<Job>, target: Target, arrived: Arrived) -> Box<Handed> {
        let job = Arc::clone(job);
        Box::new(Handed {
            job,
            target,
            arrived,
        })
    }
}

// ANCHOR: saving
/// A worker's saves: each document in a task of its own, which runs while the worker's
/// next request is on its way (saved between a response and the next request, the
/// server would wait idle for that request). One at a time per worker, so a worker
/// never holds more than two bodies.
#[derive(Default)]
struct Saving {
    /// The save in progress, if any.
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Saving {
    /// Waits for the save in progress to end, then gives `next`, if any, a task of
    /// its own. Written by hand, not as an `async fn`: the worker's task keeps only
    /// the two pointers while it waits, not a handle and the state of an `.await`.
    fn then(&mut self, mut next: Option<Box<Handed>>) -> impl Future<Output = ()> + '_ {
        std::future::poll_fn(move |cx| {
            if let Some(task) = &mut self.task {
                // The task catches its own panics (`settle_document`), and the
                // runtime outlives every worker: it always runs to its end.
                let _ = std::task::ready!(Pin::new(task).poll(cx));
                self.task = None;
            }
            if let Some(handed) = next.take() {
                self.task = Some(tokio::spawn(async move {
                    let Handed {
                        job,
                        target,
                        arrived,
                    } = *handed;
                    settle_document(&job, &target, arrived)
                }));
            }
            Poll::Ready(())
        })
    }
}
// ANCHOR_END: saving

/// Saves (with `--out`) and counts a document; a panic on the way fails the document,
/// as one while fetching does.
fn settle_document(job: &Job, target: &Target, arrived: Arrived) {
    let Arrived {
        document,
        attempts,
        started,
        landed,
    } = arrived;
    failing_on_panic(job, target, attempts, || {
        job.collector
            .document(target, &document, attempts, started, landed.as_ref())
    });
}

/// Runs `save`; a panic in it fails `target`'s document (a save runs in a task of its
/// own, where no worker would catch it).
fn failing_on_panic(job: &Job, target: &Target, attempts: u32, save: impl FnOnce()) {
    if let Err(payload) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(save)) {
        let message = ::threads::error::panic_message(payload.as_ref());
        job.collector.panicked(target, message, attempts);
    }
}

// ANCHOR: fetch_one
/// One document, with its retries. With `--out`, a big one goes to its part file as it
/// comes, and an earlier attempt's part is resumed (see [`crate::part`]).
#[allow(
    clippy::manual_async_fn,
    reason = "an `async fn` keeps its arguments twice in its future; an `async` block, once"
)]
fn fetch_one<'a>(
    connections: &'a mut Connections,
    target: &'a Target,
    job: &'a Job,
) -> impl Future<Output = Option<Arrived>> + 'a {
    // An `async` block, not an `async fn`: an `async fn` keeps its arguments twice in
    // its state (as given, and moved into its body).
    async move {
        let started = Instant::now();
        // Boxed: the task of a run without --out keeps room for a pointer only.
        let mut part = match part_for(target, job) {
            Ok(part) => part,
            Err(error) => {
                job.collector.failure(target, error, 1);
                return None;
            }
        };
        let answer = attempt_at(connections, &target.url, 0, job, part.as_deref_mut()).await;
        settle(
            connections,
            target,
            answer,
            started,
            job,
            part.as_deref_mut(),
        )
        .await
    }
}
// ANCHOR_END: fetch_one

/// One attempt, with a permit of the target's host held from the connect to the end
/// of the response (see [`crate::polite`]).
#[allow(
    clippy::manual_async_fn,
    reason = "an `async fn` keeps its arguments twice in its future; an `async` block, once"
)]
fn attempt_at<'a>(
    connections: &'a mut Connections,
    url: &'a Url,
    attempt: u32,
    job: &'a Job,
    part: Option<&'a mut Part<'_>>,
) -> impl Future<Output = Result<Response, FetchError>> + 'a {
    async move {
        let permit = job.gate.enter(url).await;
        let resent = connections.syns_resent;
        let answer = connections.fetch(url, attempt, &job.options, part).await;
        if connections.syns_resent > resent {
            permit.congested();
        } else if answer.is_ok() {
            permit.answered();
        }
        answer
    }
}

/// The part file of `target`'s document when it is saved somewhere (`--out`, `-o FILE`).
/// Boxed, and made outside the task's `async fn`: a task that saves nothing keeps room
/// for a pointer only (a value made in an `async fn` may be kept in its state).
fn part_for<'j>(target: &'j Target, job: &'j Job) -> Result<Option<Box<Part<'j>>>, FetchError> {
    let part = match (job.collector.store(), job.collector.output_file()) {
        (Some(store), _) => Part::open(store, target.name()),
        (None, Some(file)) => Part::for_file(file)?,
        (None, None) => return Ok(None),
    };
    Ok(Some(Box::new(part)))
}

// ANCHOR: settle_check
/// Records the answer to a target's first attempt, trying again while the policy
/// says it is worth it; a document that arrived whole and checked, and is to be saved,
/// is given back for that.
async fn settle(
    connections: &mut Connections,
    target: &Target,
    mut answer: Result<Response, FetchError>,
    started: Instant,
    job: &Job,
    mut part: Option<&mut Part<'_>>,
) -> Option<Arrived> {
    let mut attempt = 0;
    loop {
        let (checked, landed) = match answer {
            // Boxed: the rare path's state is not in every task.
            Ok(response) if redirect::is_redirect(response.status) => {
                let followed = {
                    let part = part.as_deref_mut();
                    Box::pin(follow(connections, target, response, attempt, job, part)).await
                };
                match followed {
                    Ok((response, landed)) => {
                        (whole(response, part.as_deref_mut(), job), Some(landed))
                    }
                    Err(error) => (Err(error), None),
                }
            }
            answer => (
                answer.and_then(|r| whole(r, part.as_deref_mut(), job)),
                None,
            ),
        };
        // ANCHOR_END: settle_check
        // ANCHOR: settle_done
        let error = match checked {
            Ok(Whole::Body(body)) => {
                if let Some(part) = part.as_deref_mut() {
                    // A part file an earlier attempt left, now of no use.
                    part.discard_if_any();
                }
                if !job.collector.keeps_documents() {
                    // Nothing to save: counted here and now.
                    let landed = landed.as_ref();
                    job.collector
                        .document(target, &body, attempt + 1, started, landed);
                    return None;
                }
                let attempts = attempt + 1;
                return Some(Arrived {
                    document: body,
                    attempts,
                    started,
                    landed,
                });
            }
            Ok(Whole::Saved(len)) => {
                let landed = landed.as_ref();
                job.collector
                    .document_saved(target, len, attempt + 1, started, landed);
                return None;
            }
            Err(error) => error,
        };
        // ANCHOR_END: settle_done
        // ANCHOR: settle_retry
        drop(landed);
        match policy::retry_delay(&job.options, target.name(), attempt + 1, &error) {
            Some(_) if job.feed.is_stopped() => {
                job.collector
                    .failure(target, FetchError::Interrupted, attempt + 1);
                return None;
            }
            Some(delay) => {
                job.collector.retry();
                attempt += 1;
                let part = part.as_deref_mut();
                answer = Box::pin(async {
                    tokio::time::sleep(delay).await;
                    attempt_at(connections, &target.url, attempt, job, part).await
                })
                .await;
            }
            None => {
                job.collector.failure(target, error, attempt + 1);
                return None;
            }
        }
    }
}
// ANCHOR_END: settle_retry

/// Follows the redirect `response` (to `target`'s URL), hop after hop, each hop an
/// exchange of its own with a permit of its host; returns the first answer that is not
/// a redirect, and the URL it came from.
async fn follow(
    connections: &mut Connections,
    target: &Target,
    mut response: Response,
    attempt: u32,
    job: &Job,
    mut part: Option<&mut Part<'_>>,
) -> Result<(Response, Url), FetchError> {
    let mut hops = Hops::new();
    let mut at = target.url.clone();
    loop {
        let next = hops.next(&target.url, &at, &response, job.options.max_redirects)?;
        response = attempt_at(connections, &next, attempt, job, part.as_deref_mut()).await?;
        at = next;
        if !redirect::is_redirect(response.status) {
            return Ok((response, at));
        }
    }
}

// ANCHOR: pipelined_batch
/// A worker with `--pipeline N`: up to N targets of one host taken at once, their
/// requests sent together, their responses read back in order. Fewer writes, reads,
/// wake-ups and packets per document: on loopback, where the kernel's work per
/// system call is most of a document's cost, that is most of the gain.
///
/// Only first attempts travel together. A response that asks for a retry, the request
/// whose response was cut off, and the requests after it (the server closed the
/// connection, or said it would) each go on alone, through [`fetch_one`]'s path.
async fn pipelined_worker(connections: &mut Connections, job: &Job) {
    let depth = job.options.pipeline;
    let mut batch: Vec<Target> = Vec::with_capacity(depth);
    let mut answered = Vec::with_capacity(depth);
    // A target of another host than the batch's: it starts the next batch.
    let mut next: Option<Target> = None;
    loop {
        batch.clear();
        match next.take().or_else(|| job.feed.next(&job.collector)) {
            Some(target) => batch.push(target),
            None => return,
        }
        while batch.len() < depth {
            match job.feed.next(&job.collector) {
                Some(target) if same_host(&target, &batch[0]) => batch.push(target),
                Some(target) => {
                    next = Some(target);
                    break;
                }
                None => break,
            }
        }
        // ANCHOR_END: pipelined_batch
        // ANCHOR: pipelined_send
        let started = Instant::now();
        let urls: Vec<&Url> = batch.iter().map(|t| &t.url).collect();
        // One permit for the batch: it travels on one connection.
        // Pipelined documents are held whole (no part file): pipelining suits many
        // small documents, not a few big ones.
        let permit = job.gate.enter(&batch[0].url).await;
        let resent = connections.syns_resent;
        let ended = connections
            .fetch_many(&urls, &job.options, &mut answered)
            .await;
        // The permit is given back before the answers are settled: a retry among them
        // waits for a permit of its own.
        if connections.syns_resent > resent {
            permit.congested();
        } else {
            if !answered.is_empty() {
                permit.answered();
            }
            drop(permit);
        }
        let answers = answered.len();
        for (target, response) in batch.iter().zip(answered.drain(..)) {
            let arrived = settle(connections, target, Ok(response), started, job, None).await;
            save_in_turn(job, target, arrived);
        }
        let mut unanswered = &batch[answers..];
        // The request whose response was cut off: that was its attempt.
        if let (Err(error), [target, rest @ ..]) = (ended, unanswered) {
            let arrived = settle(connections, target, Err(error), started, job, None).await;
            save_in_turn(job, target, arrived);
            unanswered = rest;
        }
        for target in unanswered {
            let arrived = fetch_one(connections, target, job).await;
            save_in_turn(job, target, arrived);
        }
    }
}
// ANCHOR_END: pipelined_send

/// Saves and counts a batch's document, if one arrived, in the worker (not in a task of
/// its own, as [`Saving`] does): the batch's other requests keep the server busy.
fn save_in_turn(job: &Job, target: &Target, arrived: Option<Arrived>) {
    if let Some(arrived) = arrived {
        settle_document(job, target, arrived);
    }
}

fn same_host(a: &Target, b: &Target) -> bool {
    a.url.port == b.url.port && a.url.host == b.url.host
}

/// A document fetched: its body, or the bytes this run fetched of it when it went to
/// its part file and was moved into place already.
enum Whole {
    Body(Document),
    Saved(u64),
}

/// The document a complete `response` brought: moved into place from its part file if
/// its body went there (see [`crate::part`]), else its body, checked.
fn whole(response: Response, part: Option<&mut Part<'_>>, job: &Job) -> Result<Whole, FetchError> {
    match part {
        Some(part) if part.holds_the_document() => {
            let fetched = part.fetched_now();
            part.finish().map(|_| Whole::Saved(fetched))
        }
        _ => check(response, job).map(Whole::Body),
    }
}

/// The document in `response`, decoded to at most the size limit, or why it is not one.
fn check(response: Response, job: &Job) -> Result<Document, FetchError> {
    policy::check(response, job.options.limits.max_body_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::Collector;
    use crate::feed::Feed;
    use crate::names::Layout;
    use crate::options::Options;
    use crate::polite::HostGate;
    use crate::progress::Progress;
    use crate::store::Store;

    /// A worker's task stays small: its future keeps nothing large across an `.await`
    /// (a document handed over for saving is boxed), and it fits tokio's smaller task
    /// cell. Ten thousand waiting connections are ten thousand of these.
    #[test]
    fn a_workers_future_keeps_nothing_large_inline() {
        let bytes = worker_future_bytes();
        eprintln!("a worker's future: {bytes} bytes");
        // tokio's task cell is the future and 104 bytes, in multiples of 128: up to
        // 152 bytes, a task takes 256; from 160, 384. 152 when written; 304 with the
        // hand-over to `Saving` awaited in the `match`'s arm, 728 with it not boxed.
        assert!(bytes <= 152, "a worker's future is {bytes} bytes");
    }

    fn job(store: Option<Store>) -> Arc<Job> {
        Arc::new(Job {
            feed: Feed::new(Box::new(std::iter::empty())),
            collector: Collector::new(store, Progress::hidden()),
            options: Options::default(),
            gate: HostGate::new(None),
        })
    }

    fn target(n: u32) -> Target {
        Target::named(
            Url::parse(&format!("http://h/d{n}.txt")).unwrap(),
            Layout::Flat,
        )
    }

    fn arrived(body: &[u8]) -> Arrived {
        Arrived {
            document: Document {
                body: body.to_vec(),
                len: body.len() as u64,
            },
            attempts: 1,
            started: Instant::now(),
            landed: None,
        }
    }

    /// Every document handed over is saved whole and counted once the worker has
    /// waited, and never more than one save is in flight.
    #[test]
    fn documents_handed_over_are_saved_one_at_a_time() {
        let dir = std::env::temp_dir().join(format!("saving-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let job = job(Some(Store::open(&dir).unwrap()));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(async {
            let mut saving = Saving::default();
            // Nothing handed over: ready at once, and no task.
            saving.then(None).await;
            assert!(saving.task.is_none());
            for n in 0..5 {
                let handed = Handed::new(&job, target(n), arrived(&[b'a' + n as u8; 100]));
                saving.then(Some(handed)).await;
                // It waited for the save before it: every one before this one is
                // saved and counted, this one not yet, and it has its task.
                assert_eq!(job.collector.report("test", 1).ok, u64::from(n));
                assert!(saving.task.is_some());
            }
            saving.then(None).await;
            assert!(saving.task.is_none());
        });
        let report = job.collector.report("test", 1);
        assert_eq!((report.ok, report.failed), (5, 0));
        for n in 0..5 {
            let name = target(n).name().to_string();
            let body = std::fs::read(dir.join(&name)).unwrap();
            assert_eq!(body, [b'a' + n as u8; 100], "{name}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A panic while saving fails that document and is reported; nothing else is lost.
    #[test]
    fn a_panic_while_saving_fails_the_document() {
        let job = job(None);
        let quiet = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        failing_on_panic(&job, &target(1), 2, || {
            panic!("a bug while saving, on purpose")
        });
        std::panic::set_hook(quiet);
        failing_on_panic(&job, &target(2), 1, || {});
        let report = job.collector.report("test", 1);
        assert_eq!(report.failed, 1);
        assert!(
            report
                .panics
                .iter()
                .any(|p| p.contains("a bug while saving, on purpose")),
            "{:?}",
            report.panics
        );
    }
}
