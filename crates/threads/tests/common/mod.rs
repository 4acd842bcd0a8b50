//! What the graded tests of this lesson share.

use std::sync::mpsc;
use std::time::Duration;

/// Runs `f` on a thread of its own and returns its result; fails the test, naming
/// `what`, if it does not finish within `secs`. Concurrency bugs (a lost wake-up, a
/// result never sent) hang rather than fail: this turns a hang into a failure with a
/// message, and the grader's own time limit never has to step in.
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
            "{what} did not finish within {secs} s: a thread waits for something that never \
             comes (a lost wake-up? a result never sent?)"
        ),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("{what} panicked"),
    }
}
