//! Graded tests for exercise `async-download/retry`: `backoff`'s arithmetic (up to the
//! largest attempts and durations, and from a base of 1 ns, which keeps doubling far
//! past attempt 33), then `retry` on tokio's paused clock, which makes every wait exact
//! and instant: the attempts, the wait before each, the moment `retry` returns (no wait
//! after the last attempt or a fatal error) and which error it returns.
//!
//! Every check names what it tried (the call to `backoff`, or the policy and what each
//! attempt of the operation returns) and the rule of the task it checks
//! ([`graded::case`]); a panic in `backoff` or `retry` is reported as one, with that case.

#[path = "../../../tests/common/mod.rs"]
mod common;
use common::{paused, run_async};

use std::cell::RefCell;
use std::time::Duration;

use async_download_retry::{Policy, Retryable, backoff, retry};
use graded::{Case, scene};
use tokio::time::Instant;

const MS: Duration = Duration::from_millis(1);

/// A failure of the test's operation.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Failure {
    /// Worth another try (a 503, a reset connection).
    Busy,
    /// Worth another try, after what the server asked.
    BusyFor(Duration),
    /// Worth another try; says which attempt failed, so that the last error cannot be
    /// mistaken for another.
    BusyAt(u32),
    /// Not worth another try (a 404).
    Gone,
    /// Not worth another try, though it carries a Retry-After.
    GoneFor(Duration),
}

impl Retryable for Failure {
    fn is_retryable(&self) -> bool {
        !matches!(self, Failure::Gone | Failure::GoneFor(_))
    }
    fn retry_after(&self) -> Option<Duration> {
        match self {
            Failure::BusyFor(d) | Failure::GoneFor(d) => Some(*d),
            _ => None,
        }
    }
}

fn close(a: Duration, b: Duration) -> bool {
    a.abs_diff(b) <= Duration::from_micros(1)
}

/// A call to `backoff`, as a case's input.
fn backoff_call(attempt: u32, base: Duration, max: Duration, jitter: f64) -> String {
    format!("backoff({attempt}, {base:?}, {max:?}, {jitter})")
}

/// Calls `backoff` and checks that it gives `want`, within a microsecond (the jitter's
/// part may be computed with floats), for the task's `rule`. A failure points at the
/// line that called it (`track_caller`), not at this helper.
#[track_caller]
fn backoff_gives(
    attempt: u32,
    base: Duration,
    max: Duration,
    jitter: f64,
    rule: &str,
    want: Duration,
) {
    let c = scene(backoff_call(attempt, base, max, jitter), rule);
    let got = c.run(|| backoff(attempt, base, max, jitter));
    if !close(got, want) {
        c.eq(got, want); // fails, showing both
    }
}

#[test]
fn backoff_doubles_from_half_the_base_up_to_the_cap() {
    let (base, max) = (100 * MS, 1000 * MS);
    // Jitter 0: half of each ceiling (100, 200, 400, 800, then 1000, 1000, 1000 ms).
    let rule = "ceiling = min(max, base * 2^(attempt - 1)); with jitter 0 the wait is ceiling / 2";
    for (attempt, ms) in (1..=7).zip([50, 100, 200, 400, 500, 500, 500]) {
        backoff_gives(attempt, base, max, 0.0, rule, ms * MS);
    }
    backoff_gives(0, base, max, 0.0, "attempt 0 counts as 1", 50 * MS);
}

#[test]
fn backoff_jitter_adds_part_of_the_other_half() {
    let (base, max) = (100 * MS, 1000 * MS);
    // Attempt 3: ceiling 400 ms, wait in [200, 400).
    let rule = "wait = ceiling / 2 + (ceiling / 2) * jitter, the ceiling of attempt 3 being 400ms";
    backoff_gives(3, base, max, 0.5, rule, 300 * MS);
    backoff_gives(3, base, max, 0.25, rule, 250 * MS);
    let c = scene(
        backoff_call(3, base, max, 0.999_999),
        "a jitter just below 1 gives a wait just below the ceiling (400ms)",
    );
    let almost = c.run(|| backoff(3, base, max, 0.999_999));
    c.check(almost < 400 * MS && almost > 399 * MS, almost);
    backoff_gives(
        9,
        base,
        max,
        0.5,
        "at the cap too: the ceiling is max (1s), wait = ceiling / 2 + (ceiling / 2) * jitter",
        750 * MS,
    );
    // Every jitter in [0, 1) gives a wait in [ceiling/2, ceiling].
    for attempt in 1..=12 {
        let ceiling = (base * 2u32.pow(attempt - 1)).min(max);
        for i in 0..100 {
            let jitter = i as f64 / 100.0;
            let c = scene(
                backoff_call(attempt, base, max, jitter),
                format!(
                    "a jitter in [0, 1) gives a wait in [ceiling / 2, ceiling] = [{:?}, \
                     {ceiling:?}]",
                    ceiling / 2
                ),
            );
            let wait = c.run(|| backoff(attempt, base, max, jitter));
            c.check(wait >= ceiling / 2 && wait <= ceiling, wait);
        }
    }
}

