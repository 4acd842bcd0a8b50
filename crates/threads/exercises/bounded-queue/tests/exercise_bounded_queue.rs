//! Graded tests for exercise `threads/bounded-queue`.
//!
//! A lost wake-up shows up as a hang, so every test runs under a deadline and fails
//! with a message instead of hanging the grader. A thread counts as blocked once the
//! kernel shows it asleep (`common::wait_until_asleep`): the tests do not guess with
//! sleeps, and a thread that spins instead of sleeping is caught there. What a blocked
//! thread spent while it waited (CPU time, how often it woke up) is measured too.

#[path = "../../../tests/common/mod.rs"]
mod common;
use common::{
    Seen, WAIT, assert_slept, join_within, measured, spawn_watched, wait_until_asleep, within,
};

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use threads_bounded_queue::BoundedQueue;

type Queue = Arc<BoundedQueue<u32>>;

/// Starts a thread that runs `op` on the queue and returns when that thread is asleep
/// (blocked in `op`). Fails the test, saying `blocked_because`, if `op` returned instead.
fn blocked<T: Send + 'static>(
    q: &Queue,
    op: impl FnOnce(&BoundedQueue<u32>) -> T + Send + 'static,
    what: &str,
    blocked_because: &str,
) -> JoinHandle<T> {
    blocked_with_id(q, op, what, blocked_because).0
}

/// [`blocked`], also returning the thread's id for `wait_until_asleep`.
fn blocked_with_id<T: Send + 'static>(
    q: &Queue,
    op: impl FnOnce(&BoundedQueue<u32>) -> T + Send + 'static,
    what: &str,
    blocked_because: &str,
) -> (JoinHandle<T>, u32) {
    let q = q.clone();
    let (handle, tid) = spawn_watched(move || op(&q));
    assert_eq!(
        wait_until_asleep(tid, 10, what),
        Seen::Asleep,
        "{what} returned, but it should wait: {blocked_because}"
    );
    (handle, tid)
}

#[test]
fn first_in_first_out_up_to_the_capacity() {
    within(10, "pushes and pops that never wait", || {
        let q = BoundedQueue::new(4);
        assert!(q.is_empty());
        // Exactly up to the capacity: none of these waits.
        for x in [31, 7, 19, 2] {
            q.push(x).unwrap();
        }
        assert_eq!(q.len(), 4);
        assert_eq!(
            (0..4).map(|_| q.pop().unwrap()).collect::<Vec<_>>(),
            [31, 7, 19, 2]
        );
        assert!(q.is_empty());
        // Going around: pops and pushes interleaved keep the order.
        q.push(1).unwrap();
        q.push(2).unwrap();
        assert_eq!(q.pop(), Some(1));
        q.push(3).unwrap();
        assert_eq!(q.len(), 2);
        assert_eq!((q.pop(), q.pop()), (Some(2), Some(3)));
        assert_eq!(q.len(), 0);
    });
}

#[test]
fn push_waits_while_full_and_sleeps_until_a_pop_makes_room() {
    within(20, "a push into a full queue", || {
        let q: Queue = Arc::new(BoundedQueue::new(2));
        q.push(1).unwrap();
        q.push(2).unwrap();
        let pusher = blocked(
            &q,
            |q| measured(|| q.push(3)),
            "push into a full queue",
            "2 items in a queue of capacity 2",
        );
        assert_eq!(q.len(), 2, "a waiting push must not add its item");
        // Long enough that a pusher polling every few milliseconds shows in its sleeps.
        std::thread::sleep(WAIT);
        assert_eq!(q.pop(), Some(1));
        let (pushed, usage) = join_within(pusher, 5, "the push after a pop made room");
        assert_eq!(pushed, Ok(()));
        assert_slept(usage, "a push waiting for room");
        assert_eq!((q.pop(), q.pop()), (Some(2), Some(3)));
    });
}

