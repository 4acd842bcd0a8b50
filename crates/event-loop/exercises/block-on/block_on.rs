//! Exercise `event-loop/block-on`: run a future to completion on this thread, sleeping
//! while it waits.
//!
//! The smallest executor there is: one future, one thread, no reactor. Polling is the
//! only way to run a future, and a `Pending` future says "wake me when I can go on"
//! through the waker of its `Context`. So `block_on` needs a waker that ends its sleep,
//! and a sleep that such a wake can end: `thread::park` and `Thread::unpark`. The hard
//! part is time: a wake may come *before* the thread parks (from inside `poll`, or from
//! another thread just after `poll` returned), and it must not be lost; a thread may
//! also return from `park` with nothing new (a spurious wake-up), which must cost no more
//! than one more poll. Step 7's executor does the same with an epoll descriptor in place
//! of `park`.

// In your copy the bodies are `todo!()` and ignore their arguments until you write them:
// no warnings for that.
#![allow(unused_variables, unused_mut, dead_code, unused_imports)]

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};

/// The waker of [`block_on`]: it wakes the thread that runs `block_on`, whichever thread
/// calls `wake`. `Waker::from(Arc::new(ThreadWaker { .. }))` makes a `Waker` of it: a
/// clone of the waker is a clone of the `Arc`, and `wake_by_ref` (not written here)
/// clones the `Arc` and calls `wake`.
#[derive(Debug)]
pub struct ThreadWaker {
    /// The thread to wake: the one that called `block_on`.
    pub thread: Thread,
}

impl Wake for ThreadWaker {
    /// Ends the park of the thread that runs `block_on` (or, if it is not parked yet,
    /// makes its next park return at once).
    fn wake(self: Arc<Self>) {
        // BEGIN SOLUTION
        // Not `thread::current()`: a wake often comes from another thread (a timer, a
        // socket's reactor), and that is not the thread that sleeps.
        self.thread.unpark();
        // END SOLUTION
    }
}

/// Runs `future` to completion on the calling thread and returns its output.
///
/// Polls it with a waker ([`ThreadWaker`]) that unparks this thread, and parks between
/// polls until woken:
///
/// - A wake that comes before the park (from inside `poll`, or from another thread
///   between `poll` and `park`) is not lost: the next park returns at once.
/// - A spurious return from `park`, or a wake with nothing new, costs one more poll and
///   nothing else: the future says `Pending` again, and the thread parks again.
/// - The future is never polled again after it returned `Ready`.
/// - While the future waits, the thread sleeps: it does not poll in a loop, nor wake up
///   on a short timer to look again.
pub fn block_on<F: Future>(future: F) -> F::Output {
    // BEGIN SOLUTION
    // Pinned on this stack frame: it is never moved again, and never outlives the frame.
    let mut future = pin!(future);
    let waker = Waker::from(Arc::new(ThreadWaker {
        thread: thread::current(),
    }));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        // A wake since the last park left this thread's token set: then `park` returns
        // at once, and nothing is lost. A return with nothing new is harmless: the next
        // poll says Pending again.
        thread::park();
    }
    // END SOLUTION
}
