//! The scheduler: a ready queue, a task map, waits on sockets and timers, and one loop.
//!
//! The seed's Python scheduler, transposed. There, a task is a generator that `yield`s a
//! "system call" (`ReadWait(sock)`, `NewTask(...)`, `WaitTask(tid)`) and the scheduler
//! carries it out. Here a task is a value with a [`Task::step`] method: it runs until it
//! must wait, then *returns* what it waits for, as a [`Step`]. Rust has no stable
//! generators, so a task keeps its place by hand, in its own fields (`enum Stage {
//! Connecting, Sending, Receiving }`): it is a hand-written state machine, exactly what
//! the compiler will write for us in step 7.
//!
//! Why a trait with a `Step`, and not `Future` and `Poll` already? Because here the
//! scheduler is *told* what each task waits for, and keeps it in its task map: "task 7
//! waits until socket 3 is readable, or 12:00:01". Everything is in one place, in plain
//! sight. Step 7's futures only say "not yet"; what they wait for travels through wakers.
//! Seeing the explicit version first is what makes the waker version understandable.
//!
//! The loop ([`Scheduler::run`]):
//!
//! ```text
//!   loop:
//!     run each task in the ready queue once (its step says what it waits for next):
//!        Yield        ──► back of the ready queue
//!        Readable(s)  ──► waiting[task] = s readable   (or ready now, if s already is)
//!        Sleep(t)     ──► timer heap += (t, task)
//!        Join(other)  ──► joiners[other] += task
//!        Done         ──► drop it, close its sockets, wake its joiners
//!     epoll_wait(timeout = until the earliest timer; 0 if a task is ready)
//!     socket events ──► wake the task waiting for them; due timers ──► wake theirs
//! ```
//!
//! As in an operating system, the scheduler owns the resources and tasks hold handles:
//! a task's sockets live in the scheduler and the task gets a [`SocketId`] (a file
//! descriptor, in miniature), and it reads and writes through its [`Ctx`] (its system
//! calls). That is what lets [`Scheduler::cancel`] release everything a task had: like a
//! killed process's descriptors, its sockets are deregistered and closed. It also lets
//! the scheduler remember readiness: mio reports *edges* (socket 3 became readable), and
//! since every read goes through the scheduler, it knows when a socket was drained. A
//! task may thus wait on a socket at any time without missing an edge.
//!
//! Task ids and socket ids are never reused: a stale event or timer for a task or a
//! socket that is gone finds nothing and is ignored, instead of waking a newcomer that
//! got the same number (the reason not to use a slab with reused keys here).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::io::{self, ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Registry, Token};

/// How many events one `epoll_wait` may return.
const EVENTS_PER_TURN: usize = 1024;

/// A task, as the scheduler knows it. Never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskId(u64);

/// A socket owned by the scheduler on behalf of a task. Never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SocketId(u64);

impl std::fmt::Display for TaskId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "task {}", self.0)
    }
}

// ANCHOR: task
/// A task: a state machine that the scheduler runs one step at a time.
///
/// `step` runs until the task has nothing to do without waiting, and returns what to
/// wait for. It must not block (no blocking `read`, no `thread::sleep`): while one task
/// runs, no other can.
pub trait Task {
    fn step(&mut self, cx: &mut Ctx<'_>) -> Step;
}

/// What a task waits for after a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// More to do, but let the others run first (back of the ready queue).
    Yield,
    /// Wake me when `on` happens, or at `deadline` if it comes first (the next step
    /// then sees [`Ctx::timed_out`]).
    Wait {
        on: WaitFor,
        deadline: Option<Instant>,
    },
    /// Wake me at this instant.
    Sleep(Instant),
    /// I am finished: drop me, close my sockets, wake whoever joins me.
    Done,
}

/// The events a task can wait for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitFor {
    /// Bytes to read (or the end of the stream, or an error) on a socket.
    Readable(SocketId),
    /// Room to write (or a finished connect, or an error) on a socket.
    Writable(SocketId),
    /// The end of another task.
    Exit(TaskId),
}
// ANCHOR_END: task

