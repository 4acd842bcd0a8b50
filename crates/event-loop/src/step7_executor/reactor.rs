//! The reactor: the one place where the thread waits, and the one place that wakes tasks.
//!
//! Step 5's scheduler knew what every task waited for, because the task *said so* in its
//! return value (`Step::readable(socket)`). A future says only `Poll::Pending`. So who
//! remembers what it waits for? The reactor. Before a future returns `Pending`, it leaves
//! a [`Waker`] here, in the slot of the thing it waits for:
//!
//! ```text
//!   future: read() -> WouldBlock ──► reactor.set_waker(socket, Read, cx.waker())
//!                                    return Poll::Pending
//!   executor: nothing ready ───────► reactor.turn(timeout)
//!                                     └─ epoll_wait: socket readable
//!                                     └─ take the socket's read waker, wake() it
//!                                           └─ the task's id goes into the ready queue
//!   executor: poll the task again ─► read() -> Ok(n)
//! ```
//!
//! The reactor watches three kinds of things, and a waker slot goes with each:
//!
//! - **sources** (sockets) registered with mio, each with a *read* slot and a *write* slot
//!   (a task may wait to read while another part of it waits to write);
//! - **timers**: a deadline heap, so that the executor's wait in `epoll_wait` ends at the
//!   next deadline and not a moment later (sleeping costs no CPU: no spinning);
//! - a **remote waker** ([`mio::Waker`], an eventfd): how another thread ends a wait in
//!   `epoll_wait` when it wakes a task, since it cannot touch the reactor itself.
//!
//! Registration is done once per socket, for both directions, **edge-triggered** (mio's
//! only mode): the kernel reports a change (new bytes arrived, room appeared), not a
//! state. That is only safe with one rule, which every future of this module follows: *a
//! future waits only after it saw the socket drained* (an operation said `WouldBlock`, or
//! a read got fewer bytes than it asked for). Then the next byte to arrive is a change,
//! reported by a new event. A future that waited without that could wait forever for an
//! edge that already passed.
//!
//! So the reactor keeps, per socket and direction, a **readiness** flag: set by an event,
//! cleared when the socket was seen drained. A future asks [`Reactor::is_ready`] before it
//! tries a system call: when the flag is down, the call would surely say `WouldBlock`,
//! and the future waits at once (step 5's scheduler kept the same flags). The end of the
//! stream and errors are remembered for good: they come as one edge, never again.
//!
//! The reactor is single-threaded (`Rc`, `RefCell`): the executor and the futures it polls
//! all run on one thread. Two rules keep the `RefCell`s from ever being borrowed twice:
//! no borrow is held while a waker is woken (wakers are collected first, then woken), and
//! none while the thread sleeps in `epoll_wait`.

use std::cell::{Cell, RefCell};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io;
use std::sync::Arc;
use std::task::Waker;
use std::time::{Duration, Instant};

use mio::event::{Event, Source};
use mio::{Events, Interest, Poll, Registry, Token};
use rustc_hash::FxHashMap;

/// The token of the remote waker. Sources get tokens from 1 upwards.
const REMOTE: Token = Token(0);
/// How many events one `epoll_wait` may return; more simply wait for the next turn.
const EVENTS_PER_TURN: usize = 1024;
/// Dead timers (dropped before their deadline) may make up this share of the heap
/// before it is rebuilt without them; see [`Timers::cancel`].
const DEAD_TIMERS_FACTOR: usize = 2;

/// A source registered with the reactor. Keys are never reused, so an event that arrives
/// for a source dropped in the meantime finds no slot and is ignored, instead of waking
/// whoever got the same number since.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SourceKey(u64);

/// A timer set with [`Reactor::add_timer`]; never reused either.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TimerKey(u64);

/// Which way a task waits on a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// For bytes to read (or an incoming connection, or the end of the stream).
    Read,
    /// For room to write (or a finished `connect`).
    Write,
}

/// What the reactor did so far, for the tour and the tests: a sleeping executor turns a
/// few times, a spinning one thousands of times.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReactorStats {
    /// Calls to `epoll_wait` (blocking or not).
    pub turns: u64,
    /// Events received (the remote waker's included).
    pub events: u64,
    /// Wakers woken by socket events.
    pub io_wakes: u64,
    /// Wakers woken by expired timers.
    pub timer_wakes: u64,
}

