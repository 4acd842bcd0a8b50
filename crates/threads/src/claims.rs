//! Lesson 2's claims: each a decision over the figures the tour measures, and beside it
//! the figures of a world where it is false (see `procs::claim`).

use procs::claim::{
    ClaimDef, Decision, Inputs, all, at_least, equals, fact, ratio_at_least, ratio_at_most,
    ratio_within,
};

/// Every claim of the lesson, in the order the tour makes them.
pub const ALL: &[ClaimDef] = &[
    THREAD_CHEAPER,
    SMALL_STACK_VIRTUAL,
    SMALL_STACK_RESIDENT,
    RESERVED_NOT_USED,
    WAITING_PROCESS_DEARER,
    LIMIT_REFUSES,
    THOUSAND_NOT_FASTER,
    SWITCHES_CLIMB,
    STRETCH_GROWS,
    WAITS_OVERLAP,
    ATOMIC_FASTER,
    PARALLEL_MAP,
    POOL_OVERLAPS,
    POOL_SURVIVES_PANIC,
];

/// A waiting process costs the machine several times the memory of a waiting thread.
pub const WAITING_PROCESS_DEARER: ClaimDef = ClaimDef {
    id: "waiting-process-dearer",
    decide: |inputs| {
        Ok(Decision::new(
            "a waiting process costs at least 3x the memory of a waiting thread (its own \
             pages and the kernel's for it, counted the same way for both)",
            ratio_at_least(
                inputs.get("memory per waiting process")?,
                inputs.get("memory per waiting thread")?,
                3.0,
            ),
        ))
    },
    wrong: "a process is only a thread with its own address space: no page tables of its own, \
            nothing copied",
    wrong_world: || {
        Inputs::new()
            .with_rounds(
                "memory per waiting process",
                &[40_960.0, 43_008.0, 41_984.0],
                "bytes",
            )
            .with_rounds(
                "memory per waiting thread",
                &[36_864.0, 38_912.0, 37_888.0],
                "bytes",
            )
    },
};

/// A thread is much cheaper to start than a process.
pub const THREAD_CHEAPER: ClaimDef = ClaimDef {
    id: "thread-cheaper",
    decide: |inputs| {
        Ok(Decision::new(
            "a thread is at least 4x cheaper to start than a process (CPU time)",
            ratio_at_least(inputs.get("process")?, inputs.get("thread")?, 4.0),
        ))
    },
    wrong: "a thread is a forked process in disguise: it costs what a process costs",
    wrong_world: || {
        Inputs::new()
            .with_rounds("process", &[410.0, 420.0, 405.0], "µs")
            .with_rounds("thread", &[350.0, 365.0, 340.0], "µs")
    },
};

/// A small stack shrinks what a thread reserves.
pub const SMALL_STACK_VIRTUAL: ClaimDef = ClaimDef {
    id: "small-stack-virtual",
    decide: |inputs| {
        Ok(Decision::new(
            "a 64 KiB stack cuts a thread's virtual size at least 4x",
            ratio_at_least(
                inputs.get("virtual, default stack")?,
                inputs.get("virtual, 64 KiB stack")?,
                4.0,
            ),
        ))
    },
    wrong: "the stack size asked for is ignored: every thread reserves 2 MiB",
    wrong_world: || {
        Inputs::new()
            .with("virtual, default stack", 2_170_000.0, "bytes")
            .with("virtual, 64 KiB stack", 2_170_000.0, "bytes")
    },
};

/// ... but not what it uses.
pub const SMALL_STACK_RESIDENT: ClaimDef = ClaimDef {
    id: "small-stack-resident",
    decide: |inputs| {
        Ok(Decision::new(
            "but not its resident size: an idle thread touches the same few pages either way",
            ratio_within(
                inputs.get("RSS, default stack")?,
                inputs.get("RSS, 64 KiB stack")?,
                0.5,
                2.0,
            ),
        ))
    },
    wrong: "a thread touches its whole stack, so a 2 MiB stack is 2 MiB resident",
    wrong_world: || {
        Inputs::new()
            .with("RSS, default stack", 2_097_152.0, "bytes")
            .with("RSS, 64 KiB stack", 65_536.0, "bytes")
    },
};

