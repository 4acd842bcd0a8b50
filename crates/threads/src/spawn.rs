//! What does it cost to start a thread, next to a process?
//!
//! A thread is a second flow of control *inside* the same process: same memory, same
//! open files. Starting one needs no copy of page tables and no new program, only a
//! stack and a kernel task. Lesson 1 measured a process; this module measures a thread
//! the same way, side by side in the same run (`procs::cost::compare_costs`), so the
//! ratio means something on any machine.

use std::thread::JoinHandle;

use procs::cost::{Cost, compare_costs};
use procs::spawn::{Program, spawn};

use crate::error::{Error, Result, panic_message};

/// A thread's and a process's start-up cost, measured in one run.
#[derive(Debug, Clone)]
pub struct StartCosts {
    /// `std::thread::spawn` of an empty closure, then `join`.
    pub thread: Cost,
    /// Lesson 1's fork + exec + wait of `/bin/true`.
    pub process: Cost,
}

// ANCHOR: start_costs
/// Starts and joins an empty thread, and starts and waits for `/bin/true`, `trials`
/// times each, side by side.
pub fn start_costs(trials: usize) -> Result<StartCosts> {
    let program = Program::new("true", &[] as &[&str])?;
    let mut thread = || {
        std::thread::spawn(|| {})
            .join()
            .map_err(|p| procs::Error::Invalid {
                what: "thread",
                reason: panic_message(p.as_ref()),
            })
    };
    let mut process = || spawn(&program)?.wait().map(drop);
    let [thread, process]: [Cost; 2] = compare_costs(trials, &mut [&mut thread, &mut process])?
        .try_into()
        .map_err(|_| Error::Invalid {
            what: "start costs",
            reason: "not one cost per operation".into(),
        })?;
    Ok(StartCosts { thread, process })
}
// ANCHOR_END: start_costs

// ANCHOR: spawn_many
/// Starts up to `n` threads that each run `work(i)`, stopping at the first one the
/// system refuses. Returns the handles of those that started, and the refusal if there
/// was one: the caller decides what to do with the threads already running.
pub fn spawn_many<T, F>(
    n: usize,
    stack_size: Option<usize>,
    work: F,
) -> (Vec<JoinHandle<T>>, Option<Error>)
where
    T: Send + 'static,
    F: Fn(usize) -> T + Send + Sync + 'static,
{
    let work = std::sync::Arc::new(work);
    let mut handles = Vec::with_capacity(n);
    for i in 0..n {
        let mut builder = std::thread::Builder::new();
        if let Some(size) = stack_size {
            builder = builder.stack_size(size);
        }
        let work = work.clone();
        match builder.spawn(move || work(i)) {
            Ok(h) => handles.push(h),
            Err(source) => {
                let started = handles.len();
                return (
                    handles,
                    Some(Error::Spawn {
                        index: i,
                        started,
                        source,
                    }),
                );
            }
        }
    }
    (handles, None)
}
// ANCHOR_END: spawn_many

// ANCHOR: join_all
/// Joins every handle; the first panic becomes an error (after all are joined).
pub fn join_all<T>(handles: Vec<JoinHandle<T>>) -> Result<Vec<T>> {
    let mut results = Vec::with_capacity(handles.len());
    let mut panic = None;
    for h in handles {
        match h.join() {
            Ok(v) => results.push(v),
            Err(p) => {
                panic.get_or_insert_with(|| Error::Panicked(panic_message(p.as_ref())));
            }
        }
    }
    panic.map_or(Ok(results), Err)
}

/// Starts `n` threads that each run `work(i)`, and joins them all. A refused spawn is
/// an error (the threads already started are still joined), so a caller can probe limits.
pub fn run_threads<F>(n: usize, stack_size: Option<usize>, work: F) -> Result<()>
where
    F: Fn(usize) + Send + Sync + 'static,
{
    let (handles, refused) = spawn_many(n, stack_size, work);
    join_all(handles)?;
    refused.map_or(Ok(()), Err)
}
// ANCHOR_END: join_all

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn a_thread_is_cheaper_to_start_than_a_process() {
        // CPU time, not wall time: a busy machine delays a start without making it
        // cost more. The figures count the whole process, so the tests that load it
        // (hundreds of threads) wait their turn. A process start costs tens of times
        // what a thread start does: exec, the loader, the libraries, in the child.
        let _alone = crate::test_lock();
        let c = start_costs(10).unwrap();
        assert!(c.thread.cpu < c.process.cpu, "{c:?}");
    }

    #[test]
    fn run_threads_runs_every_index_once() {
        static SUM: AtomicUsize = AtomicUsize::new(0);
        run_threads(50, Some(64 * 1024), |i| {
            // Relaxed: only the sum matters, and `run_threads` joins every thread before the
            // sum is read.
            SUM.fetch_add(i, Ordering::Relaxed);
        })
        .unwrap();
        assert_eq!(SUM.load(Ordering::Relaxed), (0..50).sum::<usize>());
    }

    #[test]
    fn a_panicking_thread_is_an_error_not_a_crash() {
        let err = run_threads(3, None, |i| assert!(i != 1, "thread one fails")).unwrap_err();
        assert!(err.to_string().contains("thread one fails"), "{err}");
    }
}
