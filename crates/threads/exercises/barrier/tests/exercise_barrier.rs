//! Graded tests for exercise `threads/barrier`.
//!
//! A barrier that loses a wake-up hangs, so every test runs under a deadline. The order
//! of arrival is made certain, not hoped for: a thread counts as arrived once the
//! kernel shows it asleep inside `wait` (`common::wait_until_asleep`), which also
//! catches a barrier that spins instead of sleeping.

#[path = "../../../tests/common/mod.rs"]
mod common;
use common::{
    Seen, WAIT, assert_slept, join_within, measured, spawn_watched, wait_until_asleep, within,
};

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use threads_barrier::Barrier;

/// Starts a thread that calls `barrier.wait()` once, and returns when it is asleep in
/// there (so it has arrived). Fails the test if it returned from `wait` instead.
fn arrive_and_sleep(barrier: &Arc<Barrier>, who: &str) -> JoinHandle<bool> {
    let b = barrier.clone();
    let (handle, tid) = spawn_watched(move || b.wait());
    let seen = wait_until_asleep(tid, 10, who);
    assert_eq!(
        seen,
        Seen::Asleep,
        "{who} returned from wait before all threads had arrived"
    );
    handle
}

#[test]
fn nobody_passes_before_everyone_arrives() {
    within(20, "a barrier of three", || {
        let barrier = Arc::new(Barrier::new(3));
        let first = arrive_and_sleep(&barrier, "the first of three");
        let second = arrive_and_sleep(&barrier, "the second of three");
        // Both are asleep in wait; give them time to (wrongly) wake up and leave.
        std::thread::sleep(Duration::from_millis(100));
        assert!(
            !first.is_finished() && !second.is_finished(),
            "a thread left the barrier with 2 of 3 arrived"
        );
        let b = barrier.clone();
        let third = std::thread::spawn(move || b.wait());
        let leaders = [first, second, third]
            .into_iter()
            .map(|h| join_within(h, 5, "a thread after the last arrival"))
            .filter(|&leader| leader)
            .count();
        assert_eq!(leaders, 1, "exactly one leader");
    });
}

#[test]
fn the_last_to_arrive_is_the_leader() {
    within(30, "three rounds of three", || {
        let barrier = Arc::new(Barrier::new(3));
        // Three rounds on the same barrier, each with a different order of arrival: the
        // one whose arrival completes the round is told it is the leader.
        for round in 0..3 {
            let early: Vec<_> = (0..2)
                .map(|i| arrive_and_sleep(&barrier, &format!("arrival {} of round {round}", i + 1)))
                .collect();
            let b = barrier.clone();
            let last = std::thread::spawn(move || b.wait());
            assert!(
                join_within(last, 5, "the last arrival"),
                "round {round}: the thread whose arrival completed the round was not the leader"
            );
            for (i, h) in early.into_iter().enumerate() {
                assert!(
                    !join_within(h, 5, "an early arrival"),
                    "round {round}: arrival {} was told it is the leader",
                    i + 1
                );
            }
        }
    });
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
fn a_thread_that_reenters_at_once_does_not_strand_a_slow_one() {
    // A barrier of two, used twice in a row. The thread that completes round 1 returns
    // at once and arrives for round 2 before the sleeper of round 1 has even woken up:
    // a sleeper that waits for the count to go back to 0 sees 1 and sleeps on.
    within(20, "two threads, two rounds, twenty times", || {
        for _ in 0..20 {
            let barrier = Arc::new(Barrier::new(2));
            let slow = {
                let b = barrier.clone();
                let (handle, tid) = spawn_watched(move || (b.wait(), b.wait()));
                assert_eq!(
                    wait_until_asleep(tid, 10, "the first arrival"),
                    Seen::Asleep,
                    "a thread left a barrier of two alone"
                );
                handle
            };
            let fast = (barrier.wait(), barrier.wait());
            let slow = join_within(slow, 5, "the slow thread");
            // Round 1: the fast thread arrived last; round 2: either may be last.
            assert_eq!((fast.0, slow.0), (true, false), "round 1's leader");
            assert!(fast.1 != slow.1, "exactly one leader in round 2");
        }
    });
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
fn waiting_threads_sleep_instead_of_spinning() {
    within(20, "a barrier of two", || {
        let barrier = Arc::new(Barrier::new(2));
        let b = barrier.clone();
        let (waiter, tid) = spawn_watched(move || measured(|| b.wait()));
        assert_eq!(
            wait_until_asleep(tid, 10, "a thread waiting at the barrier"),
            Seen::Asleep,
            "a thread left a barrier of two alone"
        );
        // Long enough that a thread polling every few milliseconds shows in its sleeps.
        std::thread::sleep(WAIT);
        assert!(barrier.wait(), "the last arrival is the leader");
        let (leader, usage) = join_within(waiter, 5, "the waiting thread");
        assert!(!leader);
        assert_slept(usage, "a thread waiting at the barrier");
    });
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
