//! Graded tests for exercise `threads/bounded-queue`.
//!
//! A lost wake-up shows up as a hang, so every test runs under a deadline and fails
//! with a message instead of hanging the grader. A thread counts as blocked once the
//! kernel shows it asleep (`common::wait_until_asleep`): the tests do not guess with
//! sleeps, and a thread that spins instead of sleeping is caught there. What a blocked
//! thread spent while it waited (CPU time, how often it woke up) is measured too.
//!
//! Every check names the queue and the calls it tried and the rule of the task it
//! checks ([`graded::scene`]), and a panic in the queue's methods is reported as one,
//! with the calls that led to it.

#[path = "../../../tests/common/mod.rs"]
mod common;
use common::{
    Seen, Usage, WAIT, assert_slept, join_within, measured, spawn_watched, wait_until_asleep,
    within,
};

use std::fmt::Debug;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use graded::{Case, scene};
use threads_bounded_queue::BoundedQueue;

type Queue = Arc<BoundedQueue<u32>>;

// The task's rules, in its words, as the checks name them.
const FIFO: &str = "a FIFO queue: items come out in the order they went in";
const PUSH_WITH_ROOM: &str = "push on an open queue with room adds the item and returns Ok(())";
const PUSH_WAITS: &str = "push waits while the queue is full";
const CAPACITY: &str = "the queue never holds more than its capacity";
const PUSH_CLOSED: &str =
    "push returns Err(item) once the queue is closed, at once even if it is full";
const POP_WAITS: &str = "pop waits while the queue is empty";
const POP_NONE: &str = "pop returns None only when the queue is closed and empty (items pushed \
                        before close are still delivered)";
const LEN: &str = "len is how many items are waiting";
const SLEEPS: &str =
    "a waiting thread sleeps on a Condvar until notified (no spinning, no polling)";
const CHECKS_AGAIN: &str = "a waiting thread checks again when it wakes: another thread may have \
                            got there first";
const WAKES: &str = "every push and pop wakes a waiting thread that can now go on";
const CLOSE_WAKES: &str = "close wakes every waiting thread";

/// A queue used from the test's own thread, one call at a time, that remembers the calls
/// made: each check names them as its input ("pop() on a queue of capacity 4, after
/// push(31), push(7)"), and a panic in a call is reported with them.
struct Steps {
    q: BoundedQueue<u32>,
    capacity: usize,
    calls: Vec<String>,
}

impl Steps {
    fn new(capacity: usize) -> Steps {
        Steps {
            q: BoundedQueue::new(capacity),
            capacity,
            calls: Vec::new(),
        }
    }

    /// The case of `call`, made next.
    fn case(&self, call: &str, rule: &str) -> Case {
        let before = if self.calls.is_empty() {
            "a new queue".to_string()
        } else {
            format!("after {}", self.calls.join(", "))
        };
        scene(
            format!("{call} on a queue of capacity {}, {before}", self.capacity),
            rule,
        )
    }

    /// Makes `call` with `method`, as a check of `rule` that expects `expected`.
    #[track_caller]
    fn call<T: Debug + PartialEq>(
        &mut self,
        call: String,
        method: impl FnOnce(&BoundedQueue<u32>) -> T,
        rule: &str,
        expected: T,
    ) {
        let c = self.case(&call, rule);
        let got = c.run(|| method(&self.q));
        self.calls.push(call);
        c.eq(got, expected);
    }

    #[track_caller]
    fn push(&mut self, x: u32, rule: &str, expected: Result<(), u32>) {
        self.call(format!("push({x})"), |q| q.push(x), rule, expected);
    }

    #[track_caller]
    fn pop(&mut self, rule: &str, expected: Option<u32>) {
        self.call("pop()".to_string(), |q| q.pop(), rule, expected);
    }

    #[track_caller]
    fn len(&mut self, expected: usize) {
        self.call("len()".to_string(), |q| q.len(), LEN, expected);
    }

    #[track_caller]
    fn close(&mut self) {
        self.call(
            "close()".to_string(),
            |q| q.close(),
            "close closes the queue",
            (),
        );
    }
}

