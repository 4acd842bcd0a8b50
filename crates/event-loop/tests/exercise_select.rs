//! Graded tests for exercise `event-loop/select`.

mod common;
use common::within;

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use event_loop::exercises::select::{Either, select};
use event_loop::step5_executor::{block_on, sleep};

#[test]
fn the_first_to_finish_wins() {
    let out = within(10, "select", || {
        block_on(select(
            async {
                sleep(Duration::from_millis(300)).await;
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
    let out = within(10, "select", || {
        block_on(select(async { 1 }, sleep(Duration::from_secs(5)))).unwrap()
    });
    assert_eq!(out, Either::Left(1));
}

#[test]
fn it_returns_without_waiting_for_the_loser() {
    let took = within(10, "select", || {
        let start = Instant::now();
        block_on(select(
            sleep(Duration::from_millis(50)),
            sleep(Duration::from_secs(3)),
        ))
        .unwrap();
        start.elapsed()
    });
    assert!(took < Duration::from_millis(1500), "took {took:?}");
}

/// Sets its flag when dropped.
struct DropFlag(Rc<Cell<bool>>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

#[test]
fn the_loser_is_dropped_before_the_result_is_returned() {
    within(10, "select", || {
        let dropped = Rc::new(Cell::new(false));
        let flag = DropFlag(dropped.clone());
        let seen = block_on(async {
            let result = select(async { 5 }, async move {
                let _flag = flag;
                sleep(Duration::from_secs(5)).await;
            })
            .await;
            (result, dropped.get())
        })
        .unwrap();
        assert_eq!(
            seen,
            (Either::Left(5), true),
            "the losing future must be dropped by select"
        );
    });
}

#[test]
fn when_both_are_ready_left_wins() {
    let out = within(5, "select", || {
        block_on(select(async { 'l' }, async { 'r' })).unwrap()
    });
    assert_eq!(out, Either::Left('l'));
}
