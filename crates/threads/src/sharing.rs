//! Sharing memory between threads: what Rust allows, and what it costs.
//!
//! Threads share the process's memory, which is their strength and their danger: two
//! threads that increment the same counter without coordination lose increments. Rust
//! refuses to compile the dangerous version. A value may cross to another thread only
//! if its type is `Send`, and be shared by reference only if it is `Sync`; `Rc`'s
//! reference count is not atomic, so `Rc` is neither:
//!
// ANCHOR: rc_not_send
//! ```compile_fail
//! let shared = std::rc::Rc::new(5);
//! // error[E0277]: `Rc<i32>` cannot be sent between threads safely
//! std::thread::spawn(move || println!("{shared}"));
//! ```
// ANCHOR_END: rc_not_send
//!
//! The two usual ways to share a counter are a `Mutex` (one thread at a time holds the
//! lock; the others sleep until it is released) and an atomic integer (the CPU makes
//! the read-modify-write indivisible; nobody sleeps). Under contention the mutex pays
//! for sleeping and waking; this module measures both.
//!
//! Scoped threads (`std::thread::scope`) may borrow from the caller's stack, because
//! the scope joins them before it returns: a parallel map needs no `Arc` and no copies.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use procs::measure::Usage;

use crate::error::{Error, Result};

/// The cost of one increment of a shared counter, in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PerIncrement {
    /// Wall time / increments.
    pub wall: f64,
    /// CPU time of the whole process / increments: what the machine spent, whatever
    /// share of it other programs took meanwhile.
    pub cpu: f64,
}

// ANCHOR: counters
/// `threads` threads each add 1 to one `Mutex<u64>`, `per_thread` times.
pub fn mutex_counter(threads: usize, per_thread: u64) -> Result<PerIncrement> {
    let counter = Mutex::new(0u64);
    let usage = Usage::of_self()?;
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                for _ in 0..per_thread {
                    *counter.lock().unwrap_or_else(|p| p.into_inner()) += 1;
                }
            });
        }
    });
    let elapsed = start.elapsed().as_secs_f64();
    let cpu = Usage::of_self()?.since(&usage).cpu();
    let total = counter.into_inner().unwrap_or_else(|p| p.into_inner());
    per_increment(elapsed, cpu, total, threads, per_thread)
}

/// The same with an `AtomicU64` and `fetch_add`.
pub fn atomic_counter(threads: usize, per_thread: u64) -> Result<PerIncrement> {
    let counter = AtomicU64::new(0);
    let usage = Usage::of_self()?;
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                for _ in 0..per_thread {
                    // Relaxed: only the count matters, not the order of other memory.
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    let elapsed = start.elapsed().as_secs_f64();
    let cpu = Usage::of_self()?.since(&usage).cpu();
    per_increment(elapsed, cpu, counter.into_inner(), threads, per_thread)
}
// ANCHOR_END: counters

/// Checks that no increment was lost, then divides.
fn per_increment(
    elapsed: f64,
    cpu: f64,
    total: u64,
    threads: usize,
    per_thread: u64,
) -> Result<PerIncrement> {
    let expected = threads as u64 * per_thread;
    if total != expected {
        return Err(Error::Invalid {
            what: "counter",
            reason: format!("counted {total}, expected {expected}: increments were lost"),
        });
    }
    let n = expected.max(1) as f64;
    Ok(PerIncrement {
        wall: elapsed * 1e9 / n,
        cpu: cpu * 1e9 / n,
    })
}

// ANCHOR: parallel_map
/// Applies `f` to every item using up to `threads` scoped threads, one contiguous
/// chunk each, and returns the results in the items' order.
pub fn parallel_map<T, U, F>(items: &[T], threads: usize, f: F) -> Vec<U>
where
    T: Sync,
    U: Send,
    F: Fn(&T) -> U + Sync,
{
    if items.is_empty() {
        return Vec::new();
    }
    let chunk = items.len().div_ceil(threads.max(1));
    std::thread::scope(|s| {
        // Borrowing `items` and `f` is fine: the scope outlives every thread in it.
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| s.spawn(|| part.iter().map(&f).collect::<Vec<U>>()))
            .collect();
        handles
            .into_iter()
            // A panic in `f` is re-raised here, as if `f` had run on this thread.
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}
// ANCHOR_END: parallel_map

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_counters_lose_nothing() {
        // Threads fighting over a lock: their switches would show in another test's
        // figures.
        let _alone = crate::test_lock();
        assert!(mutex_counter(4, 10_000).unwrap().wall > 0.0);
        assert!(atomic_counter(4, 10_000).unwrap().wall > 0.0);
    }

    #[test]
    fn parallel_map_keeps_the_order() {
        let items: Vec<u64> = (0..1001).collect();
        let out = parallel_map(&items, 4, |x| x * x);
        assert_eq!(out, items.iter().map(|x| x * x).collect::<Vec<_>>());
        assert!(parallel_map(&[] as &[u8], 4, |x| *x).is_empty());
        assert_eq!(parallel_map(&[1, 2, 3], 0, |x| x + 1), [2, 3, 4]);
    }
}