/// Pushes `items` into `q`, which has room for them, as checks of `c`.
#[track_caller]
fn fill(c: &Case, q: &BoundedQueue<u32>, items: &[u32]) {
    for &x in items {
        let got = c.run(|| q.push(x));
        c.rule(PUSH_WITH_ROOM).eq(got, Ok(()));
    }
}

/// A thread blocked in a call on the queue, seen asleep in there.
struct Waiter<T> {
    handle: JoinHandle<(T, Usage)>,
    tid: u32,
}

impl<T> Waiter<T> {
    /// What the call returned, and what its wait cost the thread; fails `c` if it does
    /// not return within 5 s, or panics.
    #[track_caller]
    fn returns(self, c: &Case) -> (T, Usage) {
        join_within(self.handle, 5, c)
    }
}

/// Starts a thread that runs `op` on the queue and returns once that thread is asleep
/// (blocked in `op`). Fails `c` if `op` returned instead, saying what it returned.
#[track_caller]
fn blocked<T: Debug + Send + 'static>(
    q: &Queue,
    c: &Case,
    op: impl FnOnce(&BoundedQueue<u32>) -> T + Send + 'static,
) -> Waiter<T> {
    let q = q.clone();
    let (handle, tid) = spawn_watched(move || measured(|| op(&q)));
    if wait_until_asleep(tid, 10, &c.rule(SLEEPS)) == Seen::Exited {
        let (got, _) = join_within(handle, 5, c);
        c.fail_with(&format!("it returned {got:?} instead of waiting"));
    }
    Waiter { handle, tid }
}

#[test]
fn first_in_first_out_up_to_the_capacity() {
    let whole = scene(
        "a queue of capacity 4 used from one thread: pushes up to the capacity, pops of \
         items that are there",
        "push waits only while the queue is full, pop only while it is empty",
    );
    within(&whole, 10, |_| {
        let mut q = Steps::new(4);
        q.len(0);
        // Exactly up to the capacity: none of these waits.
        for x in [31, 7, 19, 2] {
            q.push(x, PUSH_WITH_ROOM, Ok(()));
        }
        q.len(4);
        for x in [31, 7, 19, 2] {
            q.pop(FIFO, Some(x));
        }
        q.len(0);
        // Going around: pops and pushes interleaved keep the order.
        q.push(1, PUSH_WITH_ROOM, Ok(()));
        q.push(2, PUSH_WITH_ROOM, Ok(()));
        q.pop(FIFO, Some(1));
        q.push(3, PUSH_WITH_ROOM, Ok(()));
        q.len(2);
        q.pop(FIFO, Some(2));
        q.pop(FIFO, Some(3));
        q.len(0);
    });
}

#[test]
fn push_waits_while_full_and_sleeps_until_a_pop_makes_room() {
    let c = scene(
        "push(3) on a full queue of capacity 2 (holding 1, 2), then a pop() 500 ms later",
        PUSH_WAITS,
    );
    within(&c, 20, |c| {
        let q: Queue = Arc::new(BoundedQueue::new(2));
        fill(&c, &q, &[1, 2]);
        let pusher = blocked(&q, &c, |q| q.push(3));
        let len = c.run(|| q.len());
        c.rule("a waiting push adds nothing until there is room")
            .eq(len, 2);
        // Long enough that a pusher polling every few milliseconds shows in its sleeps.
        std::thread::sleep(WAIT);
        let popped = c.run(|| q.pop());
        c.rule(FIFO).eq(popped, Some(1));
        let (pushed, usage) = pusher.returns(&c.rule(WAKES));
        c.rule("the push woken by the pop adds its item: Ok(())")
            .eq(pushed, Ok(()));
        assert_slept(usage, &c.rule(SLEEPS));
        let rest = c.run(|| (q.pop(), q.pop()));
        c.rule(FIFO).eq(rest, (Some(2), Some(3)));
    });
}

