//! `Context` and `Waker`: who calls `poll`, and when.
//!
//! A future never runs by itself. Someone calls its `poll`, and the only thing that
//! someone hands it is a [`Context`], which today carries one thing: a [`Waker`]. When
//! the future returns `Pending`, it keeps a clone of that waker (or leaves it with
//! whoever will know, such as step 7's reactor), and when the wait is over, `wake()` says
//! "poll me again". The caller of `poll` may then sleep until a wake comes, instead of
//! guessing.
//!
//! Two callers show it here:
//!
//! - [`busy_poll`] polls again and again with [`Waker::noop()`], a waker that does
//!   nothing: with no one to say when, it must guess, and it guesses "now", every time.
//!   It is step 1's busy loop, with futures.
//! - [`run_while_woken`] polls again only when the future's waker was woken. Its waker
//!   ([`flag_waker`]) is made from a [`RawWakerVTable`], the four functions every waker
//!   is made of, and it does the least a waker can do: raise a flag.
//!
//! Step 7's executor makes its wakers without a vtable, from an `Arc` through
//! [`std::task::Wake`], because its wakers carry a task's id and must be counted.

#![allow(unsafe_code)] // Waker::from_raw: the vtable's contract is the lesson here.

use std::future::Future;
use std::pin::pin;
use std::ptr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

// ANCHOR: busy_poll
/// Polls `future` until it is ready, with a waker that does nothing, so again at once
/// after every `Pending`. Returns the output (`None` if `max_polls` polls were not
/// enough) and how many polls it took.
pub fn busy_poll<F: Future>(future: F, max_polls: u64) -> (Option<F::Output>, u64) {
    // `poll` needs the future pinned: it stays in this frame until it is done.
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    for polls in 1..=max_polls {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return (Some(output), polls);
        }
    }
    (None, max_polls)
}
// ANCHOR_END: busy_poll

// ANCHOR: flag_vtable
/// Raised by every wake of a [`flag_waker`]; lowered by [`take_wake`].
static WOKEN: AtomicBool = AtomicBool::new(false);

/// The four functions of the flag waker. A waker is a data pointer and a table of
/// functions that receive it. Here the data points at nothing (the flag is a static),
/// so `clone` copies a null pointer and `drop` has nothing to free: no reference count.
static FLAG_VTABLE: RawWakerVTable =
    RawWakerVTable::new(clone_flag, wake_flag, wake_flag, drop_flag);

fn clone_flag(_data: *const ()) -> RawWaker {
    RawWaker::new(ptr::null(), &FLAG_VTABLE)
}

/// `wake` (which consumes the waker) and `wake_by_ref` (which does not) do the same:
/// there is nothing to release.
fn wake_flag(_data: *const ()) {
    // SeqCst where Release would do: with Acquire in `take_wake`, the poll that follows
    // sees what the waking thread wrote before it woke.
    WOKEN.store(true, Ordering::SeqCst);
}

fn drop_flag(_data: *const ()) {}
// ANCHOR_END: flag_vtable

// ANCHOR: flag_waker
/// A waker that raises one flag for the whole program: enough to poll one future by hand
/// at a time, and so the simplest waker there is. An executor needs one waker per task,
/// which says which task to poll (step 7's `TaskWaker`).
pub fn flag_waker() -> Waker {
    let raw = RawWaker::new(ptr::null(), &FLAG_VTABLE);
    // SAFETY: `from_raw` trusts the vtable to keep `RawWaker`'s contract: its functions
    // may be called on any thread, any number of times, on any clone, and must stay
    // valid as long as a clone lives. These touch only a static atomic and never read
    // the data pointer (null); `clone` returns a `RawWaker` with this same vtable, and
    // `drop` has nothing to release.
    unsafe { Waker::from_raw(raw) }
}

/// Whether a flag waker was woken since the last call; lowers the flag.
pub fn take_wake() -> bool {
    // Reads and lowers the flag in one step, so a wake between the two cannot be lost;
    // Acquire would do (see `wake_flag`).
    WOKEN.swap(false, Ordering::SeqCst)
}
// ANCHOR_END: flag_waker

/// How [`run_while_woken`] ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Run<T> {
    /// The future was ready after `polls` polls.
    Ready { output: T, polls: u32 },
    /// After poll number `polls`, the future was `Pending` and nobody had woken it.
    Stalled { polls: u32 },
}

// ANCHOR: run_while_woken
/// Polls `future` once, then again each time it was woken meanwhile, at most
/// `max_polls` times: the decision every executor makes.
///
/// When a poll says `Pending` and nothing was woken, another poll now would only be a
/// guess. An executor sleeps there until a wake comes: step 7's in `epoll_wait`, with
/// the reactor holding the wakers. This one has nothing to sleep on, so it stops and
/// says [`Run::Stalled`]. The flag is the program's only one: run one at a time.
pub fn run_while_woken<F: Future>(future: F, max_polls: u32) -> Run<F::Output> {
    let mut future = pin!(future);
    let waker = flag_waker();
    let mut cx = Context::from_waker(&waker);
    take_wake(); // a wake left over from before is not this future's
    for polls in 1..=max_polls {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return Run::Ready { output, polls };
        }
        if !take_wake() {
            return Run::Stalled { polls };
        }
    }
    Run::Stalled { polls: max_polls }
}
// ANCHOR_END: run_while_woken