#[test]
fn backoff_never_overflows_and_clamps_its_jitter() {
    let (base, max) = (100 * MS, Duration::from_secs(10));
    for attempt in [31, 32, 33, 64, 1000, u32::MAX] {
        backoff_gives(
            attempt,
            base,
            max,
            0.0,
            "whatever the attempt, the ceiling stops at max, with no overflow or panic",
            max / 2,
        );
    }
    let cases = [
        (-3.0, 100, "a negative jitter counts as 0"),
        (f64::NAN, 100, "NaN counts as 0"),
        (7.0, 200, "a jitter above 1 counts as 1"),
    ];
    for (jitter, ms, rule) in cases {
        backoff_gives(2, base, max, jitter, rule, ms * MS);
    }
}

#[test]
fn backoff_never_overflows_with_the_longest_durations() {
    // base * 2^(attempt - 1) overflows a Duration long before 2^(attempt - 1) does.
    let huge = Duration::from_secs(u64::MAX / 3);
    let rule = "however long base and max are, the ceiling stops at max, with no overflow or panic";
    for (base, max, attempt, want) in [
        (huge, Duration::MAX, 3, Duration::MAX / 2),
        (huge, Duration::MAX, 64, Duration::MAX / 2),
        (huge, Duration::from_secs(10), 5, Duration::from_secs(5)),
        (Duration::MAX, Duration::MAX, 1, Duration::MAX / 2),
        (Duration::MAX, Duration::MAX, 2, Duration::MAX / 2),
        (Duration::MAX, 100 * MS, 2, 50 * MS),
    ] {
        backoff_gives(attempt, base, max, 0.0, rule, want);
    }
    // With all the jitter: the whole ceiling, still no overflow.
    let c = scene(
        backoff_call(3, huge, Duration::MAX, 1.0),
        "jitter 1 at the largest ceiling: a wait in [Duration::MAX / 2, Duration::MAX], with \
         no overflow",
    );
    let wait = c.run(|| backoff(3, huge, Duration::MAX, 1.0));
    c.check(wait >= Duration::MAX / 2 && wait <= Duration::MAX, wait);
}

/// `n` nanoseconds as a Duration, for `n` up to Duration::MAX's.
fn nanos(n: u128) -> Duration {
    let secs = u64::try_from(n / 1_000_000_000).expect("at most Duration::MAX");
    Duration::new(secs, (n % 1_000_000_000) as u32)
}

#[test]
fn backoff_keeps_doubling_from_a_short_base_until_max() {
    // From a base of 1 ns, the ceiling of attempt n is 2^(n - 1) ns: it passes 2^32 ns
    // (4.3 s) at attempt 34 and Duration::MAX only at attempt 95. A factor 2^(n - 1)
    // held in a u32 stops at u32::MAX from attempt 33: the waits would stop growing at
    // about 2.1 s, far below either cap.
    let base = Duration::from_nanos(1);
    let rule = "ceiling = min(max, base * 2^(attempt - 1)) for any attempt: from 1 ns it \
                doubles past 2^32 ns until it reaches max";
    for max in [Duration::from_secs(3600), Duration::MAX] {
        for attempt in (1..=100).chain([1000, u32::MAX]) {
            // 2^(attempt - 1) ns, capped; a shift of 128 or more (None) is past any max.
            let ceiling = match 1u128.checked_shl(attempt - 1) {
                Some(ns) if ns < max.as_nanos() => nanos(ns),
                _ => max,
            };
            backoff_gives(attempt, base, max, 0.0, rule, ceiling / 2);
        }
    }
}