impl Step {
    /// Wait until `socket` is readable.
    pub fn readable(socket: SocketId) -> Step {
        Step::wait(WaitFor::Readable(socket))
    }

    /// Wait until `socket` is writable.
    pub fn writable(socket: SocketId) -> Step {
        Step::wait(WaitFor::Writable(socket))
    }

    /// Wait until `task` has finished (at once if it has already).
    pub fn join(task: TaskId) -> Step {
        Step::wait(WaitFor::Exit(task))
    }

    /// Sleep for `duration`.
    pub fn sleep(duration: Duration) -> Step {
        Step::Sleep(procs::deadline::from_now(duration))
    }

    fn wait(on: WaitFor) -> Step {
        Step::Wait { on, deadline: None }
    }

    /// The same wait, given up at `deadline`. No effect on other steps.
    pub fn until(self, deadline: Instant) -> Step {
        match self {
            Step::Wait { on, .. } => Step::Wait {
                on,
                deadline: Some(deadline),
            },
            other => other,
        }
    }
}

/// How a task ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Its step returned [`Step::Done`].
    Done,
    /// It was cancelled (by [`Scheduler::cancel`] or [`Ctx::cancel`]).
    Cancelled,
}

/// Why the scheduler stopped.
#[derive(Debug, thiserror::Error)]
pub enum SchedulerError {
    #[error("cannot create the epoll instance: {0}")]
    Create(#[source] io::Error),
    #[error("epoll_wait failed: {0}")]
    Poll(#[source] io::Error),
    #[error("{0} was never spawned, or was joined already")]
    UnknownTask(TaskId),
    #[error(
        "{tasks} tasks wait for each other and nothing else (no socket, no timer): \
         none can ever run again"
    )]
    Stalled { tasks: usize },
}

/// What the scheduler did so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SchedulerStats {
    pub spawned: u64,
    /// Calls to [`Task::step`].
    pub steps: u64,
    /// Calls to `epoll_wait`.
    pub turns: u64,
    /// Socket events received.
    pub events: u64,
    /// Timers that woke a task.
    pub timer_wakes: u64,
}

/// What a task waits for, as the task map keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Waiting {
    On(WaitFor),
    Time,
}

/// One task in the map.
struct Entry {
    /// The task; `None` while its step runs (it is borrowed out).
    task: Option<Box<dyn Task>>,
    /// What it waits for; `None` when it is ready or running.
    waiting: Option<Waiting>,
    /// Bumped each time it wakes: a timer set for an earlier wait carries an older
    /// epoch, and is ignored when it comes due.
    epoch: u64,
    /// Whether the current wake is the deadline of a `Wait`.
    timed_out: bool,
    sockets: Vec<SocketId>,
}

/// A socket and what the scheduler knows of it.
#[derive(Debug)]
struct Socket {
    stream: TcpStream,
    owner: TaskId,
    /// Latched readiness: set by an event, cleared by a read (or write) that said
    /// `WouldBlock`. A task that waits while the flag is set is ready at once.
    readable: bool,
    writable: bool,
}

/// Everything but the epoll instance: what a task's [`Ctx`] works on.
#[derive(Default)]
struct Core {
    tasks: HashMap<TaskId, Entry>,
    ready: VecDeque<TaskId>,
    /// `Reverse` makes the max-heap give the earliest deadline first.
    timers: BinaryHeap<Reverse<(Instant, TaskId, u64)>>,
    sockets: HashMap<SocketId, Socket>,
    joiners: HashMap<TaskId, Vec<TaskId>>,
    /// How finished tasks ended, until someone joins them from outside.
    exits: HashMap<TaskId, Exit>,
    next_task: u64,
    next_socket: u64,
    stats: SchedulerStats,
}

/// A scheduler of [`Task`]s on one thread. See the module documentation.
pub struct Scheduler {
    poll: Poll,
    events: Events,
    core: Core,
}

