//! Exercise `async-download/rate-limit`: be polite, at most one request per interval.
//!
//! A bound on concurrency (`map-bounded`) limits how many requests are in flight; it
//! does not limit how many are *sent per second*: against a fast server, 64 workers may
//! send thousands a second, and a site that allows a crawler "10 requests per second"
//! means 10, not 10 at a time. A token bucket is the usual answer: a bucket holds at
//! most `burst` tokens, one token drips in every `interval`, and each request takes one
//! token, waiting for it if the bucket is empty. After a quiet spell, up to `burst`
//! requests go at once; over a long run, no more than one per `interval`.
//!
//! The bucket needs no timer task of its own: it is refilled lazily, by looking at the
//! clock each time someone asks, and counting how many whole intervals went by.

// In your copy the body is `todo!()` and ignores its arguments until you write it:
// no warnings for that.
#![allow(unused_variables, unused_mut, dead_code)]

use std::time::Duration;

use tokio::time::Instant;

/// A token bucket: at most `burst` requests at once, then one per `interval`.
///
/// To share one between tasks, put it in an `Arc<tokio::sync::Mutex<RateLimiter>>`
/// and hold the lock while `acquire` waits: the tasks then get their turns in order.
#[derive(Debug)]
pub struct RateLimiter {
    /// One token drips in every `interval`.
    interval: Duration,
    /// The most tokens the bucket holds (at least 1).
    burst: u32,
    /// Tokens in the bucket now (as of `refilled_at`).
    tokens: u32,
    /// When the bucket was last refilled: the next token drips in at
    /// `refilled_at + interval`.
    refilled_at: Instant,
}

impl RateLimiter {
    /// A full bucket (`burst` tokens; a `burst` of 0 counts as 1), as of now
    /// (`tokio::time::Instant::now()`, so call it inside a tokio runtime).
    pub fn new(interval: Duration, burst: u32) -> RateLimiter {
        let burst = burst.max(1);
        RateLimiter {
            interval,
            burst,
            tokens: burst,
            refilled_at: Instant::now(),
        }
    }

    /// Takes one token, waiting (`tokio::time::sleep_until`) until there is one.
    ///
    /// - First refill, from the clock (`tokio::time::Instant::now()`): one token for
    ///   each whole `interval` since `refilled_at`, never more than `burst` in all,
    ///   and `refilled_at` moves forward by those whole intervals (or to now, if the
    ///   bucket is then full: a full bucket saves no partial interval).
    /// - A token is there: take it and return without waiting.
    /// - None: sleep until the next one drips in (`refilled_at + interval`), then try
    ///   again. That is one sleep per token waited for, not a loop that looks again
    ///   every so often: `acquire` is polled once more when the token is there.
    /// - A zero `interval` never waits.
    /// - Dropped while it sleeps (cancelled, by a timeout say), it has taken nothing:
    ///   the token it waited for is still there for the next call.
    /// - Never panics or overflows, however long the rest (2^32 intervals and more, with
    ///   a 1 ns `interval`) and however large `burst` (`u32::MAX` included).
    ///
    /// So with `interval` = 100 ms and `burst` = 3, calls made back to back from a full
    /// bucket return at 0, 0, 0, 100, 200, 300 ms ...; after a second of rest, three
    /// return at once again (not ten).
    pub async fn acquire(&mut self) {
        // BEGIN SOLUTION
        if self.interval.is_zero() {
            return;
        }
        loop {
            let now = Instant::now();
            let whole = now.duration_since(self.refilled_at).as_nanos() / self.interval.as_nanos();
            let whole = u32::try_from(whole).unwrap_or(u32::MAX);
            self.tokens = self.tokens.saturating_add(whole).min(self.burst);
            // A full bucket saves no partial interval, whether it just filled or has
            // been full all along (since it was made, say): the next token's interval
            // starts when a token is taken from it.
            self.refilled_at = if self.tokens == self.burst {
                now
            } else {
                // Fewer than `burst` intervals went by: no overflow here.
                self.refilled_at + self.interval * whole
            };
            if self.tokens > 0 {
                self.tokens -= 1;
                return;
            }
            tokio::time::sleep_until(self.refilled_at + self.interval).await;
        }
        // END SOLUTION
    }
}
