//! The executor: polls the tasks that were woken, and sleeps in the reactor when none was.
//!
//! A task is a spawned future, boxed (tasks of different types live in one map). The
//! executor never guesses which task can make progress: a task is polled only after its
//! waker was woken. The whole machine, for one task:
//!
//! ```text
//!  spawn(fut) ──► tasks[id] = fut; ready.push(id)
//!                                          ┌───────────────────────────────────┐
//!  loop:  id = ready.pop() ──► poll tasks[id] with its waker                   │
//!            │                   ├─ Ready: the output goes to the JoinHandle   │
//!            │                   └─ Pending: the future left its waker in the  │
//!            │                      reactor (socket slot, timer) or elsewhere  │
//!            └─ ready empty ──► reactor.turn(): epoll_wait until a socket or   │
//!                               a timer is ready ──► waker.wake() ──► ready.push(id)
//! ```
//!
//! The waker of a task is an `Arc<TaskWaker>` turned into a [`Waker`] through
//! [`std::task::Wake`] (no `unsafe`, no hand-made vtable): waking it pushes the task's id
//! into the ready queue. Wakers are `Send`: any thread may wake a task. So the queue is
//! a `Mutex<VecDeque>` shared with the wakers, and a waker that finds the executor asleep
//! in `epoll_wait` also ends that sleep through the reactor's remote waker (an eventfd).
//! The futures themselves stay on this thread (`spawn` does not require `Send`).
//!
//! Four rules make it correct and fair, each with its reason next to the code:
//!
//! - **no lost wake-up**: a task's "queued" flag is cleared *before* it is polled, so a
//!   wake that arrives during the poll (from the future itself, or another thread) queues
//!   it again;
//! - **no lock held while waking or polling**: the queue's lock covers a push or a swap,
//!   nothing more; a task is taken out of the task map while it is polled (it may spawn
//!   or abort other tasks, which touches the map);
//! - **no busy loop**: with nothing ready, the thread blocks in the reactor with the next
//!   timer's deadline as timeout; the wakers of the same thread do not pay a system call,
//!   only those that find the executor asleep do;
//! - **no hogging**: a task may do [`BUDGET_PER_POLL`] socket operations per poll, then
//!   it must let the others run, even if its sockets are always ready.
//!
//! Where is "the current executor"? A future's `poll` gets a waker and nothing else, so
//! `spawn`, `sleep` and `TcpStream::connect` find the executor and its reactor in a
//! thread-local, set while [`Executor::block_on`] runs (as tokio's `Handle::current`).
//! Outside `block_on` there is none, and they say so.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::{Future, poll_fn};
use std::io;
use std::pin::{Pin, pin};
use std::rc::{Rc, Weak};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, ThreadId};
use std::time::Duration;

use rustc_hash::FxHashMap;

use super::reactor::{Reactor, Remote};

/// Why the executor could not run a future.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("cannot create the reactor (epoll instance, eventfd): {0}")]
    Create(#[source] io::Error),
    #[error("epoll_wait failed: {0}")]
    Poll(#[source] io::Error),
    #[error(
        "block_on called while an executor is already running on this thread: \
         a task must .await the future, not block on it"
    )]
    Nested,
}

/// Why a [`JoinHandle`] gives no output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum JoinError {
    #[error("the task was aborted (or its executor dropped) before it finished")]
    Aborted,
}

/// What the executor did so far: the tour and the tests read it (a sleeping executor
/// parks a few times, a spinning one thousands of times).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExecutorStats {
    /// Tasks spawned.
    pub spawned: u64,
    /// Polls of tasks and of `block_on`'s future.
    pub polls: u64,
    /// Times the ready queue was empty and the thread went to sleep in the reactor.
    pub parks: u64,
    /// Wakes that found their task already queued, and so cost nothing.
    pub coalesced_wakes: u64,
}

/// The id of `block_on`'s own future in the ready queue; spawned tasks count from 1.
const MAIN: u64 = 0;

