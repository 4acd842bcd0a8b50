//! Graded tests for exercise `event-loop/join-all`.

mod common;
use common::within;

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use event_loop::exercises::join_all::join_all;
use event_loop::step5_executor::{block_on, sleep};

#[test]
fn outputs_come_back_in_order() {
    let out = within(10, "join_all", || {
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
fn the_futures_wait_at_the_same_time() {
    let took = within(10, "join_all of sleeps", || {
        let start = Instant::now();
        block_on(join_all(
            (0..5).map(|_| sleep(Duration::from_millis(200))).collect(),
        ))
        .unwrap();
        start.elapsed()
    });
    // One after another: 1 s. Together: about 200 ms.
    assert!(took < Duration::from_millis(700), "took {took:?}");
}

/// Ready at its second poll, and panics if polled again after that.
struct TwoPolls {
    polls: Rc<Cell<u32>>,
}

impl Future for TwoPolls {
    type Output = u32;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
        let n = self.polls.get() + 1;
        self.polls.set(n);
        assert!(n <= 2, "a finished future was polled again");
        if n == 2 {
            Poll::Ready(n)
        } else {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

#[test]
fn a_finished_future_is_never_polled_again() {
    within(10, "join_all of two-poll futures", || {
        let counters: Vec<Rc<Cell<u32>>> = (0..3).map(|_| Rc::default()).collect();
        let futures = counters
            .iter()
            .map(|c| TwoPolls { polls: c.clone() })
            .collect();
        let out = block_on(async move {
            let slow = sleep(Duration::from_millis(50));
            let (out, ()) = (join_all(futures).await, slow.await);
            out
        })
        .unwrap();
        assert_eq!(out, [2, 2, 2]);
    });
}

#[test]
fn nothing_to_join_is_ready_at_once() {
    let out = within(5, "join_all of nothing", || {
        block_on(join_all(Vec::<std::future::Ready<u8>>::new())).unwrap()
    });
    assert!(out.is_empty());
}
