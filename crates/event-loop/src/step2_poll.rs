//! Step 2: a readiness loop with `poll(2)`. Sleep until a socket is ready, then serve it.
//!
//! Step 1's loop asked every socket "anything for me?" again and again, and almost
//! always heard "no" (`WouldBlock`): one core kept busy to do nothing. Here the loop
//! hands the whole question to the kernel in one system call: "here are my sockets,
//! and what each one waits for (readable, writable): wake me when at least one is ready,
//! or at this deadline". The thread sleeps inside `poll` — no CPU at all while it waits
//! — and on waking, advances only the downloads whose sockets are ready.
//!
//! The downloads are **explicit state machines** ([`Download`], in [`machine`]):
//! connecting, writing, reading, done. Each one says what it waits for next, and that
//! is exactly what goes into `poll`'s list. The non-blocking connect is done right
//! there: wait writable, then check the socket's error.
//!
//! `poll` is **level-triggered**: a socket is reported ready for as long as it *is*
//! ready (unread bytes, room to write). A download that left bytes unread would simply
//! be woken again at once. Step 3's epoll, edge-triggered, is less forgiving.
//!
//! What the learner should see, measured by the tour on the same batch as step 1: the
//! same documents in about the same wall time, for a small fraction of step 1's CPU
//! time, in about one turn per document instead of tens of thousands.
//!
//! And the cost that step 3 removes: every turn, the *whole* list goes to the kernel
//! and back, and the kernel checks every socket on it, ready or not. With ten thousand
//! mostly idle connections, that is ten thousand checks per turn to find a few ready
//! ones.

pub mod flight;
pub mod machine;

use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

pub use flight::{Batch, Flight, Report, RunError, thread_cpu_time};
pub use machine::{Download, DownloadError, Progress, Stream, USER_AGENT, Want, start_connect};

// ANCHOR: download
/// Downloads the batch in this thread, sleeping in `poll(2)` while nothing is ready.
pub fn download(batch: &Batch) -> Result<Report, RunError> {
    let mut flight: Flight = Flight::new(batch)?;
    let mut buf = vec![0u8; batch.read_buffer.max(1)];
    let mut started = Vec::new();
    let mut ready = Vec::new();
    loop {
        // Deadlines first: a download given up frees its slot for the next document.
        let now = Instant::now();
        while let Some(key) = flight.next_expired(now) {
            flight.finish(key);
        }
        flight.start_more(&mut started);
        started.clear(); // poll's list is rebuilt every turn: nothing to register
        if flight.is_finished() {
            break;
        }
        // Sleep until a socket is ready or the earliest deadline passes.
        let timeout = until(flight.next_deadline(), Instant::now());
        flight.count_turn();
        wait_ready(&flight, timeout, &mut ready)?;
        for &key in &ready {
            if flight.advance(key, &mut buf) == Some(Progress::Done) {
                flight.finish(key);
            }
        }
    }
    flight.report()
}
// ANCHOR_END: download

// ANCHOR: wait_ready
/// One `poll(2)` call over every download in flight, each with what it waits for; the
/// keys of those that are ready go to `ready`. A timeout leaves `ready` empty, and so
/// does a signal (`EINTR`): the loop just goes round again.
pub fn wait_ready(
    flight: &Flight,
    timeout: PollTimeout,
    ready: &mut Vec<usize>,
) -> Result<(), RunError> {
    ready.clear();
    // The list borrows every socket; it lives for this one call. The kernel gets it
    // whole, and copies it back with `revents` filled in.
    let mut keys = Vec::with_capacity(flight.in_flight());
    let mut fds: Vec<PollFd<'_>> = flight
        .iter()
        .map(|(key, download)| {
            keys.push(key);
            PollFd::new(download.as_fd(), interest(download.wants()))
        })
        .collect();
    match poll(&mut fds, timeout) {
        Ok(0) | Err(Errno::EINTR) => return Ok(()),
        Ok(_) => {}
        Err(errno) => {
            return Err(RunError::Sys {
                what: "poll",
                source: errno.into(),
            });
        }
    }
    // Any reported event counts, errors and hang-ups included (the kernel sets POLLERR
    // and POLLHUP whether asked or not): the download's next step finds out what it is.
    for (fd, key) in fds.iter().zip(keys) {
        if fd.revents().is_some_and(|events| !events.is_empty()) {
            ready.push(key);
        }
    }
    Ok(())
}
// ANCHOR_END: wait_ready

/// The `poll` flags for what a download waits for.
pub fn interest(want: Option<Want>) -> PollFlags {
    match want {
        Some(Want::Read) => PollFlags::POLLIN,
        Some(Want::Write) => PollFlags::POLLOUT,
        None => PollFlags::empty(),
    }
}

/// A `poll` timeout from now until `deadline`, rounded *up* to a millisecond (`poll`
/// counts in milliseconds: rounding down would wake up just before the deadline, find
/// nothing to do, and go round once more for nothing). No deadline: one second, so that
/// no wait is ever unbounded.
pub fn until(deadline: Option<Instant>, now: Instant) -> PollTimeout {
    let wait = deadline.map_or(Duration::from_secs(1), |d| d.saturating_duration_since(now));
    let millis = wait.as_nanos().div_ceil(1_000_000);
    PollTimeout::try_from(millis).unwrap_or(PollTimeout::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_round_up_to_the_next_millisecond() {
        let now = Instant::now();
        let ms = |t: PollTimeout| i32::from(t);
        assert_eq!(ms(until(Some(now), now)), 0);
        assert_eq!(ms(until(Some(now + Duration::from_micros(1)), now)), 1);
        assert_eq!(ms(until(Some(now + Duration::from_micros(2500)), now)), 3);
        assert_eq!(ms(until(None, now)), 1000);
        // A deadline already past: do not wait at all.
        assert_eq!(ms(until(Some(now), now + Duration::from_secs(1))), 0);
    }

    #[test]
    fn each_want_asks_poll_for_one_thing() {
        assert_eq!(interest(Some(Want::Read)), PollFlags::POLLIN);
        assert_eq!(interest(Some(Want::Write)), PollFlags::POLLOUT);
        assert!(interest(None).is_empty());
    }
}
