//! Step 1, the busy loop: it downloads everything, it spins while it waits, and its
//! deadlines bound it. Every server here is on 127.0.0.1 with a port the system picks.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use event_loop::step1_busy::{Batch, download};
use event_loop::step2_poll::DownloadError;

mod common;
use common::{server, sizes};

#[test]
fn downloads_every_document_verified() {
    let s = server(0);
    let batch = Batch {
        concurrency: 8,
        timeout: Duration::from_secs(5),
        ..Batch::new(s.addr(), 100..140)
    };
    let report = download(&batch).unwrap();
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert_eq!(report.ok, 40);
    assert_eq!(report.bytes, sizes(100..140));
    s.stop();
}

#[test]
fn while_the_server_takes_its_time_the_loop_keeps_asking() {
    let s = server(300);
    let batch = Batch {
        concurrency: 10,
        ..Batch::new(s.addr(), 0..10)
    };
    let report = download(&batch).unwrap();
    assert_eq!(report.ok, 10, "{:?}", report.failures);
    // Ten documents in one wave of 300 ms: a loop that waited would turn a few times
    // (step 2's loop, for the same batch, turns a few dozen). This one turns for as long
    // as it waits, each turn taking microseconds: hundreds of thousands of turns on a
    // quiet machine. Only a loop kept off the CPU for nearly the whole 300 ms could turn
    // fewer than a hundred times, and no amount of sharing the cores does that: the
    // latency is long so that a busy machine cannot bring the count near the bound.
    assert!(report.turns > 100, "only {} turns", report.turns);
    s.stop();
}

#[test]
fn a_silent_server_costs_a_timeout_not_a_hang() {
    // Connections complete in the kernel's backlog; nobody ever answers.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let batch = Batch {
        concurrency: 4,
        timeout: Duration::from_millis(150),
        ..Batch::new(silent.local_addr().unwrap(), 0..4)
    };
    let start = Instant::now();
    let report = download(&batch).unwrap();
    // Guards against a hang: the timeouts end it after 150 ms; a loop that ignored them
    // would spin until the batch's 60 s run deadline.
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
    assert_eq!((report.ok, report.failed()), (0, 4));
    for (_, error) in &report.failures {
        assert!(
            matches!(
                error,
                DownloadError::Timeout {
                    doing: "reading the response",
                    ..
                }
            ),
            "{error}"
        );
    }
}