#[test]
fn pop_waits_while_empty_and_sleeps_until_a_push() {
    within(20, "a pop from an empty queue", || {
        let q: Queue = Arc::new(BoundedQueue::new(2));
        let popper = blocked(
            &q,
            |q| measured(|| q.pop()),
            "pop from an empty queue",
            "the queue is empty and open",
        );
        // Long enough that a popper polling every few milliseconds shows in its sleeps.
        std::thread::sleep(WAIT);
        q.push(7).unwrap();
        let (popped, usage) = join_within(popper, 5, "the pop after a push");
        assert_eq!(popped, Some(7));
        assert_slept(usage, "a pop waiting for an item");
    });
}

#[test]
fn every_waiting_popper_gets_an_item() {
    // Three poppers asleep; three pushes in a row. Each push must wake a popper, also
    // when the queue was not empty just before (the first woken popper may not have
    // taken its item yet).
    within(20, "three poppers", || {
        let q: Queue = Arc::new(BoundedQueue::new(4));
        let poppers: Vec<_> = (0..3)
            .map(|i| {
                blocked(
                    &q,
                    |q| q.pop(),
                    &format!("popper {i}"),
                    "the queue is empty",
                )
            })
            .collect();
        for x in [11, 22, 33] {
            q.push(x).unwrap();
        }
        let mut got: Vec<_> = poppers
            .into_iter()
            .map(|p| join_within(p, 5, "a popper after three pushes"))
            .collect();
        got.sort_unstable();
        assert_eq!(got, [Some(11), Some(22), Some(33)]);
    });
}

#[test]
fn every_waiting_pusher_gets_room() {
    within(20, "three pushers", || {
        let q: Queue = Arc::new(BoundedQueue::new(3));
        for x in [1, 2, 3] {
            q.push(x).unwrap();
        }
        let pushers: Vec<_> = [44, 55, 66]
            .into_iter()
            .map(|x| {
                blocked(
                    &q,
                    move |q| q.push(x),
                    &format!("the push of {x}"),
                    "the queue is full",
                )
            })
            .collect();
        assert_eq!((q.pop(), q.pop(), q.pop()), (Some(1), Some(2), Some(3)));
        for p in pushers {
            assert_eq!(join_within(p, 5, "a pusher after three pops"), Ok(()));
        }
        let mut rest: Vec<_> = (0..3).map(|_| q.pop().unwrap()).collect();
        rest.sort_unstable();
        assert_eq!(rest, [44, 55, 66]);
    });
}

#[test]
fn a_woken_popper_checks_again_before_taking() {
    // A popper sleeps on an empty queue. Another thread pushes an item and takes it back
    // at once, usually before the sleeper has woken up. The sleeper must find the queue
    // empty again and wait on: not return None (the queue is open), not take a phantom.
    within(30, "fifty stolen wake-ups", || {
        for round in 0..50 {
            let q: Queue = Arc::new(BoundedQueue::new(1));
            let (sleeper, sleeper_tid) =
                blocked_with_id(&q, |q| q.pop(), "pop from an empty queue", "it is empty");
            let (thief, thief_tid) = {
                let q = q.clone();
                spawn_watched(move || {
                    q.push(1).unwrap();
                    q.pop()
                })
            };
            // One of the two takes the 1; the other must then be waiting for an item.
            let other_tid = match first_to_finish(&sleeper, &thief) {
                0 => thief_tid,
                _ => sleeper_tid,
            };
            if wait_until_asleep(other_tid, 10, "the popper still waiting") == Seen::Asleep {
                q.push(2).unwrap();
            }
            let mut got = [
                join_within(sleeper, 5, "the sleeping popper"),
                join_within(thief, 5, "the other popper"),
            ];
            got.sort_unstable();
            assert_eq!(
                got,
                [Some(1), Some(2)],
                "round {round}: a popper woke up, found the queue empty (the item was \
                 taken) and did not wait again"
            );
        }
    });
}

