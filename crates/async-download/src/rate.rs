//! `--rate BYTES`: a limit on the bytes read per second, all connections together.
//!
//! By the time the downloader counts bytes, they have arrived: a limit cannot stop a
//! server from sending. It works by *not reading* for a while. The socket's receive
//! buffer fills, TCP's receive window closes, and the server sends no faster than the
//! downloader reads (curl's `--limit-rate` works the same way). Reading stops between
//! two reads, never in the middle of one, so a connection pauses with no buffer held.
//!
//! The limit is the token bucket of the course's `rate-limit` exercise, counting bytes
//! instead of requests, and written as a clock: every byte read books `1 / rate`
//! seconds of it, and a reader whose booking runs ahead of the real clock waits until
//! the real clock catches up. Time nobody used is saved up to [`BURST`] at most: after
//! a pause, the next reads may go that much faster, and no more, so a second of silence
//! does not buy a second at twice the rate.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The most unused time the clock saves up.
pub const BURST: Duration = Duration::from_millis(100);

/// A limit on bytes per second, shared by every connection of a run.
#[derive(Debug)]
pub struct Rate {
    bytes_per_sec: u64,
    /// The moment up to which reading is booked.
    booked: Mutex<Option<Instant>>,
}

impl Rate {
    /// A limit of `bytes_per_sec` (at least 1).
    pub fn new(bytes_per_sec: u64) -> Rate {
        Rate {
            bytes_per_sec: bytes_per_sec.max(1),
            booked: Mutex::new(None),
        }
    }

    pub fn bytes_per_sec(&self) -> u64 {
        self.bytes_per_sec
    }

    /// How long a reader waits at `now` before it reads: until the real clock has
    /// caught up with what was booked (zero while the booking is behind it).
    pub fn wait(&self, now: Instant) -> Duration {
        let booked = self.booked.lock().unwrap_or_else(PoisonError::into_inner);
        booked.map_or(Duration::ZERO, |b| b.saturating_duration_since(now))
    }

    // ANCHOR: book
    /// Books `n` bytes read at `now`; returns how long the reader waits before it reads
    /// again (zero while the booking is behind the real clock).
    pub fn book(&self, n: usize, now: Instant) -> Duration {
        // Only a plain value is changed under the lock: a panic elsewhere leaves it whole.
        let mut booked = self.booked.lock().unwrap_or_else(PoisonError::into_inner);
        // Unused time counts up to BURST, no more.
        let floor = now.checked_sub(BURST).unwrap_or(now);
        let start = booked.map_or(floor, |b| b.max(floor));
        let cost = Duration::from_secs_f64(n as f64 / self.bytes_per_sec as f64);
        let end = start + cost;
        *booked = Some(end);
        end.saturating_duration_since(now)
    }
    // ANCHOR_END: book
}

/// `--rate`'s value: bytes per second, as a number with an optional `K`, `M` or `G`
/// (1,024 each, as curl's `--limit-rate` reads them): `500K` is 512,000.
pub fn parse_rate(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (digits, unit) = match text.char_indices().last() {
        Some((at, c)) if c.is_ascii_alphabetic() => (&text[..at], c.to_ascii_uppercase()),
        _ => (text, 'B'),
    };
    let scale: u64 = match unit {
        'B' => 1,
        'K' => 1 << 10,
        'M' => 1 << 20,
        'G' => 1 << 30,
        other => {
            return Err(format!(
                "unknown unit {other:?}: write e.g. 200K, 5M or 1000000"
            ));
        }
    };
    let number: u64 = digits
        .parse()
        .map_err(|_| format!("{text:?} is not a number of bytes per second (e.g. 200K, 5M)"))?;
    match number.checked_mul(scale) {
        Some(0) => Err("a rate of 0 would never read anything".to_string()),
        Some(rate) => Ok(rate),
        None => Err(format!("{text} is too large")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reading_at_the_rate_never_waits_and_faster_waits_for_the_difference() {
        let rate = Rate::new(1000);
        let t0 = Instant::now();
        // The first 100 bytes book 100 ms, all of them from the saved-up burst.
        assert_eq!(rate.book(100, t0), Duration::ZERO);
        // 1,000 bytes more at once: booked up to 1 s after t0.
        assert_eq!(rate.book(1000, t0), Duration::from_millis(1000));
        // Half a second later the reader still has half a second to wait.
        let later = t0 + Duration::from_millis(500);
        assert_eq!(rate.book(0, later), Duration::from_millis(500));
        assert_eq!(
            rate.wait(later),
            Duration::from_millis(500),
            "asking books nothing"
        );
        assert_eq!(rate.wait(t0 + Duration::from_secs(2)), Duration::ZERO);
    }

    #[test]
    fn unused_time_is_saved_up_to_the_burst_only() {
        let rate = Rate::new(1000);
        let t0 = Instant::now();
        assert_eq!(rate.book(1000, t0), Duration::from_millis(900));
        // Ten idle seconds later, only BURST (100 ms) of them count.
        let idle = t0 + Duration::from_secs(10);
        assert_eq!(rate.book(100, idle), Duration::ZERO);
        assert_eq!(rate.book(100, idle), Duration::from_millis(100));
    }

    #[test]
    fn all_readers_share_one_clock() {
        let rate = std::sync::Arc::new(Rate::new(10_000));
        let t0 = Instant::now();
        let waits: Vec<Duration> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4).map(|_| s.spawn(|| rate.book(5_000, t0))).collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        // 20,000 bytes at 10,000/s: the last booking ends 2 s - 0.1 s (burst) later.
        assert_eq!(waits.iter().max(), Some(&Duration::from_millis(1900)));
        let mut sorted = waits.clone();
        sorted.sort();
        assert_eq!(sorted[0], Duration::from_millis(400), "{waits:?}");
    }

    #[test]
    fn rates_read_as_curl_reads_them() {
        assert_eq!(parse_rate("1000"), Ok(1000));
        assert_eq!(parse_rate("500K"), Ok(512_000));
        assert_eq!(parse_rate("2m"), Ok(2 << 20));
        assert_eq!(parse_rate("1G"), Ok(1 << 30));
        for bad in ["", "K", "0", "-5", "1.5M", "3X", "99999999999999999999G"] {
            assert!(parse_rate(bad).is_err(), "{bad:?}");
        }
    }
}
