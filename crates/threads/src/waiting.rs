//! I/O-bound work is different: a thread that waits does not need a core.
//!
//! A thread blocked in `read` on a socket, or in `sleep`, is off the run queue: the
//! scheduler does not give it time slices until the kernel wakes it. A thousand
//! threads that each wait 50 ms therefore finish in about 50 ms *together*, on any
//! number of cores. Threads are fine at waiting; what they cost is the memory and the
//! start-up of each one. That is the honest starting point for the next lessons, which
//! wait for thousands of sockets without a thread each.

use std::time::{Duration, Instant};

use crate::error::Result;
use crate::spawn::run_threads;

// ANCHOR: wait_in_threads
/// Starts `n` threads that each sleep for `wait`, joins them, and returns the wall time
/// of the whole, start-up included, in seconds.
pub fn wait_in_threads(n: usize, wait: Duration) -> Result<f64> {
    let start = Instant::now();
    // 64 KiB stacks: a sleeping thread needs almost none, and small stacks keep a
    // thousand of them light.
    run_threads(n, Some(64 * 1024), move |_| std::thread::sleep(wait))?;
    Ok(start.elapsed().as_secs_f64())
}
// ANCHOR_END: wait_in_threads

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waiting_threads_overlap() {
        // Hundreds of threads: their switches would show in another test's figures.
        let _alone = crate::test_lock();
        let wait = Duration::from_millis(200);
        let one = wait_in_threads(1, wait).unwrap();
        let many = wait_in_threads(300, wait).unwrap();
        // The clock starts before the thread does: it cannot be faster than its sleep.
        assert!(one >= 0.2, "{one}");
        // 300 in sequence would take a minute; overlapping, a fraction of a second.
        // 20 s tells the two apart however busy the machine.
        assert!(many < 20.0, "{many}");
    }
}