// ANCHOR: ready_queue_struct
/// The ready queue, shared by the executor and every waker (of any thread).
#[derive(Debug)]
struct ReadyQueue {
    ids: Mutex<VecDeque<u64>>,
    /// True while the executor is (about to be) asleep in `epoll_wait`.
    sleeping: AtomicBool,
    remote: Remote,
    /// The executor's thread. A wake from this thread needs no remote wake-up: the
    /// thread is running the waker, so it is not asleep in `epoll_wait` (the reactor
    /// wakes tasks at the end of a turn, while `sleeping` is still raised).
    owner: ThreadId,
    coalesced: std::sync::atomic::AtomicU64,
}
// ANCHOR_END: ready_queue_struct

// ANCHOR: ready_queue_methods
impl ReadyQueue {
    fn lock(&self) -> MutexGuard<'_, VecDeque<u64>> {
        // A panic while the lock was held leaves a VecDeque of ids, still valid.
        self.ids.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a task and, if the executor sleeps, ends its sleep.
    ///
    /// Why this cannot miss a sleeping executor: the executor sets `sleeping` *before*
    /// it looks at the queue a last time (under the lock), and we look at `sleeping`
    /// *after* pushing (under the same lock). Either it sees our id and does not sleep,
    /// or we see its flag and wake it.
    fn push(&self, id: u64) {
        self.lock().push_back(id);
        // SeqCst: the look half of the handshake with `park`; the lock above already orders it.
        if self.sleeping.load(Ordering::SeqCst) && thread::current().id() != self.owner {
            // An eventfd write cannot fail short of a broken process; if it did, the
            // executor would still wake at its next timer.
            let _ = self.remote.wake();
        }
    }

    /// Moves every queued id into `batch`, holding the lock for a swap only.
    fn take_all(&self, batch: &mut VecDeque<u64>) {
        std::mem::swap(&mut *self.lock(), batch);
    }

    fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }
}
// ANCHOR_END: ready_queue_methods

// ANCHOR: task_waker
/// The waker of one task: "task `id` can make progress".
#[derive(Debug)]
struct TaskWaker {
    id: u64,
    /// Whether the id is in the queue already: a task woken ten times before it runs is
    /// polled once.
    queued: AtomicBool,
    queue: Arc<ReadyQueue>,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // SeqCst: with the clearing store in `run_task`, decides whether this wake queues the task.
        if self.queued.swap(true, Ordering::SeqCst) {
            // Relaxed: a statistic; it publishes no data.
            self.queue.coalesced.fetch_add(1, Ordering::Relaxed);
        } else {
            self.queue.push(self.id);
        }
    }
}
// ANCHOR_END: task_waker

/// A spawned task: its future (the output already routed to the `JoinHandle`) and its
/// waker, made once and cloned into every reactor slot it waits in.
struct Task {
    future: Pin<Box<dyn Future<Output = ()>>>,
    waker: Waker,
    state: Arc<TaskWaker>,
}

impl std::fmt::Debug for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Task").field("id", &self.state.id).finish()
    }
}

/// Everything an executor is, behind an `Rc` so that join handles can reach it (to
/// abort) without keeping it alive.
#[derive(Debug)]
struct Core {
    reactor: Rc<Reactor>,
    queue: Arc<ReadyQueue>,
    /// Keyed by ids the executor counts itself: a fast hasher, see `FxHashMap`.
    tasks: RefCell<FxHashMap<u64, Task>>,
    /// Ids taken from the queue and not polled yet (kept across `block_on` calls: when
    /// the main future finishes mid-batch, the rest of the batch runs next time).
    batch: RefCell<VecDeque<u64>>,
    next_id: Cell<u64>,
    /// The task being polled (it is out of the map then).
    running: Cell<Option<u64>>,
    /// Set when the running task aborts itself: it is dropped when its poll returns.
    abort_running: Cell<bool>,
    stats: Cell<ExecutorStats>,
}

thread_local! {
    /// The executor running `block_on` on this thread, if any.
    static CURRENT: RefCell<Option<Rc<Core>>> = const { RefCell::new(None) };
}

/// The reactor of the executor running on this thread; `None` outside `block_on`.
pub fn current_reactor() -> Option<Rc<Reactor>> {
    with_current(|core| core.reactor.clone())
}

fn with_current<R>(f: impl FnOnce(&Rc<Core>) -> R) -> Option<R> {
    CURRENT
        .try_with(|current| current.borrow().as_ref().map(f))
        .ok()
        .flatten()
}