#[test]
fn pop_waits_while_empty_and_sleeps_until_a_push() {
    let c = scene(
        "pop() on an empty queue of capacity 2, then a push(7) 500 ms later",
        POP_WAITS,
    );
    within(&c, 20, |c| {
        let q: Queue = Arc::new(BoundedQueue::new(2));
        let popper = blocked(&q, &c, |q| q.pop());
        // Long enough that a popper polling every few milliseconds shows in its sleeps.
        std::thread::sleep(WAIT);
        fill(&c, &q, &[7]);
        let (popped, usage) = popper.returns(&c.rule(WAKES));
        c.rule("the pop woken by the push takes its item")
            .eq(popped, Some(7));
        assert_slept(usage, &c.rule(SLEEPS));
    });
}

#[test]
fn every_waiting_popper_gets_an_item() {
    // Three poppers asleep; three pushes in a row. Each push must wake a popper, also
    // when the queue was not empty just before (the first woken popper may not have
    // taken its item yet).
    let c = scene(
        "three pop()s asleep on an empty queue of capacity 4, then push(11), push(22), \
         push(33) in a row",
        WAKES,
    );
    within(&c, 20, |c| {
        let q: Queue = Arc::new(BoundedQueue::new(4));
        let poppers: Vec<_> = (0..3)
            .map(|_| blocked(&q, &c.rule(POP_WAITS), |q| q.pop()))
            .collect();
        fill(&c, &q, &[11, 22, 33]);
        let mut got: Vec<_> = poppers.into_iter().map(|p| p.returns(&c).0).collect();
        got.sort_unstable();
        c.eq(got, vec![Some(11), Some(22), Some(33)]);
    });
}

#[test]
fn every_waiting_pusher_gets_room() {
    let c = scene(
        "push(44), push(55), push(66) asleep on a full queue of capacity 3 (holding 1, 2, \
         3), then three pop()s in a row",
        WAKES,
    );
    within(&c, 20, |c| {
        let q: Queue = Arc::new(BoundedQueue::new(3));
        fill(&c, &q, &[1, 2, 3]);
        let pushers: Vec<_> = [44, 55, 66]
            .into_iter()
            .map(|x| blocked(&q, &c.rule(PUSH_WAITS), move |q| q.push(x)))
            .collect();
        let popped = c.run(|| (q.pop(), q.pop(), q.pop()));
        c.rule(FIFO).eq(popped, (Some(1), Some(2), Some(3)));
        for p in pushers {
            let (pushed, _) = p.returns(&c);
            c.rule("a push woken by a pop adds its item: Ok(())")
                .eq(pushed, Ok(()));
        }
        let mut rest: Vec<_> = c.run(|| (0..3).map(|_| q.pop()).collect());
        rest.sort_unstable();
        c.rule("the three woken pushes added their items")
            .eq(rest, vec![Some(44), Some(55), Some(66)]);
    });
}

