//! Lesson 2: threads — what a thread costs, a thousand threads on two cores, a pool.
//!
//! Lesson 1 showed that a process is expensive to start (hundreds of microseconds) and
//! heavy to keep. A thread is a lighter unit: a second flow of control in the *same*
//! process. This lesson measures how much lighter, where the real costs are (memory,
//! start-up, switching), what limits how many you can have, and when more threads stop
//! helping. It ends with a thread pool, the tool lesson 3's server uses.
//!
//! Modules, in the order the tour visits them:
//!
//! - [`spawn`]: what starting a thread costs, next to a process (lesson 1's tools).
//! - [`idle`]: what an idle thread costs in memory, and what RSS does not show.
//! - [`limit`]: how many threads fit, and what stops them.
//! - [`cpu`]: CPU-bound work over 1, 2, 8 and 1,000 threads: time slicing.
//! - [`waiting`]: waiting is different: a thousand sleeping threads overlap.
//! - [`sharing`]: Mutex vs atomic, scoped threads, why `Rc` cannot cross.
//! - [`pool`]: a thread pool with back-pressure and panic isolation.
//! - [`flag`]: the smallest use of a `Condvar`: threads sleep until a flag is set.
//! - [`gate`]: a helper that lines threads up and lets them go together.
//! - [`claims`]: the lesson's claims, each with the world where it would fail.
//! - Your tasks are not in this crate: each exercise is a package of its own, in
//!   `exercises/<name>/` (see `exercises/README.md`), that nothing depends on, so one
//!   that does not compile breaks nothing here.

pub mod claims;
pub mod cpu;
pub mod error;
pub mod flag;
pub mod gate;
pub mod idle;
pub mod limit;
pub mod pool;
pub mod sharing;
pub mod spawn;
pub mod waiting;

pub use error::{Error, Result};
pub use pool::ThreadPool;

/// Tests that measure the whole process (its memory, its context switches) take turns,
/// so that one test's threads do not show up in another's figures.
#[cfg(test)]
pub(crate) fn test_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