/// Marks an executor as this thread's current one while `block_on` runs; unmarks it
/// when dropped, even if a task panics.
struct Enter;

impl Enter {
    fn new(core: &Rc<Core>) -> Result<Enter, RuntimeError> {
        CURRENT.with(|current| {
            let mut current = current.borrow_mut();
            if current.is_some() {
                return Err(RuntimeError::Nested);
            }
            *current = Some(core.clone());
            Ok(Enter)
        })
    }
}

impl Drop for Enter {
    fn drop(&mut self) {
        let core = CURRENT.try_with(|current| current.borrow_mut().take());
        drop(core);
    }
}

/// A single-threaded executor of futures, on a mio reactor. See the module documentation.
///
/// It is not `Send` (its tasks and reactor are shared through `Rc`): it stays on the
/// thread that made it, which is what lets its wakers know when they run on that thread.
#[derive(Debug)]
pub struct Executor {
    core: Rc<Core>,
}

impl Executor {
    /// A new executor, with its own reactor.
    pub fn new() -> Result<Executor, RuntimeError> {
        let reactor = Reactor::new().map_err(RuntimeError::Create)?;
        let queue = Arc::new(ReadyQueue {
            ids: Mutex::new(VecDeque::new()),
            sleeping: AtomicBool::new(false),
            remote: reactor.remote(),
            owner: thread::current().id(),
            coalesced: Default::default(),
        });
        Ok(Executor {
            core: Rc::new(Core {
                reactor: Rc::new(reactor),
                queue,
                tasks: RefCell::new(FxHashMap::default()),
                batch: RefCell::new(VecDeque::new()),
                next_id: Cell::new(MAIN + 1),
                running: Cell::new(None),
                abort_running: Cell::new(false),
                stats: Cell::new(ExecutorStats::default()),
            }),
        })
    }

    /// This executor's reactor (to register sources or timers by hand).
    pub fn reactor(&self) -> &Rc<Reactor> {
        &self.core.reactor
    }

    /// What the executor did so far.
    pub fn stats(&self) -> ExecutorStats {
        let mut stats = self.core.stats.get();
        // Relaxed: a statistic; it publishes no data.
        stats.coalesced_wakes = self.core.queue.coalesced.load(Ordering::Relaxed);
        stats
    }

    /// How many spawned tasks have not finished (nor been aborted).
    pub fn tasks(&self) -> usize {
        self.core.tasks.borrow().len() + usize::from(self.core.running.get().is_some())
    }

    /// Starts `future` as a task of this executor. It runs while `block_on` runs; its
    /// output comes out of the returned [`JoinHandle`].
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.core.spawn(future)
    }

    // ANCHOR: block_on_start
    /// Runs the executor until `future` completes, and returns its output. Spawned
    /// tasks run meanwhile; those still unfinished stay for the next `block_on`.
    ///
    /// The loop: poll what is ready; when nothing is, sleep in the reactor.
    pub fn block_on<F: Future>(&self, future: F) -> Result<F::Output, RuntimeError> {
        let _current = Enter::new(&self.core)?;
        let core = &self.core;
        let mut future = pin!(future);
        let main = Arc::new(TaskWaker {
            id: MAIN,
            queued: AtomicBool::new(false),
            queue: core.queue.clone(),
        });
        let main_waker = Waker::from(main.clone());
        main_waker.wake_by_ref(); // the first poll
        // ANCHOR_END: block_on_start
        // ANCHOR: block_on_loop
        loop {
            core.refill_batch();
            if core.batch.borrow().is_empty() {
                core.park(None)?;
                continue;
            }
            while let Some(id) = core.next_in_batch() {
                if id != MAIN {
                    core.run_task(id);
                    continue;
                }
                // SeqCst: pairs with the swap in `TaskWaker::wake_by_ref`.
                main.queued.store(false, Ordering::SeqCst);
                core.count_poll();
                let poll =
                    with_budget(|| future.as_mut().poll(&mut Context::from_waker(&main_waker)));
                if let Poll::Ready(output) = poll {
                    return Ok(output);
                }
            }
            // Tasks that keep waking each other must not starve the sockets and the
            // timers: between two batches, one turn of the reactor that does not wait.
            if !core.queue.is_empty() {
                core.reactor
                    .turn(Some(Duration::ZERO))
                    .map_err(RuntimeError::Poll)?;
            }
        }
    }
    // ANCHOR_END: block_on_loop
}

