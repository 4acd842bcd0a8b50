//! A starting gate: threads line up, the main thread counts them, then lets them all go.
//!
//! Experiments with many threads need them all *alive at once* (to measure their
//! memory) or *starting together* (to measure how they share the cores). A
//! `std::sync::Barrier` would do, but it needs every party to arrive: if the 9,000th
//! spawn fails, the 8,999 threads already waiting would wait forever. A gate can be
//! opened whatever happened, so an experiment that hits a limit still ends cleanly.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Threads `wait()` at the gate; the owner `open()`s it. Arrivals are counted.
#[derive(Debug, Default)]
pub struct Gate {
    state: Mutex<State>,
    /// Where the owner waits for arrivals.
    arrived: Condvar,
    /// Where the threads wait for the gate to open. Two condition variables, not one:
    /// with one, every arrival would wake every thread already waiting, only for it to
    /// find the gate still shut and sleep again — n threads lining up would cost about
    /// n²/2 useless wakeups, each a context switch that the experiments would count.
    opened: Condvar,
}

#[derive(Debug, Default)]
struct State {
    arrived: usize,
    open: bool,
}

impl Gate {
    pub fn new() -> Gate {
        Gate::default()
    }

    // A poisoned lock only means another thread panicked while holding it; the state
    // (a count and a flag) is still meaningful, so keep going.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    // ANCHOR: gate_wait
    /// Counts this thread as arrived and blocks (sleeping, not spinning) until the gate
    /// opens.
    pub fn wait(&self) {
        let mut state = self.lock();
        state.arrived += 1;
        self.arrived.notify_all();
        // A loop, not a single wait: condition variables may wake up spuriously.
        while !state.open {
            state = self
                .opened
                .wait(state)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
    }
    // ANCHOR_END: gate_wait

    /// Blocks until `n` threads have arrived, or `timeout` passes; returns how many did.
    pub fn wait_for_arrivals(&self, n: usize, timeout: Duration) -> usize {
        let deadline = procs::deadline::from_now(timeout);
        let mut state = self.lock();
        while state.arrived < n {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            state = self
                .arrived
                .wait_timeout(state, left)
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .0;
        }
        state.arrived
    }

    /// Lets every waiting thread (and every later one) through.
    pub fn open(&self) {
        self.lock().open = true;
        self.opened.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn threads_wait_until_opened() {
        let gate = Arc::new(Gate::new());
        let passed = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let (gate, passed) = (gate.clone(), passed.clone());
                std::thread::spawn(move || {
                    gate.wait();
                    // A count read after the joins (which order it): any ordering would do.
                    passed.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                })
            })
            .collect();
        assert_eq!(gate.wait_for_arrivals(8, Duration::from_secs(10)), 8);
        // Nobody may have passed yet; the threads are all waiting at the gate.
        assert_eq!(passed.load(std::sync::atomic::Ordering::SeqCst), 0);
        gate.open();
        for h in handles {
            h.join().unwrap();
        }
        // After the joins: every increment is visible.
        assert_eq!(passed.load(std::sync::atomic::Ordering::SeqCst), 8);
    }

    #[test]
    fn waiting_for_arrivals_gives_up_after_the_timeout() {
        let gate = Gate::new();
        let start = Instant::now();
        assert_eq!(gate.wait_for_arrivals(1, Duration::from_millis(50)), 0);
        assert!(start.elapsed() >= Duration::from_millis(50));
    }
}