/// What `retry` did: the attempt numbers `op` was called with, the paused time of
/// each call since the start, and the time `retry` returned.
#[derive(Debug, Default)]
struct Log {
    attempts: Vec<u32>,
    at: Vec<Duration>,
    returned_at: Duration,
}

/// A run of `retry`, as a case's input: the policy, the jitter, what the operation does.
fn run_of(policy: Policy, jitter: f64, op: &str) -> String {
    format!("retry with {policy:?}, jitter always {jitter}; {op}")
}

/// Runs `retry` with `policy` and a jitter that always returns `jitter`, over an
/// operation whose attempt `n` gives `outcome(n)`. A panic in `retry`, or a run that
/// never ends, fails case `c`.
#[track_caller]
fn run(
    c: &Case,
    policy: Policy,
    jitter: f64,
    outcome: impl Fn(u32) -> Result<&'static str, Failure>,
) -> (Result<&'static str, Failure>, Log) {
    paused(c, async move {
        let start = Instant::now();
        let log = RefCell::new(Log::default());
        let result = run_async(
            c,
            retry(
                &policy,
                || jitter,
                |n| {
                    let mut log = log.borrow_mut();
                    log.attempts.push(n);
                    log.at.push(start.elapsed());
                    std::future::ready(outcome(n))
                },
            ),
        )
        .await;
        let mut log = log.into_inner();
        log.returned_at = start.elapsed();
        (result, log)
    })
}

/// The waits between attempts.
fn gaps(at: &[Duration]) -> Vec<Duration> {
    at.windows(2).map(|w| w[1] - w[0]).collect()
}

#[test]
fn a_first_success_is_returned_at_once() {
    let policy = Policy {
        retries: 3,
        base: 100 * MS,
        max: Duration::from_secs(1),
    };
    let c = scene(
        run_of(policy, 0.0, "attempt 1 succeeds with \"doc\""),
        "stop on success: its value, after one attempt, at once",
    );
    let (result, log) = run(&c, policy, 0.0, |_| Ok("doc"));
    c.eq(result, Ok("doc"));
    c.rule("op is called with attempt 1, once")
        .eq(log.attempts, vec![1]);
    c.rule("the first attempt is made at once")
        .eq(log.at, vec![Duration::ZERO]);
    c.rule("a success is returned at once, without a wait")
        .eq(log.returned_at, Duration::ZERO);
}

#[test]
fn retries_wait_longer_each_time_then_succeed() {
    let policy = Policy {
        retries: 5,
        base: 100 * MS,
        max: Duration::from_secs(10),
    };
    let c = scene(
        run_of(
            policy,
            0.0,
            "attempts 1 to 3 fail with Busy (retryable), 4 succeeds",
        ),
        "call op with attempt 1, 2, ...; stop on success",
    );
    let (result, log) = run(&c, policy, 0.0, |n| {
        if n < 4 { Err(Failure::Busy) } else { Ok("doc") }
    });
    c.eq(result, Ok("doc"));
    c.rule("op gets the attempt number, from 1")
        .eq(log.attempts, vec![1, 2, 3, 4]);
    c.rule("the wait after failed attempt n is backoff(n, base, max, jitter)")
        .eq(gaps(&log.at), vec![50 * MS, 100 * MS, 200 * MS]);
}

#[test]
fn attempts_are_retries_plus_one_and_the_last_error_is_returned() {
    let policy = Policy {
        retries: 5,
        base: 100 * MS,
        max: 300 * MS,
    };
    let c = scene(
        run_of(policy, 0.0, "every attempt fails with Busy (retryable)"),
        "stop after retries + 1 attempts: 6",
    );
    let (result, log) = run(&c, policy, 0.0, |_| Err(Failure::Busy));
    c.rule("its last error is returned")
        .eq(result, Err(Failure::Busy));
    c.eq(log.attempts, vec![1, 2, 3, 4, 5, 6]);
    // Capped: the ceiling stops at 300 ms, so the wait at 150 ms (jitter 0).
    c.rule("the waits are backoff(1..=5), the ceiling capped at max (300ms)")
        .eq(
            gaps(&log.at),
            [50, 100, 150, 150, 150].map(|ms| ms * MS).to_vec(),
        );
    c.rule("the last attempt is made at 600ms, after the five waits")
        .eq(log.at.last().copied(), Some(600 * MS));
    c.rule("no wait after the last attempt: retry returns as soon as it failed (at 600ms)")
        .eq(log.returned_at, 600 * MS);

    let none = Policy {
        retries: 0,
        ..policy
    };
    let c = scene(
        run_of(none, 0.0, "every attempt fails with Busy (retryable)"),
        "retries 0: one attempt, its error returned at once, no wait",
    );
    let (result, log) = run(&c, none, 0.0, |_| Err(Failure::Busy));
    c.eq(
        (result, log.attempts, log.returned_at),
        (Err(Failure::Busy), vec![1], Duration::ZERO),
    );
}