/// Waits until one of the two threads has finished; returns 0 or 1 for which.
fn first_to_finish<A, B>(a: &JoinHandle<A>, b: &JoinHandle<B>) -> usize {
    for _ in 0..10_000 {
        if a.is_finished() {
            return 0;
        }
        if b.is_finished() {
            return 1;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    panic!("neither thread got through within 10 s");
}

#[test]
fn a_woken_pusher_checks_again_before_adding() {
    // A pusher sleeps on a full queue of one. Another thread pops and fills the slot
    // again at once, usually before the sleeper has woken up. The sleeper must wait on:
    // the queue never holds more than its capacity.
    within(30, "fifty stolen wake-ups", || {
        for round in 0..50 {
            let q: Queue = Arc::new(BoundedQueue::new(1));
            q.push(0).unwrap();
            let (sleeper, sleeper_tid) =
                blocked_with_id(&q, |q| q.push(1), "push into a full queue", "it is full");
            let (thief, thief_tid) = {
                let q = q.clone();
                spawn_watched(move || {
                    let first = q.pop();
                    q.push(2).unwrap();
                    first
                })
            };
            // One of the two fills the slot; the other must then be waiting for room.
            let other_tid = match first_to_finish(&sleeper, &thief) {
                0 => thief_tid,
                _ => sleeper_tid,
            };
            let other_waits =
                wait_until_asleep(other_tid, 10, "the pusher still waiting") == Seen::Asleep;
            let over = format!("round {round}: more items than the capacity of 1");
            assert!(q.len() <= 1, "{over}");
            let mut popped = Vec::new();
            if other_waits {
                popped.extend(q.pop());
            }
            join_within(sleeper, 5, "the sleeping pusher").unwrap();
            assert_eq!(join_within(thief, 5, "the other thread"), Some(0));
            assert!(q.len() <= 1, "{over}");
            while !q.is_empty() {
                popped.extend(q.pop());
            }
            popped.sort_unstable();
            assert_eq!(popped, [1, 2], "round {round}: the items pushed");
        }
    });
}

#[test]
fn close_wakes_every_waiting_popper_and_pusher() {
    within(20, "close with waiting threads", || {
        let q: Queue = Arc::new(BoundedQueue::new(1));
        let poppers: Vec<_> = (0..3)
            .map(|i| {
                blocked(
                    &q,
                    |q| q.pop(),
                    &format!("popper {i}"),
                    "the queue is empty",
                )
            })
            .collect();
        q.close();
        for p in poppers {
            assert_eq!(join_within(p, 5, "a popper after close"), None);
        }

        let q: Queue = Arc::new(BoundedQueue::new(1));
        q.push(1).unwrap();
        let pushers: Vec<_> = [2, 3]
            .into_iter()
            .map(|x| {
                blocked(
                    &q,
                    move |q| q.push(x),
                    &format!("the push of {x}"),
                    "the queue is full",
                )
            })
            .collect();
        q.close();
        let results: Vec<_> = pushers
            .into_iter()
            .map(|p| join_within(p, 5, "a pusher after close"))
            .collect();
        assert_eq!(results, [Err(2), Err(3)], "a push cut short by close fails");
        assert_eq!(
            q.pop(),
            Some(1),
            "items pushed before close are still delivered"
        );
        assert_eq!(q.pop(), None);
    });
}

#[test]
fn after_close_pops_drain_the_items_then_return_none_and_pushes_fail() {
    within(10, "a closed queue", || {
        let q = BoundedQueue::new(3);
        q.push(8).unwrap();
        q.push(9).unwrap();
        q.close();
        assert_eq!(q.push(10), Err(10), "push after close gives the item back");
        assert_eq!(q.len(), 2);
        assert_eq!((q.pop(), q.pop()), (Some(8), Some(9)));
        assert_eq!((q.pop(), q.pop()), (None, None));
        // A full queue that is closed: push fails at once instead of waiting for room.
        let full = BoundedQueue::new(1);
        full.push(1).unwrap();
        full.close();
        assert_eq!(full.push(2), Err(2));
        assert_eq!(full.len(), 1);
    });
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
                    let (mut got, mut most) = (Vec::new(), 0);
                    loop {
                        most = most.max(q.len());
                        match q.pop() {
                            Some(x) => got.push(x),
                            None => break (got, most),
                        }
                    }
                })
            })
            .collect();
        for p in producers {
            p.join().unwrap();
        }
        q.close();
        let mut all: Vec<u64> = Vec::new();
        for c in consumers {
            let (got, most) = c.join().unwrap();
            assert!(
                most <= 8,
                "a consumer saw {most} items in a queue of capacity 8"
            );
            all.extend(got);
        }
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
