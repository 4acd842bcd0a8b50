//! Graded tests for exercise `event-loop/join-all`.
//!
//! Most tests poll the `JoinAll` by hand, pinned and by reference, with scripted futures
//! (each ready at a poll of its own, and panicking if polled after that): what the
//! `JoinAll` does at every poll is seen, not only its final output. The others run it on
//! the lesson's executor, with timers that really wake the task.

#[path = "../../../tests/common/mod.rs"]
mod common;
use common::{Hand, NEVER, scripted, within};

use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use event_loop::step5_executor::{Executor, block_on, sleep};
use event_loop_join_all::join_all;

#[test]
fn outputs_come_back_in_the_order_of_the_list() {
    within(5, "polling join_all by hand", || {
        // They finish in the order 10, 20, 30; the outputs keep the list's order.
        let (futures, _probes): (Vec<_>, Vec<_>) = [(3, 30u32), (1, 10), (2, 20)]
            .into_iter()
            .map(|(at, v)| scripted(at, v))
            .unzip();
        let hand = Hand::default();
        let mut all = pin!(join_all(futures));
        assert!(
            hand.poll(all.as_mut()).is_pending(),
            "poll 1: 30 is not ready"
        );
        assert!(
            hand.poll(all.as_mut()).is_pending(),
            "poll 2: 30 is not ready"
        );
        assert_eq!(hand.poll(all.as_mut()), Poll::Ready(vec![30, 10, 20]));
    });
}

#[test]
fn every_unfinished_future_is_polled_at_every_poll() {
    within(5, "polling join_all by hand", || {
        let ready_at = [1, 4, 2, 3];
        let (futures, probes): (Vec<_>, Vec<_>) = ready_at
            .iter()
            .enumerate()
            .map(|(i, &at)| scripted(at, i))
            .unzip();
        let hand = Hand::default();
        let mut all = pin!(join_all(futures));
        for poll in 1..=3 {
            assert!(hand.poll(all.as_mut()).is_pending(), "poll {poll}");
            let polls: Vec<u32> = probes.iter().map(|p| p.polls()).collect();
            let expected: Vec<u32> = ready_at.iter().map(|&at| at.min(poll)).collect();
            assert_eq!(
                polls, expected,
                "after poll {poll} of JoinAll, each future should have been polled once per \
                 poll until it was ready (futures ready at polls {ready_at:?})"
            );
        }
        assert_eq!(hand.poll(all.as_mut()), Poll::Ready(vec![0, 1, 2, 3]));
    });
}

#[test]
fn a_finished_future_is_never_polled_again() {
    within(5, "polling join_all by hand", || {
        // The first and the last are ready at once; the middle one needs three polls.
        // A scripted future panics if polled after it returned Ready.
        let (futures, probes): (Vec<_>, Vec<_>) = [(1, 'a'), (3, 'b'), (1, 'c')]
            .into_iter()
            .map(|(at, v)| scripted(at, v))
            .unzip();
        let hand = Hand::default();
        let mut all = pin!(join_all(futures));
        assert!(hand.poll(all.as_mut()).is_pending());
        assert!(hand.poll(all.as_mut()).is_pending());
        assert_eq!(hand.poll(all.as_mut()), Poll::Ready(vec!['a', 'b', 'c']));
        let polls: Vec<u32> = probes.iter().map(|p| p.polls()).collect();
        assert_eq!(polls, [1, 3, 1], "how often each future was polled");
    });
}

#[test]
fn it_is_ready_at_the_poll_where_the_last_future_finishes() {
    within(5, "polling join_all by hand", || {
        let hand = Hand::default();
        // A single future, ready at once: ready at the first poll.
        let (one, _probe) = scripted(1, 42u64);
        let mut all = pin!(join_all(vec![one]));
        assert_eq!(hand.poll(all.as_mut()), Poll::Ready(vec![42]));
        // Two futures both ready at their second poll: ready at the second poll.
        let (futures, _probes): (Vec<_>, Vec<_>) = [(2, 7u8), (2, 8)]
            .into_iter()
            .map(|(at, v)| scripted(at, v))
            .unzip();
        let mut all = pin!(join_all(futures));
        assert!(hand.poll(all.as_mut()).is_pending());
        assert_eq!(hand.poll(all.as_mut()), Poll::Ready(vec![7, 8]));
    });
}

#[test]
fn nothing_to_join_is_ready_at_once() {
    within(5, "join_all of nothing", || {
        let hand = Hand::default();
        let mut all = pin!(join_all(Vec::<std::future::Ready<u8>>::new()));
        assert_eq!(hand.poll(all.as_mut()), Poll::Ready(vec![]));
    });
}

#[test]
fn it_does_not_wake_itself() {
    within(5, "polling join_all by hand", || {
        // The scripted futures wake nobody; so any wake is JoinAll waking its own task,
        // which makes an executor poll it again at once, for nothing, over and over.
        let (futures, _probes): (Vec<_>, Vec<_>) = [(3, 1u8), (NEVER, 2)]
            .into_iter()
            .map(|(at, v)| scripted(at, v))
            .unzip();
        let hand = Hand::default();
        let mut all = pin!(join_all(futures));
        for _ in 0..4 {
            assert!(hand.poll(all.as_mut()).is_pending());
        }
        assert_eq!(hand.wakes(), 0, "JoinAll woke its own task");
    });
}

#[test]
fn the_inner_futures_wake_the_task() {
    // On the executor: the timers wake the task through the waker JoinAll passed on.
    let out = within(10, "join_all of sleeps", || {
        block_on(join_all(
            [30u64, 10, 20]
                .into_iter()
                .map(|ms| async move {
                    sleep(Duration::from_millis(ms)).await;
                    ms
                })
                .collect(),
        ))
        .unwrap()
    });
    assert_eq!(out, [30, 10, 20]);
}

#[test]
fn while_the_futures_wait_the_executor_sleeps() {
    let polls = within(10, "join_all of sleeps", || {
        let executor = Executor::new().unwrap();
        let sleeps = (1..=4)
            .map(|i| sleep(Duration::from_millis(100 * i)))
            .collect();
        executor.block_on(join_all(sleeps)).unwrap();
        executor.stats().polls
    });
    // Four timers: about five polls (the first, one per timer). A JoinAll that keeps its
    // task awake is polled thousands of times in these 400 ms.
    assert!(
        polls <= 40,
        "the executor polled {polls} times while four timers ran: JoinAll must return \
         Pending and let the inner futures wake the task"
    );
}
