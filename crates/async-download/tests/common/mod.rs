//! What the graded tests of lesson 5's exercises share.
#![allow(dead_code)] // each test file compiles this module on its own and uses a part

use std::future::Future;
use std::time::Duration;

/// The longest a test may take, in the paused clock's time: far beyond what any of them
/// needs, so that only a hang reaches it.
pub const LIMIT: Duration = Duration::from_secs(3600);

/// Runs `body` to completion on a fresh single-threaded tokio runtime whose clock is
/// paused: time stands still while a task runs, and when every task waits, it jumps
/// straight to the next timer. So a test of a ten-second backoff runs at once, and
/// `tokio::time::Instant` differences are exact, whatever the machine's load.
///
/// A test that would wait forever (a permit never given back, a waker never
/// registered with a timer) fails after [`LIMIT`] of paused time, naming `what`,
/// instead of hanging.
pub fn paused<F: Future>(what: &str, body: F) -> F::Output {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async {
        match tokio::time::timeout(LIMIT, body).await {
            Ok(output) => output,
            Err(_) => panic!(
                "{what} did not finish within {LIMIT:?} (of paused time): is a task waiting \
                 for something that never comes?"
            ),
        }
    })
}
