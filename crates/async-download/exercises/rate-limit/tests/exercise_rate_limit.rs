//! Graded tests for exercise `async-download/rate-limit`, on tokio's paused clock: each
//! test records when each `acquire` returned, exactly, without waiting for real, and
//! how many times it was polled: waiting for a token is one sleep, not a loop that
//! looks again every millisecond. Also the edges: a rest that overfills the bucket, a
//! rest of 2^32 intervals, the largest `burst`.

#[path = "../../../tests/common/mod.rs"]
mod common;
use common::{paused, polls_until_ready};

use std::future::Future;
use std::task::Poll;
use std::time::Duration;

use async_download_rate_limit::RateLimiter;
use tokio::time::{Instant, sleep};

const MS: Duration = Duration::from_millis(1);

/// The most polls one `acquire` needs: one, and one more when the token it sleeps for
/// drips in (one to spare).
const MOST_POLLS: usize = 3;

/// Awaits one `acquire`; fails the test if it is polled more than [`MOST_POLLS`] times,
/// which only a loop that wakes itself to look again (or spins) needs.
async fn acquire(limiter: &mut RateLimiter) {
    let (done, polls) = polls_until_ready(limiter.acquire(), MOST_POLLS + 1).await;
    assert!(
        done.is_some() && polls <= MOST_POLLS,
        "acquire was polled more than {MOST_POLLS} times: wait with one sleep until the \
         next token drips in, not in a loop that looks again and again"
    );
}

/// When each of `n` back-to-back `acquire`s returned, in ms since `start`.
async fn times(limiter: &mut RateLimiter, n: usize, start: Instant) -> Vec<u128> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        acquire(limiter).await;
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

#[test]
fn waiting_for_a_token_is_one_sleep_not_a_polling_loop() {
    // A token a second: the second acquire waits 1 s, and is polled twice (when called,
    // and when its token drips in), not once per millisecond.
    let (polls, waited) = paused("acquire", async {
        let mut limiter = RateLimiter::new(Duration::from_secs(1), 1);
        limiter.acquire().await;
        let start = Instant::now();
        let (done, polls) = polls_until_ready(limiter.acquire(), 10_000).await;
        assert!(done.is_some(), "acquire never returned");
        (polls, start.elapsed())
    });
    assert_eq!(waited, Duration::from_secs(1));
    assert!(
        polls <= MOST_POLLS,
        "acquire was polled {polls} times while it waited 1 s for one token"
    );
}

#[test]
fn a_full_bucket_saves_no_partial_interval() {
    let got = paused("acquire", async {
        let start = Instant::now();
        let mut limiter = RateLimiter::new(100 * MS, 3);
        let mut got = times(&mut limiter, 3, start).await;
        // Ten and a half intervals: the bucket was full long before, so the half does
        // not count, and the next token drips in a whole interval after 1050 ms.
        sleep(1050 * MS).await;
        got.extend(times(&mut limiter, 5, start).await);
        got
    });
    assert_eq!(got, [0, 0, 0, 1050, 1050, 1050, 1150, 1250]);
}

#[test]
fn a_bucket_full_since_it_was_made_saves_no_partial_interval() {
    let got = paused("acquire", async {
        let start = Instant::now();
        let mut limiter = RateLimiter::new(100 * MS, 3);
        // Full from the start, and untouched for half an interval: that half does not
        // count either, so the fourth token drips in a whole interval after 50 ms.
        sleep(50 * MS).await;
        times(&mut limiter, 5, start).await
    });
    assert_eq!(got, [50, 50, 50, 150, 250]);
}

#[test]
fn a_rest_of_two_to_the_32_intervals_fills_the_bucket() {
    // With a 1 ns interval, a rest of 2^32 ns (4.3 s) is 2^32 whole intervals: more
    // than a u32 holds.
    let (rested, next) = paused("acquire", async {
        let mut limiter = RateLimiter::new(Duration::from_nanos(1), 3);
        for _ in 0..3 {
            acquire(&mut limiter).await;
        }
        tokio::time::advance(Duration::from_nanos(1 << 32)).await;
        let start = Instant::now();
        let mut rested = Vec::new();
        for _ in 0..3 {
            acquire(&mut limiter).await;
            rested.push(start.elapsed());
        }
        acquire(&mut limiter).await;
        (rested, start.elapsed())
    });
    assert_eq!(
        rested,
        [Duration::ZERO; 3],
        "after 2^32 intervals, the bucket is full"
    );
    assert!(next > Duration::ZERO, "then the next token is waited for");
}

#[test]
fn the_largest_burst_never_overflows() {
    let got = paused("acquire", async {
        let start = Instant::now();
        let mut limiter = RateLimiter::new(100 * MS, u32::MAX);
        let mut got = times(&mut limiter, 2, start).await;
        // Two tokens were taken; three drip in: one more than the bucket has room for.
        sleep(300 * MS).await;
        got.extend(times(&mut limiter, 3, start).await);
        got
    });
    assert_eq!(got, [0, 0, 300, 300, 300]);
}

#[test]
fn an_acquire_dropped_while_it_waits_takes_no_token() {
    let got = paused("acquire", async {
        let start = Instant::now();
        let mut limiter = RateLimiter::new(100 * MS, 1);
        let mut got = times(&mut limiter, 1, start).await; // empty now
        {
            // Polled by reference, so that it can be seen waiting, then dropped (as a
            // timeout would) before its token drips in at 100 ms.
            let mut waiting = std::pin::pin!(limiter.acquire());
            let polled = std::future::poll_fn(|cx| Poll::Ready(waiting.as_mut().poll(cx))).await;
            assert!(polled.is_pending(), "no token yet: acquire must wait");
            sleep(60 * MS).await;
            assert!(
                std::future::poll_fn(|cx| Poll::Ready(waiting.as_mut().poll(cx)))
                    .await
                    .is_pending(),
                "still no token at 60 ms"
            );
        }
        // At 100 ms the token drips in: the next call gets it then, as if the dropped
        // call had never been made.
        sleep(40 * MS).await;
        got.extend(times(&mut limiter, 2, start).await);
        got
    });
    assert_eq!(
        got,
        [0, 100, 200],
        "a dropped acquire must leave the token it waited for"
    );
}
