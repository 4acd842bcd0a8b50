//! Step 7: futures and wakers — a reactor on mio, an executor, async TCP, sleep, timeout.
//!
//! Step 5's tasks were state machines written by hand, and each step told the scheduler
//! what to wait for: "socket 3 readable", "until 12:00:01". Here the compiler writes the
//! state machines (`async fn`), and a task says only "not yet" (`Poll::Pending`). The
//! missing piece of information travels another way, through a **waker**:
//!
//! ```text
//!  spawn(future)
//!       │
//!       ▼
//!  ┌─ executor ────────────────────────┐            ┌─ reactor ─────────────────────────┐
//!  │ ready queue ──► poll(task, waker) │            │ sockets: a read and a write slot  │
//!  │      ▲                 │          │  Pending:  │ timers:  a deadline heap          │
//!  │      │                 └──────────┼─ waker ──► │ remote:  an eventfd (other threads)│
//!  │      │                            │            │                                   │
//!  │      └─────── waker.wake() ◄──────┼────────────┼─ turn(): epoll_wait, then wake    │
//!  │ nothing ready: reactor.turn() ────┼──────────► │   whatever is ready               │
//!  └───────────────────────────────────┘            └───────────────────────────────────┘
//! ```
//!
//! - [`reactor`]: the one place the thread waits (`epoll_wait`, bounded by the next
//!   timer), and the one place that wakes tasks.
//! - [`executor`]: tasks, the ready queue, wakers made with [`std::task::Wake`],
//!   [`spawn`] / [`JoinHandle`] / [`block_on`], cancellation with
//!   [`JoinHandle::abort`].
//! - [`net`]: [`TcpStream`] (`connect`, `read`, `write_all`) and [`TcpListener`]: try
//!   the system call; on `WouldBlock`, leave the waker and return `Pending`.
//! - [`time`]: [`sleep`] and [`timeout`].
//! - [`download`](mod@download): [`download()`] fetches many documents over keep-alive connections with
//!   lesson 3's codec, `concurrency` tasks on one thread.
//!
//! The other half of the story is what does *not* happen: with nothing ready, the thread
//! sleeps in the kernel and uses no CPU; [`idle_cost`] measures it.

pub mod download;
pub mod executor;
pub mod net;
pub mod reactor;
pub mod time;

pub use download::{DownloadConfig, DownloadReport, download, download_with, send_and_receive};
pub use executor::{
    Executor, ExecutorStats, JoinError, JoinHandle, RuntimeError, block_on, spawn, yield_now,
};
pub use net::{TcpListener, TcpStream};
pub use reactor::{Reactor, ReactorStats};
pub use time::{Elapsed, sleep, sleep_until, timeout};

use std::time::{Duration, Instant};

use procs::measure::Usage;

/// What an executor costs while it waits for nothing but a timer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IdleCost {
    /// How long the sleep took.
    pub wall: Duration,
    /// CPU time (user + system) this thread used meanwhile, in seconds.
    pub thread_cpu: f64,
    /// CPU time the whole process used meanwhile, in seconds (includes other threads:
    /// meaningful when nothing else runs, as in the tour).
    pub process_cpu: f64,
    /// Times the executor went to sleep in `epoll_wait`.
    pub parks: u64,
    /// Calls to `epoll_wait`.
    pub turns: u64,
}

impl IdleCost {
    /// The share of one core the thread used: CPU time over wall time.
    pub fn thread_share(&self) -> f64 {
        procs::measure::ratio(self.thread_cpu, self.wall.as_secs_f64())
    }
}

/// Why [`idle_cost`] could not measure.
#[derive(Debug, thiserror::Error)]
pub enum IdleCostError {
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    #[error("getrusage failed: {0}")]
    Usage(String),
}

// ANCHOR: idle_cost
/// Runs `block_on(sleep(duration))` on a new executor and measures the CPU it used. A
/// busy loop would use about `duration` of CPU and turn millions of times; this
/// executor turns once or twice and uses microseconds.
pub fn idle_cost(duration: Duration) -> Result<IdleCost, IdleCostError> {
    let executor = Executor::new()?;
    // A first, short sleep pays for what happens once (the timer heap's first
    // allocation, the thread-local's first use), so that only the waiting is measured.
    executor.block_on(sleep(Duration::from_millis(1)))?;
    let usage = || Usage::of_self().map_err(|e| IdleCostError::Usage(e.to_string()));
    let (parks, turns) = (executor.stats().parks, executor.reactor().stats().turns);
    let thread_before = thread_cpu()?;
    let process_before = usage()?;
    let start = Instant::now();
    executor.block_on(sleep(duration))?;
    let wall = start.elapsed();
    let process = usage()?.since(&process_before).cpu();
    let thread = thread_cpu()? - thread_before;
    Ok(IdleCost {
        wall,
        thread_cpu: thread,
        process_cpu: process,
        parks: executor.stats().parks - parks,
        turns: executor.reactor().stats().turns - turns,
    })
}
// ANCHOR_END: idle_cost

/// CPU time of the calling thread so far (`RUSAGE_THREAD`), in seconds: unlike the
/// process's, it does not count the other threads (a test harness runs many).
fn thread_cpu() -> Result<f64, IdleCostError> {
    use nix::sys::resource::{UsageWho, getrusage};
    let usage =
        getrusage(UsageWho::RUSAGE_THREAD).map_err(|e| IdleCostError::Usage(e.to_string()))?;
    let secs = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 + t.tv_usec() as f64 / 1e6;
    Ok(secs(usage.user_time()) + secs(usage.system_time()))
}
