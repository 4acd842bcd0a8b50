//! A thread pool: a fixed set of worker threads that take jobs from one queue.
//!
//! Starting a thread per job pays the start-up cost every time and lets a burst of jobs
//! start a burst of threads. A pool starts its workers once — by default one per core,
//! since more do not make CPU-bound work faster (see [`crate::cpu`]) — and feeds them
//! through a queue. This is how lesson 3's server answers its connections.
//!
//! The design choices, each visible in the code:
//!
//! - The queue is a standard channel; the workers share its one receiving end behind a
//!   `Mutex`. A worker holds that lock only while *taking* a job, never while running
//!   it (a `while let` on the locked receiver would hold it for the whole job, and the
//!   pool would run one job at a time).
//! - A bounded pool uses `sync_channel(capacity)`: when `capacity` jobs are waiting,
//!   `execute` blocks until a worker takes one. That is back-pressure: a producer faster
//!   than the workers is slowed down instead of filling the memory.
//! - A job that panics is caught (`catch_unwind`) and reported; its worker goes on.
//! - Dropping the pool shuts it down gracefully: the queue closes, the workers run what
//!   was queued, and every worker is joined. `shutdown_now` drops the queued jobs
//!   instead, and says how many it dropped.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use crate::error::panic_message;

type Job = Box<dyn FnOnce() + Send + 'static>;

/// Why the pool could not take a job or start.
#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    #[error("a pool needs at least one worker")]
    NoWorkers,
    #[error("could not start worker {index}: {source}")]
    Spawn {
        index: usize,
        #[source]
        source: std::io::Error,
    },
    /// `try_execute` on a bounded pool whose queue is full.
    #[error("the queue is full ({capacity} jobs waiting)")]
    Full { capacity: usize },
    /// Every worker has stopped (only possible if a worker thread itself died).
    #[error("the pool has no running worker left")]
    Stopped,
}

/// What the pool did in its life, returned by the shutdown methods.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Jobs that ran to completion.
    pub ran: usize,
    /// The messages of jobs that panicked (their workers carried on).
    pub panicked: Vec<String>,
    /// Jobs still queued at `shutdown_now`, dropped without running.
    pub dropped: usize,
}

/// The sending end of the queue: unbounded, or bounded with back-pressure.
#[derive(Debug)]
enum Queue {
    Unbounded(Sender<Job>),
    Bounded(SyncSender<Job>, usize),
}

/// What the workers and the pool share.
#[derive(Debug, Default)]
struct Shared {
    ran: AtomicUsize,
    dropped: AtomicUsize,
    panicked: Mutex<Vec<String>>,
    /// Set by `shutdown_now`: workers drop the jobs they take instead of running them.
    stop_now: AtomicBool,
}

/// A fixed set of worker threads running jobs from one queue.
#[derive(Debug)]
pub struct ThreadPool {
    queue: Option<Queue>,
    workers: Vec<JoinHandle<()>>,
    shared: Arc<Shared>,
}

impl ThreadPool {
    /// A pool with `workers` threads and an unbounded queue.
    pub fn new(workers: usize) -> Result<ThreadPool, PoolError> {
        let (tx, rx) = mpsc::channel();
        ThreadPool::start(workers, Queue::Unbounded(tx), rx)
    }

    /// A pool with one worker per core (`available_parallelism`).
    pub fn with_cores() -> Result<ThreadPool, PoolError> {
        ThreadPool::new(std::thread::available_parallelism().map_or(1, |n| n.get()))
    }

    // ANCHOR: bounded
    /// A pool whose queue holds at most `capacity` waiting jobs: `execute` blocks when it
    /// is full (back-pressure), `try_execute` returns [`PoolError::Full`].
    pub fn bounded(workers: usize, capacity: usize) -> Result<ThreadPool, PoolError> {
        let (tx, rx) = mpsc::sync_channel(capacity);
        ThreadPool::start(workers, Queue::Bounded(tx, capacity), rx)
    }
    // ANCHOR_END: bounded

