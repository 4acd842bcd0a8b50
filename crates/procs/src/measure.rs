//! How do we even measure a cost? Repeated trials, a warm-up, the median, and ratios.
//!
//! One timing of one `fork` says little: the first call pays for cold caches and lazily
//! mapped pages, and any call may be interrupted by another program on a shared machine.
//! So every cost in this course is measured the same way:
//!
//! 1. a few **warm-up** runs whose times are thrown away;
//! 2. many **trials**, each timed on its own;
//! 3. the **median** (robust to the odd slow trial, unlike the mean) and the **spread**
//!    (10th to 90th percentile), so a noisy figure is seen to be noisy;
//! 4. a claim compares two medians **measured in the same run**, as a ratio: a busy
//!    machine slows both sides, so the ratio holds where an absolute threshold would not.
//!
//! Later lessons reuse these tools unchanged, and so the figures of every lesson can be
//! put side by side.

use std::time::Instant;

use nix::sys::resource::{UsageWho, getrusage};

use crate::error::{Error, Result};

// ANCHOR: stats_summary
/// Summary of repeated timings, in seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stats {
    pub trials: usize,
    pub median: f64,
    /// 10th and 90th percentiles: the middle 80% of the trials lie between them.
    pub p10: f64,
    pub p90: f64,
    pub min: f64,
    pub max: f64,
}

impl Stats {
    /// Summarizes samples; `None` when there are none (a median of nothing is no figure).
    pub fn from_samples(mut samples: Vec<f64>) -> Option<Stats> {
        samples.retain(|s| s.is_finite());
        if samples.is_empty() {
            return None;
        }
        samples.sort_by(f64::total_cmp);
        Some(Stats {
            trials: samples.len(),
            median: percentile(&samples, 0.5),
            p10: percentile(&samples, 0.1),
            p90: percentile(&samples, 0.9),
            min: samples[0],
            max: samples[samples.len() - 1],
        })
    }
    // ANCHOR_END: stats_summary

    /// The median of some figures, or NaN when there are none: what a tour prints for
    /// a figure measured in several rounds (NaN shows as "n/a", never as a made-up 0).
    pub fn median_of(samples: Vec<f64>) -> f64 {
        Stats::from_samples(samples).map_or(f64::NAN, |s| s.median)
    }

    /// Median in microseconds, the unit most costs in this course are told in.
    pub fn median_us(&self) -> f64 {
        self.median * 1e6
    }

    // ANCHOR: stats_spread
    /// (p90 - p10) / median: 0.1 means the middle 80% of trials lie within 10%.
    pub fn spread(&self) -> f64 {
        if self.median > 0.0 {
            (self.p90 - self.p10) / self.median
        } else {
            0.0
        }
    }
}

/// The `q` quantile (0..=1) of sorted samples, interpolating between neighbours.
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}
// ANCHOR_END: stats_spread

// ANCHOR: time_trials
/// Runs `op` `warmup` times untimed, then `trials` times, timing each run on its own.
/// The first error stops the measurement: a cost of a failing operation is no cost.
pub fn time_trials<E>(
    warmup: usize,
    trials: usize,
    mut op: impl FnMut() -> Result<(), E>,
) -> Result<Stats, E>
where
    E: From<Error>,
{
    for _ in 0..warmup {
        op()?;
    }
    let mut samples = Vec::with_capacity(trials);
    for _ in 0..trials {
        let start = Instant::now();
        op()?;
        samples.push(start.elapsed().as_secs_f64());
    }
    Stats::from_samples(samples).ok_or_else(|| {
        E::from(Error::Invalid {
            what: "trial count",
            reason: "at least one trial is needed".into(),
        })
    })
}
// ANCHOR_END: time_trials

/// `a / b`, or NaN when `b` is not positive (a claim on NaN fails instead of lying).
pub fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { f64::NAN }
}

/// What the kernel counted for a process (or its waited-for children) so far.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Usage {
    /// CPU time in user mode and in the kernel, in seconds.
    pub user: f64,
    pub system: f64,
    pub minor_faults: i64,
    pub major_faults: i64,
    /// Times the process gave up the CPU to wait (I/O, a lock, sleep).
    pub voluntary_switches: i64,
    /// Times the scheduler took the CPU away (its time slice ran out).
    pub involuntary_switches: i64,
    /// Peak resident set in bytes.
    pub max_rss: u64,
}

impl Usage {
    /// `getrusage(RUSAGE_SELF)`: this whole process, all its threads.
    pub fn of_self() -> Result<Usage> {
        Usage::of(UsageWho::RUSAGE_SELF)
    }

    /// `getrusage(RUSAGE_CHILDREN)`: every child this process has waited for.
    pub fn of_children() -> Result<Usage> {
        Usage::of(UsageWho::RUSAGE_CHILDREN)
    }

