//! Graded tests for exercise `event-loop/block-on`.
//!
//! Each test runs the learner's `block_on` on a thread of its own ([`common::within`]),
//! so that a wake that is lost (the thread parks for good) fails the test after a few
//! seconds instead of hanging it. The futures are the test's own: they count their
//! polls, panic if polled after they returned `Ready`, and arrange their wakes in the
//! ways the task names: from inside `poll`, from another thread before `poll` returns,
//! from another thread later, with spurious wakes in between, or after a long wait.
//!
//! Every check names the future it ran and the rule of the task it checks
//! ([`graded::scene`]); a panic in `block_on` is reported as one, with that future.

#[path = "../../../tests/common/mod.rs"]
mod common;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use event_loop::step2_poll::thread_cpu_time;
use event_loop_block_on::block_on;
use graded::{Case, scene};

/// How many times a future was polled, seen from the test.
#[derive(Debug, Default)]
struct Polls(AtomicU32);

impl Polls {
    fn one_more(&self) -> u32 {
        // A count: Relaxed would do; SeqCst is simplest.
        self.0.fetch_add(1, Ordering::SeqCst) + 1
    }

    fn get(&self) -> u32 {
        // A count: Relaxed would do; SeqCst is simplest.
        self.0.load(Ordering::SeqCst)
    }
}

/// Panics (a bug of the caller) when a future that returned `Ready` is polled again.
fn not_after_ready(finished: bool, poll: u32) {
    assert!(
        !finished,
        "the future was polled again (poll {poll}) after it returned Ready"
    );
}

/// Where the wake of a [`Staged`] future comes from.
#[derive(Debug, Clone, Copy)]
enum WakeFrom {
    /// From inside `poll`, before it returns Pending (`wake_by_ref`, then the wake of a
    /// clone, in turn).
    InsidePoll,
    /// From another thread, which `poll` starts and waits for before it returns Pending:
    /// the wake has come before `block_on` can park.
    ThreadBeforePollReturns,
    /// From another thread, after this delay (with a clone of the waker sent there).
    ThreadAfter(Duration),
}

/// A future that is Pending `stages` times, each time arranging one wake ([`WakeFrom`]),
/// and then Ready with its output. A poll before its wake came (a spurious one) finds
/// nothing new and returns Pending again, arranging nothing.
struct Staged<T> {
    from: WakeFrom,
    stages_left: u32,
    /// Set by whoever wakes, just before the wake: the stage is over.
    waiting_for: Option<Arc<AtomicBool>>,
    output: Option<T>,
    polls: Arc<Polls>,
}

fn staged<T>(from: WakeFrom, stages: u32, output: T) -> (Staged<T>, Arc<Polls>) {
    let polls = Arc::new(Polls::default());
    let future = Staged {
        from,
        stages_left: stages,
        waiting_for: None,
        output: Some(output),
        polls: polls.clone(),
    };
    (future, polls)
}

// Its fields are never pinned (a `T` is only moved out whole): it may move between polls.
impl<T> Unpin for Staged<T> {}

impl<T> Future for Staged<T> {
    type Output = T;

    // The wake by value of a clone is one of the wakes under test, not a slip.
    #[allow(clippy::waker_clone_wake)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let this = self.get_mut();
        let poll = this.polls.one_more();
        not_after_ready(this.output.is_none(), poll);
        if let Some(over) = &this.waiting_for {
            // The wake (through block_on's own flag or park) orders the store before this poll.
            if !over.load(Ordering::SeqCst) {
                return Poll::Pending; // nothing new: its wake is still to come
            }
            this.waiting_for = None;
            this.stages_left -= 1;
        }
        if this.stages_left == 0 {
            return Poll::Ready(this.output.take().expect("checked above"));
        }
        let over = Arc::new(AtomicBool::new(false));
        this.waiting_for = Some(over.clone());
        match this.from {
            WakeFrom::InsidePoll => {
                // Before the wake, which orders it before the next poll (see the load above).
                over.store(true, Ordering::SeqCst);
                if this.stages_left % 2 == 0 {
                    cx.waker().wake_by_ref();
                } else {
                    cx.waker().clone().wake();
                }
            }
            WakeFrom::ThreadBeforePollReturns => {
                let waker = cx.waker().clone();
                let waking = thread::spawn(move || {
                    // Before the wake, as above.
                    over.store(true, Ordering::SeqCst);
                    waker.wake();
                });
                waking.join().expect("the waking thread ends");
            }
            WakeFrom::ThreadAfter(delay) => {
                let waker = cx.waker().clone();
                thread::spawn(move || {
                    thread::sleep(delay);
                    // Before the wake, as above.
                    over.store(true, Ordering::SeqCst);
                    waker.wake();
                });
            }
        }
        Poll::Pending
    }
}

