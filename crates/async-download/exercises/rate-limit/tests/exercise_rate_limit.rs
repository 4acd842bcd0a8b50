//! Graded tests for exercise `async-download/rate-limit`, on tokio's paused clock: each
//! test records when each `acquire` returned, exactly, without waiting for real, and
//! how many times it was polled: waiting for a token is one sleep, not a loop that
//! looks again every millisecond. Also the edges: a rest that overfills the bucket, a
//! rest of 2^32 intervals, the largest `burst`.
//!
//! Every check names the limiter and the calls it tried and the rule of the task it
//! checks ([`graded::scene`]); a panic in `acquire` is reported as one, with that case.

#[path = "../../../tests/common/mod.rs"]
mod common;
use common::{paused, polls_until_ready, run_async};

use std::future::Future;
use std::task::Poll;
use std::time::Duration;

use async_download_rate_limit::RateLimiter;
use graded::{Case, scene};
use tokio::time::{Instant, sleep};

const MS: Duration = Duration::from_millis(1);

/// The most polls one `acquire` needs: one, and one more when the token it sleeps for
/// drips in (one to spare).
const MOST_POLLS: usize = 3;

/// Awaits one `acquire`, for case `c`; fails it if the `acquire` is polled more than
/// [`MOST_POLLS`] times, which only a loop that wakes itself to look again (or spins)
/// needs.
async fn acquire(c: &Case, limiter: &mut RateLimiter) {
    let (done, polls) = polls_until_ready(run_async(c, limiter.acquire()), MOST_POLLS + 1).await;
    if done.is_none() || polls > MOST_POLLS {
        c.rule(
            "wait for a token with one sleep until it drips in, not in a loop that looks \
             again and again",
        )
        .fail_with(&format!(
            "an acquire was polled more than {MOST_POLLS} times"
        ));
    }
}

/// When each of `n` back-to-back `acquire`s returned, in ms since `start`.
async fn times(c: &Case, limiter: &mut RateLimiter, n: usize, start: Instant) -> Vec<u128> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        acquire(c, limiter).await;
        out.push(start.elapsed().as_millis());
    }
    out
}

/// Checks a long list of return times: a failure names the first acquire that returned
/// at another time than `want`'s, which says more than two lists of hundreds.
#[track_caller]
fn first_difference(c: &Case, got: &[u128], want: &[u128]) {
    c.rule(format!("{} acquires", want.len()))
        .eq(got.len(), want.len());
    if let Some(k) = (0..want.len()).find(|&k| got[k] != want[k]) {
        c.fail_with(&format!(
            "acquire number {} returned at {} ms, not at {} ms",
            k + 1,
            got[k],
            want[k]
        ));
    }
}

#[test]
fn a_burst_goes_at_once_then_one_per_interval() {
    let c = scene(
        "RateLimiter::new(100ms, 3), then 7 acquires back to back; when each returned, in ms",
        "a full bucket gives its 3 tokens at once, then one per interval",
    );
    let got = paused(&c, async {
        let start = Instant::now();
        let mut limiter = RateLimiter::new(100 * MS, 3);
        times(&c, &mut limiter, 7, start).await
    });
    c.eq(got, vec![0, 0, 0, 100, 200, 300, 400]);
}

#[test]
fn over_a_long_run_the_rate_is_one_per_interval() {
    let c = scene(
        "RateLimiter::new(10ms, 5), then 500 acquires back to back; when each returned, in ms",
        "5 at once, then one token per whole interval: at 10, 20, ..., 4950 ms",
    );
    let got = paused(&c, async {
        let start = Instant::now();
        let mut limiter = RateLimiter::new(10 * MS, 5);
        times(&c, &mut limiter, 500, start).await
    });
    let want: Vec<u128> = [0; 5]
        .into_iter()
        .chain((1..=495).map(|k| k * 10))
        .collect();
    first_difference(&c, &got, &want);
}

#[test]
fn rest_refills_the_bucket_but_never_beyond_burst() {
    let c = scene(
        "RateLimiter::new(100ms, 3): 3 acquires, a rest of 1s (ten intervals), 5 more; \
         when each returned, in ms",
        "one token per whole interval since refilled_at, at most burst: after the rest, 3 \
         at once (not 10), then one per interval",
    );
    let got = paused(&c, async {
        let start = Instant::now();
        let mut limiter = RateLimiter::new(100 * MS, 3);
        let mut got = times(&c, &mut limiter, 3, start).await; // empty now
        sleep(Duration::from_secs(1)).await; // ten intervals: the bucket holds three
        got.extend(times(&c, &mut limiter, 5, start).await);
        got
    });
    c.eq(got, vec![0, 0, 0, 1000, 1000, 1000, 1100, 1200]);
}

