//! Exercise `threads/barrier`: a reusable barrier on Mutex + Condvar.
//!
//! `n` threads call `wait`; none returns until all `n` have arrived; then all go, and
//! the barrier is ready for the next round. The trap is reuse: a fast thread can leave
//! round 1 and arrive at round 2 before a slow one has even woken up from round 1. A
//! *generation* number tells the sleepers "your round is over" even if the count has
//! already moved on.

// In your copy the body is `todo!()` and ignores its arguments until you write it:
// no warnings for that.
#![allow(unused_variables, dead_code)]

use std::sync::{Condvar, Mutex};

/// A barrier for `n` threads that can be used for any number of rounds.
#[derive(Debug)]
pub struct Barrier {
    n: usize,
    state: Mutex<Round>,
    all_arrived: Condvar,
}

#[derive(Debug, Default)]
struct Round {
    /// Threads that arrived in the current round.
    arrived: usize,
    /// Which round this is; bumped when the last thread arrives.
    generation: u64,
}

impl Barrier {
    /// A barrier for `n` threads (`n` of 0 counts as 1).
    pub fn new(n: usize) -> Barrier {
        Barrier {
            n: n.max(1),
            state: Mutex::new(Round::default()),
            all_arrived: Condvar::new(),
        }
    }

    /// Waits until `n` threads have called `wait` in this round. Exactly one thread of
    /// each round gets `true` (the "leader"): the one whose arrival completed the round.
    /// The others sleep on the Condvar until then (no spinning, no polling), and a thread
    /// that enters the next round at once must not keep them asleep. With `n` = 1, each
    /// call completes its round at once, and its caller is the leader.
    pub fn wait(&self) -> bool {
        // BEGIN SOLUTION
        let mut round = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let my_generation = round.generation;
        round.arrived += 1;
        if round.arrived == self.n {
            round.arrived = 0;
            round.generation = round.generation.wrapping_add(1);
            self.all_arrived.notify_all();
            return true;
        }
        while round.generation == my_generation {
            round = self
                .all_arrived
                .wait(round)
                .unwrap_or_else(|p| p.into_inner());
        }
        false
        // END SOLUTION
    }
}
