//! Step 6: from generator to `Future` — the state machine under `async fn`, by hand.
//!
//! The Python course's tasks are generators: functions that stop at each `yield`, keep
//! their locals, and go on from there when resumed. Stable Rust has no generators. Step
//! 5 kept each task's place by hand instead, and its `step` returned what the task
//! waited for. Step 7 lets the compiler keep the place: an `async fn` compiles to a
//! state machine that implements [`std::future::Future`]. This step opens that
//! machine:
//!
//! ```text
//!  a generator (Python)               a future (Rust)
//!  ─────────────────────────────────  ─────────────────────────────────────────────────
//!  the generator object               a value of a type that implements Future
//!  its frame: locals, where it is     an enum: one variant per .await, holding the locals
//!  next(gen) / gen.send(x)            future.poll(cx)
//!  yield ReadWait(sock)               return Poll::Pending (after leaving cx.waker())
//!  return value (StopIteration)       return Poll::Ready(value)
//!  the scheduler's task map says      the waker, left with the reactor, says when
//!    what it waits for                  to poll again
//! ```
//!
//! - [`fetch_by_hand`]: one fetch as an `async fn` ([`fetch`]) and as the `enum` the
//!   compiler would make of it ([`FetchByHand`]), both run by step 7's executor.
//! - [`pin`](mod@pin): why a future that holds a reference into itself must not move, and
//!   how `Pin` (`Box::pin`, `pin!`) keeps it in place.
//! - [`waker`]: `Context` and `Waker`: polling by hand, [`Waker::noop`](std::task::Waker::noop),
//!   and a waker made from a `RawWakerVTable`.
//! - [`size`]: how large the course's futures are, and what makes one grow: whatever
//!   lives across an `.await`.

pub mod fetch_by_hand;
pub mod pin;
pub mod size;
pub mod waker;

pub use fetch_by_hand::{Agreement, FetchByHand, fetch, fetch_both};
pub use pin::{Pinned, PointsAtItself, pinned_in_a_box, pinned_on_the_stack, self_referential};
pub use size::{FutureSizes, future_sizes, size_of_future};
pub use waker::{Run, busy_poll, flag_waker, run_while_woken, take_wake};