#[test]
fn a_short_rest_refills_one_token_per_whole_interval() {
    // After the second rest (at 450 ms): one token, the next at 500 ms (it drips on
    // the 100 ms beat, not 100 ms after the rest ended).
    let c = scene(
        "RateLimiter::new(100ms, 3): 3 acquires, a rest of 200ms, 3 acquires, a rest of \
         150ms, 2 acquires; when each returned, in ms",
        "one token per whole interval since refilled_at, and the next one drips in at \
         refilled_at + interval (on the 100ms beat)",
    );
    let got = paused(&c, async {
        let start = Instant::now();
        let mut limiter = RateLimiter::new(100 * MS, 3);
        let mut got = times(&c, &mut limiter, 3, start).await;
        sleep(200 * MS).await; // two tokens dripped in
        got.extend(times(&c, &mut limiter, 3, start).await);
        sleep(150 * MS).await; // one and a half
        got.extend(times(&c, &mut limiter, 2, start).await);
        got
    });
    c.eq(got, vec![0, 0, 0, 200, 200, 300, 450, 500]);
}

#[test]
fn burst_zero_counts_as_one_and_a_zero_interval_never_waits() {
    let c = scene(
        "RateLimiter::new(100ms, 0), then 3 acquires back to back; when each returned, in ms",
        "a burst of 0 counts as 1: one token at once, then one per interval",
    );
    let one_at_a_time = paused(&c, async {
        let start = Instant::now();
        let mut limiter = RateLimiter::new(100 * MS, 0);
        times(&c, &mut limiter, 3, start).await
    });
    c.eq(one_at_a_time, vec![0, 100, 200]);
    let c = scene(
        "RateLimiter::new(0s, 1), then 1000 acquires back to back; when each returned, in ms",
        "a zero interval never waits: all at 0 ms",
    );
    let free = paused(&c, async {
        let start = Instant::now();
        let mut free = RateLimiter::new(Duration::ZERO, 1);
        times(&c, &mut free, 1000, start).await
    });
    first_difference(&c, &free, &[0; 1000]);
}

#[test]
fn waiting_for_a_token_is_one_sleep_not_a_polling_loop() {
    // A token a second: the second acquire waits 1 s, and is polled twice (when called,
    // and when its token drips in), not once per millisecond.
    let c = scene(
        "RateLimiter::new(1s, 1): one acquire, then a second one, its polls counted",
        "no token: sleep until the next one drips in (1s later), and be polled once more \
         then, not every so often (at most 3 polls)",
    );
    let (done, polls, waited) = paused(&c, async {
        let mut limiter = RateLimiter::new(Duration::from_secs(1), 1);
        run_async(&c, limiter.acquire()).await;
        let start = Instant::now();
        let (done, polls) = polls_until_ready(run_async(&c, limiter.acquire()), 10_000).await;
        (done, polls, start.elapsed())
    });
    if done.is_none() {
        c.fail_with(&format!("no return after {polls} polls"));
    }
    c.rule("the second acquire returns when its token drips in, 1s later")
        .eq(waited, Duration::from_secs(1));
    if polls > MOST_POLLS {
        c.fail_with(&format!(
            "the second acquire was polled {polls} times while it waited 1s for one token"
        ));
    }
}

#[test]
fn a_full_bucket_saves_no_partial_interval() {
    // Ten and a half intervals: the bucket was full long before, so the half does not
    // count, and the next token drips in a whole interval after 1050 ms.
    let c = scene(
        "RateLimiter::new(100ms, 3): 3 acquires, a rest of 1050ms, 5 more; when each \
         returned, in ms",
        "a full bucket saves no partial interval: refilled_at moves to now, so after the \
         3 at 1050ms the next token drips in at 1150ms",
    );
    let got = paused(&c, async {
        let start = Instant::now();
        let mut limiter = RateLimiter::new(100 * MS, 3);
        let mut got = times(&c, &mut limiter, 3, start).await;
        sleep(1050 * MS).await;
        got.extend(times(&c, &mut limiter, 5, start).await);
        got
    });
    c.eq(got, vec![0, 0, 0, 1050, 1050, 1050, 1150, 1250]);
}

#[test]
fn a_bucket_full_since_it_was_made_saves_no_partial_interval() {
    // Full from the start, and untouched for half an interval: that half does not
    // count either, so the fourth token drips in a whole interval after 50 ms.
    let c = scene(
        "RateLimiter::new(100ms, 3), untouched for 50ms, then 5 acquires back to back; \
         when each returned, in ms",
        "a bucket full since it was made saves no partial interval either: 3 at 50ms, the \
         next at 150ms",
    );
    let got = paused(&c, async {
        let start = Instant::now();
        let mut limiter = RateLimiter::new(100 * MS, 3);
        sleep(50 * MS).await;
        times(&c, &mut limiter, 5, start).await
    });
    c.eq(got, vec![50, 50, 50, 150, 250]);
}