/// An idle thread reserves far more than it uses.
pub const RESERVED_NOT_USED: ClaimDef = ClaimDef {
    id: "reserved-not-used",
    decide: |inputs| {
        let n = inputs.value("idle threads")?;
        Ok(Decision::new(
            format!(
                "{n} idle threads reserve at least 20x the memory they use",
                n = procs::tour::fmt_number(n)
            ),
            ratio_at_least(
                inputs.get("virtual per thread")?,
                inputs.get("resident per thread")?,
                20.0,
            ),
        ))
    },
    wrong: "stacks are allocated eagerly: reserved memory is resident memory",
    wrong_world: || {
        Inputs::new()
            .with("idle threads", 10_000.0, "")
            .with("virtual per thread", 2_170_000.0, "bytes")
            .with("resident per thread", 2_110_000.0, "bytes")
    },
};

/// There is a limit, and past it a spawn fails.
pub const LIMIT_REFUSES: ClaimDef = ClaimDef {
    id: "limit-refuses",
    decide: |inputs| {
        let asked = inputs.value("threads asked for")?;
        let started = inputs.value("threads running before the refusal")?;
        let refused = inputs.value("a spawn was refused or the child was killed")?;
        Ok(Decision::new(
            "past the limit, starting a thread fails (in a child; this tour survives)",
            (
                fact(refused == 1.0 && started < asked),
                format!(
                    "the capped child ran {started} of {asked} threads, then {}",
                    if refused == 1.0 {
                        "was refused"
                    } else {
                        "was never refused"
                    }
                ),
            ),
        ))
    },
    wrong: "threads cost no address space: the capped child starts all it asks for",
    wrong_world: || {
        Inputs::new()
            .with("threads asked for", 200.0, "")
            .with("threads running before the refusal", 200.0, "")
            .with("a spawn was refused or the child was killed", 0.0, "")
    },
};

// ANCHOR: thousand_not_faster_decide
/// 1,000 threads are no faster than the core count, and each one's work waits.
pub const THOUSAND_NOT_FASTER: ClaimDef = ClaimDef {
    id: "thousand-not-faster",
    decide: |inputs| {
        let cores = inputs.value("cores")?;
        // By the clock, 1,000 threads can beat `cores` threads only by the share of the
        // cores that other programs took from the `cores` threads (the scheduler gives
        // each thread a fair share, so a thousand threads win more of a busy machine).
        // On an idle machine `cores` threads use every core, and the bar is 1.1x.
        let used = inputs.value("cores kept busy by the cores threads")?;
        let bar = 1.10 * cores / used.clamp(0.1, cores);
        let (by_clock, clock_text) = ratio_at_most(
            inputs.get("throughput, 1,000 threads")?,
            inputs.get("throughput, cores threads")?,
            bar,
        );
        // And why: each thread's work is stretched over the wall time by about how many
        // threads share each core.
        let (waits, stretch_text) =
            at_least(inputs.get("stretch, 1,000 threads")?, 0.25 * 1000.0 / cores);
        Ok(Decision::new(
            format!(
                "1,000 threads are not faster than {cores} (the core count): each waits \
                 for a core most of the time",
                cores = procs::tour::fmt_number(cores)
            ),
            (
                all([by_clock, waits]),
                format!(
                    "by the clock {clock_text}, the bar set by the {used:.2} cores the \
                     {cores} threads kept busy; each thread's work stretched {stretch_text}",
                    cores = procs::tour::fmt_number(cores)
                ),
            ),
        ))
    },
    // ANCHOR_END: thousand_not_faster_decide
    wrong: "1,000 threads that really were faster: as if each had a core of its own",
    wrong_world: || {
        Inputs::new()
            .with("cores", 2.0, "")
            .with("cores kept busy by the cores threads", 1.97, "")
            .with_rounds("throughput, 1,000 threads", &[9_100.0, 9_300.0], "units/s")
            .with_rounds("throughput, cores threads", &[2_550.0, 2_600.0], "units/s")
            .with("stretch, 1,000 threads", 1.05, "x")
    },
};