/// A gate that another thread opens: the [`Gate`] future is Pending until then, and
/// keeps the last waker it was polled with, for whoever opens it.
#[derive(Debug, Default)]
struct GateState {
    /// Whether it is open, and the waker of the last poll.
    inner: Mutex<(bool, Option<Waker>)>,
}

impl GateState {
    /// Opens the gate and wakes the future (once).
    fn open(&self) {
        let waker = {
            let mut inner = self.inner.lock().unwrap();
            inner.0 = true;
            inner.1.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Wakes the future with nothing new: the gate stays as it is.
    fn wake_for_nothing(&self) {
        let waker = self.inner.lock().unwrap().1.clone();
        if let Some(waker) = waker {
            waker.wake_by_ref();
        }
    }
}

struct Gate {
    state: Arc<GateState>,
    finished: bool,
    polls: Arc<Polls>,
}

impl Future for Gate {
    type Output = String;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<String> {
        let this = self.get_mut();
        let poll = this.polls.one_more();
        not_after_ready(this.finished, poll);
        let mut inner = this.state.inner.lock().unwrap();
        if inner.0 {
            this.finished = true;
            return Poll::Ready("through the gate".to_string());
        }
        inner.1 = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// A gate that a thread opens after `delay`, and its future.
fn gate_opened_after(delay: Duration) -> (Gate, Arc<GateState>, Arc<Polls>) {
    let state = Arc::new(GateState::default());
    let polls = Arc::new(Polls::default());
    let gate = Gate {
        state: state.clone(),
        finished: false,
        polls: polls.clone(),
    };
    let opener = state.clone();
    thread::spawn(move || {
        thread::sleep(delay);
        opener.open();
    });
    (gate, state, polls)
}

/// Runs the learner's `block_on(future)` on a thread of its own, failing `c` after
/// `secs` if it never returns; a panic in it is reported with `c`.
fn run<F>(c: &Case, secs: u64, future: impl FnOnce() -> F + Send + 'static) -> F::Output
where
    F: Future,
    F::Output: Send + 'static,
{
    common::within(c, secs, move |c| c.run(|| block_on(future())))
}

/// What a staged future returns: nested values, nothing `Copy`.
fn nested() -> Vec<(String, Vec<u8>)> {
    vec![
        ("one".to_string(), vec![1]),
        ("two".to_string(), vec![2, 2]),
    ]
}

#[test]
fn a_ready_future_gives_its_output_at_once() {
    let c = scene(
        "block_on of a future ready at its first poll, with a Vec<(String, Vec<u8>)>",
        "run the future to completion and return its output, never polling it after \
         Ready (a future nobody woke yet is polled a first time at once)",
    );
    let (output, polls) = common::within(&c, 5, |c| {
        let (future, polls) = staged(WakeFrom::InsidePoll, 0, nested());
        (c.run(|| block_on(future)), polls.get())
    });
    c.eq(output, nested());
    c.rule("poll the future until it is Ready, and never after (polls of the future)")
        .eq(polls, 1);
}

#[test]
fn a_future_woken_from_another_thread_completes() {
    let c = scene(
        "block_on of a future that is Pending 3 times; each time a clone of the waker goes \
         to another thread, which wakes it 30 ms later",
        "a waker that unparks the thread of block_on, whichever thread wakes it; park \
         between polls until woken",
    );
    let output = run(&c, 5, || {
        staged(
            WakeFrom::ThreadAfter(Duration::from_millis(30)),
            3,
            nested(),
        )
        .0
    });
    c.eq(output, nested());
}

#[test]
fn a_wake_from_inside_poll_is_not_lost() {
    let c = scene(
        "block_on of a future that wakes its task from inside poll (wake_by_ref, then the \
         wake of a clone, in turn) and returns Pending, 4 times",
        "a wake that comes before the park is not lost (from inside poll too): the next \
         park returns at once",
    );
    let (output, polls) = common::within(&c, 5, |c| {
        let (future, polls) = staged(WakeFrom::InsidePoll, 4, "woken by itself".to_string());
        (c.run(|| block_on(future)), polls.get())
    });
    c.eq(output, "woken by itself".to_string());
    c.rule(
        "poll the future until it is Ready, and never after (polls of the future: 5 are needed)",
    )
    .check((5..=20).contains(&polls), polls);
}

#[test]
fn a_wake_from_another_thread_before_the_park_is_not_lost() {
    let c = scene(
        "block_on of a future that, 3 times, sends a clone of its waker to another thread \
         and waits in poll until that thread has woken it, then returns Pending",
        "a wake that comes before the park (from another thread, between poll and park) \
         is not lost: the next park returns at once",
    );
    let output = run(&c, 5, || {
        staged(WakeFrom::ThreadBeforePollReturns, 3, nested()).0
    });
    c.eq(output, nested());
}

#[test]
fn a_waker_cloned_and_sent_away_still_wakes_the_thread() {
    let c = scene(
        "block_on of a future that waits for a gate; another thread clones the waker it \
         keeps, drops that one, and wakes the clone 50 ms later",
        "a waker that unparks the thread of block_on, from a clone, on any thread",
    );
    let output = run(&c, 5, || {
        let state = Arc::new(GateState::default());
        let gate = Gate {
            state: state.clone(),
            finished: false,
            polls: Arc::new(Polls::default()),
        };
        thread::spawn(move || {
            // Wait for the first poll to leave its waker, then keep a clone of it only.
            let clone = (0..500).find_map(|_| {
                let kept = state.inner.lock().unwrap().1.take();
                if kept.is_none() {
                    thread::sleep(Duration::from_millis(2));
                }
                kept.map(|original| {
                    let clone = original.clone();
                    drop(original);
                    clone
                })
            });
            thread::sleep(Duration::from_millis(50));
            state.inner.lock().unwrap().0 = true;
            if let Some(clone) = clone {
                clone.wake_by_ref();
            }
        });
        gate
    });
    c.eq(output, "through the gate".to_string());
}

#[test]
fn spurious_wakes_change_nothing() {
    let c = scene(
        "block_on of a future that waits for a gate opened after 300 ms; meanwhile another \
         thread unparks the thread of block_on 40 times and wakes the future 10 times \
         with nothing new",
        "a spurious return from park, or a wake with nothing new, costs one more poll and \
         nothing else; the future is never polled after Ready",
    );
    let output = common::within(&c, 5, |c| {
        let (gate, state, _polls) = gate_opened_after(Duration::from_millis(300));
        let sleeper = thread::current();
        let noise = thread::spawn(move || make_noise(&sleeper, &state));
        let output = c.run(|| block_on(gate));
        noise.join().expect("the noisy thread ends");
        output
    });
    c.eq(output, "through the gate".to_string());
}

/// Unparks `sleeper` 40 times, 5 ms apart, and wakes the gate's future with nothing new
/// at every 4th.
fn make_noise(sleeper: &Thread, state: &GateState) {
    for i in 0..40 {
        thread::sleep(Duration::from_millis(5));
        sleeper.unpark();
        if i % 4 == 0 {
            state.wake_for_nothing();
        }
    }
}

#[test]
fn while_the_future_waits_the_thread_sleeps() {
    // Long enough that a timer of a few hundred milliseconds shows as polls: a thread
    // that looks again every 500 ms polls 5 times in 2 s where 2 polls are needed.
    const WAIT: Duration = Duration::from_secs(2);
    let c = scene(
        "block_on of a future that waits for a gate another thread opens after 2 s \
         (the opener wakes it once); nothing else wakes it meanwhile",
        "while the future waits, the thread sleeps: no polling in a loop, no short timer \
         to look again",
    );
    let (output, polls, cpu, wall) = common::within(&c, 10, |c| {
        let (gate, _state, polls) = gate_opened_after(WAIT);
        let cpu_before = thread_cpu_time().expect("getrusage(RUSAGE_THREAD)");
        let start = Instant::now();
        let output = c.run(|| block_on(gate));
        let wall = start.elapsed();
        let cpu = thread_cpu_time().expect("getrusage(RUSAGE_THREAD)") - cpu_before;
        (output, polls.get(), cpu, wall)
    });
    c.eq(output, "through the gate".to_string());
    // Two polls are needed: the first, and the one after the wake; two more are allowed
    // for the rare spurious return of `park`.
    if polls > 4 {
        c.rule(
            "while the future waits, the thread sleeps: polled at most 4 times (2 are \
             needed: the first poll, and one after the wake)",
        )
        .fail_with(&format!("the future was polled {polls} times in {wall:?}"));
    }
    // A parked thread uses microseconds of CPU; one that polls in a loop, all it gets.
    if cpu * 10 > wall {
        c.rule(
            "while the future waits, the thread sleeps: its CPU time stays under a tenth of \
             the time it waited",
        )
        .fail_with(&format!("the thread used {cpu:?} of CPU time in {wall:?}"));
    }
}
