//! Exercise `threads/bounded-queue`: a blocking queue with a capacity, on Mutex + Condvar.
//!
//! The heart of every thread pool and pipeline. Producers `push` and wait while the
//! queue is full; consumers `pop` and wait while it is empty. Two condition variables say
//! "something changed": `not_empty` wakes consumers, `not_full` wakes producers. The
//! classic bugs are a lost wake-up (waiting without re-checking the condition in a loop,
//! or notifying the wrong condition variable) and forgetting to wake everyone on close.

// In your copy the body is `todo!()` and ignores its arguments until you write it:
// no warnings for that.
#![allow(unused_variables, dead_code)]

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex};

/// A FIFO queue holding at most `capacity` items, shared by reference between threads.
#[derive(Debug)]
pub struct BoundedQueue<T> {
    state: Mutex<State<T>>,
    not_empty: Condvar,
    not_full: Condvar,
}

#[derive(Debug)]
struct State<T> {
    items: VecDeque<T>,
    capacity: usize,
    closed: bool,
}

impl<T> BoundedQueue<T> {
    /// A queue for at most `capacity` items (at least 1).
    pub fn new(capacity: usize) -> Self {
        BoundedQueue {
            state: Mutex::new(State {
                items: VecDeque::with_capacity(capacity.max(1)),
                capacity: capacity.max(1),
                closed: false,
            }),
            not_empty: Condvar::new(),
            not_full: Condvar::new(),
        }
    }

    /// Adds `item` at the back, waiting while the queue is full (it never holds more than
    /// its capacity). Returns `Err(item)` if the queue is (or gets) closed, at once even
    /// when it is full. A waiting push sleeps on `not_full` until notified (no spinning,
    /// no polling) and checks again when it wakes: another thread may have taken the
    /// room first.
    pub fn push(&self, item: T) -> Result<(), T> {
        // BEGIN SOLUTION
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        while state.items.len() >= state.capacity && !state.closed {
            state = self.not_full.wait(state).unwrap_or_else(|p| p.into_inner());
        }
        if state.closed {
            return Err(item);
        }
        state.items.push_back(item);
        self.not_empty.notify_one();
        Ok(())
        // END SOLUTION
    }

    /// Takes the item at the front, waiting while the queue is empty. Returns `None`
    /// once the queue is closed *and* empty (items pushed before `close` are still
    /// delivered). A waiting pop sleeps on `not_empty` until notified and checks again
    /// when it wakes: another thread may have taken the item first. Every push and pop
    /// wakes a waiting thread that can now go on.
    pub fn pop(&self) -> Option<T> {
        // BEGIN SOLUTION
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(item) = state.items.pop_front() {
                self.not_full.notify_one();
                return Some(item);
            }
            if state.closed {
                return None;
            }
            state = self
                .not_empty
                .wait(state)
                .unwrap_or_else(|p| p.into_inner());
        }
        // END SOLUTION
    }

    /// Closes the queue: later pushes fail, and every thread waiting in `push` or `pop`
    /// wakes up (poppers still get the items left).
    pub fn close(&self) {
        // BEGIN SOLUTION
        self.state.lock().unwrap_or_else(|p| p.into_inner()).closed = true;
        self.not_empty.notify_all();
        self.not_full.notify_all();
        // END SOLUTION
    }

    /// How many items are waiting now.
    pub fn len(&self) -> usize {
        // BEGIN SOLUTION
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .items
            .len()
        // END SOLUTION
    }

    /// Whether no item is waiting now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
