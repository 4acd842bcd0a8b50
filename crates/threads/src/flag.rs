//! A flag that threads can sleep on: the smallest use of a condition variable.
//!
//! A thread that must wait until another thread has done something could check a shared
//! variable in a loop, but that burns a core for nothing. A `Condvar` lets it sleep until
//! it is told to look again. The condition itself (here, one `bool`) lives behind a
//! `Mutex`; the `Condvar` only carries the wake-ups. `Gate` is this flag with a count of
//! arrivals beside it, and the chapter's bounded-queue and barrier exercises are built the
//! same way.

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

// ANCHOR: flag
/// Starts unset; `set` sets it for good and wakes every thread in `wait`.
#[derive(Debug, Default)]
pub struct Flag {
    is_set: Mutex<bool>,
    changed: Condvar,
}

impl Flag {
    pub fn new() -> Flag {
        Flag::default()
    }

    /// Sets the flag and wakes every waiting thread.
    pub fn set(&self) {
        *self.lock() = true;
        self.changed.notify_all();
    }

    /// Returns once the flag is set: at once if it already is.
    pub fn wait(&self) {
        let mut is_set = self.lock();
        // Checked before the first wait, and again after every wake-up.
        while !*is_set {
            // Unlocks, sleeps until notified, locks again: the first two as one step.
            is_set = self
                .changed
                .wait(is_set)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    // A panic elsewhere cannot leave a `bool` half-written, so a poisoned lock is fine.
    fn lock(&self) -> MutexGuard<'_, bool> {
        self.is_set.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
// ANCHOR_END: flag

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, mpsc};
    use std::time::Duration;

    #[test]
    fn waiters_sleep_until_the_flag_is_set() {
        let flag = Arc::new(Flag::new());
        let (done, finished) = mpsc::channel();
        for _ in 0..4 {
            let (flag, done) = (flag.clone(), done.clone());
            std::thread::spawn(move || {
                flag.wait();
                let _ = done.send(());
            });
        }
        assert!(
            finished.recv_timeout(Duration::from_millis(50)).is_err(),
            "a waiter returned before the flag was set"
        );
        flag.set();
        for _ in 0..4 {
            // Bounded, so that a lost wake-up fails the test instead of hanging it.
            finished
                .recv_timeout(Duration::from_secs(10))
                .expect("every waiter returns once the flag is set");
        }
    }

    #[test]
    fn a_flag_set_before_anyone_waits_is_not_missed() {
        let flag = Flag::new();
        // The notification finds nobody and is gone; the `bool` remembers.
        flag.set();
        flag.wait();
        flag.wait();
    }
}