    fn of(who: UsageWho) -> Result<Usage> {
        let u = getrusage(who).map_err(Error::sys("getrusage"))?;
        let secs = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 + t.tv_usec() as f64 / 1e6;
        Ok(Usage {
            user: secs(u.user_time()),
            system: secs(u.system_time()),
            minor_faults: u.minor_page_faults(),
            major_faults: u.major_page_faults(),
            voluntary_switches: u.voluntary_context_switches(),
            involuntary_switches: u.involuntary_context_switches(),
            // Linux reports ru_maxrss in KiB.
            max_rss: u.max_rss().max(0) as u64 * 1024,
        })
    }

    /// What happened between `earlier` and `self` (the peak RSS stays the later one).
    pub fn since(&self, earlier: &Usage) -> Usage {
        Usage {
            user: self.user - earlier.user,
            system: self.system - earlier.system,
            minor_faults: self.minor_faults - earlier.minor_faults,
            major_faults: self.major_faults - earlier.major_faults,
            voluntary_switches: self.voluntary_switches - earlier.voluntary_switches,
            involuntary_switches: self.involuntary_switches - earlier.involuntary_switches,
            max_rss: self.max_rss,
        }
    }

    /// User plus system CPU time.
    pub fn cpu(&self) -> f64 {
        self.user + self.system
    }
}

/// This process's resident memory now, in bytes, from `/proc/self/status`.
pub fn rss_bytes() -> Result<u64> {
    Ok(crate::proc::self_status()?.vm_rss)
}

/// The size of one page of memory (4 KiB on most machines).
pub fn page_size() -> usize {
    nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
        .ok()
        .flatten()
        .map_or(4096, |v| v as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_percentiles_of_known_samples() {
        let s = Stats::from_samples(vec![5.0, 1.0, 3.0, 2.0, 4.0]).unwrap();
        assert_eq!((s.trials, s.median, s.min, s.max), (5, 3.0, 1.0, 5.0));
        assert!((s.p10 - 1.4).abs() < 1e-9, "{}", s.p10);
        assert!((s.p90 - 4.6).abs() < 1e-9, "{}", s.p90);
        let even = Stats::from_samples(vec![1.0, 2.0, 3.0, 10.0]).unwrap();
        assert_eq!(even.median, 2.5);
    }

    #[test]
    fn one_outlier_moves_the_mean_not_the_median() {
        let mut v = vec![1.0; 9];
        v.push(1000.0);
        let s = Stats::from_samples(v).unwrap();
        assert_eq!(s.median, 1.0);
        assert_eq!(s.max, 1000.0);
    }

    #[test]
    fn empty_or_nan_samples_give_no_stats() {
        assert_eq!(Stats::from_samples(vec![]), None);
        assert_eq!(Stats::from_samples(vec![f64::NAN]), None);
        assert!(ratio(1.0, 0.0).is_nan());
    }

    #[test]
    fn time_trials_runs_warmup_plus_trials_and_stops_on_error() {
        let mut calls = 0;
        let s = time_trials::<Error>(2, 5, || {
            calls += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!((calls, s.trials), (7, 5));
        let mut calls = 0;
        let err = time_trials(0, 5, || {
            calls += 1;
            if calls == 3 {
                Err(Error::Invalid {
                    what: "x",
                    reason: "y".into(),
                })
            } else {
                Ok(())
            }
        });
        assert!(err.is_err());
        assert_eq!(calls, 3);
        assert!(time_trials::<Error>(0, 0, || Ok(())).is_err());
    }

    /// CPU time (user + system) of the calling thread alone, in seconds.
    fn thread_cpu() -> f64 {
        let u = getrusage(UsageWho::RUSAGE_THREAD).unwrap();
        let secs = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 + t.tv_usec() as f64 / 1e6;
        secs(u.user_time()) + secs(u.system_time())
    }

    #[test]
    fn usage_counts_cpu_time_spent() {
        // Spin until this thread has used 30 ms of CPU, by its own clock: on a busy
        // machine that takes longer, but it is always 30 ms of CPU. The whole process
        // (this thread, and whatever else runs in it) used at least that much.
        let before = Usage::of_self().unwrap();
        let thread_before = thread_cpu();
        // Guards against a thread clock that never moves: 30 ms of CPU take far less.
        let start = Instant::now();
        let mut x = 0u64;
        while thread_cpu() - thread_before < 0.030 {
            assert!(
                start.elapsed().as_secs() < 60,
                "the thread's CPU time stays put"
            );
            for _ in 0..1000 {
                x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
            }
        }
        let spent = Usage::of_self().unwrap().since(&before);
        // (Allowing 5 ms for how the kernel rounds and splits the figures it reports.)
        assert!(spent.cpu() >= 0.025, "{spent:?}");
        assert!(rss_bytes().unwrap() > 0);
        assert!(page_size() >= 4096);
    }
}