    // ANCHOR: start
    fn start(workers: usize, queue: Queue, rx: Receiver<Job>) -> Result<ThreadPool, PoolError> {
        if workers == 0 {
            return Err(PoolError::NoWorkers);
        }
        let rx = Arc::new(Mutex::new(rx));
        let shared = Arc::new(Shared::default());
        let mut pool = ThreadPool {
            queue: Some(queue),
            workers: Vec::with_capacity(workers),
            shared: shared.clone(),
        };
        for index in 0..workers {
            let (rx, shared) = (rx.clone(), shared.clone());
            let worker = std::thread::Builder::new()
                .name(format!("pool-worker-{index}"))
                .spawn(move || work(&rx, &shared));
            match worker {
                Ok(handle) => pool.workers.push(handle),
                // Dropping `pool` here shuts down the workers already started.
                Err(source) => return Err(PoolError::Spawn { index, source }),
            }
        }
        Ok(pool)
    }
    // ANCHOR_END: start

    /// How many worker threads the pool runs.
    pub fn workers(&self) -> usize {
        self.workers.len()
    }

    // ANCHOR: execute
    /// Queues `job`. On a bounded pool with a full queue, waits until there is room.
    pub fn execute<F: FnOnce() + Send + 'static>(&self, job: F) -> Result<(), PoolError> {
        let job: Job = Box::new(job);
        // A send fails only when every receiver is gone, i.e. every worker has died.
        match &self.queue {
            Some(Queue::Unbounded(tx)) => tx.send(job).map_err(|_| PoolError::Stopped),
            Some(Queue::Bounded(tx, _)) => tx.send(job).map_err(|_| PoolError::Stopped),
            None => Err(PoolError::Stopped),
        }
    }

    /// Queues `job` without waiting: on a bounded pool with a full queue, returns
    /// [`PoolError::Full`] (the job is dropped) so the caller can decide what to do.
    pub fn try_execute<F: FnOnce() + Send + 'static>(&self, job: F) -> Result<(), PoolError> {
        match &self.queue {
            Some(Queue::Bounded(tx, capacity)) => match tx.try_send(Box::new(job)) {
                Ok(()) => Ok(()),
                Err(TrySendError::Full(_)) => Err(PoolError::Full {
                    capacity: *capacity,
                }),
                Err(TrySendError::Disconnected(_)) => Err(PoolError::Stopped),
            },
            _ => self.execute(job),
        }
    }
    // ANCHOR_END: execute

    /// Closes the queue, lets the workers run every queued job, joins them.
    pub fn shutdown(mut self) -> ShutdownReport {
        self.stop()
    }

    /// Closes the queue and drops the jobs still in it; jobs already running finish.
    pub fn shutdown_now(mut self) -> ShutdownReport {
        // A flag that publishes no data: Relaxed would do (with any ordering, a worker may
        // take one more job before it sees the flag).
        self.shared.stop_now.store(true, Ordering::SeqCst);
        self.stop()
    }

    // ANCHOR: stop
    fn stop(&mut self) -> ShutdownReport {
        // Dropping the sender closes the channel: once it is empty, every worker's
        // `recv` returns an error and the worker's loop ends.
        drop(self.queue.take());
        for worker in self.workers.drain(..) {
            // A worker catches its jobs' panics, so it ends only by returning.
            let _ = worker.join();
        }
        let panicked = self
            .shared
            .panicked
            .lock()
            .map(|mut p| std::mem::take(&mut *p))
            .unwrap_or_default();
        ShutdownReport {
            // Read after every worker was joined: a join makes its thread's increments visible.
            ran: self.shared.ran.load(Ordering::SeqCst),
            panicked,
            dropped: self.shared.dropped.load(Ordering::SeqCst),
        }
    }
    // ANCHOR_END: stop
}

// ANCHOR: drop
impl Drop for ThreadPool {
    /// Graceful: queued jobs run, every worker is joined. Use [`ThreadPool::shutdown`] to
    /// see the report, [`ThreadPool::shutdown_now`] to drop the queued jobs.
    fn drop(&mut self) {
        if !self.workers.is_empty() {
            self.stop();
        }
    }
}
// ANCHOR_END: drop

