//! "A thousand threads on four cores": what happens to CPU-bound work.
//!
//! Threads share the cores by *time slicing*: when there are more runnable threads than
//! cores, the scheduler runs each for a few milliseconds, then switches to another. The
//! total work done per second cannot exceed what the cores do, so past the core count
//! more threads add no throughput. What they add: context switches (each one a trip
//! through the kernel and cold caches) and waiting — each thread's work is stretched
//! over a much longer wall time than the CPU time it actually needs.

use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::time::{ClockId, clock_gettime};
use procs::measure::{Stats, Usage};

use crate::error::{Error, Result};
use crate::gate::Gate;
use crate::spawn::{join_all, spawn_many};

/// Iterations of the busy loop in one unit of work (about 0.1 ms of CPU).
pub const UNIT: u64 = 100_000;

/// The same total work split over some number of threads.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CpuSplit {
    pub threads: usize,
    pub units: u64,
    /// Seconds from opening the gate to the last thread's finish.
    pub wall: f64,
    /// Units of work per second of wall time, all threads together.
    pub throughput: f64,
    /// Units of work per second of CPU time the process used (all threads). Unlike
    /// `throughput`, it does not depend on how much of the machine other programs take:
    /// on a busy machine, 1,000 threads can grab a larger share of the cores than 2, and
    /// look "faster" by wall time while doing no more work per CPU-second.
    pub per_cpu_second: f64,
    /// Median over threads of (wall time until it finished) / (CPU time it used):
    /// 1.0 means it ran without waiting; 50 means it spent 98% of its life waiting.
    pub stretch: f64,
    /// Context switches (voluntary + involuntary) in the whole process during the run.
    pub switches: i64,
    pub involuntary: i64,
}

// ANCHOR: busy
/// CPU-bound work: `units * UNIT` rounds of a xorshift generator, which no compiler can
/// skip because the result is returned.
pub fn busy(units: u64) -> u64 {
    let mut x = 0x9E37_79B9_7F4A_7C15u64 | 1;
    for _ in 0..units * UNIT {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    x
}
// ANCHOR_END: busy

/// CPU time used by the calling thread so far, in seconds.
fn thread_cpu() -> f64 {
    clock_gettime(ClockId::CLOCK_THREAD_CPUTIME_ID)
        .map(|t| t.tv_sec() as f64 + t.tv_nsec() as f64 / 1e9)
        .unwrap_or(0.0)
}

// ANCHOR: split_work_spawn
/// Splits `units` of work evenly over `threads` threads that start together.
pub fn split_work(units: u64, threads: usize) -> Result<CpuSplit> {
    if threads == 0 || units < threads as u64 {
        return Err(Error::Invalid {
            what: "split",
            reason: format!("{units} units cannot be split over {threads} threads"),
        });
    }
    let gate = Arc::new(Gate::new());
    let usage_before = Usage::of_self()?;
    let waiting = gate.clone();
    let (handles, refused) = spawn_many(threads, Some(64 * 1024), move |i| {
        // Thread i gets an equal share; the first `units % threads` get one more.
        let share = units / threads as u64 + u64::from((i as u64) < units % threads as u64);
        waiting.wait();
        let cpu_start = thread_cpu();
        std::hint::black_box(busy(share));
        (Instant::now(), thread_cpu() - cpu_start)
    });
    if let Some(e) = refused {
        gate.open();
        join_all(handles)?;
        return Err(e);
    }
    // ANCHOR_END: split_work_spawn
    // ANCHOR: split_work_run
    gate.wait_for_arrivals(threads, Duration::from_secs(60));
    let opened = Instant::now();
    gate.open();
    let mut stretches = Vec::with_capacity(threads);
    let mut last = opened;
    for (finished, cpu) in join_all(handles)? {
        last = last.max(finished);
        let lived = finished.duration_since(opened).as_secs_f64();
        if cpu > 0.0 {
            stretches.push(lived / cpu);
        }
    }
    let usage = Usage::of_self()?.since(&usage_before);
    let wall = last.duration_since(opened).as_secs_f64();
    Ok(CpuSplit {
        threads,
        units,
        wall,
        throughput: units as f64 / wall.max(1e-9),
        per_cpu_second: units as f64 / usage.cpu().max(1e-9),
        stretch: Stats::median_of(stretches),
        switches: usage.voluntary_switches + usage.involuntary_switches,
        involuntary: usage.involuntary_switches,
    })
}
// ANCHOR_END: split_work_run

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_work_is_deterministic() {
        assert_eq!(busy(1), busy(1));
        assert_ne!(busy(1), busy(2));
    }

    #[test]
    fn many_threads_wait_more_and_switch_more() {
        let _alone = crate::test_lock();
        let few = split_work(400, 2).unwrap();
        let many = split_work(400, 400).unwrap();
        // Counts first. Each of the 400 threads waited at the gate: a switch each, at
        // least. Two threads that never wait switch only when the scheduler takes
        // the core away, tens of times per second of work, whatever the load.
        assert!(many.switches >= 400, "{many:?}");
        assert!(many.switches > few.switches, "{few:?} {many:?}");
        // Then the stretch, wall time over CPU time. No thread's CPU time can exceed
        // its wall time: at least 1 for both. And a contrast no load can invert: when
        // half of the 400 threads are done, they have used 200 units of CPU between
        // them, which takes the cores at least 200 / cores units of wall time, so the
        // median thread (one unit of work) is stretched at least 100 times on two
        // cores, and more on a busy machine; the two threads, doing their share side by
        // side, are stretched only by what else the machine runs.
        assert!(
            few.stretch >= 1.0 && many.stretch >= 1.0,
            "{few:?} {many:?}"
        );
        assert!(many.stretch > few.stretch, "{few:?} {many:?}");
        assert!(split_work(1, 2).is_err());
    }
}
