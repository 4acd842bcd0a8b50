//! Why a future that holds a reference into itself must not move, and how `Pin` keeps
//! it in place.
//!
//! [`FetchByHand`](super::FetchByHand) moves its state around freely: everything it
//! holds is owned, nothing points into it. The compiler's futures are different. A local
//! that lives across an `.await` is a field of the future, and a reference to it that
//! also lives across the `.await` is a field too: **a pointer into the future itself**.
//! Moved to another address, the future would keep pointing at the old one, where
//! nothing of it is left.
//!
//! So `Future::poll` takes `self: Pin<&mut Self>`: a promise that the value will not move
//! again until it is dropped. Making the promise is easy (`Box::pin` puts the future on
//! the heap for good; `std::pin::pin!` pins it in the current stack frame, which it
//! cannot leave). Breaking it is what the compiler forbids: for a future that is not
//! `Unpin`, a `Pin<&mut F>` gives no `&mut F`, so no `mem::swap`, no `mem::replace`, no
//! moving out. This does not compile:
//!
//! ```compile_fail,E0596
//! use std::pin::pin;
//! use event_loop::step6_future::pin::self_referential;
//!
//! let mut a = pin!(self_referential(1));
//! let mut b = pin!(self_referential(1));
//! // Swapping would move both futures: a pinned future that is not `Unpin` gives no
//! // `&mut` to do it with.
//! std::mem::swap(&mut *a, &mut *b);
//! ```
//!
//! Moving a future *before* its first poll is fine: it has not run, so no reference into
//! it exists yet. That is why a future is pinned where it will be polled, and only then.

use std::future::Future;
use std::pin::{Pin, pin};
use std::task::{Context, Poll, Waker};

use crate::step7_executor::yield_now;

// ANCHOR: points_at_itself
/// A value that remembers where its own buffer is, as a self-referential future does:
/// the address is kept as a number, so that no `unsafe` is needed to show what goes
/// wrong when the value moves.
#[derive(Debug)]
pub struct PointsAtItself {
    buf: [u8; 64],
    /// The address of `buf` when [`aim`](Self::aim) was called.
    aimed_at: usize,
}

impl PointsAtItself {
    pub fn new() -> PointsAtItself {
        PointsAtItself {
            buf: [0; 64],
            aimed_at: 0,
        }
    }

    /// Records where `buf` is now, as `let view = &buf;` does in a future.
    pub fn aim(&mut self) {
        self.aimed_at = self.buf.as_ptr() as usize;
    }

    /// Whether the recorded address is still `buf`'s. A reference that is not would
    /// read memory the value has left: after a move, on the stack, whatever comes next.
    pub fn still_aimed(&self) -> bool {
        self.aimed_at == self.buf.as_ptr() as usize
    }
}
// ANCHOR_END: points_at_itself

impl Default for PointsAtItself {
    fn default() -> PointsAtItself {
        PointsAtItself::new()
    }
}

/// Aims a [`PointsAtItself`], then moves it into a box (to the heap: surely another
/// address). Returns whether it was aimed before the move, and whether it still is after.
pub fn aim_then_move() -> (bool, bool) {
    let mut value = PointsAtItself::new();
    value.aim();
    let before = value.still_aimed();
    let moved = Box::new(value);
    (before, moved.still_aimed())
}

// ANCHOR: self_referential
/// A future that holds a reference into its own buffer across `pauses` `.await`s, and
/// returns where that reference pointed each time the future ran.
pub async fn self_referential(pauses: u32) -> Vec<usize> {
    let buf = [1u8; 64];
    // `buf` lives across the `.await` below, so it is a field of this future; `view`
    // lives across it too, so it is a field as well: a reference into the future.
    let view: &[u8] = &buf;
    let mut seen = Vec::new();
    for _ in 0..pauses {
        seen.push(view.as_ptr() as usize);
        yield_now().await;
    }
    seen.push(view.as_ptr() as usize);
    seen
}
// ANCHOR_END: self_referential

/// Where a pinned [`self_referential`] future was, and where it saw its buffer each
/// time it ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pinned {
    /// The future's address while it was polled.
    pub future_at: usize,
    /// Its size in bytes.
    pub future_size: usize,
    /// The buffer's address, as the reference saw it, at each resume.
    pub seen: Vec<usize>,
    /// How many polls it took.
    pub polls: u32,
}

impl Pinned {
    /// Whether every resume saw the buffer at the same address.
    pub fn never_moved(&self) -> bool {
        self.seen.windows(2).all(|pair| pair[0] == pair[1])
    }

    /// Whether the buffer lies inside the future: it is one of the future's fields.
    pub fn buffer_inside(&self) -> bool {
        let end = self.future_at + self.future_size;
        !self.seen.is_empty() && self.seen.iter().all(|&at| at >= self.future_at && at < end)
    }
}

// ANCHOR: pinned
/// Polls a [`self_referential`] future pinned on the heap with `Box::pin`.
pub fn pinned_in_a_box(pauses: u32) -> Pinned {
    // Made on the stack, then moved into the box: fine, it has not been polled yet.
    let future = self_referential(pauses);
    let mut future: Pin<Box<_>> = Box::pin(future);
    let (future_at, future_size) = place(&*future);
    let (seen, polls) = poll_to_the_end(future.as_mut(), pauses + 1);
    Pinned {
        future_at,
        future_size,
        seen,
        polls,
    }
}

/// Polls a [`self_referential`] future pinned in this stack frame with `pin!`: it
/// stays in this frame until the frame ends, which is all `poll` needs.
pub fn pinned_on_the_stack(pauses: u32) -> Pinned {
    let mut future = pin!(self_referential(pauses));
    let (future_at, future_size) = place(&*future);
    let (seen, polls) = poll_to_the_end(future.as_mut(), pauses + 1);
    Pinned {
        future_at,
        future_size,
        seen,
        polls,
    }
}
// ANCHOR_END: pinned

/// Where a value is, and how large it is.
fn place<T>(value: &T) -> (usize, usize) {
    (value as *const T as usize, size_of::<T>())
}

/// Polls a pinned future until it is ready, at most `max_polls` times. `yield_now`
/// wakes its task before it says `Pending`, so polling again at once is right here;
/// `Waker::noop()` stands in for a task to wake (see [`waker`](super::waker)).
fn poll_to_the_end<T: Default>(
    mut future: Pin<&mut impl Future<Output = T>>,
    max_polls: u32,
) -> (T, u32) {
    let mut cx = Context::from_waker(Waker::noop());
    for polls in 1..=max_polls {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return (output, polls);
        }
    }
    (T::default(), max_polls)
}