/// The scheduler switches between the threads.
pub const SWITCHES_CLIMB: ClaimDef = ClaimDef {
    id: "switches-climb",
    decide: |inputs| {
        let cores = inputs.value("cores")?;
        Ok(Decision::new(
            format!(
                "1,000 threads make at least 10x the context switches of {cores}",
                cores = procs::tour::fmt_number(cores)
            ),
            ratio_at_least(
                inputs.get("switches, 1,000 threads")?,
                inputs.get("switches, cores threads")?,
                10.0,
            ),
        ))
    },
    wrong: "threads switched in user space (green threads): no more kernel switches than 2",
    wrong_world: || {
        Inputs::new()
            .with("cores", 2.0, "")
            .with("switches, 1,000 threads", 60.0, "")
            .with("switches, cores threads", 40.0, "")
    },
};

/// Each of many threads waits its turn.
pub const STRETCH_GROWS: ClaimDef = ClaimDef {
    id: "stretch-grows",
    decide: |inputs| {
        let cores = inputs.value("cores")?;
        Ok(Decision::new(
            format!(
                "each of 1,000 threads waits: its work stretches at least 5x more than with {cores}",
                cores = procs::tour::fmt_number(cores)
            ),
            ratio_at_least(
                inputs.get("stretch, 1,000 threads")?,
                inputs.get("stretch, cores threads")?,
                5.0,
            ),
        ))
    },
    wrong: "each thread runs on a core of its own, without waiting",
    wrong_world: || {
        Inputs::new()
            .with("cores", 2.0, "")
            .with("stretch, 1,000 threads", 1.1, "x")
            .with("stretch, cores threads", 1.0, "x")
    },
};

/// Waiting threads need no core: their waits overlap.
pub const WAITS_OVERLAP: ClaimDef = ClaimDef {
    id: "waits-overlap",
    decide: |inputs| {
        Ok(Decision::new(
            "1,000 threads waiting 50 ms each take at most 5x as long as one",
            ratio_at_most(inputs.get("1,000 threads")?, inputs.get("1 thread")?, 5.0),
        ))
    },
    wrong: "waits run one after another (a lock held around each wait)",
    wrong_world: || {
        Inputs::new()
            .with("1,000 threads", 50_200.0, "ms")
            .with("1 thread", 50.2, "ms")
    },
};

/// An atomic beats a Mutex under contention.
pub const ATOMIC_FASTER: ClaimDef = ClaimDef {
    id: "atomic-faster",
    decide: |inputs| {
        Ok(Decision::new(
            "under contention an atomic counter is faster than a Mutex",
            ratio_at_least(inputs.get("Mutex")?, inputs.get("atomic")?, 1.0),
        ))
    },
    wrong: "an atomic that costs more than an uncontended lock",
    wrong_world: || {
        Inputs::new()
            .with_rounds("Mutex", &[20.0, 22.0, 21.0, 23.0, 20.5], "ns/increment")
            .with_rounds("atomic", &[30.0, 31.0, 29.5, 33.0, 30.0], "ns/increment")
    },
};

/// A parallel map keeps the sequential map's results, in order.
pub const PARALLEL_MAP: ClaimDef = ClaimDef {
    id: "parallel-map",
    decide: |inputs| {
        Ok(Decision::new(
            "a parallel map with scoped threads gives the sequential map's results",
            equals(
                inputs.get("items that differ from the sequential map")?,
                0.0,
            ),
        ))
    },
    wrong: "results collected in the order the threads finished, not the input's",
    wrong_world: || Inputs::new().with("items that differ from the sequential map", 1_998.0, ""),
};

