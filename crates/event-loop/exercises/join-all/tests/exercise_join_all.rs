//! Graded tests for exercise `event-loop/join-all`.
//!
//! Most tests poll the `JoinAll` by hand ([`ByHand`]), with scripted futures (each ready
//! at a poll of its own, and panicking if polled after that): what the `JoinAll` does at
//! every poll is seen, not only its final output. The others run it on the lesson's
//! executor, with timers that really wake the task.
//!
//! Every check names the futures it joined (when each is ready, with which output, and
//! which poll of the `JoinAll` it was) and the rule of the task it checks
//! ([`graded::scene`]); a panic in the `JoinAll`'s poll is reported as one, with those
//! futures.

#[path = "../../../tests/common/mod.rs"]
mod common;
use common::{ByHand, NEVER, Probe, Scripted, nth, on_the_executor, scripted};

use std::fmt::Debug;
use std::rc::Rc;
use std::task::Poll;
use std::time::Duration;

use event_loop::step7_executor::sleep;
use event_loop_join_all::join_all;
use graded::scene;

/// The JoinAll of `list`, to poll by hand. A panic during a poll is a scripted future
/// polled after it was ready: that is the rule it breaks.
fn by_hand<F: std::future::Future>(words: impl Into<String>, future: F) -> ByHand<F>
where
    F::Output: Debug + PartialEq,
{
    ByHand::new("the JoinAll", words, future)
        .panics_break("at every poll, poll each unfinished future once, never one that finished")
}

const NOT_ALL: &str = "not every future has finished: Pending";
const ALL: &str = "ready with all outputs, in the order of the list, in the very poll in which \
                   the last one finishes";
const ONCE_EACH: &str = "at every poll, poll each unfinished future once, never one that \
                         finished (how many times each future was polled, in list order)";

/// The case of a test that polls by hand, for the time limit around it.
const HAND: &str = "polling the JoinAll by hand, with scripted futures";
const RETURNS: &str = "each poll returns at once, Pending or Ready";

/// Scripted futures, one per (poll at which it is ready, output); their probes; and the
/// words that describe them in a case ("futures: 30 ready at its 3rd poll, ...").
fn futures<T: Debug>(script: Vec<(u32, T)>) -> (Vec<Scripted<T>>, Vec<Rc<Probe>>, String) {
    let words: Vec<String> = script
        .iter()
        .map(|(at, value)| match *at {
            NEVER => format!("{value:?} never ready"),
            n => format!("{value:?} ready at its {} poll", nth(n)),
        })
        .collect();
    let (futures, probes) = script
        .into_iter()
        .map(|(at, value)| scripted(at, value))
        .unzip();
    (futures, probes, format!("futures: {}", words.join(", ")))
}

/// How many times each future was polled so far, in list order.
fn polls(probes: &[Rc<Probe>]) -> Vec<u32> {
    probes.iter().map(|p| p.polls()).collect()
}

#[test]
fn outputs_come_back_in_the_order_of_the_list() {
    let c = scene(HAND, RETURNS);
    common::within(&c, 5, |_| {
        // They finish in the order 10, 20, 30; the outputs keep the list's order.
        let (list, _probes, words) = futures(vec![(3, 30u32), (1, 10), (2, 20)]);
        let mut all = by_hand(words, join_all(list));
        all.poll_is(NOT_ALL, Poll::Pending);
        all.poll_is(NOT_ALL, Poll::Pending);
        all.poll_is(ALL, Poll::Ready(vec![30, 10, 20]));
    });
}

#[test]
fn every_unfinished_future_is_polled_at_every_poll() {
    let c = scene(HAND, RETURNS);
    common::within(&c, 5, |_| {
        let ready_at = [1, 4, 2, 3];
        let (list, probes, words) = futures(ready_at.iter().copied().zip(0..).collect());
        let mut all = by_hand(words, join_all(list));
        for poll in 1..=3 {
            all.poll_is(NOT_ALL, Poll::Pending);
            // Once per poll until it was ready, then never again.
            let expected: Vec<u32> = ready_at.iter().map(|&at| at.min(poll)).collect();
            all.after(ONCE_EACH).eq(polls(&probes), expected);
        }
        all.poll_is(ALL, Poll::Ready(vec![0, 1, 2, 3]));
    });
}

