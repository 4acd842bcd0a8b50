//! Exercise `event-loop/join-all`: wait for many futures at once, by hand.
//!
//! A future that owns other futures and polls them: the whole of "async concurrency" in
//! one small `poll`. Every time the executor polls `JoinAll`, it polls each future that
//! has not finished yet (never one that has: polling a finished future is a bug), keeps
//! the outputs, and is ready when all are. The wakers of the inner futures are the one in
//! `cx`: whichever inner future makes progress wakes the `JoinAll` task.

// In your copy the body is `todo!()` and ignores its arguments until you write it:
// no warnings for that.
#![allow(unused_variables, unused_mut, dead_code)]

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The future returned by [`join_all`].
// Holds futures, which have no Debug.
#[allow(missing_debug_implementations)]
pub struct JoinAll<F: Future> {
    /// `None` once that future finished (its output is then in `outputs`).
    futures: Vec<Option<Pin<Box<F>>>>,
    outputs: Vec<Option<F::Output>>,
}

// The futures are boxed (they stay where they are, whatever moves) and the outputs are
// never pinned, so a `JoinAll` may move between polls: `Pin::get_mut` can be used.
impl<F: Future> Unpin for JoinAll<F> {}

/// Runs all `futures` concurrently (on the task that awaits the result) and returns
/// their outputs in the same order.
pub fn join_all<F: Future>(futures: Vec<F>) -> JoinAll<F> {
    let outputs = futures.iter().map(|_| None).collect();
    JoinAll {
        futures: futures.into_iter().map(|f| Some(Box::pin(f))).collect(),
        outputs,
    }
}

impl<F: Future> Future for JoinAll<F> {
    type Output = Vec<F::Output>;

    /// Polls every unfinished future once; `Ready` with all outputs, in order, in the
    /// poll in which the last one finishes. `Pending` wakes nothing itself: the inner
    /// futures wake the task.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // BEGIN SOLUTION
        let this = self.get_mut();
        for (slot, output) in this.futures.iter_mut().zip(this.outputs.iter_mut()) {
            if let Some(future) = slot {
                if let Poll::Ready(value) = future.as_mut().poll(cx) {
                    *output = Some(value);
                    *slot = None;
                }
            }
        }
        if this.futures.iter().any(Option::is_some) {
            return Poll::Pending;
        }
        Poll::Ready(this.outputs.iter_mut().filter_map(Option::take).collect())
        // END SOLUTION
    }
}
