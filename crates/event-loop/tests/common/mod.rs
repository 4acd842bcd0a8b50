//! What the graded tests of this lesson share.
#![allow(dead_code)] // each test file compiles this module on its own and uses a part

use std::net::{SocketAddr, TcpListener};
use std::sync::mpsc;
use std::time::Duration;

use sockets::corpus::document_size;
use sockets::server::{ServerConfig, ServerHandle, start};

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

// What the step tests share (the exercise tests above use `within` only).

/// The time limit of a step test run with [`bounded`]: far beyond what any of them
/// needs, so that only a hang reaches it.
pub const LIMIT: Duration = Duration::from_secs(20);

/// Runs `body` on a thread; fails if it takes longer than `limit` (instead of hanging).
/// Unlike [`within`], its message suspects no future: the scheduler of step 4 has none.
pub fn bounded<T: Send + 'static>(limit: Duration, body: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(body());
    });
    match rx.recv_timeout(limit) {
        Ok(value) => value,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("the test did not finish in {limit:?}"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("the test panicked (see above)"),
    }
}

pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Lesson 3's corpus server on 127.0.0.1 (a port the system picks), waiting
/// `latency_ms` before every reply.
pub fn server(latency_ms: u64) -> ServerHandle {
    start(ServerConfig::with_latency(Duration::from_millis(
        latency_ms,
    )))
    .expect("the corpus server starts on 127.0.0.1")
}

/// An address where nothing listens: a port that was just free.
pub fn closed_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

/// The bytes of the documents `ids`, as a verified download counts them.
pub fn sizes(ids: std::ops::Range<u64>) -> u64 {
    ids.map(|id| document_size(id) as u64).sum::<u64>()
}
