//! Graded tests for exercise `async-download/retry`: `backoff`'s arithmetic (up to the
//! largest attempts and durations), then `retry` on tokio's paused clock, which makes
//! every wait exact and instant: the attempts, the wait before each, the moment `retry`
//! returns (no wait after the last attempt or a fatal error) and which error it returns.

#[path = "../../../tests/common/mod.rs"]
mod common;
use common::paused;

use std::cell::RefCell;
use std::time::Duration;

use async_download_retry::{Policy, Retryable, backoff, retry};
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

/// What `retry` did: the attempt numbers `op` was called with, the paused time of
/// each call since the start, and the time `retry` returned.
#[derive(Debug, Default)]
struct Log {
    attempts: Vec<u32>,
    at: Vec<Duration>,
    returned_at: Duration,
}

/// Runs `retry` with `policy` and a jitter that always returns `jitter`, over an
/// operation whose attempt `n` gives `outcome(n)`.
fn run(
    policy: Policy,
    jitter: f64,
    outcome: impl Fn(u32) -> Result<&'static str, Failure>,
) -> (Result<&'static str, Failure>, Log) {
    paused("retry", async move {
        let start = Instant::now();
        let log = RefCell::new(Log::default());
        let result = retry(
            &policy,
            || jitter,
            |n| {
                let mut log = log.borrow_mut();
                log.attempts.push(n);
                log.at.push(start.elapsed());
                std::future::ready(outcome(n))
            },
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

fn close(a: Duration, b: Duration) -> bool {
    a.abs_diff(b) <= Duration::from_micros(1)
}

#[test]
fn backoff_doubles_from_half_the_base_up_to_the_cap() {
    let (base, max) = (100 * MS, 1000 * MS);
    let waits: Vec<Duration> = (1..=7).map(|n| backoff(n, base, max, 0.0)).collect();
    // Jitter 0: half of each ceiling (100, 200, 400, 800, then 1000, 1000, 1000 ms).
    let want = [50, 100, 200, 400, 500, 500, 500].map(|ms| ms * MS);
    assert!(
        waits.iter().zip(want).all(|(&got, want)| close(got, want)),
        "ceiling = min(max, base * 2^(attempt-1)), wait = ceiling/2 + ...: \
         want {want:?}, got {waits:?}"
    );
    assert!(
        close(backoff(0, base, max, 0.0), 50 * MS),
        "attempt 0 counts as 1"
    );
}

#[test]
fn backoff_jitter_adds_part_of_the_other_half() {
    let (base, max) = (100 * MS, 1000 * MS);
    // Attempt 3: ceiling 400 ms, wait in [200, 400).
    assert!(
        close(backoff(3, base, max, 0.5), 300 * MS),
        "{:?}",
        backoff(3, base, max, 0.5)
    );
    assert!(close(backoff(3, base, max, 0.25), 250 * MS));
    let almost = backoff(3, base, max, 0.999_999);
    assert!(almost < 400 * MS && almost > 399 * MS, "{almost:?}");
    // At the cap too.
    assert!(close(backoff(9, base, max, 0.5), 750 * MS));
    // Every jitter in [0, 1) gives a wait in [ceiling/2, ceiling].
    for attempt in 1..=12 {
        let ceiling = (base * 2u32.pow(attempt - 1)).min(max);
        for i in 0..100 {
            let wait = backoff(attempt, base, max, i as f64 / 100.0);
            assert!(
                wait >= ceiling / 2 && wait <= ceiling,
                "attempt {attempt}, jitter {}: {wait:?} is outside [{:?}, {ceiling:?}]",
                i as f64 / 100.0,
                ceiling / 2
            );
        }
    }
}

#[test]
fn backoff_never_overflows_and_clamps_its_jitter() {
    let (base, max) = (100 * MS, Duration::from_secs(10));
    for attempt in [31, 32, 33, 64, 1000, u32::MAX] {
        let wait = backoff(attempt, base, max, 0.0);
        assert!(close(wait, max / 2), "attempt {attempt}: {wait:?}");
    }
    let cases = [
        (-3.0, 100, "a negative jitter counts as 0"),
        (f64::NAN, 100, "NaN counts as 0"),
        (7.0, 200, "a jitter above 1 counts as 1"),
    ];
    for (jitter, ms, why) in cases {
        let wait = backoff(2, base, max, jitter);
        assert!(close(wait, ms * MS), "{why}: jitter {jitter} gave {wait:?}");
    }
}

#[test]
fn backoff_never_overflows_with_the_longest_durations() {
    // base * 2^(attempt - 1) overflows a Duration long before 2^(attempt - 1) does.
    let huge = Duration::from_secs(u64::MAX / 3);
    for (base, max, attempt, want) in [
        (huge, Duration::MAX, 3, Duration::MAX / 2),
        (huge, Duration::MAX, 64, Duration::MAX / 2),
        (huge, Duration::from_secs(10), 5, Duration::from_secs(5)),
        (Duration::MAX, Duration::MAX, 1, Duration::MAX / 2),
        (Duration::MAX, Duration::MAX, 2, Duration::MAX / 2),
        (Duration::MAX, 100 * MS, 2, 50 * MS),
    ] {
        let wait = backoff(attempt, base, max, 0.0);
        assert!(
            close(wait, want),
            "attempt {attempt}, base {base:?}, max {max:?}: the ceiling stops at max, so \
             the wait is {want:?}, not {wait:?}"
        );
    }
    // With all the jitter: the whole ceiling, still no overflow.
    let wait = backoff(3, huge, Duration::MAX, 1.0);
    assert!(
        wait >= Duration::MAX / 2 && wait <= Duration::MAX,
        "{wait:?}"
    );
}

#[test]
fn a_first_success_is_returned_at_once() {
    let policy = Policy {
        retries: 3,
        base: 100 * MS,
        max: Duration::from_secs(1),
    };
    let (result, log) = run(policy, 0.0, |_| Ok("doc"));
    assert_eq!(result, Ok("doc"));
    assert_eq!(log.attempts, [1]);
    assert_eq!(log.at, [Duration::ZERO]);
    assert_eq!(log.returned_at, Duration::ZERO);
}

#[test]
fn retries_wait_longer_each_time_then_succeed() {
    let policy = Policy {
        retries: 5,
        base: 100 * MS,
        max: Duration::from_secs(10),
    };
    let (result, log) = run(policy, 0.0, |n| {
        if n < 4 { Err(Failure::Busy) } else { Ok("doc") }
    });
    assert_eq!(result, Ok("doc"));
    assert_eq!(
        log.attempts,
        [1, 2, 3, 4],
        "op gets the attempt number, from 1"
    );
    assert_eq!(
        gaps(&log.at),
        [50 * MS, 100 * MS, 200 * MS],
        "the waits are backoff(1..)"
    );
}

#[test]
fn attempts_are_retries_plus_one_and_the_last_error_is_returned() {
    let policy = Policy {
        retries: 5,
        base: 100 * MS,
        max: 300 * MS,
    };
    let (result, log) = run(policy, 0.0, |_| Err(Failure::Busy));
    assert_eq!(result, Err(Failure::Busy));
    assert_eq!(
        log.attempts,
        [1, 2, 3, 4, 5, 6],
        "retries: 5 means 6 attempts"
    );
    // Capped: the ceiling stops at 300 ms, so the wait at 150 ms (jitter 0).
    assert_eq!(gaps(&log.at), [50, 100, 150, 150, 150].map(|ms| ms * MS));
    assert_eq!(*log.at.last().unwrap(), 600 * MS);
    assert_eq!(
        log.returned_at,
        600 * MS,
        "no wait after the last attempt: retry returns as soon as it failed"
    );

    let none = Policy {
        retries: 0,
        ..policy
    };
    let (result, log) = run(none, 0.0, |_| Err(Failure::Busy));
    assert_eq!((result, log.attempts), (Err(Failure::Busy), vec![1]));
    assert_eq!(
        log.returned_at,
        Duration::ZERO,
        "retries: 0: one attempt, no wait"
    );
}

#[test]
fn the_error_returned_is_the_last_one() {
    let policy = Policy {
        retries: 3,
        base: 100 * MS,
        max: Duration::from_secs(10),
    };
    let (result, log) = run(policy, 0.0, |n| Err(Failure::BusyAt(n)));
    assert_eq!(log.attempts, [1, 2, 3, 4]);
    assert_eq!(
        result,
        Err(Failure::BusyAt(4)),
        "the error of the last attempt (4), not of an earlier one"
    );
    // A Retry-After on the last attempt asks for a wait that never comes.
    let (result, log) = run(policy, 0.0, |n| match n {
        4 => Err(Failure::BusyFor(Duration::from_secs(5))),
        n => Err(Failure::BusyAt(n)),
    });
    assert_eq!(result, Err(Failure::BusyFor(Duration::from_secs(5))));
    assert_eq!(
        (log.at.last().copied(), log.returned_at),
        (Some(350 * MS), 350 * MS),
        "no wait after the last attempt, even if the server asked for one"
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
    let (_, log) = run(policy, 0.5, |_| Err(Failure::Busy));
    let want = [75, 150, 300].map(|ms| ms * MS);
    for (got, want) in gaps(&log.at).into_iter().zip(want) {
        assert!(got.abs_diff(want) <= MS, "waited {got:?}, want {want:?}");
    }
    // A jitter that changes: each wait uses a fresh one.
    let drawn = paused("retry", async {
        let mut draws = 0;
        let _ = retry(
            &policy,
            || {
                draws += 1;
                0.0
            },
            |_| std::future::ready(Err::<(), _>(Failure::Busy)),
        )
        .await;
        draws
    });
    assert_eq!(
        drawn, 3,
        "one jitter per wait: three waits between four attempts"
    );
}

#[test]
fn an_error_that_is_not_retryable_stops_at_once() {
    let policy = Policy {
        retries: 5,
        base: 100 * MS,
        max: Duration::from_secs(10),
    };
    let (result, log) = run(policy, 0.0, |_| Err(Failure::Gone));
    assert_eq!(result, Err(Failure::Gone));
    assert_eq!(log.attempts, [1]);
    assert_eq!(
        log.returned_at,
        Duration::ZERO,
        "an error not worth retrying is returned at once, without a wait"
    );
    let (result, log) = run(policy, 0.0, |n| {
        if n < 3 {
            Err(Failure::Busy)
        } else {
            Err(Failure::Gone)
        }
    });
    assert_eq!(result, Err(Failure::Gone));
    assert_eq!(
        log.attempts,
        [1, 2, 3],
        "stops at the first error not worth retrying"
    );
    assert_eq!(log.at.last(), Some(&(150 * MS)));
    assert_eq!(
        log.returned_at,
        150 * MS,
        "returned at once, without a wait"
    );
}

#[test]
fn retry_after_is_honoured_up_to_max() {
    let policy = Policy {
        retries: 3,
        base: 100 * MS,
        max: Duration::from_secs(10),
    };
    let (result, log) = run(policy, 0.0, |n| match n {
        1 => Err(Failure::BusyFor(Duration::from_secs(2))),
        2 => Err(Failure::BusyFor(Duration::from_secs(60))),
        3 => Err(Failure::Busy),
        _ => Ok("doc"),
    });
    assert_eq!(result, Ok("doc"));
    assert_eq!(
        gaps(&log.at),
        [Duration::from_secs(2), Duration::from_secs(10), 200 * MS],
        "Retry-After: 2 s is waited; 60 s is cut to max; without one, backoff(3)"
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
    let (result, log) = run(policy, 0.0, |n| match n {
        1 => Err(Failure::BusyFor(30 * MS)),
        2 => Err(Failure::BusyFor(Duration::ZERO)),
        _ => Ok("doc"),
    });
    assert_eq!(result, Ok("doc"));
    assert_eq!(
        gaps(&log.at),
        [30 * MS, Duration::ZERO],
        "a Retry-After is the wait (only capped at max), even when it is shorter than \
         the backoff"
    );
}

#[test]
fn a_retry_after_does_not_lift_the_other_rules() {
    let policy = Policy {
        retries: 2,
        base: 100 * MS,
        max: Duration::from_secs(10),
    };
    // Every attempt asks for 1 s: still retries + 1 attempts, and no wait after the last.
    let (result, log) = run(policy, 0.0, |_| {
        Err(Failure::BusyFor(Duration::from_secs(1)))
    });
    assert_eq!(result, Err(Failure::BusyFor(Duration::from_secs(1))));
    assert_eq!(log.attempts, [1, 2, 3], "retries: 2 means 3 attempts");
    assert_eq!(log.returned_at, Duration::from_secs(2));
    // Not retryable, whatever it asks: returned at once.
    let (result, log) = run(policy, 0.0, |_| {
        Err(Failure::GoneFor(Duration::from_secs(1)))
    });
    assert_eq!(result, Err(Failure::GoneFor(Duration::from_secs(1))));
    assert_eq!(
        (log.attempts, log.returned_at),
        (vec![1], Duration::ZERO),
        "an error that is not retryable is returned at once, even with a Retry-After"
    );
}