impl std::fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduler")
            .field("tasks", &self.core.tasks.len())
            .field("ready", &self.core.ready.len())
            .field("timers", &self.core.timers.len())
            .field("sockets", &self.core.sockets.len())
            .field("stats", &self.core.stats)
            .finish()
    }
}

impl Scheduler {
    pub fn new() -> Result<Scheduler, SchedulerError> {
        Ok(Scheduler {
            poll: Poll::new().map_err(SchedulerError::Create)?,
            events: Events::with_capacity(EVENTS_PER_TURN),
            core: Core::default(),
        })
    }

    /// Adds a task; it runs (its first step) at the next turn of the loop.
    pub fn spawn(&mut self, task: impl Task + 'static) -> TaskId {
        self.core.spawn(Box::new(task))
    }

    /// Stops a task: drops it and closes its sockets. `false` if it is not running.
    pub fn cancel(&mut self, id: TaskId) -> bool {
        self.core.cancel(self.poll.registry(), id)
    }

    /// Runs until every task has finished.
    pub fn run(&mut self) -> Result<(), SchedulerError> {
        self.run_until(|core| core.tasks.is_empty())
    }

    /// Runs until task `id` has finished, and says how it ended. Each finished task
    /// can be joined once.
    pub fn join(&mut self, id: TaskId) -> Result<Exit, SchedulerError> {
        if !self.core.tasks.contains_key(&id) && !self.core.exits.contains_key(&id) {
            return Err(SchedulerError::UnknownTask(id));
        }
        self.run_until(|core| core.exits.contains_key(&id))?;
        self.core
            .exits
            .remove(&id)
            .ok_or(SchedulerError::UnknownTask(id))
    }

    /// Tasks not finished yet.
    pub fn tasks(&self) -> usize {
        self.core.tasks.len()
    }

    /// Sockets open (owned by tasks not finished yet).
    pub fn open_sockets(&self) -> usize {
        self.core.sockets.len()
    }

    pub fn stats(&self) -> SchedulerStats {
        self.core.stats
    }

    // ANCHOR: run_until
    /// The loop: run what is ready, then wait for events, until `done`.
    fn run_until(&mut self, done: impl Fn(&Core) -> bool) -> Result<(), SchedulerError> {
        loop {
            if done(&self.core) {
                return Ok(());
            }
            self.run_ready();
            if done(&self.core) {
                return Ok(());
            }
            self.wait_for_events()?;
        }
    }

    /// Runs each task that is ready *now* once. A task that yields goes to the back and
    /// runs after the next wait for events: a busy task cannot starve the sockets.
    fn run_ready(&mut self) {
        for _ in 0..self.core.ready.len() {
            let Some(id) = self.core.ready.pop_front() else {
                break;
            };
            self.run_step(id);
        }
    }
    // ANCHOR_END: run_until

    // ANCHOR: run_step
    /// One step of task `id`, then its next wait recorded.
    fn run_step(&mut self, id: TaskId) {
        let Some(entry) = self.core.tasks.get_mut(&id) else {
            return; // cancelled while it was in the ready queue
        };
        let Some(mut task) = entry.task.take() else {
            return;
        };
        let timed_out = std::mem::take(&mut entry.timed_out);
        let registry = self.poll.registry();
        let mut cx = Ctx {
            core: &mut self.core,
            registry,
            me: id,
            timed_out,
            cancel_me: false,
        };
        let step = task.step(&mut cx);
        let cancel_me = cx.cancel_me;
        self.core.stats.steps += 1;
        match step {
            _ if cancel_me => self.core.finish(registry, id, Exit::Cancelled),
            Step::Done => self.core.finish(registry, id, Exit::Done),
            step => {
                if let Some(entry) = self.core.tasks.get_mut(&id) {
                    entry.task = Some(task);
                }
                self.core.wait(id, step);
            }
        }
    }
    // ANCHOR_END: run_step