/// The pool runs as many jobs at once as it has workers: not fewer, not more.
pub const POOL_OVERLAPS: ClaimDef = ClaimDef {
    id: "pool-overlaps",
    decide: |inputs| {
        let workers = inputs.value("workers")?;
        let (peak, peak_text) = equals(inputs.get("jobs running at once, at most")?, workers);
        // No noise makes a pool faster than its workers allow: a wall time shorter than
        // the jobs' time divided among the workers means more ran at once.
        let (not_faster, wall_text) = at_least(
            inputs.get("wall time")?,
            inputs.value("jobs' own time")? / workers,
        );
        Ok(Decision::new(
            format!("the pool's {workers} workers run {workers} jobs at the same time, never more"),
            (
                all([peak, not_faster]),
                format!("at most {peak_text} jobs at once; wall {wall_text}"),
            ),
        ))
    },
    wrong: "a pool that starts only 2 of its 4 workers",
    wrong_world: || {
        Inputs::new()
            .with("workers", 4.0, "")
            .with("jobs running at once, at most", 2.0, "")
            .with("wall time", 205.0, "ms")
            .with("jobs' own time", 400.0, "ms")
    },
};

/// A panicking job does not take the pool down.
pub const POOL_SURVIVES_PANIC: ClaimDef = ClaimDef {
    id: "pool-survives-panic",
    decide: |inputs| {
        let jobs = inputs.value("jobs submitted after the panic")?;
        let (ran, ran_text) = equals(inputs.get("jobs that ran")?, jobs);
        let (reported, reported_text) = equals(inputs.get("panics reported")?, 1.0);
        Ok(Decision::new(
            "a panicking job is reported and the other jobs still run",
            (
                all([ran, reported]),
                format!("{ran_text} jobs ran; {reported_text} panic reported"),
            ),
        ))
    },
    wrong: "a panic kills its worker, and the jobs queued behind it never run",
    wrong_world: || {
        Inputs::new()
            .with("jobs submitted after the panic", 16.0, "")
            .with("jobs that ran", 12.0, "")
            .with("panics reported", 0.0, "")
    },
};

#[cfg(test)]
mod tests {
    use super::*;
    use procs::claim::Verdict;

    #[test]
    fn every_claim_fails_in_its_wrong_world() {
        let problems = procs::claim::wrong_world_problems(ALL);
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    fn thousand(used: f64, fast: &[f64], slow: &[f64], stretch: f64) -> Verdict {
        THOUSAND_NOT_FASTER
            .judge(
                Inputs::new()
                    .with("cores", 2.0, "")
                    .with("cores kept busy by the cores threads", used, "")
                    .with_rounds("throughput, 1,000 threads", fast, "units/s")
                    .with_rounds("throughput, cores threads", slow, "units/s")
                    .with("stretch, 1,000 threads", stretch, "x"),
            )
            .verdict
    }

    #[test]
    fn a_thousand_threads_may_win_only_the_cores_others_took() {
        // Idle machine: both about equal, each of 1,000 threads waited ~500x.
        assert_eq!(
            thousand(1.98, &[2_500.0, 2_520.0], &[2_540.0, 2_560.0], 480.0),
            Verdict::Held
        );
        // Busy machine: the 2 threads kept only 1.3 cores busy; 1,000 threads won 1.45x.
        assert_eq!(
            thousand(1.3, &[3_600.0, 3_650.0], &[2_500.0, 2_520.0], 600.0),
            Verdict::Held
        );
        // Rounds straddling the bar are too close to call.
        assert_eq!(
            thousand(1.98, &[2_700.0, 3_000.0], &[2_540.0, 2_560.0], 480.0),
            Verdict::TooClose
        );
        // Threads that did not wait: the lesson's reason is missing.
        assert_eq!(
            thousand(1.98, &[2_500.0, 2_520.0], &[2_540.0, 2_560.0], 3.0),
            Verdict::Failed
        );
    }

    #[test]
    fn the_pool_claim_rejects_fewer_and_more_workers_than_it_has() {
        let pool = |peak: f64, wall: f64| {
            POOL_OVERLAPS
                .judge(
                    Inputs::new()
                        .with("workers", 4.0, "")
                        .with("jobs running at once, at most", peak, "")
                        .with("wall time", wall, "ms")
                        .with("jobs' own time", 400.0, "ms"),
                )
                .verdict
        };
        assert_eq!(pool(4.0, 104.0), Verdict::Held);
        // A slow machine stretches the wall time; that is no failure.
        assert_eq!(pool(4.0, 180.0), Verdict::Held);
        assert_eq!(pool(2.0, 205.0), Verdict::Failed);
        assert_eq!(pool(8.0, 52.0), Verdict::Failed);
    }
}