impl Core {
    fn spawn<F>(self: &Rc<Self>, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        let state = Rc::new(JoinState {
            outcome: RefCell::new(Outcome::Running),
            waker: RefCell::new(None),
        });
        // The task's future sends its output to the handle; if it is dropped unfinished
        // (aborted), the `Completion` says so to the handle from its `Drop`.
        let completion = Completion {
            state: Some(state.clone()),
        };
        let task = async move {
            let output = future.await;
            completion.complete(output);
        };
        let waker_state = Arc::new(TaskWaker {
            id,
            queued: AtomicBool::new(false),
            queue: self.queue.clone(),
        });
        let waker = Waker::from(waker_state.clone());
        waker.wake_by_ref(); // its first poll
        self.tasks.borrow_mut().insert(
            id,
            Task {
                future: Box::pin(task),
                waker,
                state: waker_state,
            },
        );
        let mut stats = self.stats.get();
        stats.spawned += 1;
        self.stats.set(stats);
        JoinHandle {
            id,
            state,
            core: Rc::downgrade(self),
        }
    }

    fn refill_batch(&self) {
        let mut batch = self.batch.borrow_mut();
        if batch.is_empty() {
            self.queue.take_all(&mut batch);
        }
    }

    fn next_in_batch(&self) -> Option<u64> {
        self.batch.borrow_mut().pop_front()
    }

    fn count_poll(&self) {
        let mut stats = self.stats.get();
        stats.polls += 1;
        self.stats.set(stats);
    }

    // ANCHOR: run_task
    /// Polls task `id` once, if it still exists.
    fn run_task(&self, id: u64) {
        // Out of the map while it runs: the task may spawn or abort tasks, which
        // borrows the map; no borrow is held across the poll.
        let Some(mut task) = self.tasks.borrow_mut().remove(&id) else {
            return; // finished or aborted since it was woken: a stale wake
        };
        // Cleared *before* the poll: a wake from here on (during the poll too) queues
        // the task again. Cleared after, such a wake would be lost and the task would
        // sleep forever with its event already consumed.
        // SeqCst: pairs with the swap in `TaskWaker::wake_by_ref`.
        task.state.queued.store(false, Ordering::SeqCst);
        self.count_poll();
        self.running.set(Some(id));
        let poll = {
            // Resets `running` when the poll returns, and also when it panics: the
            // panic unwinds out of `block_on` to its caller, and the executor, used
            // again, must not think the dead task is still running.
            let _running = RunningMark(self);
            with_budget(|| {
                task.future
                    .as_mut()
                    .poll(&mut Context::from_waker(&task.waker))
            })
        };
        let aborted = self.abort_running.replace(false);
        if poll.is_pending() && !aborted {
            self.tasks.borrow_mut().insert(id, task);
        }
        // Otherwise `task` is dropped here, with no borrow held.
    }
    // ANCHOR_END: run_task

    // ANCHOR: park
    /// Sleeps in the reactor until a socket, a timer or a waker of another thread needs
    /// the executor (or `timeout` passes).
    fn park(&self, timeout: Option<Duration>) -> Result<(), RuntimeError> {
        let mut stats = self.stats.get();
        stats.parks += 1;
        self.stats.set(stats);
        // SeqCst: the raise half of the handshake with `ReadyQueue::push` (its lock orders it too).
        self.queue.sleeping.store(true, Ordering::SeqCst);
        // The last look, after raising the flag (see `ReadyQueue::push`).
        let result = if self.queue.is_empty() {
            self.reactor.turn(timeout)
        } else {
            Ok(0)
        };
        // SeqCst like the raise; a push that still sees the flag costs one spare wake-up at most.
        self.queue.sleeping.store(false, Ordering::SeqCst);
        result.map(drop).map_err(RuntimeError::Poll)
    }
    // ANCHOR_END: park

    /// Drops task `id`'s future (and so the sockets and timers it holds).
    fn abort(&self, id: u64) {
        if self.running.get() == Some(id) {
            // A task aborting itself: it is being polled, out of the map. Dropped when
            // its poll returns.
            self.abort_running.set(true);
            return;
        }
        let task = self.tasks.borrow_mut().remove(&id);
        drop(task); // after the borrow: dropping a future runs its destructors
    }
}