/// Waits until one of the two threads has finished; returns 0 or 1 for which. Fails `c`
/// if neither has within 10 s.
#[track_caller]
fn first_to_finish<A, B>(c: &Case, a: &JoinHandle<A>, b: &JoinHandle<B>) -> usize {
    for _ in 0..10_000 {
        if a.is_finished() {
            return 0;
        }
        if b.is_finished() {
            return 1;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    c.fail_with("neither of the two threads returned within 10 s")
}

#[test]
fn a_woken_popper_checks_again_before_taking() {
    // A popper sleeps on an empty queue. Another thread pushes an item and takes it back
    // at once, usually before the sleeper has woken up. The sleeper must find the queue
    // empty again and wait on: not return None (the queue is open), not take a phantom.
    let whole = scene(
        "fifty rounds of a pop() asleep on an empty queue while another thread pushes 1 \
         and pops",
        CHECKS_AGAIN,
    );
    within(&whole, 30, |_| {
        for round in 1..=50 {
            let c = scene(
                format!(
                    "round {round} of 50: a pop() asleep on an empty queue of capacity 1; \
                     another thread calls push(1) then pop(); then a push(2) once one of \
                     the two pops is waiting"
                ),
                "a waiting thread checks again when it wakes: a pop woken after another \
                 thread took the item waits on (an open queue never gives None)",
            );
            let q: Queue = Arc::new(BoundedQueue::new(1));
            let sleeper = blocked(&q, &c.rule(POP_WAITS), |q| q.pop());
            let (thief, thief_tid) = {
                let q = q.clone();
                spawn_watched(move || (q.push(1), q.pop()))
            };
            // One of the two takes the 1; the other must then be waiting for an item.
            let other_tid = match first_to_finish(&c, &sleeper.handle, &thief) {
                0 => thief_tid,
                _ => sleeper.tid,
            };
            if wait_until_asleep(other_tid, 10, &c.rule(SLEEPS)) == Seen::Asleep {
                fill(&c, &q, &[2]);
            }
            let (slept, _) = sleeper.returns(&c);
            let (pushed, took) = join_within(thief, 5, &c);
            c.rule(PUSH_WITH_ROOM).eq(pushed, Ok(()));
            let mut got = [slept, took];
            got.sort_unstable();
            c.eq(got, [Some(1), Some(2)]);
        }
    });
}

/// Fails `c` if a queue of capacity 1 holds `len` items, more than its capacity.
#[track_caller]
fn at_most_one(c: &Case, len: usize) {
    if len > 1 {
        c.rule(CAPACITY)
            .fail_with(&format!("len() = {len} in a queue of capacity 1"));
    }
}

#[test]
fn a_woken_pusher_checks_again_before_adding() {
    // A pusher sleeps on a full queue of one. Another thread pops and fills the slot
    // again at once, usually before the sleeper has woken up. The sleeper must wait on:
    // the queue never holds more than its capacity.
    let whole = scene(
        "fifty rounds of a push(1) asleep on a full queue while another thread pops and \
         pushes 2",
        CHECKS_AGAIN,
    );
    within(&whole, 30, |_| {
        for round in 1..=50 {
            let c = scene(
                format!(
                    "round {round} of 50: a push(1) asleep on a full queue of capacity 1 \
                     (holding 0); another thread calls pop() then push(2); then a pop() \
                     once one of the two pushes is waiting"
                ),
                "a waiting thread checks again when it wakes: a push woken after another \
                 thread took the room waits on",
            );
            let q: Queue = Arc::new(BoundedQueue::new(1));
            fill(&c, &q, &[0]);
            let sleeper = blocked(&q, &c.rule(PUSH_WAITS), |q| q.push(1));
            let (thief, thief_tid) = {
                let q = q.clone();
                spawn_watched(move || (q.pop(), q.push(2)))
            };
            // One of the two fills the slot; the other must then be waiting for room.
            let other_tid = match first_to_finish(&c, &sleeper.handle, &thief) {
                0 => thief_tid,
                _ => sleeper.tid,
            };
            let other_waits = wait_until_asleep(other_tid, 10, &c.rule(SLEEPS)) == Seen::Asleep;
            let len = c.run(|| q.len());
            at_most_one(&c, len);
            let mut popped = Vec::new();
            if other_waits {
                popped.extend(c.run(|| q.pop()));
            }
            let (pushed, _) = sleeper.returns(&c);
            c.rule("the woken push adds its item: Ok(())")
                .eq(pushed, Ok(()));
            let (first, pushed) = join_within(thief, 5, &c);
            c.rule(FIFO).eq(first, Some(0));
            c.rule("the other push adds its item: Ok(())")
                .eq(pushed, Ok(()));
            let len = c.run(|| q.len());
            at_most_one(&c, len);
            c.run(|| {
                while !q.is_empty() {
                    popped.extend(q.pop());
                }
            });
            popped.sort_unstable();
            c.rule("both pushes added their items")
                .eq(popped, vec![1, 2]);
        }
    });
}

#[test]
fn close_wakes_every_waiting_popper_and_pusher() {
    let c = scene(
        "three pop()s asleep on an empty queue of capacity 1, then close()",
        CLOSE_WAKES,
    );
    within(&c, 20, |c| {
        let q: Queue = Arc::new(BoundedQueue::new(1));
        let poppers: Vec<_> = (0..3)
            .map(|_| blocked(&q, &c.rule(POP_WAITS), |q| q.pop()))
            .collect();
        c.run(|| q.close());
        for p in poppers {
            let (popped, _) = p.returns(&c);
            c.rule(POP_NONE).eq(popped, None);
        }
    });

    let c = scene(
        "push(2) and push(3) asleep on a full queue of capacity 1 (holding 1), then \
         close(), then two pop()s",
        CLOSE_WAKES,
    );
    within(&c, 20, |c| {
        let q: Queue = Arc::new(BoundedQueue::new(1));
        fill(&c, &q, &[1]);
        let pushers: Vec<_> = [2, 3]
            .into_iter()
            .map(|x| blocked(&q, &c.rule(PUSH_WAITS), move |q| q.push(x)))
            .collect();
        c.run(|| q.close());
        let results: Vec<_> = pushers.into_iter().map(|p| p.returns(&c).0).collect();
        c.rule(PUSH_CLOSED).eq(results, vec![Err(2), Err(3)]);
        let rest = c.run(|| (q.pop(), q.pop()));
        c.rule(POP_NONE).eq(rest, (Some(1), None));
    });
}

#[test]
fn after_close_pops_drain_the_items_then_return_none_and_pushes_fail() {
    let whole = scene(
        "a closed queue used from one thread",
        "nothing waits on a closed queue",
    );
    within(&whole, 10, |_| {
        let mut q = Steps::new(3);
        q.push(8, PUSH_WITH_ROOM, Ok(()));
        q.push(9, PUSH_WITH_ROOM, Ok(()));
        q.close();
        q.push(10, PUSH_CLOSED, Err(10));
        q.len(2);
        q.pop(POP_NONE, Some(8));
        q.pop(POP_NONE, Some(9));
        q.pop(POP_NONE, None);
        q.pop(POP_NONE, None);
        // A full queue that is closed: push fails at once instead of waiting for room.
        let mut full = Steps::new(1);
        full.push(1, PUSH_WITH_ROOM, Ok(()));
        full.close();
        full.push(2, PUSH_CLOSED, Err(2));
        full.len(1);
    });
}

#[test]
fn many_producers_and_consumers_lose_nothing() {
    let c = scene(
        "4 threads push 5,000 distinct items each into a queue of capacity 8, while 4 \
         threads pop until it is closed and empty",
        "every item pushed is popped exactly once",
    );
    let total = within(&c, 30, |c| {
        let q = Arc::new(BoundedQueue::new(8));
        let producers: Vec<_> = (0..4u64)
            .map(|p| {
                let q = q.clone();
                std::thread::spawn(move || {
                    (0..5_000u64)
                        .map(|i| q.push(p * 1_000_000 + i))
                        .find(Result::is_err)
                        .unwrap_or(Ok(()))
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
            let pushed = p.join().unwrap_or_else(|e| graded::rethrow(&c, e));
            c.rule(PUSH_WITH_ROOM).eq(pushed, Ok(()));
        }
        c.run(|| q.close());
        let mut all: Vec<u64> = Vec::new();
        for consumer in consumers {
            let (got, most) = consumer.join().unwrap_or_else(|e| graded::rethrow(&c, e));
            if most > 8 {
                c.rule(CAPACITY)
                    .fail_with(&format!("a consumer saw len() = {most}"));
            }
            all.extend(got);
        }
        all.sort_unstable();
        all
    });
    let mut expected: Vec<u64> = (0..4u64)
        .flat_map(|p| (0..5_000u64).map(move |i| p * 1_000_000 + i))
        .collect();
    expected.sort_unstable();
    if total != expected {
        let lost = expected.iter().filter(|x| total.binary_search(x).is_err());
        let twice = total.windows(2).filter(|w| w[0] == w[1]);
        let never_pushed = total.iter().filter(|x| expected.binary_search(x).is_err());
        c.fail_with(&format!(
            "{} items popped: {} lost, {} popped twice, {} never pushed",
            total.len(),
            lost.count(),
            twice.count(),
            never_pushed.count()
        ));
    }
}