#[test]
fn a_finished_future_is_never_polled_again() {
    let c = scene(HAND, RETURNS);
    common::within(&c, 5, |_| {
        // The first and the last are ready at once; the middle one needs three polls.
        // A scripted future panics if polled after it returned Ready.
        let (list, probes, words) = futures(vec![(1, 'a'), (3, 'b'), (1, 'c')]);
        let mut all = by_hand(words, join_all(list));
        all.poll_is(NOT_ALL, Poll::Pending);
        all.poll_is(NOT_ALL, Poll::Pending);
        all.poll_is(ALL, Poll::Ready(vec!['a', 'b', 'c']));
        all.after(ONCE_EACH).eq(polls(&probes), vec![1, 3, 1]);
    });
}

#[test]
fn it_is_ready_at_the_poll_where_the_last_future_finishes() {
    let c = scene(HAND, RETURNS);
    common::within(&c, 5, |_| {
        // A single future, ready at once: ready at the first poll.
        let (list, _probes, words) = futures(vec![(1, 42u64)]);
        let mut all = by_hand(words, join_all(list));
        all.poll_is(ALL, Poll::Ready(vec![42]));
        // Two futures both ready at their second poll: ready at the second poll.
        let (list, _probes, words) = futures(vec![(2, 7u8), (2, 8)]);
        let mut all = by_hand(words, join_all(list));
        all.poll_is(NOT_ALL, Poll::Pending);
        all.poll_is(ALL, Poll::Ready(vec![7, 8]));
    });
}

#[test]
fn nothing_to_join_is_ready_at_once() {
    let c = scene(HAND, RETURNS);
    common::within(&c, 5, |_| {
        let mut all = ByHand::new(
            "the JoinAll",
            "no futures (an empty list)",
            join_all(Vec::<std::future::Ready<u8>>::new()),
        );
        all.poll_is(
            "ready with all outputs (none), at once if there are none",
            Poll::Ready(vec![]),
        );
    });
}

#[test]
fn it_does_not_wake_itself() {
    let c = scene(HAND, RETURNS);
    common::within(&c, 5, |_| {
        // The scripted futures wake nobody; so any wake is JoinAll waking its own task,
        // which makes an executor poll it again at once, for nothing, over and over.
        let (list, _probes, words) = futures(vec![(3, 1u8), (NEVER, 2)]);
        let mut all = ByHand::new(
            "the JoinAll",
            format!("{words}; neither wakes the task"),
            join_all(list),
        );
        for _ in 0..4 {
            all.poll_is(NOT_ALL, Poll::Pending);
        }
        all.after(
            "return Pending without waking the task yourself (times the task was woken in \
             these 4 polls)",
        )
        .eq(all.wakes(), 0);
    });
}

#[test]
fn the_inner_futures_wake_the_task() {
    // On the executor: the timers wake the task through the waker JoinAll passed on.
    let c = scene(
        "join_all of 3 futures that sleep 30, 10 and 20 ms, then return that number, on \
         the lesson's executor",
        "the inner futures wake the task; all outputs, in the order of the list",
    );
    let (got, _) = common::within(&c, 10, move |c| {
        let sleeps = [30u64, 10, 20]
            .into_iter()
            .map(|ms| async move {
                sleep(Duration::from_millis(ms)).await;
                ms
            })
            .collect();
        on_the_executor(&c, join_all(sleeps))
    });
    c.eq(got, vec![30, 10, 20]);
}

#[test]
fn while_the_futures_wait_the_executor_sleeps() {
    let c = scene(
        "join_all of 4 sleeps of 100, 200, 300 and 400 ms, on the lesson's executor",
        "the inner futures wake the task; all outputs, in the order of the list",
    );
    let (got, polls) = common::within(&c, 10, move |c| {
        let sleeps = (1..=4)
            .map(|i| sleep(Duration::from_millis(100 * i)))
            .collect();
        on_the_executor(&c, join_all(sleeps))
    });
    c.eq(got, vec![(); 4]);
    // Four timers: about five polls (the first, one per timer). A JoinAll that keeps its
    // task awake is polled thousands of times in these 400 ms.
    if polls > 40 {
        c.rule(
            "return Pending without waking the task yourself: the inner futures wake it \
             (four timers fire: 40 polls of the executor at most)",
        )
        .fail_with(&format!(
            "the executor polled {polls} times in these 400 ms"
        ));
    }
}