/// What the reactor knows of one direction (read or write) of a source.
#[derive(Debug)]
struct Side {
    /// The waker of the task waiting in this direction: the *latest* one given.
    waker: Option<Waker>,
    /// Whether an operation may succeed now: set by an event; cleared when an
    /// operation said `WouldBlock` or, for reads, got fewer bytes than it asked for
    /// (the buffer was drained then, so new bytes will come with a new event). Starts
    /// set: nothing is known yet, so try.
    ready: bool,
    /// The end of the stream, or an error: never cleared. Edge-triggered, it is
    /// reported once, and every later operation must still find out.
    closed: bool,
}

impl Default for Side {
    fn default() -> Side {
        Side {
            waker: None,
            ready: true,
            closed: false,
        }
    }
}

impl Side {
    /// An event in this direction: remember it, and move out the waker to wake.
    fn on_event(&mut self, ready: bool, closed: bool, woken: &mut Vec<Waker>) {
        if ready || closed {
            self.ready |= ready;
            self.closed |= closed;
            woken.extend(self.waker.take());
        }
    }
}

/// The two sides of one source.
#[derive(Debug, Default)]
struct Slots {
    read: Side,
    write: Side,
}

impl Slots {
    fn side(&mut self, direction: Direction) -> &mut Side {
        match direction {
            Direction::Read => &mut self.read,
            Direction::Write => &mut self.write,
        }
    }

    /// Records an event and moves out the wakers it concerns. An error concerns both
    /// directions: a reader must see it, and a writer too.
    fn take_for(&mut self, event: &Event, woken: &mut Vec<Waker>) {
        let failed = event.is_error();
        self.read
            .on_event(event.is_readable(), event.is_read_closed() || failed, woken);
        self.write.on_event(
            event.is_writable(),
            event.is_write_closed() || failed,
            woken,
        );
    }
}

/// The timers: a min-heap of deadlines, and the waker of each live timer.
///
/// `BinaryHeap` is a max-heap; `Reverse` makes the *earliest* deadline come out first.
/// Removing an arbitrary entry from a heap is slow, so a cancelled timer only leaves
/// `wakers`: its heap entry stays behind, dead, and is skipped when it comes out.
#[derive(Debug, Default)]
struct Timers {
    heap: BinaryHeap<Reverse<(Instant, TimerKey)>>,
    wakers: FxHashMap<TimerKey, Waker>,
    next: u64,
}

impl Timers {
    fn add(&mut self, deadline: Instant, waker: &Waker) -> TimerKey {
        self.next += 1;
        let key = TimerKey(self.next);
        self.heap.push(Reverse((deadline, key)));
        self.wakers.insert(key, waker.clone());
        key
    }

    /// Forgets a timer. When dead entries pile up (a `timeout` around every request of a
    /// long download leaves one each time the request wins), the heap is rebuilt: its
    /// size stays proportional to the live timers.
    fn cancel(&mut self, key: TimerKey) -> Option<Waker> {
        let waker = self.wakers.remove(&key);
        if self.heap.len() > 64 && self.heap.len() > DEAD_TIMERS_FACTOR * self.wakers.len() {
            let live = &self.wakers;
            self.heap.retain(|Reverse((_, key))| live.contains_key(key));
        }
        waker
    }

    /// The earliest live deadline, dropping dead entries found on top on the way.
    fn next_deadline(&mut self) -> Option<Instant> {
        while let Some(&Reverse((deadline, key))) = self.heap.peek() {
            if self.wakers.contains_key(&key) {
                return Some(deadline);
            }
            self.heap.pop();
        }
        None
    }

    /// Moves out the wakers of every timer due at `now`.
    fn expire(&mut self, now: Instant, woken: &mut Vec<Waker>) -> usize {
        let mut count = 0;
        while let Some(&Reverse((deadline, key))) = self.heap.peek() {
            if deadline > now {
                break;
            }
            self.heap.pop();
            if let Some(waker) = self.wakers.remove(&key) {
                woken.push(waker);
                count += 1;
            }
        }
        count
    }
}

/// Wakes a reactor's thread out of `epoll_wait` from any thread. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Remote {
    waker: Arc<mio::Waker>,
}

impl Remote {
    /// Ends the reactor's current (or next) wait in `epoll_wait`. One write to an eventfd.
    pub fn wake(&self) -> io::Result<()> {
        self.waker.wake()
    }
}

