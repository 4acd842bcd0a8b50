//! How large a future is, and what makes it grow: whatever lives across an `.await`.
//!
//! A thread keeps its locals on a stack of its own, reserved up front (8 MiB of address
//! space by default, lesson 2). A future has no stack: the locals it needs after an
//! `.await` are fields of the future, and its size is known at compile time. It is the
//! size of its largest state, plus the tag that says which state it is in. So a
//! `[u8; 4096]` that lives across an `.await` puts 4 KiB in the future, while a
//! `Vec<u8>` of 4 KiB puts only its handle there (pointer, capacity, length) and the
//! bytes on the heap. A buffer used only before the `.await` is not in the future at
//! all.
//!
//! A task of step 7 is its future, boxed: these sizes are what one waiting task costs
//! the executor, besides what the future owns on the heap.

use std::future::Future;
use std::net::SocketAddr;

use super::fetch_by_hand::{FetchByHand, fetch};
use crate::step7_executor::{download, yield_now};

/// The size of a future's type, in bytes: what it holds while it waits.
pub fn size_of_future<F: Future>(_future: &F) -> usize {
    size_of::<F>()
}

// ANCHOR: buffers
/// Holds a 4 KiB array across an `.await`: the array is a field of the future.
pub async fn array_across_await() -> u8 {
    let buf = [1u8; 4096];
    yield_now().await;
    buf[4095]
}

/// The same work, with the array used up before the `.await`: only its result (a byte)
/// is kept, so the array is not in the future.
pub async fn array_before_await() -> u8 {
    let last = {
        let buf = [1u8; 4096];
        buf[4095]
    };
    yield_now().await;
    last
}

/// Holds a 4 KiB `Vec` across an `.await`: the future holds its handle, the bytes are
/// on the heap.
pub async fn vec_across_await() -> u8 {
    let buf = vec![1u8; 4096];
    yield_now().await;
    buf[4095]
}
// ANCHOR_END: buffers

/// The sizes of the course's futures, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FutureSizes {
    /// [`FetchByHand`]: the fetch, as a state machine by hand.
    pub fetch_by_hand: usize,
    /// [`fetch`]: the same fetch, as an `async fn`.
    pub fetch_async: usize,
    /// Step 7's [`download()`]: spawns the workers and awaits them.
    pub download: usize,
    /// [`array_across_await`].
    pub array_across_await: usize,
    /// [`array_before_await`].
    pub array_before_await: usize,
    /// [`vec_across_await`].
    pub vec_across_await: usize,
}

// ANCHOR: future_sizes
/// Measures the futures above. Making a future runs none of its code (the address is
/// never connected to), so they are made, measured and dropped.
pub fn future_sizes() -> FutureSizes {
    let addr = SocketAddr::from(([127, 0, 0, 1], 0));
    FutureSizes {
        fetch_by_hand: size_of_future(&FetchByHand::new(addr, 0)),
        fetch_async: size_of_future(&fetch(addr, 0)),
        download: size_of_future(&download(addr, Vec::new(), 1)),
        array_across_await: size_of_future(&array_across_await()),
        array_before_await: size_of_future(&array_before_await()),
        vec_across_await: size_of_future(&vec_across_await()),
    }
}
// ANCHOR_END: future_sizes