/// While a task is polled: marks it as running, and clears the mark when dropped, on
/// every way out of the poll. After a panic the task is gone (dropped by the unwind),
/// so an abort it asked for during that poll is forgotten with it.
struct RunningMark<'a>(&'a Core);

impl Drop for RunningMark<'_> {
    fn drop(&mut self) {
        self.0.running.set(None);
        if std::thread::panicking() {
            self.0.abort_running.set(false);
        }
    }
}

impl Drop for Executor {
    fn drop(&mut self) {
        // Drop the unfinished tasks, so that their handles say "aborted" and their
        // sockets close. A destructor may spawn a task; a few rounds end that.
        for _ in 0..8 {
            let tasks = std::mem::take(&mut *self.core.tasks.borrow_mut());
            if tasks.is_empty() {
                break;
            }
            drop(tasks);
        }
    }
}

// ANCHOR: budget
/// How many socket operations a task may do in one poll before it must let the others
/// run.
///
/// Cooperative scheduling has a trap: a task gives the thread back only when it awaits
/// something that is not ready. A download whose server answers faster than the task
/// reads (the bytes are there at every `read`) would never see `WouldBlock`, and could
/// take every document for itself while the other tasks, and the server's other
/// connections, sit idle. So each poll gets a budget; when it is spent, the next socket
/// operation says `Pending` (after waking its own task, which goes to the back of the
/// ready queue). tokio does the same ("coop budget", 128 operations).
pub const BUDGET_PER_POLL: u32 = 128;

thread_local! {
    /// What the task being polled may still do; unlimited outside a task's poll.
    static BUDGET: Cell<u32> = const { Cell::new(u32::MAX) };
}

/// Spends one unit of the running task's budget; when it is spent, wakes the task and
/// returns `Pending`. Every socket operation of [`net`](super::net) starts with it.
pub fn poll_budget(cx: &mut Context<'_>) -> Poll<()> {
    let left = BUDGET.get();
    if left == 0 {
        cx.waker().wake_by_ref();
        return Poll::Pending;
    }
    BUDGET.set(left - 1);
    Poll::Ready(())
}

/// Runs one poll with a fresh budget.
fn with_budget<R>(poll: impl FnOnce() -> R) -> R {
    BUDGET.set(BUDGET_PER_POLL);
    let result = poll();
    BUDGET.set(u32::MAX);
    result
}
// ANCHOR_END: budget

/// Runs `future` to completion on a new executor (created and dropped for this call).
pub fn block_on<F: Future>(future: F) -> Result<F::Output, RuntimeError> {
    Executor::new()?.block_on(future)
}

/// Spawns `future` on the executor running on this thread.
///
/// # Panics
///
/// Outside [`block_on`] (or [`Executor::block_on`]): there is no executor to run it.
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    match with_current(|core| core.clone()) {
        Some(core) => core.spawn(future),
        None => panic!("spawn called outside block_on: no executor runs on this thread"),
    }
}