    // ANCHOR: wait_for_events
    /// Blocks in `epoll_wait` until a socket event or the next timer, then wakes the
    /// tasks concerned. Does not block when a task is ready. Never spins: with nothing
    /// ready, the timeout is the time to the next deadline, or none.
    fn wait_for_events(&mut self) -> Result<(), SchedulerError> {
        let timeout = if !self.core.ready.is_empty() {
            Some(Duration::ZERO)
        } else if let Some(deadline) = self.core.next_deadline() {
            Some(deadline.saturating_duration_since(Instant::now()))
        } else if self.core.any_waits_on_a_socket() {
            None // only a socket can wake us: wait as long as it takes
        } else {
            // Every task waits for another task: nothing will ever happen.
            return Err(SchedulerError::Stalled {
                tasks: self.core.tasks.len(),
            });
        };
        self.core.stats.turns += 1;
        match self.poll.poll(&mut self.events, timeout) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => return Ok(()),
            Err(e) => return Err(SchedulerError::Poll(e)),
        }
        for event in self.events.iter() {
            self.core.stats.events += 1;
            let socket = SocketId(event.token().0 as u64);
            let failed = event.is_error();
            let readable = event.is_readable() || event.is_read_closed() || failed;
            let writable = event.is_writable() || event.is_write_closed() || failed;
            self.core.socket_ready(socket, readable, writable);
        }
        self.core.expire_timers(Instant::now());
        Ok(())
    }
    // ANCHOR_END: wait_for_events
}

impl Core {
    fn spawn(&mut self, task: Box<dyn Task>) -> TaskId {
        self.next_task += 1;
        let id = TaskId(self.next_task);
        self.tasks.insert(
            id,
            Entry {
                task: Some(task),
                waiting: None,
                epoch: 0,
                timed_out: false,
                sockets: Vec::new(),
            },
        );
        self.ready.push_back(id);
        self.stats.spawned += 1;
        id
    }

    // ANCHOR: record_wait
    /// Records what task `id` waits for after its step.
    fn wait(&mut self, id: TaskId, step: Step) {
        let Some(entry) = self.tasks.get_mut(&id) else {
            return;
        };
        match step {
            Step::Yield | Step::Done => self.ready.push_back(id),
            Step::Sleep(deadline) => {
                entry.waiting = Some(Waiting::Time);
                self.timers.push(Reverse((deadline, id, entry.epoch)));
            }
            Step::Wait { on, deadline } => {
                entry.waiting = Some(Waiting::On(on));
                if let Some(deadline) = deadline {
                    self.timers.push(Reverse((deadline, id, entry.epoch)));
                }
                if self.has_happened(id, on) {
                    self.wake(id, false);
                } else if let WaitFor::Exit(other) = on {
                    self.joiners.entry(other).or_default().push(id);
                }
            }
        }
    }

    /// Whether what `id` wants to wait for is already there (or will never come, in
    /// which case the task runs at once and finds out through its next system call).
    fn has_happened(&self, id: TaskId, on: WaitFor) -> bool {
        let own = |socket| self.sockets.get(&socket).filter(|s| s.owner == id);
        match on {
            WaitFor::Readable(socket) => own(socket).is_none_or(|s| s.readable),
            WaitFor::Writable(socket) => own(socket).is_none_or(|s| s.writable),
            WaitFor::Exit(other) => !self.tasks.contains_key(&other),
        }
    }
    // ANCHOR_END: record_wait

    /// Moves a waiting task to the ready queue (no effect if it is not waiting).
    fn wake(&mut self, id: TaskId, timed_out: bool) {
        let Some(entry) = self.tasks.get_mut(&id) else {
            return;
        };
        if entry.waiting.take().is_none() {
            return;
        }
        entry.epoch += 1; // its timer, if any, is now stale
        entry.timed_out = timed_out;
        self.ready.push_back(id);
    }

