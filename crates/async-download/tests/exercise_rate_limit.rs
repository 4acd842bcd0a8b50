//! Graded tests for exercise `async-download/rate-limit`, on tokio's paused clock: each
//! test records when each `acquire` returned, exactly, without waiting for real.

mod common;
use common::paused;

use std::time::Duration;

use async_download::exercises::rate_limit::RateLimiter;
use tokio::time::{Instant, sleep};

const MS: Duration = Duration::from_millis(1);

/// When each of `n` back-to-back `acquire`s returned, in ms since `start`.
async fn times(limiter: &mut RateLimiter, n: usize, start: Instant) -> Vec<u128> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        limiter.acquire().await;
        out.push(start.elapsed().as_millis());
    }
    out
}

#[test]
fn a_burst_goes_at_once_then_one_per_interval() {
    let got = paused("acquire", async {
        let start = Instant::now();
        let mut limiter = RateLimiter::new(100 * MS, 3);
        times(&mut limiter, 7, start).await
    });
    assert_eq!(got, [0, 0, 0, 100, 200, 300, 400]);
}

#[test]
fn over_a_long_run_the_rate_is_one_per_interval() {
    let got = paused("acquire", async {
        let start = Instant::now();
        let mut limiter = RateLimiter::new(10 * MS, 5);
        times(&mut limiter, 500, start).await
    });
    assert_eq!(got[..5], [0; 5]);
    assert_eq!(got[5..], (1..=495).map(|k| k * 10).collect::<Vec<u128>>());
}

#[test]
fn rest_refills_the_bucket_but_never_beyond_burst() {
    let got = paused("acquire", async {
        let start = Instant::now();
        let mut limiter = RateLimiter::new(100 * MS, 3);
        let mut got = times(&mut limiter, 3, start).await; // empty now
        sleep(Duration::from_secs(1)).await; // ten intervals: the bucket holds three
        got.extend(times(&mut limiter, 5, start).await);
        got
    });
    assert_eq!(got, [0, 0, 0, 1000, 1000, 1000, 1100, 1200]);
}

#[test]
fn a_short_rest_refills_one_token_per_whole_interval() {
    let got = paused("acquire", async {
        let start = Instant::now();
        let mut limiter = RateLimiter::new(100 * MS, 3);
        let mut got = times(&mut limiter, 3, start).await;
        sleep(200 * MS).await; // two tokens dripped in
        got.extend(times(&mut limiter, 3, start).await);
        sleep(150 * MS).await; // one and a half
        got.extend(times(&mut limiter, 2, start).await);
        got
    });
    // After the second rest (at 450 ms): one token, the next at 500 ms (it drips on
    // the 100 ms beat, not 100 ms after the rest ended).
    assert_eq!(got, [0, 0, 0, 200, 200, 300, 450, 500]);
}

#[test]
fn burst_zero_counts_as_one_and_a_zero_interval_never_waits() {
    let (one_at_a_time, free) = paused("acquire", async {
        let start = Instant::now();
        let mut limiter = RateLimiter::new(100 * MS, 0);
        let one_at_a_time = times(&mut limiter, 3, start).await;
        let start = Instant::now();
        let mut free = RateLimiter::new(Duration::ZERO, 1);
        (one_at_a_time, times(&mut free, 1000, start).await)
    });
    assert_eq!(one_at_a_time, [0, 100, 200]);
    assert!(free.iter().all(|&t| t == 0), "a zero interval never waits");
}
