//! Aborting a task releases its socket: the descriptor is closed (the process's count of
//! open descriptors goes back down) and the peer sees the end of the stream.
//!
//! Alone in its test binary, so that no other test opens or closes descriptors while
//! this one counts them.

use std::net::TcpListener as StdListener;
use std::sync::mpsc;
use std::time::Duration;

use sockets::client::read_some;

use event_loop::step7_executor::{Executor, TcpStream, sleep};

/// Open descriptors of this process, from `/proc/self/fd` (the directory handle used to
/// read it is counted in every call alike).
fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd is readable")
        .count()
}

#[test]
fn aborting_a_task_closes_its_socket() {
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        body();
        let _ = done.send(());
    });
    // A time limit, so that a bug fails the test instead of hanging it.
    finished
        .recv_timeout(Duration::from_secs(20))
        .expect("the test finished in time, without panicking");
}

fn body() {
    // The peer: accepts one connection, reads until the end of the stream, says so.
    let listener = StdListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (accepted_tx, accepted) = mpsc::channel();
    let (eof_tx, eof) = mpsc::channel();
    let peer = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        accepted_tx.send(()).unwrap();
        let mut buf = [0u8; 64];
        let saw_eof = loop {
            match read_some(&mut stream, &mut buf) {
                Ok(0) => break true,
                Ok(_) => {}
                Err(_) => break false,
            }
        };
        eof_tx.send(saw_eof).unwrap();
        // `stream` and the listener are closed here.
    });

    let executor = Executor::new().unwrap();
    let before = open_fds();
    // A task that connects, then waits for bytes that never come.
    let task = executor.spawn(async move {
        let mut stream = TcpStream::connect(addr).await?;
        let mut buf = [0u8; 16];
        stream.read(&mut buf).await
    });
    executor
        .block_on(async {
            for _ in 0..1_000 {
                if accepted.try_recv().is_ok() {
                    return;
                }
                sleep(Duration::from_millis(5)).await;
            }
            panic!("the peer did not accept within 5 s");
        })
        .unwrap();
    assert_eq!(executor.reactor().registered().0, 1, "the task's socket");
    let during = open_fds();
    assert!(
        during >= before + 2,
        "our socket and the peer's: {before} -> {during}"
    );

    task.abort();
    // At once, the task's socket is closed (and the peer may be closing its own).
    let after = open_fds();
    assert!(after < during, "{during} -> {after}");
    assert_eq!(executor.reactor().registered(), (0, 0));
    assert_eq!(
        eof.recv_timeout(Duration::from_secs(5)),
        Ok(true),
        "the peer saw the end of the stream"
    );
    peer.join().unwrap();
    assert_eq!(open_fds(), before - 1, "all closed (the listener too)");
    let aborted = executor.block_on(task).unwrap();
    assert!(aborted.is_err(), "awaiting an aborted task gives an error");
}