    /// Wakes `id` if it waits for exactly `on`.
    fn wake_if_waiting(&mut self, id: TaskId, on: WaitFor) {
        let waits = self
            .tasks
            .get(&id)
            .is_some_and(|entry| entry.waiting == Some(Waiting::On(on)));
        if waits {
            self.wake(id, false);
        }
    }

    /// A socket event: remember the readiness, wake the owner if it waits for it.
    fn socket_ready(&mut self, socket: SocketId, readable: bool, writable: bool) {
        let Some(s) = self.sockets.get_mut(&socket) else {
            return; // closed since the kernel queued the event
        };
        s.readable |= readable;
        s.writable |= writable;
        let owner = s.owner;
        if readable {
            self.wake_if_waiting(owner, WaitFor::Readable(socket));
        }
        if writable {
            self.wake_if_waiting(owner, WaitFor::Writable(socket));
        }
    }

    /// Whether a timer entry still stands for the current wait of its task.
    fn is_live(&self, id: TaskId, epoch: u64) -> bool {
        self.tasks
            .get(&id)
            .is_some_and(|entry| entry.epoch == epoch && entry.waiting.is_some())
    }

    /// The earliest live deadline; stale entries found on top are dropped.
    fn next_deadline(&mut self) -> Option<Instant> {
        while let Some(&Reverse((deadline, id, epoch))) = self.timers.peek() {
            if self.is_live(id, epoch) {
                return Some(deadline);
            }
            self.timers.pop();
        }
        None
    }

    fn expire_timers(&mut self, now: Instant) {
        while let Some(&Reverse((deadline, id, epoch))) = self.timers.peek() {
            if deadline > now {
                break;
            }
            self.timers.pop();
            if !self.is_live(id, epoch) {
                continue;
            }
            let waited_on_something = self
                .tasks
                .get(&id)
                .is_some_and(|entry| matches!(entry.waiting, Some(Waiting::On(_))));
            self.stats.timer_wakes += 1;
            self.wake(id, waited_on_something);
        }
    }

    fn any_waits_on_a_socket(&self) -> bool {
        self.tasks.values().any(|entry| {
            matches!(
                entry.waiting,
                Some(Waiting::On(WaitFor::Readable(_) | WaitFor::Writable(_)))
            )
        })
    }

    // ANCHOR: finish
    /// Ends task `id`: closes its sockets, drops it, records its exit, wakes its joiners.
    fn finish(&mut self, registry: &Registry, id: TaskId, exit: Exit) {
        let Some(entry) = self.tasks.remove(&id) else {
            return;
        };
        for socket in entry.sockets {
            self.close(registry, socket);
        }
        drop(entry.task);
        self.exits.insert(id, exit);
        for joiner in self.joiners.remove(&id).unwrap_or_default() {
            self.wake_if_waiting(joiner, WaitFor::Exit(id));
        }
    }
    // ANCHOR_END: finish

    fn cancel(&mut self, registry: &Registry, id: TaskId) -> bool {
        let cancellable = self
            .tasks
            .get(&id)
            .is_some_and(|entry| entry.task.is_some());
        if cancellable {
            self.finish(registry, id, Exit::Cancelled);
        }
        cancellable
    }

    fn close(&mut self, registry: &Registry, socket: SocketId) {
        if let Some(mut s) = self.sockets.remove(&socket) {
            // Deregister, then close (when `s` is dropped).
            let _ = registry.deregister(&mut s.stream);
        }
    }
}

// ANCHOR: ctx
/// A task's view of the scheduler during its step: its system calls.
pub struct Ctx<'a> {
    core: &'a mut Core,
    registry: &'a Registry,
    me: TaskId,
    timed_out: bool,
    cancel_me: bool,
}

impl std::fmt::Debug for Ctx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx")
            .field("me", &self.me)
            .field("timed_out", &self.timed_out)
            .finish()
    }
}

