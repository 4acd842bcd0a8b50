//! Graded tests for exercise `threads/bounded-queue`.
//!
//! A lost wake-up shows up as a hang, so the tests that block run on helper threads and
//! fail after a deadline instead of hanging the grader.

mod common;
use common::within;

use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use threads::exercises::bounded_queue::BoundedQueue;

#[test]
fn first_in_first_out() {
    let q = BoundedQueue::new(4);
    for i in 0..4 {
        q.push(i).unwrap();
    }
    assert_eq!(q.len(), 4);
    assert_eq!(
        (0..4).map(|_| q.pop().unwrap()).collect::<Vec<_>>(),
        [0, 1, 2, 3]
    );
    assert!(q.is_empty());
}

#[test]
fn push_waits_while_full() {
    let q = Arc::new(BoundedQueue::new(1));
    q.push(1).unwrap();
    let (tx, rx) = mpsc::channel();
    let pusher = {
        let q = q.clone();
        std::thread::spawn(move || {
            q.push(2).unwrap();
            tx.send(()).unwrap();
        })
    };
    assert!(
        rx.recv_timeout(Duration::from_millis(200)).is_err(),
        "push returned while the queue was full"
    );
    assert_eq!(q.pop(), Some(1));
    rx.recv_timeout(Duration::from_secs(5))
        .expect("push did not wake up after a pop made room");
    pusher.join().unwrap();
    assert_eq!(q.pop(), Some(2));
}

#[test]
fn pop_waits_while_empty() {
    let q = Arc::new(BoundedQueue::new(2));
    let popper = {
        let q = q.clone();
        std::thread::spawn(move || q.pop())
    };
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        !popper.is_finished(),
        "pop returned from an empty, open queue"
    );
    q.push(7).unwrap();
    assert_eq!(
        within(5, "pop after push", move || popper.join().unwrap()),
        Some(7)
    );
}

#[test]
fn close_wakes_everyone_and_keeps_the_items() {
    let q = Arc::new(BoundedQueue::new(1));
    let poppers: Vec<_> = (0..3)
        .map(|_| {
            let q = q.clone();
            std::thread::spawn(move || q.pop())
        })
        .collect();
    std::thread::sleep(Duration::from_millis(100));
    q.close();
    let results = within(5, "poppers after close", move || {
        poppers
            .into_iter()
            .map(|p| p.join().unwrap())
            .collect::<Vec<_>>()
    });
    assert_eq!(results, [None, None, None]);
    assert_eq!(q.push(1), Err(1), "push after close must fail");

    let q = Arc::new(BoundedQueue::new(1));
    q.push(1).unwrap();
    let pusher = {
        let q = q.clone();
        std::thread::spawn(move || q.push(2))
    };
    std::thread::sleep(Duration::from_millis(100));
    q.close();
    assert_eq!(
        within(5, "pusher after close", move || pusher.join().unwrap()),
        Err(2)
    );
    assert_eq!(
        q.pop(),
        Some(1),
        "items pushed before close are still delivered"
    );
    assert_eq!(q.pop(), None);
}

#[test]
fn many_producers_and_consumers_lose_nothing() {
    let total = within(30, "the stress test", || {
        let q = Arc::new(BoundedQueue::new(8));
        let producers: Vec<_> = (0..4u64)
            .map(|p| {
                let q = q.clone();
                std::thread::spawn(move || {
                    for i in 0..5_000u64 {
                        q.push(p * 1_000_000 + i).unwrap();
                    }
                })
            })
            .collect();
        let consumers: Vec<_> = (0..4)
            .map(|_| {
                let q = q.clone();
                std::thread::spawn(move || {
                    let mut got = Vec::new();
                    while let Some(x) = q.pop() {
                        got.push(x);
                    }
                    got
                })
            })
            .collect();
        for p in producers {
            p.join().unwrap();
        }
        q.close();
        let mut all: Vec<u64> = consumers
            .into_iter()
            .flat_map(|c| c.join().unwrap())
            .collect();
        all.sort_unstable();
        all
    });
    let mut expected: Vec<u64> = (0..4u64)
        .flat_map(|p| (0..5_000u64).map(move |i| p * 1_000_000 + i))
        .collect();
    expected.sort_unstable();
    assert_eq!(total.len(), expected.len(), "items lost or duplicated");
    assert_eq!(total, expected);
}
