//! Time as futures: [`sleep`] and [`timeout`], on the reactor's timer heap.
//!
//! A thread that sleeps blocks; a task that sleeps must not (it would block every task
//! of the thread). So [`Sleep`] leaves its waker in the reactor's timer heap and returns
//! `Pending`; the executor, with nothing else to do, waits in `epoll_wait` with the
//! earliest deadline as its timeout, and the reactor wakes the task when it passes. A
//! thousand sleeping tasks cost a thousand heap entries, and no CPU.
//!
//! [`timeout`] is nothing but a race between a future and a `Sleep`: whichever is ready
//! first wins, and the loser is dropped, which cancels what it was doing. That is how
//! every network wait of [`download`](mod@super::download) gets its time limit.

use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::executor::current_reactor;
use super::reactor::{Reactor, TimerKey};

/// A future ready at a deadline. Made by [`sleep`] or [`sleep_until`].
#[derive(Debug)]
#[must_use = "a Sleep does nothing unless awaited"]
pub struct Sleep {
    deadline: Instant,
    /// The reactor's timer, once the first poll set it.
    timer: Option<(Rc<Reactor>, TimerKey)>,
}

/// A future ready once `duration` has passed.
pub fn sleep(duration: Duration) -> Sleep {
    sleep_until(procs::deadline::from_now(duration))
}

/// A future ready at `deadline` (at once if it is past).
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        deadline,
        timer: None,
    }
}

impl Sleep {
    /// When it is ready.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }
}

impl Future for Sleep {
    type Output = ();

    // ANCHOR: sleep_poll
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // `Sleep` holds no self-reference, so it is `Unpin` and may be used as `&mut`.
        let this = self.get_mut();
        // The clock decides, not the timer: a poll for any reason after the deadline is
        // ready, and a spurious poll before it is not.
        if Instant::now() >= this.deadline {
            if let Some((reactor, key)) = this.timer.take() {
                reactor.cancel_timer(key);
            }
            return Poll::Ready(());
        }
        match &this.timer {
            // Polled again before the deadline: keep the latest waker.
            Some((reactor, key)) if reactor.set_timer_waker(*key, cx.waker()) => {}
            _ => {
                let Some(reactor) = current_reactor() else {
                    panic!("sleep polled outside block_on: no reactor runs on this thread");
                };
                let key = reactor.add_timer(this.deadline, cx.waker());
                this.timer = Some((reactor, key));
            }
        }
        Poll::Pending
    }
    // ANCHOR_END: sleep_poll
}

impl Drop for Sleep {
    fn drop(&mut self) {
        // A sleep dropped early (the losing side of a timeout) leaves no timer behind.
        if let Some((reactor, key)) = self.timer.take() {
            reactor.cancel_timer(key);
        }
    }
}

/// The error of a [`timeout`] whose future did not finish in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("deadline elapsed after {after:?}")]
pub struct Elapsed {
    /// The time limit that passed.
    pub after: Duration,
}

// ANCHOR: timeout
/// Runs `future` for at most `duration`: its output, or [`Elapsed`] (and `future` is
/// dropped, cancelling what it was doing: a socket it was reading is closed, say).
///
/// The future is polled first, so one that is ready at the deadline wins.
pub async fn timeout<F: Future>(duration: Duration, future: F) -> Result<F::Output, Elapsed> {
    let mut future = pin!(future);
    let mut deadline = sleep(duration);
    poll_fn(|cx| {
        if let Poll::Ready(output) = future.as_mut().poll(cx) {
            return Poll::Ready(Ok(output));
        }
        match Pin::new(&mut deadline).poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed { after: duration })),
            Poll::Pending => Poll::Pending,
        }
    })
    .await
}
// ANCHOR_END: timeout
