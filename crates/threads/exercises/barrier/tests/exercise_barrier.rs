//! Graded tests for exercise `threads/barrier`.
//!
//! A barrier that loses a wake-up hangs, so every test runs under a deadline. The order
//! of arrival is made certain, not hoped for: a thread counts as arrived once the
//! kernel shows it asleep inside `wait` (`common::wait_until_asleep`), which also
//! catches a barrier that spins instead of sleeping.
//!
//! Every check names the barrier and the arrivals it tried and the rule of the task it
//! checks ([`graded::scene`]), and a panic in `wait` is reported as one, with the
//! situation that caused it.

#[path = "../../../tests/common/mod.rs"]
mod common;
use common::{
    Seen, WAIT, assert_slept, join_within, measured, spawn_watched, wait_until_asleep, within,
};

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;

use graded::{Case, scene};
use threads_barrier::Barrier;

// The task's rules, in its words, as the checks name them.
const ALL_ARRIVE: &str = "n threads wait until all n arrived";
const LEADER: &str =
    "exactly one thread is told it is the leader: the one whose arrival completed the round";
const AGAIN: &str = "the barrier works again for the next round, even when a fast thread \
                     re-enters it before the others have woken up";
const SLEEPS: &str =
    "waiting threads sleep on the Condvar until the round is over (no spinning, no polling)";

/// Starts a thread that calls `barrier.wait()` once, and returns when it is asleep in
/// there (so it has arrived). Fails `c` if it returned from `wait` instead.
#[track_caller]
fn arrive_and_sleep(barrier: &Arc<Barrier>, c: &Case) -> JoinHandle<bool> {
    let b = barrier.clone();
    let (handle, tid) = spawn_watched(move || b.wait());
    if wait_until_asleep(tid, 10, &c.rule(SLEEPS)) == Seen::Exited {
        let leader = join_within(handle, 5, c);
        c.rule(ALL_ARRIVE).fail_with(&format!(
            "a thread returned {leader} from wait() before all had arrived"
        ));
    }
    handle
}

/// Starts a thread that calls `barrier.wait()` once.
fn arrive(barrier: &Arc<Barrier>) -> JoinHandle<bool> {
    let b = barrier.clone();
    std::thread::spawn(move || b.wait())
}

#[test]
fn nobody_passes_before_everyone_arrives() {
    let c = scene(
        "a barrier of 3: two threads asleep in wait() for 100 ms, then a third calls wait()",
        ALL_ARRIVE,
    );
    within(&c, 20, |c| {
        let barrier = Arc::new(Barrier::new(3));
        let first = arrive_and_sleep(&barrier, &c);
        let second = arrive_and_sleep(&barrier, &c);
        // Both are asleep in wait; give them time to (wrongly) wake up and leave.
        std::thread::sleep(std::time::Duration::from_millis(100));
        if first.is_finished() || second.is_finished() {
            c.fail_with("a thread returned from wait() with 2 of 3 arrived");
        }
        let third = arrive(&barrier);
        let all_go = c.rule("once the third has arrived, all three return from wait()");
        let leaders = [first, second, third]
            .into_iter()
            .map(|h| join_within(h, 5, &all_go))
            .filter(|&leader| leader)
            .count();
        if leaders != 1 {
            c.rule(LEADER)
                .fail_with(&format!("{leaders} of the 3 were told they are the leader"));
        }
    });
}

#[test]
fn the_last_to_arrive_is_the_leader() {
    let whole = scene("three rounds on one barrier of 3", ALL_ARRIVE);
    within(&whole, 30, |_| {
        let barrier = Arc::new(Barrier::new(3));
        // Three rounds on the same barrier: in each, two threads are asleep in wait()
        // before the third arrives, whose arrival completes the round.
        for round in 1..=3 {
            let c = scene(
                format!(
                    "round {round} of 3 on one barrier of 3: two threads asleep in wait(), \
                     then a third calls wait()"
                ),
                LEADER,
            );
            let early: Vec<_> = (0..2).map(|_| arrive_and_sleep(&barrier, &c)).collect();
            let last = arrive(&barrier);
            let answers: Vec<bool> = early
                .into_iter()
                .chain([last])
                .map(|h| join_within(h, 5, &c))
                .collect();
            // In the order of arrival: only the third completed the round.
            c.eq(answers, vec![false, false, true]);
        }
    });
}

#[test]
fn exactly_one_leader_per_round() {
    let c = scene(
        "4 threads call wait() 10 times each on one barrier of 4",
        "exactly one thread of each round is told it is the leader",
    );
    let leaders = within(&c.rule(AGAIN), 10, |c| {
        let barrier = Arc::new(Barrier::new(4));
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let b = barrier.clone();
                std::thread::spawn(move || (0..10).filter(|_| b.wait()).count())
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|e| graded::rethrow(&c, e)))
            .sum::<usize>()
    });
    if leaders != 10 {
        c.fail_with(&format!("{leaders} leaders over the 10 rounds"));
    }
}

