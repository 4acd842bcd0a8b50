//! Graded tests for exercise `event-loop/select`.
//!
//! Most tests poll the `Select` by hand ([`ByHand`]), with scripted futures (each ready
//! at a poll of its own): the `Select` stays alive between polls, so what it still holds
//! when it returns its result can be seen, and a tie can be made to happen at any poll,
//! not only the first. The others run it on the lesson's executor, with timers that
//! really wake the task.
//!
//! Every check names the race it watched (when each side is ready, and which poll of the
//! `Select` it was) and the rule of the task it checks ([`graded::scene`]); a panic in the
//! `Select`'s poll is reported as one, with that race.

#[path = "../../../tests/common/mod.rs"]
mod common;
use common::{ByHand, NEVER, nth, on_the_executor, scripted};

use std::task::Poll;
use std::time::Duration;

use event_loop::step7_executor::sleep;
use event_loop_select::{Either, select};
use graded::scene;

const NOT_YET: &str = "neither is ready yet: Pending";
const WINS: &str = "the first ready one is the result";
const DROPPED: &str = "the other future is dropped by that same poll, before it returns";

/// The case of a test that polls by hand, for the time limit around it.
const HAND: &str = "polling the Select by hand, with scripted futures";
const RETURNS: &str = "each poll returns at once, Pending or Ready";

#[test]
fn the_first_to_be_ready_wins_at_the_poll_it_is_ready() {
    let c = scene(HAND, RETURNS);
    common::within(&c, 5, |_| {
        let rule = "the first ready one is the result, at the poll where it is ready";
        let (left, _) = scripted(3, "left");
        let (right, _) = scripted(2, 2u32);
        let mut race = ByHand::new(
            "the Select",
            format!(
                "left is ready at its {} poll, right at its {}",
                nth(3),
                nth(2)
            ),
            select(left, right),
        );
        race.poll_is(NOT_YET, Poll::Pending);
        race.poll_is(rule, Poll::Ready(Either::Right(2)));
        // Left must still be polled at every poll after a Pending, and win.
        let (left, _) = scripted(3, "left");
        let (right, _) = scripted(NEVER, 0u32);
        let mut race = ByHand::new(
            "the Select",
            format!("left is ready at its {} poll, right never", nth(3)),
            select(left, right),
        );
        race.poll_is(NOT_YET, Poll::Pending);
        race.poll_is(NOT_YET, Poll::Pending);
        race.poll_is(
            "left is polled at every poll until it is ready: the first ready one is the result",
            Poll::Ready(Either::Left("left")),
        );
    });
}

#[test]
fn the_loser_is_dropped_before_the_result_is_returned() {
    let c = scene(HAND, RETURNS);
    common::within(&c, 5, |_| {
        // The Select is still alive (in its box) when we look: the loser must already
        // be gone.
        let (left, _) = scripted(2, 'l');
        let (right, right_probe) = scripted(NEVER, 'r');
        let mut race = ByHand::new(
            "the Select",
            format!("left is ready at its {} poll, right never", nth(2)),
            select(left, right),
        );
        race.poll_is(NOT_YET, Poll::Pending);
        if right_probe.dropped() {
            race.after("nothing is decided yet: right is kept")
                .fail_with("right was dropped already");
        }
        race.poll_is(WINS, Poll::Ready(Either::Left('l')));
        if !right_probe.dropped() {
            race.after(DROPPED).fail_with(
                "right was still alive after this poll returned (dropped only with the \
                 Select itself?)",
            );
        }
        // And the other way round: right wins, left is the loser.
        let (left, left_probe) = scripted(NEVER, 'l');
        let (right, _) = scripted(3, 'r');
        let mut race = ByHand::new(
            "the Select",
            format!("left is never ready, right at its {} poll", nth(3)),
            select(left, right),
        );
        race.poll_is(NOT_YET, Poll::Pending);
        race.poll_is(NOT_YET, Poll::Pending);
        if left_probe.dropped() {
            race.after("nothing is decided yet: left is kept")
                .fail_with("left was dropped already");
        }
        race.poll_is(WINS, Poll::Ready(Either::Right('r')));
        if !left_probe.dropped() {
            race.after(DROPPED).fail_with(
                "left was still alive after this poll returned (dropped only with the \
                 Select itself?)",
            );
        }
    });
}

