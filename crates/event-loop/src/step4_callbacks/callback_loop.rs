//! The loop of step 4: it knows sockets, timers and the functions to call for them, and
//! nothing else.
//!
//! The Python course's `selectors` loop, in Rust: `register(sock, EVENT_READ, callback)`
//! becomes [`Loop::when_readable`], and a turn of the loop waits for events, then calls
//! what was registered for them. Timers are the same idea on the clock
//! ([`Loop::call_at`]): a deadline heap, as in step 5, and the loop sleeps in
//! [`Poll::poll`] at most until the earliest deadline.
//!
//! Its rules:
//!
//! - **One call per registration.** A callback is called once, at the first event for it;
//!   a callback that wants more registers again (usually itself, or the next link of a
//!   chain). It is an `FnOnce`: the state it needs travels inside it.
//! - **Each socket is registered with epoll once**, for both directions ([`Loop::add`]),
//!   as in step 3. What changes from one wait to the next is only which callback is
//!   waiting, and that is the loop's own table: no system call.
//! - **Edge-triggered, remembered.** mio says when a socket *became* ready. A callback
//!   must go on reading (or writing) until `WouldBlock` before it registers again, or it
//!   may wait for an edge that already came. An edge that comes while no callback waits
//!   for it is remembered, and the next callback registered for it is called at the next
//!   turn: registering late loses nothing. (Called for nothing at worst: events are hints,
//!   and a callback that finds `WouldBlock` registers again.)
//! - **The loop runs while something is registered** ([`Loop::run`]): a callback waiting
//!   for a socket, or a timer. When neither is left, nothing can call anyone any more,
//!   and `run` returns. A socket that is watched but has no callback waiting does not
//!   keep it running.
//! - **No wait is bounded unless someone sets a timer.** With only sockets waiting, the
//!   loop sleeps until one of them is ready, however long that takes. Whoever waits for
//!   the network sets a timer too: here, the chains of [`chain`](super::chain).
//!
//! Socket and timer ids are never reused: a stale event or a cancelled timer finds
//! nothing, instead of calling a newcomer that got the same number.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::fmt;
use std::io::{self, ErrorKind};
use std::time::{Duration, Instant};

use mio::event::Source;
use mio::{Events, Interest, Poll, Token};

use crate::step2_poll::RunError;

/// How many events one wait may return; more wait for the next turn.
const EVENTS_PER_TURN: usize = 1024;

/// What the loop calls: a function of the loop, to which it registers what comes next.
pub type Callback = Box<dyn FnOnce(&mut Loop)>;

/// A socket the loop watches ([`Loop::add`]). Never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SocketId(usize);

/// A timer set on the loop ([`Loop::call_at`]). Never reused; the later of two timers
/// with the same deadline has the larger id, and is called second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TimerId(u64);

/// Which way a callback waits on a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Read,
    Write,
}

/// A watched socket: the callbacks waiting for it, and the edges nobody waited for yet.
#[derive(Default)]
struct Watch {
    on_readable: Option<Callback>,
    on_writable: Option<Callback>,
    readable: bool,
    writable: bool,
}

impl Watch {
    fn callback(&mut self, direction: Direction) -> &mut Option<Callback> {
        match direction {
            Direction::Read => &mut self.on_readable,
            Direction::Write => &mut self.on_writable,
        }
    }

    fn edge(&mut self, direction: Direction) -> &mut bool {
        match direction {
            Direction::Read => &mut self.readable,
            Direction::Write => &mut self.writable,
        }
    }

    fn waiting(&self) -> usize {
        usize::from(self.on_readable.is_some()) + usize::from(self.on_writable.is_some())
    }
}

/// What the loop did so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoopStats {
    /// Turns: calls to `epoll_wait`.
    pub turns: u64,
    /// Socket events received.
    pub events: u64,
    /// Callbacks called, for sockets and timers.
    pub callbacks: u64,
}

/// A loop that calls back: see the module documentation.
pub struct Loop {
    poll: Poll,
    events: Events,
    sockets: HashMap<SocketId, Watch>,
    next_socket: usize,
    /// How many socket callbacks are registered and not called yet.
    waiting: usize,
    /// Socket callbacks to call at the next turn without waiting: their edge came first.
    due: Vec<(SocketId, Direction)>,
    /// `Reverse`: the earliest deadline on top. Cancelled timers stay until they reach
    /// the top, and are skipped then (a heap cannot remove from its middle).
    timers: BinaryHeap<Reverse<(Instant, TimerId)>>,
    timer_callbacks: HashMap<TimerId, Callback>,
    next_timer: u64,
    stats: LoopStats,
}

