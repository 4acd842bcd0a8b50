//! The gate wakes only whom an event concerns.
//!
//! An arrival concerns the owner counting arrivals, not the threads parked at the gate:
//! if every arrival woke every parked thread, n threads lining up would cost about n²/2
//! wakeups (each one a trip through the scheduler, and a voluntary context switch that
//! the CPU experiment then counts as if time slicing had caused it). Counted per thread
//! from /proc, not timed.

use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use threads::gate::Gate;

/// The kernel's id of the calling thread: `/proc/thread-self` links to `PID/task/TID`.
fn my_tid() -> String {
    let link = std::fs::read_link("/proc/thread-self").expect("/proc/thread-self");
    link.file_name()
        .expect("a task id")
        .to_string_lossy()
        .into_owned()
}

/// `/proc/self/task/TID/stat`'s state letter ('S': sleeping, 'R': running...).
fn state(tid: &str) -> char {
    let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).expect("stat");
    let (_, rest) = stat.rsplit_once(") ").expect("a stat line");
    rest.chars().next().expect("a state")
}

/// How many times the thread gave up its core to wait.
fn voluntary_switches(tid: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/self/task/{tid}/status")).expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("voluntary_ctxt_switches")
}

#[test]
fn an_arrival_does_not_wake_the_threads_already_waiting() {
    const N: usize = 32;
    let gate = Arc::new(Gate::new());
    let (tids_tx, tids_rx) = mpsc::channel();
    let mut handles = Vec::new();
    let mut tids = Vec::new();
    // Hang guard only: every step below takes microseconds.
    let guard = Instant::now() + Duration::from_secs(60);
    for i in 0..N {
        let (waiting, tids_tx) = (gate.clone(), tids_tx.clone());
        handles.push(std::thread::spawn(move || {
            tids_tx.send(my_tid()).unwrap();
            waiting.wait();
        }));
        tids.push(tids_rx.recv_timeout(Duration::from_secs(60)).unwrap());
        assert_eq!(
            gate.wait_for_arrivals(i + 1, Duration::from_secs(60)),
            i + 1
        );
        // Every thread so far parked (asleep) before the next one arrives, so that an
        // arrival that woke them would be seen by each of them.
        while !tids.iter().all(|t| state(t) == 'S') {
            assert!(
                Instant::now() < guard,
                "the threads never all went to sleep"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    let first = voluntary_switches(&tids[0]);
    gate.open();
    for h in handles {
        h.join().unwrap();
    }
    // Parking once costs one switch (a lock taken while another thread holds it, a few
    // more). Woken by each of the 31 later arrivals, it would be over 31.
    assert!(
        first < (N / 4) as u64,
        "the first thread to arrive gave up its core {first} times while {} others arrived",
        N - 1
    );
}