#[test]
fn a_thread_that_reenters_at_once_does_not_strand_a_slow_one() {
    // A barrier of two, used twice in a row. The thread that completes round 1 returns
    // at once and arrives for round 2 before the sleeper of round 1 has even woken up:
    // a sleeper that waits for the count to go back to 0 sees 1 and sleeps on.
    let whole = scene(
        "twenty times, a barrier of 2 used for two rounds by a thread asleep in round 1 \
         and one that enters round 2 at once",
        AGAIN,
    );
    within(&whole, 20, |_| {
        for time in 1..=20 {
            let c = scene(
                format!(
                    "try {time} of 20: on a barrier of 2, a slow thread calls wait() twice \
                     and is asleep in the first; then a fast thread calls wait() twice"
                ),
                AGAIN,
            );
            let barrier = Arc::new(Barrier::new(2));
            let b = barrier.clone();
            let (slow, tid) = spawn_watched(move || (b.wait(), b.wait()));
            if wait_until_asleep(tid, 10, &c.rule(SLEEPS)) == Seen::Exited {
                let got = join_within(slow, 5, &c);
                c.rule(ALL_ARRIVE)
                    .fail_with(&format!("the slow thread returned {got:?} alone"));
            }
            let b = barrier.clone();
            let fast = std::thread::spawn(move || (b.wait(), b.wait()));
            let slow = join_within(slow, 5, &c);
            let fast = join_within(fast, 5, &c);
            // Round 1: the fast thread arrived last; round 2: either may be last.
            c.rule(format!("{LEADER} (round 1: the fast thread)"))
                .eq((fast.0, slow.0), (true, false));
            if fast.1 == slow.1 {
                c.rule("exactly one leader in round 2").fail_with(&format!(
                    "both threads got {} from their second wait()",
                    fast.1
                ));
            }
        }
    });
}

#[test]
fn reusable_for_many_fast_rounds() {
    // Fast threads re-enter the barrier before slow ones have left the previous round:
    // without a generation number, this loses wake-ups or lets threads through early.
    let c = scene(
        "8 threads on one barrier of 8, 2,000 times: wait() (whose leader counts the \
         round), then wait() again; each reads the count before each round",
        AGAIN,
    );
    let (rounds, ran_ahead) = within(&c, 30, |c| {
        let barrier = Arc::new(Barrier::new(8));
        let round = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let (b, r) = (barrier.clone(), round.clone());
                std::thread::spawn(move || {
                    // The first round in which this thread saw another count: it ran
                    // ahead of its round. It goes on, so the others are not stranded.
                    let mut ran_ahead = None;
                    for i in 0..2_000 {
                        // A correct barrier orders this count by its lock: Relaxed would do.
                        let seen = r.load(Ordering::SeqCst);
                        if seen != i && ran_ahead.is_none() {
                            ran_ahead = Some((i, seen));
                        }
                        if b.wait() {
                            // The leader counts the round between two waits: see the load above.
                            r.fetch_add(1, Ordering::SeqCst);
                        }
                        b.wait();
                    }
                    ran_ahead
                })
            })
            .collect();
        let mut ran_ahead = None;
        for h in handles {
            let seen = h.join().unwrap_or_else(|e| graded::rethrow(&c, e));
            ran_ahead = ran_ahead.or(seen);
        }
        // After the joins, which order every increment before this read.
        (round.load(Ordering::SeqCst), ran_ahead)
    });
    if let Some((i, seen)) = ran_ahead {
        c.fail_with(&format!(
            "a thread read the count {seen} before round {i}: every thread must see the \
             same count between two wait()s"
        ));
    }
    if rounds != 2_000 {
        c.rule(LEADER)
            .fail_with(&format!("{rounds} leaders over the 2,000 rounds"));
    }
}

#[test]
fn waiting_threads_sleep_instead_of_spinning() {
    let c = scene(
        "a barrier of 2: one thread in wait(), the second calls wait() 500 ms later",
        SLEEPS,
    );
    within(&c, 20, |c| {
        let barrier = Arc::new(Barrier::new(2));
        let b = barrier.clone();
        let (waiter, tid) = spawn_watched(move || measured(|| b.wait()));
        if wait_until_asleep(tid, 10, &c) == Seen::Exited {
            let (got, _) = join_within(waiter, 5, &c);
            c.rule(ALL_ARRIVE)
                .fail_with(&format!("the first thread returned {got} alone"));
        }
        // Long enough that a thread polling every few milliseconds shows in its sleeps.
        std::thread::sleep(WAIT);
        let last = c.run(|| barrier.wait());
        let (first, usage) = join_within(waiter, 5, &c.rule(ALL_ARRIVE));
        // In the order of arrival: the second completed the round.
        c.rule(LEADER).eq((first, last), (false, true));
        assert_slept(usage, &c);
    });
}

#[test]
fn a_barrier_for_one_never_blocks() {
    let rule = "with n = 1, each wait() completes its round at once: its caller is the leader";
    let one = scene("a barrier of 1: wait() twice", rule);
    within(&one, 5, |one| {
        let b = Barrier::new(1);
        let got = one.run(|| (b.wait(), b.wait()));
        one.eq(got, (true, true));
    });
    let zero = scene("a barrier of 0 (0 counts as 1): wait()", rule);
    within(&zero, 5, |zero| {
        let b = Barrier::new(0);
        let got = zero.run(|| b.wait());
        zero.eq(got, true);
    });
}