impl fmt::Debug for Loop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Loop")
            .field("sockets", &self.sockets.len())
            .field("waiting", &self.waiting)
            .field("timers", &self.timer_callbacks.len())
            .field("stats", &self.stats)
            .finish()
    }
}

impl Loop {
    /// An epoll instance, and nothing registered.
    pub fn new() -> Result<Loop, RunError> {
        Ok(Loop {
            poll: Poll::new().map_err(|source| RunError::Sys {
                what: "epoll_create",
                source,
            })?,
            events: Events::with_capacity(EVENTS_PER_TURN),
            sockets: HashMap::new(),
            next_socket: 0,
            waiting: 0,
            due: Vec::new(),
            timers: BinaryHeap::new(),
            timer_callbacks: HashMap::new(),
            next_timer: 0,
            stats: LoopStats::default(),
        })
    }

    // ANCHOR: register
    /// Watches `source` (registered with epoll once, for both directions). Nothing is
    /// called for it until a callback is registered with [`when_readable`] or
    /// [`when_writable`].
    ///
    /// [`when_readable`]: Self::when_readable
    /// [`when_writable`]: Self::when_writable
    pub fn add<S: Source + ?Sized>(&mut self, source: &mut S) -> io::Result<SocketId> {
        let id = SocketId(self.next_socket);
        self.poll.registry().register(
            source,
            Token(id.0),
            Interest::READABLE | Interest::WRITABLE,
        )?;
        self.next_socket += 1;
        self.sockets.insert(id, Watch::default());
        Ok(id)
    }

    /// Calls `callback` once, when `socket` is readable (bytes, the end of the stream, or
    /// an error). Replaces a callback already waiting for that. No effect if the socket is
    /// not watched.
    pub fn when_readable(&mut self, socket: SocketId, callback: impl FnOnce(&mut Loop) + 'static) {
        self.when(socket, Direction::Read, Box::new(callback));
    }

    fn when(&mut self, socket: SocketId, direction: Direction, callback: Callback) {
        let Some(watch) = self.sockets.get_mut(&socket) else {
            return;
        };
        if watch.callback(direction).replace(callback).is_none() {
            self.waiting += 1;
        }
        // The edge came before the callback: call it at the next turn, not at an edge
        // that may never come again.
        if std::mem::take(watch.edge(direction)) {
            self.due.push((socket, direction));
        }
    }
    // ANCHOR_END: register

    /// Calls `callback` once, when `socket` is writable (room to write, a finished
    /// connect, or an error). As [`when_readable`](Self::when_readable) otherwise.
    pub fn when_writable(&mut self, socket: SocketId, callback: impl FnOnce(&mut Loop) + 'static) {
        self.when(socket, Direction::Write, Box::new(callback));
    }

    /// Stops watching `source`: its callbacks that were waiting are dropped, never called.
    pub fn remove<S: Source + ?Sized>(&mut self, source: &mut S, socket: SocketId) {
        if let Some(watch) = self.sockets.remove(&socket) {
            self.waiting -= watch.waiting();
            // Fails only if it was not registered: then there is nothing to undo.
            let _ = self.poll.registry().deregister(source);
        }
    }

    /// Calls `callback` once, at `deadline` (or at the next turn if it has passed).
    pub fn call_at(
        &mut self,
        deadline: Instant,
        callback: impl FnOnce(&mut Loop) + 'static,
    ) -> TimerId {
        let id = TimerId(self.next_timer);
        self.next_timer += 1;
        self.timers.push(Reverse((deadline, id)));
        self.timer_callbacks.insert(id, Box::new(callback));
        id
    }

    /// Calls `callback` once, `delay` from now.
    pub fn call_later(
        &mut self,
        delay: Duration,
        callback: impl FnOnce(&mut Loop) + 'static,
    ) -> TimerId {
        self.call_at(procs::deadline::from_now(delay), callback)
    }

    /// Calls `callback` at the next turn, after the callback running now has returned.
    pub fn call_soon(&mut self, callback: impl FnOnce(&mut Loop) + 'static) -> TimerId {
        self.call_at(Instant::now(), callback)
    }

    /// Cancels a timer: its callback is dropped, never called. `false` if it was not
    /// waiting (called already, or cancelled).
    pub fn cancel(&mut self, timer: TimerId) -> bool {
        self.timer_callbacks.remove(&timer).is_some()
    }