impl Ctx<'_> {
    /// The running task's id.
    pub fn id(&self) -> TaskId {
        self.me
    }

    /// Whether this step runs because the deadline of the task's last `Wait` passed
    /// (and not because what it waited for happened).
    pub fn timed_out(&self) -> bool {
        self.timed_out
    }

    /// Starts another task.
    pub fn spawn(&mut self, task: impl Task + 'static) -> TaskId {
        self.core.spawn(Box::new(task))
    }

    /// Cancels a task (this one too: it ends when this step returns).
    pub fn cancel(&mut self, id: TaskId) -> bool {
        if id == self.me {
            self.cancel_me = true;
            return true;
        }
        self.core.cancel(self.registry, id)
    }

    /// How a finished task ended, until it is joined from outside.
    pub fn exit_of(&self, id: TaskId) -> Option<Exit> {
        self.core.exits.get(&id).copied()
    }

    /// Starts a non-blocking connection to `addr`. It is not connected yet: wait until
    /// writable, then ask [`connected`](Self::connected).
    pub fn connect(&mut self, addr: SocketAddr) -> io::Result<SocketId> {
        let mut stream = TcpStream::connect(addr)?;
        self.core.next_socket += 1;
        let id = SocketId(self.core.next_socket);
        let token = Token(usize::try_from(id.0).map_err(io::Error::other)?);
        // Registered once for both directions, edge-triggered; the latches above
        // remember the edges between waits.
        self.registry
            .register(&mut stream, token, Interest::READABLE | Interest::WRITABLE)?;
        self.core.sockets.insert(
            id,
            Socket {
                stream,
                owner: self.me,
                readable: false,
                writable: false,
            },
        );
        if let Some(entry) = self.core.tasks.get_mut(&self.me) {
            entry.sockets.push(id);
        }
        Ok(id)
    }

    /// Whether a connect has finished: `Ok(true)` connected, `Ok(false)` not yet (wait
    /// until writable again), or why it failed.
    pub fn connected(&mut self, socket: SocketId) -> io::Result<bool> {
        let s = self.socket(socket)?;
        if let Some(error) = s.stream.take_error()? {
            return Err(error);
        }
        match s.stream.peer_addr() {
            Ok(_) => {
                s.stream.set_nodelay(true)?;
                Ok(true)
            }
            Err(e) if e.kind() == ErrorKind::NotConnected => {
                s.writable = false;
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    // ANCHOR: ctx_io
    /// Reads what is there; `WouldBlock` when nothing is (then wait readable).
    pub fn read(&mut self, socket: SocketId, buf: &mut [u8]) -> io::Result<usize> {
        let s = self.socket(socket)?;
        let result = s.stream.read(buf);
        if matches!(&result, Err(e) if e.kind() == ErrorKind::WouldBlock) {
            s.readable = false; // drained: the next edge will say when there is more
        }
        result
    }

    /// Writes what fits; `WouldBlock` when nothing does (then wait writable).
    pub fn write(&mut self, socket: SocketId, buf: &[u8]) -> io::Result<usize> {
        let s = self.socket(socket)?;
        let result = s.stream.write(buf);
        if matches!(&result, Err(e) if e.kind() == ErrorKind::WouldBlock) {
            s.writable = false;
        }
        result
    }
    // ANCHOR_END: ctx_io

    /// Closes one of this task's sockets (all are closed when the task ends anyway).
    pub fn close(&mut self, socket: SocketId) {
        if self.socket(socket).is_ok() {
            if let Some(entry) = self.core.tasks.get_mut(&self.me) {
                entry.sockets.retain(|&s| s != socket);
            }
            self.core.close(self.registry, socket);
        }
    }

    /// One of this task's sockets; another task's is as good as a closed descriptor.
    fn socket(&mut self, socket: SocketId) -> io::Result<&mut Socket> {
        match self.core.sockets.get_mut(&socket) {
            Some(s) if s.owner == self.me => Ok(s),
            _ => Err(io::Error::new(
                ErrorKind::NotFound,
                format!("no socket {} in {}", socket.0, self.me),
            )),
        }
    }
}
// ANCHOR_END: ctx