/// The reactor: mio's `Poll`, the waker slots of sources and timers, and a remote waker.
/// See the module documentation.
#[derive(Debug)]
pub struct Reactor {
    poll: RefCell<Poll>,
    /// A second handle on the same epoll instance, so that sources can be registered
    /// without borrowing `poll` (which `turn` borrows mutably).
    registry: Registry,
    events: RefCell<Events>,
    /// Keyed by numbers the reactor counts itself, as are the timers: no one can choose
    /// them to collide, so they need no SipHash (std's default); FxHash is a multiply.
    sources: RefCell<FxHashMap<SourceKey, Slots>>,
    next_source: Cell<u64>,
    timers: RefCell<Timers>,
    remote: Remote,
    /// The wakers collected during a turn, kept to reuse the allocation.
    woken: RefCell<Vec<Waker>>,
    stats: Cell<ReactorStats>,
}

impl Reactor {
    /// A new epoll instance with its remote waker: three file descriptors (the epoll
    /// instance, a duplicate of it for the registry, an eventfd).
    pub fn new() -> io::Result<Reactor> {
        let poll = Poll::new()?;
        let registry = poll.registry().try_clone()?;
        let waker = Arc::new(mio::Waker::new(poll.registry(), REMOTE)?);
        Ok(Reactor {
            poll: RefCell::new(poll),
            registry,
            events: RefCell::new(Events::with_capacity(EVENTS_PER_TURN)),
            sources: RefCell::new(FxHashMap::default()),
            next_source: Cell::new(REMOTE.0 as u64 + 1),
            timers: RefCell::new(Timers::default()),
            remote: Remote { waker },
            woken: RefCell::new(Vec::new()),
            stats: Cell::new(ReactorStats::default()),
        })
    }

    /// A handle that other threads use to end this reactor's wait.
    pub fn remote(&self) -> Remote {
        self.remote.clone()
    }

    /// What the reactor did so far.
    pub fn stats(&self) -> ReactorStats {
        self.stats.get()
    }

    // ANCHOR: register
    /// Registers `source` for reading and writing, edge-triggered, for its whole life.
    /// Call [`deregister`](Self::deregister) before dropping it.
    pub fn register<S: Source + ?Sized>(&self, source: &mut S) -> io::Result<SourceKey> {
        let key = SourceKey(self.next_source.get());
        self.next_source.set(key.0 + 1);
        let token = Token(usize::try_from(key.0).map_err(io::Error::other)?);
        self.registry
            .register(source, token, Interest::READABLE | Interest::WRITABLE)?;
        self.sources.borrow_mut().insert(key, Slots::default());
        Ok(key)
    }

    /// Stops watching `source` and forgets its wakers.
    pub fn deregister<S: Source + ?Sized>(&self, key: SourceKey, source: &mut S) {
        // Take the slots out first and drop them after the borrow: dropping a waker may
        // run arbitrary code (the last reference to a task's state).
        let slots = self.sources.borrow_mut().remove(&key);
        drop(slots);
        // The kernel forgets the descriptor anyway when it is closed; deregistering
        // first is what mio asks, and it keeps the epoll set exact.
        let _ = self.registry.deregister(source);
    }
    // ANCHOR_END: register

    // ANCHOR: readiness
    /// Whether an operation in `direction` may succeed: the source was not seen
    /// drained since its last event (or it reached its end, or failed). When `false`,
    /// trying the system call is a waste: it would say `WouldBlock`.
    pub fn is_ready(&self, key: SourceKey, direction: Direction) -> bool {
        let mut sources = self.sources.borrow_mut();
        sources.get_mut(&key).is_none_or(|slots| {
            let side = slots.side(direction);
            side.ready || side.closed
        })
    }

    /// Records that an operation found the source drained (or full): no operation in
    /// this direction is tried again before the next event.
    pub fn clear_ready(&self, key: SourceKey, direction: Direction) {
        if let Some(slots) = self.sources.borrow_mut().get_mut(&key) {
            slots.side(direction).ready = false;
        }
    }
    // ANCHOR_END: readiness

