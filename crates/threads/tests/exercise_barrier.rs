//! Graded tests for exercise `threads/barrier`. A barrier that loses a wake-up hangs,
//! so every test runs under a deadline.

mod common;
use common::within;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use threads::exercises::barrier::Barrier;

#[test]
fn nobody_passes_before_everyone_arrives() {
    let barrier = Arc::new(Barrier::new(3));
    let passed = Arc::new(AtomicUsize::new(0));
    let early: Vec<_> = (0..2)
        .map(|_| {
            let (b, p) = (barrier.clone(), passed.clone());
            std::thread::spawn(move || {
                b.wait();
                p.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(150));
    assert_eq!(
        passed.load(Ordering::SeqCst),
        0,
        "a thread passed with 2 of 3 arrived"
    );
    let b = barrier.clone();
    within(5, "the third arrival", move || {
        b.wait();
        for h in early {
            h.join().unwrap();
        }
    });
    assert_eq!(passed.load(Ordering::SeqCst), 2);
}

#[test]
fn exactly_one_leader_per_round() {
    let leaders = within(10, "ten rounds of four threads", || {
        let barrier = Arc::new(Barrier::new(4));
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let b = barrier.clone();
                std::thread::spawn(move || (0..10).filter(|_| b.wait()).count())
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .sum::<usize>()
    });
    assert_eq!(leaders, 10);
}

#[test]
fn reusable_for_many_fast_rounds() {
    // Fast threads re-enter the barrier before slow ones have left the previous round:
    // without a generation number, this loses wake-ups or lets threads through early.
    let rounds = within(30, "2,000 rounds of eight threads", || {
        let barrier = Arc::new(Barrier::new(8));
        let round = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let (b, r) = (barrier.clone(), round.clone());
                std::thread::spawn(move || {
                    for i in 0..2_000 {
                        // Everybody must see the same round number between two waits.
                        assert_eq!(
                            r.load(Ordering::SeqCst),
                            i,
                            "a thread ran ahead of its round"
                        );
                        if b.wait() {
                            r.fetch_add(1, Ordering::SeqCst);
                        }
                        b.wait();
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        round.load(Ordering::SeqCst)
    });
    assert_eq!(rounds, 2_000);
}

#[test]
fn a_barrier_for_one_never_blocks() {
    within(5, "a barrier of one", || {
        let b = Barrier::new(1);
        assert!(b.wait());
        assert!(b.wait());
        let zero = Barrier::new(0);
        assert!(zero.wait(), "0 counts as 1");
    });
}
