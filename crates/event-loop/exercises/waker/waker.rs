//! Exercise `event-loop/waker`: a `Waker` by hand, from a `RawWakerVTable`.
//!
//! Under `std::task::Wake` and every executor's waker lies the same thing: a `RawWaker`,
//! a data pointer and a table of four functions (`clone`, `wake`, `wake_by_ref`, `drop`)
//! that the `Waker` calls, with that pointer, when it is cloned, woken or dropped. Rust
//! cannot check what those functions do with the pointer: here the pointer is an `Arc`
//! turned into a raw pointer, and each function must keep the `Arc`'s reference count
//! exactly right by hand. One reference too few and the counter is freed while a waker
//! still points to it (then freed twice); one too many and it is never freed. That is
//! why this file, alone in the lesson's exercises, needs `unsafe`.

// This exercise is about unsafe code: the vtable's functions receive a raw pointer.
#![allow(unsafe_code)]
// In your copy the bodies are `todo!()` and ignore their arguments until you write them:
// no warnings for that.
#![allow(unused_variables, unused_mut, dead_code, unused_imports)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{RawWaker, RawWakerVTable, Waker};

/// What the wakers of [`counting_waker`] point to: it counts the wakes it receives.
#[derive(Debug, Default)]
pub struct WakeCounter {
    wakes: AtomicUsize,
}

impl WakeCounter {
    pub fn new() -> WakeCounter {
        WakeCounter::default()
    }

    /// How many wakes came so far (`wake` and `wake_by_ref` alike).
    pub fn wakes(&self) -> usize {
        // A count publishes no other data: Relaxed would do; SeqCst is simplest.
        self.wakes.load(Ordering::SeqCst)
    }

    /// Counts one wake. Atomic: wakers may wake from any thread at once.
    fn count_one(&self) {
        // Only atomicity matters (no wake is lost from the count): Relaxed would do.
        self.wakes.fetch_add(1, Ordering::SeqCst);
    }
}

/// A waker that counts its wakes in `counter`, built from [`VTABLE`] by hand.
///
/// Its data pointer is `Arc::into_raw(counter)`: the waker owns the reference that
/// `counter` held, and every clone of it owns one more. So while wakers live, the
/// counter's `Arc::strong_count` is the number of live wakers plus the `Arc`s held
/// elsewhere; when the last one goes, the counter is freed, once.
pub fn counting_waker(counter: Arc<WakeCounter>) -> Waker {
    // BEGIN SOLUTION
    // into_raw, not as_ptr: the waker takes over the reference `counter` held, so that it
    // is not released when `counter` goes out of scope here.
    let data = Arc::into_raw(counter).cast::<()>();
    // SAFETY: `data` comes from `Arc::into_raw` of an `Arc<WakeCounter>` and carries one
    // reference, which this waker owns; VTABLE's functions treat it as such, and
    // WakeCounter is Send + Sync (an atomic), so the waker may go to any thread.
    unsafe { Waker::from_raw(RawWaker::new(data, &VTABLE)) }
    // END SOLUTION
}

/// The four functions a `Waker` of [`counting_waker`] calls with its data pointer. In a
/// `static`, so that every waker points to the same table (and `will_wake` can compare).
static VTABLE: RawWakerVTable = RawWakerVTable::new(clone_waker, wake, wake_by_ref, drop_waker);

/// `Waker::clone`: returns a new `RawWaker` for the same counter, with the same vtable.
///
/// Contract: `data` is the pointer of a live waker, which keeps its own reference (it is
/// still alive after the clone). The new waker must own a reference of its own: add
/// one to the count.
///
/// # Safety
///
/// `data` must come from `Arc::into_raw` of an `Arc<WakeCounter>` with a reference
/// owned by the waker being cloned.
unsafe fn clone_waker(data: *const ()) -> RawWaker {
    // BEGIN SOLUTION
    // SAFETY: by this function's contract, `data` is an `Arc<WakeCounter>` pointer whose
    // count is at least 1 (the waker being cloned owns a reference) for the whole call.
    unsafe { Arc::increment_strong_count(data.cast::<WakeCounter>()) };
    RawWaker::new(data, &VTABLE)
    // END SOLUTION
}

/// `Waker::wake` (by value): counts one wake. The waker is consumed: its reference is
/// released (one less in the count); `drop_waker` is not called for it afterwards.
///
/// # Safety
///
/// `data` must come from `Arc::into_raw` of an `Arc<WakeCounter>`, with a reference that
/// the consumed waker owned and that passes to this call.
unsafe fn wake(data: *const ()) {
    // BEGIN SOLUTION
    // SAFETY: `data` carries the consumed waker's reference (this function's contract):
    // taking it back as an `Arc` releases it when the `Arc` is dropped, at the end.
    let counter = unsafe { Arc::from_raw(data.cast::<WakeCounter>()) };
    counter.count_one();
    // END SOLUTION
}

/// `Waker::wake_by_ref`: counts one wake. The waker stays alive and keeps its reference:
/// the count does not change.
///
/// # Safety
///
/// `data` must come from `Arc::into_raw` of an `Arc<WakeCounter>`, with a reference
/// owned by a waker that lives for the whole call.
unsafe fn wake_by_ref(data: *const ()) {
    // BEGIN SOLUTION
    // SAFETY: the waker that owns a reference lives for the whole call (this function's
    // contract), so the counter does too; a shared borrow takes no reference and releases
    // none.
    let counter = unsafe { &*data.cast::<WakeCounter>() };
    counter.count_one();
    // END SOLUTION
}

/// `Drop for Waker`: releases the dropped waker's reference (one less in the count; the
/// counter is freed with the last one).
///
/// # Safety
///
/// `data` must come from `Arc::into_raw` of an `Arc<WakeCounter>`, with a reference that
/// the dropped waker owned and that passes to this call.
unsafe fn drop_waker(data: *const ()) {
    // BEGIN SOLUTION
    // SAFETY: `data` carries the dropped waker's reference (this function's contract),
    // released here, once.
    unsafe { Arc::decrement_strong_count(data.cast::<WakeCounter>()) };
    // END SOLUTION
}