    // ANCHOR: set_waker
    /// Leaves `waker` in the `direction` slot of a source: the next event in that
    /// direction wakes it (once: the slot is emptied when it fires).
    ///
    /// The *latest* waker wins. A future may be polled with a different waker each time
    /// (it was moved into another task, or a combinator such as `timeout` wraps it), and
    /// only the waker of the latest poll is sure to reach the task that polls it now.
    /// `will_wake` skips the clone when it is the same waker as before, the usual case.
    pub fn set_waker(&self, key: SourceKey, direction: Direction, waker: &Waker) {
        let old = {
            let mut sources = self.sources.borrow_mut();
            let Some(slots) = sources.get_mut(&key) else {
                return;
            };
            let slot = &mut slots.side(direction).waker;
            if slot.as_ref().is_some_and(|old| old.will_wake(waker)) {
                return;
            }
            slot.replace(waker.clone())
        };
        drop(old);
    }
    // ANCHOR_END: set_waker

    /// Wakes `waker` at `deadline` (or at the first turn after it).
    pub fn add_timer(&self, deadline: Instant, waker: &Waker) -> TimerKey {
        self.timers.borrow_mut().add(deadline, waker)
    }

    /// Replaces a timer's waker (the latest wins, as for sockets). `false` if the timer
    /// is gone: it fired, or was cancelled.
    pub fn set_timer_waker(&self, key: TimerKey, waker: &Waker) -> bool {
        let old = {
            let mut timers = self.timers.borrow_mut();
            let Some(slot) = timers.wakers.get_mut(&key) else {
                return false;
            };
            if slot.will_wake(waker) {
                return true;
            }
            std::mem::replace(slot, waker.clone())
        };
        drop(old);
        true
    }

    /// Forgets a timer (a `Sleep` dropped before its deadline).
    pub fn cancel_timer(&self, key: TimerKey) {
        let old = self.timers.borrow_mut().cancel(key);
        drop(old);
    }

