//! The loop's clock: a heap of deadlines, so that waiting never means sleeping.
//!
//! Lesson 3's worker carried out an injected latency with a sleep, and bounded a silent
//! client with a read timeout: the thread waited, and that was fine, because the thread
//! had nothing else to do. The loop's one thread serves every connection; a sleep would
//! stall all of them. So a connection that must wait (a reply's delay, a pause between
//! drip pieces, the end of its idle time, the end of a lingering close) writes down
//! *when* it wants to be looked at again, and the loop gives `poll` the nearest of
//! those instants as its timeout: the thread sleeps in the kernel until either a socket
//! is ready or the earliest deadline has come.
//!
//! A binary heap gives the earliest deadline in O(1) and takes a new one in O(log n).
//! It cannot remove an entry from its middle, so entries are never removed early:
//! a connection whose deadline moved (its idle time restarts with every byte) simply
//! ignores the outdated entry when it comes up, and an entry whose connection has
//! closed is dropped when it comes up. Each entry names its connection by slab key
//! *and* by a serial number, because a slab reuses the key of a closed connection for
//! the next one, and an old deadline must not close a newcomer.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

/// One deadline: at `at`, look at the connection `key` if it is still connection `id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Deadline {
    // Field order matters: the derived ordering compares `at` first.
    pub at: Instant,
    pub key: usize,
    pub id: u64,
}

/// Deadlines, earliest first.
#[derive(Debug, Default)]
pub(crate) struct Timers {
    // `BinaryHeap` is a max-heap; `Reverse` makes the earliest deadline the top.
    heap: BinaryHeap<Reverse<Deadline>>,
}

impl Timers {
    pub fn new() -> Timers {
        Timers::default()
    }

    pub fn push(&mut self, deadline: Deadline) {
        self.heap.push(Reverse(deadline));
    }

    /// The earliest instant anyone waits for.
    pub fn next(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse(deadline)| deadline.at)
    }

    /// Takes the earliest deadline if it has come by `now`.
    pub fn pop_due(&mut self, now: Instant) -> Option<Deadline> {
        match self.heap.peek() {
            Some(Reverse(deadline)) if deadline.at <= now => {
                self.heap.pop().map(|Reverse(deadline)| deadline)
            }
            _ => None,
        }
    }

    /// Entries held, outdated ones included.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.heap.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn deadlines_come_out_earliest_first_and_only_when_due() {
        let t0 = Instant::now();
        let mut timers = Timers::new();
        for (ms, key) in [(30, 3), (10, 1), (20, 2)] {
            timers.push(Deadline {
                at: t0 + Duration::from_millis(ms),
                key,
                id: key as u64,
            });
        }
        assert_eq!(timers.next(), Some(t0 + Duration::from_millis(10)));
        assert_eq!(timers.pop_due(t0), None);
        let now = t0 + Duration::from_millis(25);
        let keys: Vec<usize> = std::iter::from_fn(|| timers.pop_due(now))
            .map(|d| d.key)
            .collect();
        assert_eq!(keys, [1, 2]);
        assert_eq!(timers.len(), 1);
    }
}