#[test]
fn when_both_are_ready_in_the_same_poll_left_wins() {
    let c = scene(HAND, RETURNS);
    common::within(&c, 5, |_| {
        // A tie at the first poll, and at later ones: left wins every time.
        for tie_at in 1..=4 {
            let (left, _) = scripted(tie_at, 'l');
            let (right, _) = scripted(tie_at, 'r');
            let mut race = ByHand::new(
                "the Select",
                format!("both are ready at their {} poll", nth(tie_at)),
                select(left, right),
            );
            for _ in 1..tie_at {
                race.poll_is(NOT_YET, Poll::Pending);
            }
            race.poll_is(
                "left wins a tie, at any poll",
                Poll::Ready(Either::Left('l')),
            );
        }
    });
}

#[test]
fn right_is_not_polled_when_left_is_ready() {
    let c = scene(HAND, RETURNS);
    common::within(&c, 5, |_| {
        let (left, _) = scripted(2, 1u8);
        let (right, right_probe) = scripted(NEVER, 2u8);
        let mut race = ByHand::new(
            "the Select",
            format!("left is ready at its {} poll, right never", nth(2)),
            select(left, right),
        );
        race.poll_is(NOT_YET, Poll::Pending);
        race.poll_is(WINS, Poll::Ready(Either::Left(1)));
        race.after(
            "poll left, then right, but not right when left is ready: right is polled at \
             poll 1 only (how many times right was polled)",
        )
        .eq(right_probe.polls(), 1);
    });
}

#[test]
fn it_does_not_wake_itself() {
    let c = scene(HAND, RETURNS);
    common::within(&c, 5, |_| {
        // The scripted futures wake nobody; so any wake is Select waking its own task,
        // which makes an executor poll it again at once, for nothing, over and over.
        let (left, _) = scripted(NEVER, ());
        let (right, _) = scripted(NEVER, ());
        let mut race = ByHand::new(
            "the Select",
            "neither is ever ready, and neither wakes the task",
            select(left, right),
        );
        for _ in 0..4 {
            race.poll_is(NOT_YET, Poll::Pending);
        }
        race.after(
            "return Pending without waking the task yourself (times the task was woken in \
             these 4 polls)",
        )
        .eq(race.wakes(), 0);
    });
}

#[test]
fn the_timers_of_both_sides_wake_the_task() {
    // On the executor: whichever side's timer fires wakes the task (each inner future
    // got the waker of cx). The winner's timer is short, the loser's far away.
    let rule = "the inner futures wake the task: the first ready one is the result";
    let c = scene(
        "select(sleep 5 s then \"slow\", sleep 20 ms then 7) on the lesson's executor",
        rule,
    );
    let (got, _) = common::within(&c, 10, move |c| {
        on_the_executor(
            &c,
            select(
                async {
                    sleep(Duration::from_secs(5)).await;
                    "slow"
                },
                async {
                    sleep(Duration::from_millis(20)).await;
                    7
                },
            ),
        )
    });
    c.eq(got, Either::Right(7));
    let c = scene(
        "select(sleep 20 ms then 1, sleep 5 s) on the lesson's executor",
        rule,
    );
    let (got, _) = common::within(&c, 10, move |c| {
        on_the_executor(
            &c,
            select(
                async {
                    sleep(Duration::from_millis(20)).await;
                    1
                },
                sleep(Duration::from_secs(5)),
            ),
        )
    });
    c.eq(got, Either::Left(1));
}

#[test]
fn while_both_wait_the_executor_sleeps() {
    let c = scene(
        "select(sleep 300 ms, sleep 5 s) on the lesson's executor",
        "the first ready one is the result",
    );
    let (got, polls) = common::within(&c, 10, move |c| {
        on_the_executor(
            &c,
            select(
                sleep(Duration::from_millis(300)),
                sleep(Duration::from_secs(5)),
            ),
        )
    });
    c.eq(got, Either::Left(()));
    // One timer fires: about two polls. A Select that keeps its task awake is polled
    // thousands of times in these 300 ms.
    if polls > 20 {
        c.rule(
            "return Pending without waking the task yourself: the inner futures wake it \
             (one timer fires: 20 polls of the executor at most)",
        )
        .fail_with(&format!(
            "the executor polled {polls} times in these 300 ms"
        ));
    }
}