// ANCHOR: work
/// A worker's life: take a job, run it, repeat until the queue is closed and empty.
fn work(rx: &Mutex<Receiver<Job>>, shared: &Shared) {
    loop {
        // The lock guard is a temporary of this statement: it is released before the
        // job runs, so the other workers can take jobs meanwhile.
        let job = rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
        let Ok(job) = job else { return };
        // Plain counters and a flag that publishes nothing: the joins in `stop` order them.
        if shared.stop_now.load(Ordering::SeqCst) {
            shared.dropped.fetch_add(1, Ordering::SeqCst);
            continue;
        }
        // AssertUnwindSafe: after a panic the job is gone; nothing half-updated of it
        // is used again by this worker.
        match catch_unwind(AssertUnwindSafe(job)) {
            Ok(()) => {
                shared.ran.fetch_add(1, Ordering::SeqCst);
            }
            Err(payload) => {
                let message = panic_message(payload.as_ref());
                if let Ok(mut list) = shared.panicked.lock() {
                    list.push(message);
                }
            }
        }
    }
}
// ANCHOR_END: work

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::Gate;
    use std::time::Duration;

    #[test]
    fn jobs_run_in_parallel_on_the_workers() {
        // Each job waits at a gate that opens only once all four are there: four
        // workers running at once get them there; one after the other, only the first
        // ever would. Counted, not timed.
        let pool = ThreadPool::new(4).unwrap();
        let gate = Arc::new(Gate::new());
        for _ in 0..4 {
            let gate = gate.clone();
            pool.execute(move || gate.wait()).unwrap();
        }
        // 10 s: far beyond how long four workers take to pick up four jobs.
        let together = gate.wait_for_arrivals(4, Duration::from_secs(10));
        gate.open();
        let report = pool.shutdown();
        assert_eq!(together, 4, "jobs waiting at the same time");
        assert_eq!(report.ran, 4);
    }

    #[test]
    fn a_panicking_job_is_reported_and_the_pool_goes_on() {
        let pool = ThreadPool::new(1).unwrap();
        pool.execute(|| panic!("job two broke")).unwrap();
        let (tx, rx) = mpsc::channel();
        pool.execute(move || tx.send(7).unwrap()).unwrap();
        assert_eq!(rx.recv_timeout(Duration::from_secs(5)), Ok(7));
        let report = pool.shutdown();
        assert_eq!(report.ran, 1);
        assert_eq!(report.panicked, ["job two broke"]);
    }

    #[test]
    fn shutdown_runs_queued_jobs_and_shutdown_now_drops_them() {
        let slow = || std::thread::sleep(Duration::from_millis(30));
        let pool = ThreadPool::new(1).unwrap();
        for _ in 0..5 {
            pool.execute(slow).unwrap();
        }
        assert_eq!(pool.shutdown().ran, 5);

        let pool = ThreadPool::new(1).unwrap();
        let (started_tx, started_rx) = mpsc::channel();
        pool.execute(move || {
            started_tx.send(()).unwrap();
            std::thread::sleep(Duration::from_millis(100));
        })
        .unwrap();
        for _ in 0..5 {
            pool.execute(slow).unwrap();
        }
        started_rx.recv_timeout(Duration::from_secs(5)).unwrap();
        let report = pool.shutdown_now();
        assert_eq!((report.ran, report.dropped), (1, 5));
    }

    #[test]
    fn a_bounded_queue_pushes_back() {
        let pool = ThreadPool::bounded(1, 1).unwrap();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let (started_tx, started_rx) = mpsc::channel();
        pool.execute(move || {
            started_tx.send(()).unwrap();
            let _ = release_rx.recv_timeout(Duration::from_secs(5));
        })
        .unwrap();
        started_rx.recv_timeout(Duration::from_secs(5)).unwrap();
        pool.try_execute(|| {}).unwrap(); // fills the one slot
        assert!(matches!(
            pool.try_execute(|| {}),
            Err(PoolError::Full { capacity: 1 })
        ));
        release_tx.send(()).unwrap();
        assert_eq!(pool.shutdown().ran, 2);
    }

    #[test]
    fn dropping_the_pool_joins_every_worker() {
        let done = Arc::new(AtomicUsize::new(0));
        {
            let pool = ThreadPool::new(3).unwrap();
            for _ in 0..9 {
                let done = done.clone();
                pool.execute(move || {
                    std::thread::sleep(Duration::from_millis(10));
                    // Read after the pool's drop joined the workers, which orders the count.
                    done.fetch_add(1, Ordering::SeqCst);
                })
                .unwrap();
            }
        }
        // The pool was dropped, so its workers were joined: every increment is visible.
        assert_eq!(done.load(Ordering::SeqCst), 9);
        assert!(matches!(ThreadPool::new(0), Err(PoolError::NoWorkers)));
    }
}