#[test]
fn the_error_returned_is_the_last_one() {
    let policy = Policy {
        retries: 3,
        base: 100 * MS,
        max: Duration::from_secs(10),
    };
    let c = scene(
        run_of(policy, 0.0, "attempt n fails with BusyAt(n) (retryable)"),
        "after retries + 1 attempts, the last error is returned: that of attempt 4",
    );
    let (result, log) = run(&c, policy, 0.0, |n| Err(Failure::BusyAt(n)));
    c.eq(log.attempts, vec![1, 2, 3, 4]);
    c.eq(result, Err(Failure::BusyAt(4)));
    // A Retry-After on the last attempt asks for a wait that never comes.
    let c = scene(
        run_of(
            policy,
            0.0,
            "attempts 1 to 3 fail with BusyAt(n), attempt 4 with BusyFor(5s) (a Retry-After)",
        ),
        "no wait after the last attempt, even if the server asked for one: the last error, \
         returned at 350ms",
    );
    let (result, log) = run(&c, policy, 0.0, |n| match n {
        4 => Err(Failure::BusyFor(Duration::from_secs(5))),
        n => Err(Failure::BusyAt(n)),
    });
    c.eq(result, Err(Failure::BusyFor(Duration::from_secs(5))));
    c.eq(
        (log.at.last().copied(), log.returned_at),
        (Some(350 * MS), 350 * MS),
    );
}

#[test]
fn the_jitter_is_drawn_for_each_wait() {
    let policy = Policy {
        retries: 3,
        base: 100 * MS,
        max: Duration::from_secs(10),
    };
    // Jitter 0.5: three quarters of each ceiling (100, 200, 400 ms).
    let c = scene(
        run_of(policy, 0.5, "every attempt fails with Busy (retryable)"),
        "each wait is backoff(n, base, max, jitter): 3/4 of the ceilings 100, 200, 400ms \
         (within 1ms)",
    );
    let (_, log) = run(&c, policy, 0.5, |_| Err(Failure::Busy));
    let waited = gaps(&log.at);
    let want = [75, 150, 300].map(|ms| ms * MS).to_vec();
    let near = waited.len() == want.len()
        && waited
            .iter()
            .zip(&want)
            .all(|(got, want)| got.abs_diff(*want) <= MS);
    if !near {
        c.eq(waited, want); // fails, showing both
    }
    // Counts the draws: each wait uses a fresh one.
    let c = scene(
        run_of(policy, 0.0, "every attempt fails with Busy (retryable)"),
        "call jitter once per wait: three waits between four attempts",
    );
    let drawn = paused(&c, async {
        let mut draws = 0;
        let _ = run_async(
            &c,
            retry(
                &policy,
                || {
                    draws += 1;
                    0.0
                },
                |_| std::future::ready(Err::<(), _>(Failure::Busy)),
            ),
        )
        .await;
        draws
    });
    c.eq(drawn, 3);
}