    /// The earliest deadline of a live timer.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.timers.borrow_mut().next_deadline()
    }

    /// How many sources and live timers are registered (tests check that they go away).
    pub fn registered(&self) -> (usize, usize) {
        (
            self.sources.borrow().len(),
            self.timers.borrow().wakers.len(),
        )
    }

    // ANCHOR: turn
    /// One turn: waits in `epoll_wait` for at most `timeout` (`None`: no limit) *and no
    /// later than the next timer*, then wakes the tasks whose sockets are ready and whose
    /// timers are due. Returns how many wakers it woke.
    ///
    /// This is where an idle executor spends its time: asleep in the kernel, at no CPU
    /// cost, until a socket, a timer or another thread (through [`Remote`]) needs it.
    pub fn turn(&self, timeout: Option<Duration>) -> io::Result<usize> {
        let timeout = self.clamp_to_next_timer(timeout);
        let mut woken = std::mem::take(&mut *self.woken.borrow_mut());
        let (events, io_wakes) = self.poll_events(timeout, &mut woken)?;
        let timer_wakes = self.timers.borrow_mut().expire(Instant::now(), &mut woken);
        let count = woken.len();
        // Every borrow is released: a woken waker may do anything, even call back in.
        for waker in woken.drain(..) {
            waker.wake();
        }
        *self.woken.borrow_mut() = woken;
        let mut stats = self.stats.get();
        stats.turns += 1;
        stats.events += events as u64;
        stats.io_wakes += io_wakes as u64;
        stats.timer_wakes += timer_wakes as u64;
        self.stats.set(stats);
        Ok(count)
    }
    // ANCHOR_END: turn

    /// `timeout`, shortened so the wait ends at the next timer's deadline.
    fn clamp_to_next_timer(&self, timeout: Option<Duration>) -> Option<Duration> {
        let Some(deadline) = self.next_deadline() else {
            return timeout;
        };
        let until_timer = deadline.saturating_duration_since(Instant::now());
        Some(timeout.map_or(until_timer, |t| t.min(until_timer)))
    }

    /// `epoll_wait`, then the wakers of the sockets it reported. Returns the number of
    /// events and of wakers collected.
    fn poll_events(
        &self,
        timeout: Option<Duration>,
        woken: &mut Vec<Waker>,
    ) -> io::Result<(usize, usize)> {
        let mut events = self.events.borrow_mut();
        match self.poll.borrow_mut().poll(&mut events, timeout) {
            Ok(()) => {}
            // A signal ended the wait early: nothing happened, the caller turns again.
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok((0, 0)),
            Err(e) => return Err(e),
        }
        let before = woken.len();
        let mut sources = self.sources.borrow_mut();
        let mut count = 0;
        for event in events.iter() {
            count += 1;
            // The remote waker's only job was to end the wait: the task it stands for
            // is already in the executor's ready queue.
            if event.token() == REMOTE {
                continue;
            }
            let key = SourceKey(event.token().0 as u64);
            // No slots: the source was dropped after the kernel queued this event.
            if let Some(slots) = sources.get_mut(&key) {
                slots.take_for(event, woken);
            }
        }
        Ok((count, woken.len() - before))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    /// A waker that counts its wakes.
    #[derive(Default)]
    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            // A count read on the test's thread after `turn`: Relaxed would do; SeqCst is simplest.
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counter() -> (Arc<Count>, Waker) {
        let count = Arc::new(Count::default());
        (count.clone(), Waker::from(count))
    }

    /// A waker that writes its name into a shared log when woken: the log is the order
    /// of the wakes.
    struct Named {
        name: &'static str,
        log: Arc<std::sync::Mutex<Vec<&'static str>>>,
    }

    impl Wake for Named {
        fn wake(self: Arc<Self>) {
            self.log.lock().unwrap().push(self.name);
        }
    }

    #[test]
    fn timers_fire_in_deadline_order_and_cancelled_ones_never() {
        let reactor = Reactor::new().unwrap();
        let now = Instant::now();
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let named = |name| {
            Waker::from(Arc::new(Named {
                name,
                log: log.clone(),
            }))
        };
        reactor.add_timer(now + Duration::from_millis(40), &named("late"));
        reactor.add_timer(now + Duration::from_millis(10), &named("early"));
        let cancelled = reactor.add_timer(now + Duration::from_millis(5), &named("gone"));
        reactor.cancel_timer(cancelled);
        assert_eq!(
            reactor.next_deadline(),
            Some(now + Duration::from_millis(10))
        );
        // No timeout given: the turn still ends, at the first live deadline (not before:
        // the deadlines count from `now`). A machine that held this thread up past 40 ms
        // sees the late timer fire in the same turn, after the early one.
        reactor.turn(None).unwrap();
        assert!(now.elapsed() >= Duration::from_millis(10));
        assert_eq!(log.lock().unwrap().first(), Some(&"early"));
        if log.lock().unwrap().len() < 2 {
            reactor.turn(None).unwrap();
        }
        assert_eq!(*log.lock().unwrap(), ["early", "late"]);
        assert_eq!(reactor.registered(), (0, 0));
    }

    #[test]
    fn dead_timers_do_not_pile_up() {
        let reactor = Reactor::new().unwrap();
        let (_, waker) = counter();
        let far = Instant::now() + Duration::from_secs(3600);
        for _ in 0..10_000 {
            let key = reactor.add_timer(far, &waker);
            reactor.cancel_timer(key);
        }
        assert!(reactor.timers.borrow().heap.len() <= 64, "heap rebuilt");
    }

    #[test]
    fn the_remote_waker_ends_a_wait_from_another_thread() {
        let reactor = Reactor::new().unwrap();
        let remote = reactor.remote();
        let start = Instant::now();
        let thread = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            remote.wake().unwrap();
        });
        // Left alone, the wait lasts a minute: the remote wake is what ends it, and the
        // event it makes is counted. (The 20 s bound only guards against that minute.)
        reactor.turn(Some(Duration::from_secs(60))).unwrap();
        assert_eq!(reactor.stats().events, 1, "the remote wake ended the wait");
        assert!(start.elapsed() < Duration::from_secs(20));
        thread.join().unwrap();
    }

    #[test]
    fn the_latest_waker_is_the_one_woken() {
        let reactor = Reactor::new().unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = mio::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let key = reactor.register(&mut client).unwrap();
        let (mut peer, _) = listener.accept().unwrap();
        // Let the connect's writable event go by, with no waker set.
        reactor.turn(Some(Duration::from_millis(20))).unwrap();
        let counts: Vec<_> = (0..3).map(|_| counter()).collect();
        for (_, waker) in &counts {
            reactor.set_waker(key, Direction::Read, waker);
        }
        std::io::Write::write_all(&mut peer, b"x").unwrap();
        reactor.turn(Some(Duration::from_secs(5))).unwrap();
        // SeqCst like the count's increments (see `Count::wake`).
        let woken: Vec<usize> = counts
            .iter()
            .map(|(count, _)| count.0.load(Ordering::SeqCst))
            .collect();
        assert_eq!(woken, [0, 0, 1]);
        reactor.deregister(key, &mut client);
        assert_eq!(reactor.registered(), (0, 0));
    }
}