#[test]
fn a_rest_of_two_to_the_32_intervals_fills_the_bucket() {
    // With a 1 ns interval, a rest of 2^32 ns (4.3 s) is 2^32 whole intervals: more
    // than a u32 holds.
    let c = scene(
        "RateLimiter::new(1ns, 3): 3 acquires, a rest of 2^32 ns (2^32 intervals, more \
         than a u32 holds), then 4 acquires: whether the first 3 are ready at once, and when \
         the 4th returned",
        "however long the rest, the bucket is full after it (3 at once), with no overflow: \
         the 4th waits for its token",
    );
    let (rested, next) = paused(&c, async {
        let mut limiter = RateLimiter::new(Duration::from_nanos(1), 3);
        for _ in 0..3 {
            acquire(&c, &mut limiter).await;
        }
        tokio::time::advance(Duration::from_nanos(1 << 32)).await;
        let start = Instant::now();
        // Each of the three is polled once by hand: with a token there, it returns at
        // its first poll. One that finds none is checked for that first, before the
        // 4th acquire, whose check is about waiting, not about the full bucket.
        let mut rested = Vec::new();
        for _ in 0..3 {
            let mut taking = std::pin::pin!(limiter.acquire());
            let polled =
                std::future::poll_fn(|cx| Poll::Ready(c.run(|| taking.as_mut().poll(cx)))).await;
            rested.push(polled);
        }
        if rested.iter().any(Poll::is_pending) {
            return (rested, None);
        }
        acquire(&c, &mut limiter).await;
        (rested, Some(start.elapsed()))
    });
    c.rule(
        "after 2^32 intervals the bucket is full: the next 3 acquires take a token at \
         once, each Ready at its first poll",
    )
    .eq(rested, vec![Poll::Ready(()); 3]);
    if next == Some(Duration::ZERO) {
        c.fail_with("the 4th acquire returned at once too, with no token left");
    }
}

#[test]
fn the_largest_burst_never_overflows() {
    let c = scene(
        "RateLimiter::new(100ms, u32::MAX): 2 acquires, a rest of 300ms (3 tokens drip \
         in, one more than there is room for), 3 more; when each returned, in ms",
        "never more than burst tokens, with no overflow even at burst u32::MAX: all at \
         once",
    );
    let got = paused(&c, async {
        let start = Instant::now();
        let mut limiter = RateLimiter::new(100 * MS, u32::MAX);
        let mut got = times(&c, &mut limiter, 2, start).await;
        // Two tokens were taken; three drip in: one more than the bucket has room for.
        sleep(300 * MS).await;
        got.extend(times(&c, &mut limiter, 3, start).await);
        got
    });
    c.eq(got, vec![0, 0, 300, 300, 300]);
}

#[test]
fn an_acquire_dropped_while_it_waits_takes_no_token() {
    let c = scene(
        "RateLimiter::new(100ms, 1): one acquire; a second one polled at 0 and 60ms, \
         then dropped; two more from 100ms; when each of those three returned, in ms",
        "an acquire dropped while it sleeps has taken nothing: the token it waited for \
         drips in at 100ms for the next call",
    );
    let got = paused(&c, async {
        let start = Instant::now();
        let mut limiter = RateLimiter::new(100 * MS, 1);
        let mut got = times(&c, &mut limiter, 1, start).await; // empty now
        {
            // Polled by reference, so that it can be seen waiting, then dropped (as a
            // timeout would) before its token drips in at 100 ms. Each poll is the
            // learner's code: `c.run` reports a panic in it.
            let mut waiting = std::pin::pin!(limiter.acquire());
            let polled =
                std::future::poll_fn(|cx| Poll::Ready(c.run(|| waiting.as_mut().poll(cx)))).await;
            c.rule("no token yet at 0ms: acquire waits (Pending)")
                .check(polled.is_pending(), polled);
            sleep(60 * MS).await;
            let polled =
                std::future::poll_fn(|cx| Poll::Ready(c.run(|| waiting.as_mut().poll(cx)))).await;
            c.rule("still no token at 60ms: acquire waits (Pending)")
                .check(polled.is_pending(), polled);
        }
        // At 100 ms the token drips in: the next call gets it then, as if the dropped
        // call had never been made.
        sleep(40 * MS).await;
        got.extend(times(&c, &mut limiter, 2, start).await);
        got
    });
    c.eq(got, vec![0, 100, 200]);
}