#[test]
fn an_error_that_is_not_retryable_stops_at_once() {
    let policy = Policy {
        retries: 5,
        base: 100 * MS,
        max: Duration::from_secs(10),
    };
    let c = scene(
        run_of(policy, 0.0, "attempt 1 fails with Gone (not retryable)"),
        "an error not worth retrying is returned at once: one attempt, no wait",
    );
    let (result, log) = run(&c, policy, 0.0, |_| Err(Failure::Gone));
    c.eq(
        (result, log.attempts, log.returned_at),
        (Err(Failure::Gone), vec![1], Duration::ZERO),
    );
    let c = scene(
        run_of(
            policy,
            0.0,
            "attempts 1 and 2 fail with Busy (retryable), 3 with Gone (not retryable)",
        ),
        "stop at the first error not worth retrying, and return it at once, without a wait \
         (attempt 3, at 150ms)",
    );
    let (result, log) = run(&c, policy, 0.0, |n| {
        if n < 3 {
            Err(Failure::Busy)
        } else {
            Err(Failure::Gone)
        }
    });
    c.eq(result, Err(Failure::Gone));
    c.eq(log.attempts, vec![1, 2, 3]);
    c.eq(
        (log.at.last().copied(), log.returned_at),
        (Some(150 * MS), 150 * MS),
    );
}

#[test]
fn retry_after_is_honoured_up_to_max() {
    let policy = Policy {
        retries: 3,
        base: 100 * MS,
        max: Duration::from_secs(10),
    };
    let c = scene(
        run_of(
            policy,
            0.0,
            "attempt 1 fails with BusyFor(2s), 2 with BusyFor(60s), 3 with Busy, 4 succeeds",
        ),
        "wait retry_after() when there is one, but never longer than max; else backoff(n): \
         2s, then 60s cut to 10s, then backoff(3) = 200ms",
    );
    let (result, log) = run(&c, policy, 0.0, |n| match n {
        1 => Err(Failure::BusyFor(Duration::from_secs(2))),
        2 => Err(Failure::BusyFor(Duration::from_secs(60))),
        3 => Err(Failure::Busy),
        _ => Ok("doc"),
    });
    c.eq(result, Ok("doc"));
    c.eq(
        gaps(&log.at),
        vec![Duration::from_secs(2), Duration::from_secs(10), 200 * MS],
    );
}

#[test]
fn a_retry_after_shorter_than_the_backoff_is_waited_as_asked() {
    // Backoff alone would wait 500 ms, then 1 s: the server asks for less.
    let policy = Policy {
        retries: 3,
        base: Duration::from_secs(1),
        max: Duration::from_secs(10),
    };
    let c = scene(
        run_of(
            policy,
            0.0,
            "attempt 1 fails with BusyFor(30ms), 2 with BusyFor(0s), 3 succeeds",
        ),
        "a Retry-After is the wait (only capped at max), even when it is shorter than the \
         backoff: 30ms, then 0s",
    );
    let (result, log) = run(&c, policy, 0.0, |n| match n {
        1 => Err(Failure::BusyFor(30 * MS)),
        2 => Err(Failure::BusyFor(Duration::ZERO)),
        _ => Ok("doc"),
    });
    c.eq(result, Ok("doc"));
    c.eq(gaps(&log.at), vec![30 * MS, Duration::ZERO]);
}

#[test]
fn a_retry_after_does_not_lift_the_other_rules() {
    let policy = Policy {
        retries: 2,
        base: 100 * MS,
        max: Duration::from_secs(10),
    };
    // Every attempt asks for 1 s: still retries + 1 attempts, and no wait after the last.
    let c = scene(
        run_of(
            policy,
            0.0,
            "every attempt fails with BusyFor(1s) (a Retry-After)",
        ),
        "a Retry-After does not lift the limit: retries + 1 = 3 attempts, no wait after the \
         last (returned at 2s), its error returned",
    );
    let (result, log) = run(&c, policy, 0.0, |_| {
        Err(Failure::BusyFor(Duration::from_secs(1)))
    });
    c.eq(result, Err(Failure::BusyFor(Duration::from_secs(1))));
    c.eq(log.attempts, vec![1, 2, 3]);
    c.eq(log.returned_at, Duration::from_secs(2));
    // Not retryable, whatever it asks: returned at once.
    let c = scene(
        run_of(
            policy,
            0.0,
            "attempt 1 fails with GoneFor(1s) (not retryable, with a Retry-After)",
        ),
        "an error that is not retryable is returned at once, even with a Retry-After",
    );
    let (result, log) = run(&c, policy, 0.0, |_| {
        Err(Failure::GoneFor(Duration::from_secs(1)))
    });
    c.eq(
        (result, log.attempts, log.returned_at),
        (
            Err(Failure::GoneFor(Duration::from_secs(1))),
            vec![1],
            Duration::ZERO,
        ),
    );
}
