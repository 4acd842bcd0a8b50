//! Step 3: the same loop on mio (epoll on Linux). Pay for the sockets that are ready, not
//! for all of them.
//!
//! Step 2's `poll(2)` is handed the whole list of sockets on every turn, and the kernel
//! checks every one of them to find the few that are ready: the cost of a turn grows
//! with *all* connections. epoll splits that in two. Registering a socket (once, when it
//! opens) tells the kernel to watch it; from then on the kernel itself puts a socket on a
//! **ready list** when its state changes, and a wait (`epoll_wait`, mio's
//! [`Poll::poll`]) only takes what is on that list. A turn costs in proportion to the
//! *ready* sockets, whether ten or ten thousand are idle. [`turn_cost()`] measures exactly
//! that, at 100, 1,000 and 10,000 idle connections.
//!
//! mio is a thin, safe layer over epoll (kqueue on the BSDs and macOS) and the base of
//! tokio. Its rules, and how this loop keeps them:
//!
//! - **Tokens.** Each registered source carries a [`Token`] (a `usize` we choose), and an
//!   event names only that token. Here the token is the download's key in the
//!   [`Slab`](crate::slab::Slab) of the flight: event to download in O(1).
//! - **Edge-triggered.** mio registers with `EPOLLET`: an event says a socket *became*
//!   ready, once, not that it *is* ready. A loop that reads one buffer per event and
//!   leaves the rest is never told about the rest. So reads and writes go on until
//!   `WouldBlock` — which the download machine of step 2 already does
//!   ([`Download::advance`]). The test `edge_triggered_reads_must_drain` shows the
//!   hang otherwise.
//! - **Events are hints.** An event may come for a socket with nothing to do (spurious
//!   wake-up), or for a token whose download has already finished, or whose slot a
//!   new download reuses (the slab reuses keys). The machine's "try, and `WouldBlock`
//!   means not yet" makes a wrong hint harmless; a token with no download is skipped.
//! - **Signals.** A wait interrupted by a signal fails with `Interrupted`: go round.
//! - **Register once, both ways.** Each socket is registered once for readable *and*
//!   writable, and never re-registered as its state changes: with edge-triggering, an
//!   interest the download does not have right now costs at most a spurious event,
//!   while changing interests costs a system call (`epoll_ctl`) each time.
//!
//! The downloads are the very same [`Download`] machines as in steps 1 and 2, on a
//! [`mio::net::TcpStream`] instead of std's: the same non-blocking socket, which mio
//! knows how to register.

pub mod turn_cost;

use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Registry, Token};

pub use crate::fd_limit::{FdLimit, raise_fd_limit};
pub use crate::step2_poll::{Batch, Download, Flight, Progress, Report, RunError};
pub use turn_cost::{
    HOLDER_ARG, HoldReport, Holder, TurnCost, TurnCostError, hold_connections, room_for_fds,
    run_holder_if_asked, turn_cost, turn_cost_with_child,
};

/// How many events one wait may return; more simply wait for the next turn.
const EVENTS_PER_TURN: usize = 1024;

/// Downloads the batch in this thread on mio: [`MioLoop::new`] then [`MioLoop::run`].
pub fn download(batch: &Batch) -> Result<Report, RunError> {
    MioLoop::new(batch)?.run()
}

/// The step-3 loop, one turn at a time if you like (tests add sources of their own
/// through [`registry`](Self::registry) and drive [`turn`](Self::turn)).
#[derive(Debug)]
pub struct MioLoop {
    poll: Poll,
    events: Events,
    flight: Flight<TcpStream>,
    buf: Vec<u8>,
    started: Vec<usize>,
    /// Events whose token named no download in flight.
    unknown: u64,
}

