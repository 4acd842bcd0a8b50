//! Step 1: non-blocking sockets and `WouldBlock`, and a loop that spins.
//!
//! Lesson 3's client waited in `read` for its one socket, and a waiting thread costs no
//! CPU. But one thread per download is what we want to get rid of. So: one thread,
//! many sockets, and none of them may make the thread wait. A socket in non-blocking
//! mode never waits: `connect`, `write` and `read` either do what they can at once or
//! fail with [`std::io::ErrorKind::WouldBlock`] ("nothing now; try again later").
//!
//! "Try again later" — but when? The most naive answer is: at once. Walk over all
//! downloads, let each try its next step, and go round again, without ever stopping.
//! Each download is a state machine that remembers where it was (connecting, writing,
//! reading); how it advances is the subject of step 2 ([`Download`]); here only the
//! driving loop matters. It is correct, and it downloads everything. But while the
//! server takes its time (here: an injected latency of some milliseconds per reply),
//! the loop keeps asking, millions of times, and keeps one core **busy doing
//! nothing**.
//!
//! What the learner should see, from the [`Report`]: the loop thread's CPU time is
//! about its wall time (a whole core, for the whole download), and the turns count in
//! the thousands or tens of thousands, each one asking every socket, nearly every
//! answer "not now". Step 2 downloads the same documents sleeping in `poll(2)`, and the tour compares
//! the CPU time of the two: the busy loop burns at least ten times more.
//!
//! The loop is bounded anyway: every download has a deadline, and the batch one too.

use std::time::Instant;

pub use crate::step2_poll::{Batch, Download, Flight, Progress, Report, RunError};

// ANCHOR: download
/// Downloads the batch in this thread by trying every socket, over and over, until all
/// documents have arrived or failed. Never sleeps.
pub fn download(batch: &Batch) -> Result<Report, RunError> {
    let mut flight: Flight = Flight::new(batch)?;
    let mut buf = vec![0u8; batch.read_buffer.max(1)];
    let mut started = Vec::new();
    let mut keys = Vec::new();
    loop {
        // Deadlines first: a download given up frees its slot for the next document.
        let now = Instant::now();
        while let Some(key) = flight.next_expired(now) {
            flight.finish(key);
        }
        flight.start_more(&mut started);
        started.clear();
        if flight.is_finished() {
            break;
        }
        flight.count_turn();
        // Ask every download, ready or not. Nearly all answer "not now" (their socket
        // said WouldBlock), and we go straight round again: this is the spinning.
        flight.keys_into(&mut keys);
        for &key in &keys {
            if flight.advance(key, &mut buf) == Some(Progress::Done) {
                flight.finish(key);
            }
        }
    }
    flight.report()
}
// ANCHOR_END: download
