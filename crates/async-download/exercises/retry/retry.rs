//! Exercise `async-download/retry`: try again, later each time, but not forever.
//!
//! A download that fails is often worth another try: the server was busy (503), the
//! connection was reset, a timeout struck. Trying again *at once* is the worst answer:
//! a thousand clients that all failed together retry together, and the server that was
//! drowning drowns again. So each retry waits, twice as long as the one before
//! (exponential backoff), up to a ceiling (nobody waits an hour for a document), and
//! each client waits a slightly different time (jitter), so that the crowd spreads out.
//!
//! The jitter here is "equal jitter": the wait is half the ceiling of that attempt, plus
//! a random part of the other half. Unlike "full jitter" (anywhere from zero to the
//! ceiling), a retry never comes at once: the server is always given at least half the
//! time to recover, and the clients are still spread over the other half.
//!
//! Some failures are not worth retrying at all (404: the document does not exist; a
//! bad URL), and some servers say how long to wait (`Retry-After` on a 503): the error
//! decides, through the [`Retryable`] trait.

// In your copy the body is `todo!()` and ignores its arguments until you write it:
// no warnings for that.
#![allow(unused_variables, unused_mut, dead_code)]

use std::future::Future;
use std::time::Duration;

/// The wait before the retry that follows failed attempt number `attempt` (1 = the
/// first attempt failed), with equal jitter:
///
/// ```text
/// ceiling = min(max, base * 2^(attempt - 1))
/// wait    = ceiling / 2 + (ceiling / 2) * jitter
/// ```
///
/// - `jitter` is a random number in `[0, 1)`; a value outside is clamped into
///   `[0, 1]` (and NaN counts as 0), so the wait is always within
///   `[ceiling / 2, ceiling]`.
/// - `attempt` 0 counts as 1.
/// - Never panics and never overflows, whatever the attempt (`u32::MAX` included) and
///   however long `base` and `max` are (`Duration::MAX` included): where
///   `base * 2^(attempt - 1)` would overflow, the ceiling simply stays at `max`.
///
/// With `base` = 100 ms, `max` = 1 s and `jitter` = 0: 50 ms, 100 ms, 200 ms, 400 ms,
/// 500 ms, 500 ms ...
pub fn backoff(attempt: u32, base: Duration, max: Duration, jitter: f64) -> Duration {
    // BEGIN SOLUTION
    // The ceiling doubles from `base` once per failed attempt after the first, and stops
    // at `max`. Doubling the Duration itself (saturating, then capped) never overflows,
    // whereas a factor 2^(attempt - 1) held in an integer runs out (a u32 at attempt 33)
    // while base * factor can still be below `max` (a base of 1 ns). After 94 doublings
    // a ceiling of 1 ns or more would be 2^94 ns or more, past Duration::MAX, so it has
    // reached `max` (and a zero one stays zero): more doublings change nothing, and
    // stopping at 94 keeps attempt u32::MAX quick.
    let doublings = (attempt.max(1) - 1).min(94);
    let mut ceiling = base.min(max);
    for _ in 0..doublings {
        ceiling = ceiling.saturating_mul(2).min(max);
    }
    let jitter = if jitter.is_nan() {
        0.0
    } else {
        jitter.clamp(0.0, 1.0)
    };
    let half = ceiling / 2;
    half + half.mul_f64(jitter)
    // END SOLUTION
}

/// What a failure says about trying again.
pub trait Retryable {
    /// Whether another attempt could succeed (a 503, a reset connection, a timeout),
    /// or not (a 404, a bad URL).
    fn is_retryable(&self) -> bool;

    /// How long the server asked to wait (its `Retry-After`), if it did.
    fn retry_after(&self) -> Option<Duration> {
        None
    }
}

/// How many times to retry, and how long to wait in between (see [`backoff`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Attempts after the first one: at most `retries + 1` attempts in all.
    pub retries: u32,
    pub base: Duration,
    pub max: Duration,
}

/// Runs `op` until it succeeds, fails with an error that is not retryable, or has been
/// tried `policy.retries + 1` times; returns its first success or its last error.
///
/// - `op` is called with the attempt number: 1, 2, 3 ... (a fresh future each time: a
///   retry starts over).
/// - After failed attempt number `n`, if another is allowed and the error is
///   retryable, it waits (`tokio::time::sleep`) for the error's `retry_after()` when it
///   has one, but never longer than `policy.max`; otherwise for
///   `backoff(n, policy.base, policy.max, jitter())`, calling `jitter` once per wait.
/// - An error that is not retryable is returned at once, without waiting; no wait
///   follows the last attempt either.
pub async fn retry<T, E, F, Fut>(
    policy: &Policy,
    mut jitter: impl FnMut() -> f64,
    mut op: F,
) -> Result<T, E>
where
    E: Retryable,
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    // BEGIN SOLUTION
    let mut attempt = 1;
    loop {
        let error = match op(attempt).await {
            Ok(value) => return Ok(value),
            Err(error) => error,
        };
        if attempt > policy.retries || !error.is_retryable() {
            return Err(error);
        }
        let wait = match error.retry_after() {
            Some(asked) => asked.min(policy.max),
            None => backoff(attempt, policy.base, policy.max, jitter()),
        };
        tokio::time::sleep(wait).await;
        attempt += 1;
    }
    // END SOLUTION
}