impl MioLoop {
    /// An epoll instance and an empty flight; the clocks of the report start here.
    pub fn new(batch: &Batch) -> Result<MioLoop, RunError> {
        Ok(MioLoop {
            poll: Poll::new().map_err(sys("epoll_create"))?,
            events: Events::with_capacity(EVENTS_PER_TURN),
            flight: Flight::new(batch)?,
            buf: vec![0u8; batch.read_buffer.max(1)],
            started: Vec::new(),
            unknown: 0,
        })
    }

    /// The epoll registry: a test may register a source of its own, under a token that
    /// is no download's, to see that the loop ignores it.
    pub fn registry(&self) -> &Registry {
        self.poll.registry()
    }

    /// Events so far whose token was no download in flight.
    pub fn unknown_events(&self) -> u64 {
        self.unknown
    }

    /// Runs turns until the batch is over; then the report.
    pub fn run(mut self) -> Result<Report, RunError> {
        while !self.turn()? {}
        self.report()
    }

    /// Stops the clocks and reports (downloads still in flight count as timed out).
    pub fn report(self) -> Result<Report, RunError> {
        self.flight.report()
    }

    // ANCHOR: turn_start
    /// One turn: give up late downloads, start new ones, wait for events (at most until
    /// the earliest deadline), advance the downloads they name. `Ok(true)` when the batch
    /// is over.
    pub fn turn(&mut self) -> Result<bool, RunError> {
        let registry = self.poll.registry();
        let now = Instant::now();
        while let Some(key) = self.flight.next_expired(now) {
            retire(registry, &mut self.flight, key);
        }
        self.flight.start_more(&mut self.started);
        // A socket registered when it is already ready (a loopback connect may be over
        // at once) gets its event at the next wait: registering cannot miss an edge.
        for key in self.started.drain(..) {
            if let Some(download) = self.flight.get_mut(key) {
                registry
                    .register(
                        download.stream_mut(),
                        Token(key),
                        Interest::READABLE | Interest::WRITABLE,
                    )
                    .map_err(sys("epoll_ctl(EPOLL_CTL_ADD)"))?;
            }
        }
        if self.flight.is_finished() {
            return Ok(true);
        }
        // ANCHOR_END: turn_start
        // ANCHOR: turn_wait
        // mio rounds a timeout up to the next millisecond, as step 2 does by hand.
        let timeout = self
            .flight
            .next_deadline()
            .map_or(Duration::from_secs(1), |d| {
                d.saturating_duration_since(Instant::now())
            });
        self.flight.count_turn();
        match self.poll.poll(&mut self.events, Some(timeout)) {
            Ok(()) => {}
            // A signal arrived while we slept: nothing happened to the sockets.
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => return Ok(false),
            Err(e) => return Err(sys("epoll_wait")(e)),
        }
        let registry = self.poll.registry();
        for event in self.events.iter() {
            let key = event.token().0;
            match self.flight.advance(key, &mut self.buf) {
                // Not a download in flight: finished earlier in this very turn, or a
                // source that is not ours to serve. Skip it.
                None => self.unknown += 1,
                // Maybe it moved on, maybe the event was for nothing: either way it
                // now waits again, and the next edge will say when.
                Some(Progress::Wait(_)) => {}
                Some(Progress::Done) => retire(registry, &mut self.flight, key),
            }
        }
        Ok(false)
    }
    // ANCHOR_END: turn_wait
}

/// Takes a download out of the loop: stop watching its socket, then count its result
/// (which closes the socket).
fn retire(registry: &Registry, flight: &mut Flight<TcpStream>, key: usize) {
    if let Some(download) = flight.get_mut(key) {
        // Closing a socket removes it from epoll anyway, unless another descriptor
        // shares it (a `dup`, or a child process forked meanwhile); deregistering says
        // it plainly. It cannot take back events already fetched in this turn: those
        // find no download (or a new one under a reused key) and are harmless.
        let _ = registry.deregister(download.stream_mut());
    }
    flight.finish(key);
}

fn sys(what: &'static str) -> impl Fn(std::io::Error) -> RunError {
    move |source| RunError::Sys { what, source }
}