/// Gives the other ready tasks a turn: returns `Pending` once, after waking itself.
pub async fn yield_now() {
    let mut yielded = false;
    poll_fn(|cx| {
        if yielded {
            return Poll::Ready(());
        }
        yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await;
}

// ANCHOR: join_state
/// Where a task's output waits for its `JoinHandle`.
#[derive(Debug)]
struct JoinState<T> {
    outcome: RefCell<Outcome<T>>,
    /// The waker of whoever awaits the handle (the latest one).
    waker: RefCell<Option<Waker>>,
}

#[derive(Debug)]
enum Outcome<T> {
    Running,
    Finished(T),
    Aborted,
    /// The handle returned the outcome already.
    Taken,
}

impl<T> JoinState<T> {
    /// Records the outcome, then wakes the waiter (with no borrow held).
    fn settle(&self, outcome: Outcome<T>) {
        *self.outcome.borrow_mut() = outcome;
        let waker = self.waker.borrow_mut().take();
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}
// ANCHOR_END: join_state

// ANCHOR: join_completion
/// Held by the task's future: delivers the output, or "aborted" if dropped first.
struct Completion<T> {
    state: Option<Rc<JoinState<T>>>,
}

impl<T> Completion<T> {
    fn complete(mut self, output: T) {
        if let Some(state) = self.state.take() {
            state.settle(Outcome::Finished(output));
        }
    }
}

impl<T> Drop for Completion<T> {
    fn drop(&mut self) {
        if let Some(state) = self.state.take() {
            state.settle(Outcome::Aborted);
        }
    }
}
// ANCHOR_END: join_completion

// ANCHOR: join_handle_struct
/// The handle of a spawned task: a future of its output. Dropping it detaches the task
/// (it runs on, its output is dropped); [`abort`](Self::abort) stops it.
#[derive(Debug)]
pub struct JoinHandle<T> {
    id: u64,
    state: Rc<JoinState<T>>,
    /// Weak: a handle kept by another task must not keep the executor alive.
    core: Weak<Core>,
}

impl<T> JoinHandle<T> {
    /// Stops the task: its future is dropped now (and with it its sockets, which close,
    /// and its timers). Awaiting the handle then gives [`JoinError::Aborted`]. No effect
    /// on a finished task.
    pub fn abort(&self) {
        if let Some(core) = self.core.upgrade() {
            core.abort(self.id);
        }
    }

    /// Whether the task finished or was aborted.
    pub fn is_finished(&self) -> bool {
        !matches!(*self.state.outcome.borrow(), Outcome::Running)
    }
}
// ANCHOR_END: join_handle_struct

// ANCHOR: join_handle_poll
impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let outcome = self.state.outcome.replace(Outcome::Taken);
        match outcome {
            Outcome::Finished(output) => Poll::Ready(Ok(output)),
            Outcome::Aborted => Poll::Ready(Err(JoinError::Aborted)),
            Outcome::Running => {
                *self.state.outcome.borrow_mut() = Outcome::Running;
                let mut slot = self.state.waker.borrow_mut();
                if !slot.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                    *slot = Some(cx.waker().clone());
                }
                Poll::Pending
            }
            Outcome::Taken => panic!("JoinHandle polled after it returned its output"),
        }
    }
}
// ANCHOR_END: join_handle_poll

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    /// Runs `body` on a thread and fails if it takes more than 10 s: a lost wake-up
    /// fails the test instead of hanging it.
    fn within<T: Send + 'static>(body: impl FnOnce() -> T + Send + 'static) -> T {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(body());
        });
        rx.recv_timeout(Duration::from_secs(10))
            .expect("the test finished in time, without panicking")
    }

    #[test]
    fn nested_block_on_is_an_error_not_a_deadlock() {
        within(|| {
            let result = block_on(async { block_on(async { 1 }) }).unwrap();
            assert!(matches!(result, Err(RuntimeError::Nested)));
        });
    }

    #[test]
    fn a_wake_during_the_poll_schedules_the_task_again() {
        within(|| {
            // The future wakes itself and returns Pending three times: each of those wakes
            // arrives while it is being polled, and each must lead to one more poll.
            let executor = Executor::new().unwrap();
            let mut left = 3;
            let out = executor
                .block_on(async {
                    spawn(poll_fn(move |cx| {
                        if left == 0 {
                            return Poll::Ready(7);
                        }
                        left -= 1;
                        cx.waker().wake_by_ref();
                        Poll::Pending
                    }))
                    .await
                })
                .unwrap();
            assert_eq!(out, Ok(7));
            assert_eq!(executor.tasks(), 0);
        });
    }

    #[test]
    fn a_task_may_abort_itself() {
        within(|| {
            let executor = Executor::new().unwrap();
            let slot: Rc<RefCell<Option<JoinHandle<()>>>> = Rc::default();
            let inner = slot.clone();
            let handle = executor.spawn(async move {
                yield_now().await;
                if let Some(me) = inner.borrow_mut().take() {
                    me.abort();
                }
                yield_now().await;
                unreachable!("aborted before this point");
            });
            // The handle goes into the slot; a second handle is not possible, so watch the
            // state through the task count.
            *slot.borrow_mut() = Some(handle);
            executor
                .block_on(async {
                    for _ in 0..10 {
                        yield_now().await;
                    }
                })
                .unwrap();
            assert_eq!(executor.tasks(), 0);
        });
    }
}