    /// Sockets watched (whether or not a callback waits for them).
    pub fn watched_sockets(&self) -> usize {
        self.sockets.len()
    }

    /// Timers set and not called nor cancelled yet.
    pub fn pending_timers(&self) -> usize {
        self.timer_callbacks.len()
    }

    /// Whether nothing is registered: no callback waits for a socket, no timer is set.
    /// Then nothing can ever call anyone again.
    pub fn is_idle(&self) -> bool {
        self.waiting == 0 && self.timer_callbacks.is_empty()
    }

    pub fn stats(&self) -> LoopStats {
        self.stats
    }

    // ANCHOR: run
    /// Runs turns until nothing is registered ([`is_idle`](Self::is_idle)).
    pub fn run(&mut self) -> Result<(), RunError> {
        while self.turn()? {}
        Ok(())
    }

    /// One turn: sleep until a socket event or the earliest deadline, then call what was
    /// registered for them. `Ok(false)`, without waiting, when nothing is registered.
    pub fn turn(&mut self) -> Result<bool, RunError> {
        if self.is_idle() {
            return Ok(false);
        }
        let timeout = if self.due.is_empty() {
            // No timer: only a socket can wake us, whenever it does.
            self.next_deadline()
                .map(|deadline| deadline.saturating_duration_since(Instant::now()))
        } else {
            Some(Duration::ZERO)
        };
        self.stats.turns += 1;
        match self.poll.poll(&mut self.events, timeout) {
            Ok(()) => {}
            // A signal woke us: no event, but a timer may be due.
            Err(e) if e.kind() == ErrorKind::Interrupted => self.events.clear(),
            Err(source) => {
                return Err(RunError::Sys {
                    what: "epoll_wait",
                    source,
                });
            }
        }
        self.note_events();
        self.call_due_sockets();
        self.call_due_timers(Instant::now());
        Ok(true)
    }
    // ANCHOR_END: run

    // ANCHOR: dispatch_events
    /// Turns the events of the last wait into callbacks due now, or into remembered edges
    /// when no callback waits.
    fn note_events(&mut self) {
        for event in self.events.iter() {
            self.stats.events += 1;
            let socket = SocketId(event.token().0);
            let Some(watch) = self.sockets.get_mut(&socket) else {
                continue; // removed since the kernel queued the event
            };
            // An error or a hang-up wakes both sides: the next read or write says which.
            let failed = event.is_error();
            let readable = event.is_readable() || event.is_read_closed() || failed;
            let writable = event.is_writable() || event.is_write_closed() || failed;
            for (ready, direction) in [(readable, Direction::Read), (writable, Direction::Write)] {
                if !ready {
                    continue;
                }
                if watch.callback(direction).is_some() {
                    self.due.push((socket, direction));
                } else {
                    *watch.edge(direction) = true;
                }
            }
        }
    }
    // ANCHOR_END: dispatch_events

    // ANCHOR: dispatch_calls
    /// Calls the socket callbacks that are due. Each is taken out of the table first: a
    /// callback that registers the next one (for the same socket, often) finds the place
    /// free, and one that removes a socket makes its later entries here find nothing.
    fn call_due_sockets(&mut self) {
        for (socket, direction) in std::mem::take(&mut self.due) {
            let callback = self
                .sockets
                .get_mut(&socket)
                .and_then(|watch| watch.callback(direction).take());
            if let Some(callback) = callback {
                self.waiting -= 1;
                self.stats.callbacks += 1;
                callback(self);
            }
        }
    }

    /// Calls the timers whose deadline is `now` or earlier, earliest first. A timer set
    /// by one of them for `now` or later waits for the next turn.
    fn call_due_timers(&mut self, now: Instant) {
        while let Some(&Reverse((deadline, id))) = self.timers.peek() {
            if deadline > now {
                break;
            }
            self.timers.pop();
            // Not in the table: it was cancelled.
            if let Some(callback) = self.timer_callbacks.remove(&id) {
                self.stats.callbacks += 1;
                callback(self);
            }
        }
    }
    // ANCHOR_END: dispatch_calls

    /// The earliest deadline of a timer still set; cancelled ones found on top go.
    fn next_deadline(&mut self) -> Option<Instant> {
        while let Some(&Reverse((deadline, id))) = self.timers.peek() {
            if self.timer_callbacks.contains_key(&id) {
                return Some(deadline);
            }
            self.timers.pop();
        }
        None
    }
}
