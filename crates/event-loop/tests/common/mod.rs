//! What the graded tests of this lesson share.
#![allow(dead_code)] // each test file compiles this module on its own and uses a part

use std::sync::mpsc;
use std::time::Duration;

/// Runs `f` on a thread of its own (with its own executor inside, if it makes one) and
/// returns its result; fails the test, naming `what`, if it does not finish within
/// `secs`. A future that is never woken hangs instead of failing: this turns the hang
/// into a failure with a message.
pub fn within<T: Send + 'static>(
    secs: u64,
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(v) => v,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!(
            "{what} did not finish within {secs} s: is a future waiting for a wake-up \
             that never comes (Pending returned without a registered waker)?"
        ),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("{what} panicked"),
    }
}
