//! Exercise `async-download/timeout`: tokio's `timeout`, written by hand.
//!
//! Every network wait needs a limit: a server that accepts the connection and then
//! says nothing would otherwise hold a worker forever. `tokio::time::timeout` is that
//! limit, and it is no magic: a future that owns two others, the work and a timer,
//! polls both, and is ready when either is. Lesson 4 wrote the same thing on its own
//! executor (`select`); here the timer is tokio's `Sleep`, which registers the waker
//! with tokio's timer wheel.
//!
//! Pinning: `Sleep` is `!Unpin` (the timer wheel keeps a pointer into it), so it must
//! be pinned before it is polled, and so must the inner future, which may be `!Unpin`
//! too (an `async` block usually is). `Box::pin` pins each on the heap: the `Box` may
//! move with the `Timeout`, what it points to never does. That makes `Timeout` itself
//! `Unpin`, so `poll` can use `Pin::get_mut`, with no `unsafe` and no pin projection,
//! for the price of two small allocations (tokio avoids them with `pin-project`).
//!
//! Cancellation is `drop`: when time is up, the inner future is dropped at once, and
//! whatever it held (a socket, a permit, a file) is released then, not whenever the
//! `Timeout` itself goes away.

// In your copy the body is `todo!()` and ignores its arguments until you write it:
// no warnings for that.
#![allow(unused_variables, unused_mut, dead_code)]

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::Sleep;

/// The error of a [`Timeout`] whose time ran out: how long it had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed {
    pub after: Duration,
}

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "no result within {:?}", self.after)
    }
}

impl std::error::Error for Elapsed {}

/// The future returned by [`timeout`].
// Holds a future, which has no Debug.
#[allow(missing_debug_implementations)]
pub struct Timeout<F> {
    /// The work; `None` once it finished or was dropped because time ran out.
    inner: Option<Pin<Box<F>>>,
    /// Fires `after` the call to [`timeout`].
    sleep: Pin<Box<Sleep>>,
    after: Duration,
}

/// Runs `future` for at most `after` (counted from this call): its output, or
/// `Err(Elapsed)` when time ran out first. Call it inside a tokio runtime (the timer
/// is tokio's).
pub fn timeout<F: Future>(after: Duration, future: F) -> Timeout<F> {
    Timeout {
        inner: Some(Box::pin(future)),
        sleep: Box::pin(tokio::time::sleep(after)),
        after,
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    /// Polls the inner future first, then the timer:
    ///
    /// - the inner future is ready: `Ready(Ok(output))`, even if the time is also up
    ///   (it is polled first, so a tie, and a zero `after` with a future that is ready
    ///   at once, go to the work: a result that is there is never thrown away);
    /// - else the timer is ready: drop the inner future right away (before returning),
    ///   and `Ready(Err(Elapsed { after }))`;
    /// - else `Pending`: both were polled with `cx`, so whichever is ready first wakes
    ///   this task (do not wake it yourself: it would be polled again and again while
    ///   it waits, instead of once per wake).
    ///
    /// Polling again after `Ready` is a bug of the caller; it may panic.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // BEGIN SOLUTION
        let this = self.get_mut();
        let inner = this
            .inner
            .as_mut()
            .expect("a Timeout was polled after it was ready");
        if let Poll::Ready(output) = inner.as_mut().poll(cx) {
            this.inner = None;
            return Poll::Ready(Ok(output));
        }
        if this.sleep.as_mut().poll(cx).is_ready() {
            this.inner = None; // cancelled: what it holds is released now
            return Poll::Ready(Err(Elapsed { after: this.after }));
        }
        Poll::Pending
        // END SOLUTION
    }
}
