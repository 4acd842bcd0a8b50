//! Deadlines that cannot overflow.
//!
//! `Instant::now() + wait` panics when `wait` is too large to add, and a wait often
//! comes from the user (`--timeout 1e19`) or from a configuration. A panic inside a
//! worker thread is the worst way to find that out: the worker dies, and the run may
//! carry on without it. Every deadline in the course is made here instead: a wait longer
//! than [`FAR`] is taken as "never", which no run of the course outlives.

use std::time::{Duration, Instant};

/// How far "never" is: about thirty years, later than any run lasts, and an `Instant`
/// can hold it on every system the course runs on.
pub const FAR: Duration = Duration::from_secs(30 * 365 * 24 * 3600);

/// `from + wait`, with any wait longer than [`FAR`] cut to it.
pub fn after(from: Instant, wait: Duration) -> Instant {
    let wait = wait.min(FAR);
    // Instants count from boot: thirty years more cannot overflow them. Should a system
    // ever disagree, a deadline at `from` ends the wait at once instead of panicking.
    from.checked_add(wait).unwrap_or(from)
}

/// The deadline `wait` from now.
pub fn from_now(wait: Duration) -> Instant {
    after(Instant::now(), wait)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_huge_wait_is_far_not_a_panic() {
        let now = Instant::now();
        assert_eq!(after(now, Duration::MAX), now + FAR);
        assert_eq!(after(now, Duration::from_secs_f64(1e19)), now + FAR);
        assert_eq!(
            after(now, Duration::from_millis(5)),
            now + Duration::from_millis(5)
        );
        assert!(from_now(Duration::MAX) > now + FAR / 2);
    }
}
