//! Graded tests for exercise `event-loop/select`.
//!
//! Most tests poll the `Select` by hand, pinned and by reference, with scripted futures
//! (each ready at a poll of its own): the `Select` stays alive between polls, so what it
//! still holds when it returns its result can be seen, and a tie can be made to happen at
//! any poll, not only the first. The others run it on the lesson's executor, with timers
//! that really wake the task.

#[path = "../../../tests/common/mod.rs"]
mod common;
use common::{Hand, NEVER, scripted, within};

use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use event_loop::step5_executor::{Executor, block_on, sleep};
use event_loop_select::{Either, select};

#[test]
fn the_first_to_be_ready_wins_at_the_poll_it_is_ready() {
    within(5, "polling select by hand", || {
        let hand = Hand::default();
        // Right is ready first, at the second poll.
        let (left, _) = scripted(3, "left");
        let (right, _) = scripted(2, 2u32);
        let mut race = pin!(select(left, right));
        assert!(
            hand.poll(race.as_mut()).is_pending(),
            "poll 1: neither is ready"
        );
        assert_eq!(hand.poll(race.as_mut()), Poll::Ready(Either::Right(2)));
        // Left is ready at its third poll, right never: left must still be polled at
        // every poll after a Pending, and win.
        let (left, _) = scripted(3, "left");
        let (right, _) = scripted(NEVER, 0u32);
        let mut race = pin!(select(left, right));
        assert!(
            hand.poll(race.as_mut()).is_pending(),
            "poll 1: neither is ready"
        );
        assert!(
            hand.poll(race.as_mut()).is_pending(),
            "poll 2: neither is ready"
        );
        assert_eq!(hand.poll(race.as_mut()), Poll::Ready(Either::Left("left")));
    });
}

#[test]
fn the_loser_is_dropped_before_the_result_is_returned() {
    within(5, "polling select by hand", || {
        let hand = Hand::default();
        // Left wins at the second poll; the Select is still alive (pinned here) when we
        // look: the loser must already be gone.
        let (left, _) = scripted(2, 'l');
        let (right, right_probe) = scripted(NEVER, 'r');
        let mut race = pin!(select(left, right));
        assert!(hand.poll(race.as_mut()).is_pending());
        assert!(
            !right_probe.dropped(),
            "nothing is decided yet: right must live"
        );
        assert_eq!(hand.poll(race.as_mut()), Poll::Ready(Either::Left('l')));
        assert!(
            right_probe.dropped(),
            "the losing future (right) must be dropped by the poll that returns the \
             result, not later when the Select itself is dropped"
        );
        // And the other way round: right wins, left is the loser.
        let (left, left_probe) = scripted(NEVER, 'l');
        let (right, _) = scripted(3, 'r');
        let mut race = pin!(select(left, right));
        assert!(hand.poll(race.as_mut()).is_pending());
        assert!(hand.poll(race.as_mut()).is_pending());
        assert!(
            !left_probe.dropped(),
            "nothing is decided yet: left must live"
        );
        assert_eq!(hand.poll(race.as_mut()), Poll::Ready(Either::Right('r')));
        assert!(
            left_probe.dropped(),
            "the losing future (left) must be dropped by the poll that returns the result"
        );
    });
}

#[test]
fn when_both_are_ready_in_the_same_poll_left_wins() {
    within(5, "polling select by hand", || {
        let hand = Hand::default();
        // A tie at the first poll, and at later ones: left wins every time.
        for tie_at in 1..=4 {
            let (left, _) = scripted(tie_at, 'l');
            let (right, _) = scripted(tie_at, 'r');
            let mut race = pin!(select(left, right));
            for poll in 1..tie_at {
                assert!(hand.poll(race.as_mut()).is_pending(), "poll {poll}");
            }
            assert_eq!(
                hand.poll(race.as_mut()),
                Poll::Ready(Either::Left('l')),
                "both ready at poll {tie_at}: left wins"
            );
        }
    });
}

#[test]
fn right_is_not_polled_when_left_is_ready() {
    within(5, "polling select by hand", || {
        let hand = Hand::default();
        let (left, _) = scripted(2, 1u8);
        let (right, right_probe) = scripted(NEVER, 2u8);
        let mut race = pin!(select(left, right));
        assert!(hand.poll(race.as_mut()).is_pending());
        assert_eq!(hand.poll(race.as_mut()), Poll::Ready(Either::Left(1)));
        assert_eq!(
            right_probe.polls(),
            1,
            "right must be polled only at the first poll: at the second, left was ready"
        );
    });
}

#[test]
fn it_does_not_wake_itself() {
    within(5, "polling select by hand", || {
        // The scripted futures wake nobody; so any wake is Select waking its own task,
        // which makes an executor poll it again at once, for nothing, over and over.
        let hand = Hand::default();
        let (left, _) = scripted(NEVER, ());
        let (right, _) = scripted(NEVER, ());
        let mut race = pin!(select(left, right));
        for _ in 0..4 {
            assert!(hand.poll(race.as_mut()).is_pending());
        }
        assert_eq!(hand.wakes(), 0, "Select woke its own task");
    });
}

#[test]
fn the_timers_of_both_sides_wake_the_task() {
    // On the executor: whichever side's timer fires wakes the task (each inner future
    // got the waker of cx). The winner's timer is short, the loser's far away.
    let out = within(10, "select of sleeps", || {
        block_on(select(
            async {
                sleep(Duration::from_secs(5)).await;
                "slow"
            },
            async {
                sleep(Duration::from_millis(20)).await;
                7
            },
        ))
        .unwrap()
    });
    assert_eq!(out, Either::Right(7));
    let out = within(10, "select of sleeps", || {
        block_on(select(
            async {
                sleep(Duration::from_millis(20)).await;
                1
            },
            sleep(Duration::from_secs(5)),
        ))
        .unwrap()
    });
    assert_eq!(out, Either::Left(1));
}

#[test]
fn while_both_wait_the_executor_sleeps() {
    let polls = within(10, "select of sleeps", || {
        let executor = Executor::new().unwrap();
        executor
            .block_on(select(
                sleep(Duration::from_millis(300)),
                sleep(Duration::from_secs(5)),
            ))
            .unwrap();
        executor.stats().polls
    });
    // One timer fires: about two polls. A Select that keeps its task awake is polled
    // thousands of times in these 300 ms.
    assert!(
        polls <= 20,
        "the executor polled {polls} times while waiting for one timer: Select must \
         return Pending and let the inner futures wake the task"
    );
}
