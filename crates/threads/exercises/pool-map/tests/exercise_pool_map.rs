//! Graded tests for exercise `threads/pool-map`.
//!
//! Every test runs under a deadline: a map that waits for a result a panicking job
//! never sends hangs. Where the calls of `f` run is checked against the pool's own
//! worker threads, and how many run at once with a meeting point inside `f`. The orders
//! that matter (which item finishes first, which panic comes first) are set by the
//! tests, never left to timing. While the items run, the caller must be seen asleep,
//! and its count of sleeps shows whether it polls.

#[path = "../../../tests/common/mod.rs"]
mod common;
use common::{
    Meeting, Seen, WAIT, assert_slept, join_within, measured, spawn_watched, wait_until_asleep,
    within,
};

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use threads::ThreadPool;
use threads_pool_map::{PoolMapError, pool_map};

/// The thread ids of the pool's workers. As many jobs as workers meet inside the job,
/// so each of them runs on a worker of its own.
fn worker_ids(pool: &ThreadPool) -> HashSet<ThreadId> {
    let meeting = Arc::new(Meeting::new(pool.workers(), Duration::from_secs(10)));
    let (tx, rx) = mpsc::channel();
    for _ in 0..pool.workers() {
        let (meeting, tx) = (meeting.clone(), tx.clone());
        pool.execute(move || {
            meeting.attend();
            tx.send(std::thread::current().id()).unwrap();
        })
        .unwrap();
    }
    drop(tx);
    let ids: HashSet<ThreadId> = rx.iter().collect();
    assert_eq!(ids.len(), pool.workers(), "the pool's workers");
    ids
}

#[test]
fn every_call_runs_on_the_pool_as_many_at_once_as_there_are_workers() {
    within(20, "pool_map of nine items on three workers", || {
        let pool = ThreadPool::new(3).unwrap();
        let workers = worker_ids(&pool);
        let meeting = Arc::new(Meeting::new(3, Duration::from_secs(4)));
        let ran_on = Arc::new(Mutex::new(Vec::new()));
        let out = {
            let (meeting, ran_on) = (meeting.clone(), ran_on.clone());
            pool_map(&pool, (0..9u32).collect(), move |x| {
                ran_on.lock().unwrap().push(std::thread::current().id());
                meeting.attend();
                x * 3
            })
        };
        assert_eq!(out, Ok((0..9).map(|x| x * 3).collect::<Vec<_>>()));
        let ran_on = ran_on.lock().unwrap();
        assert_eq!(ran_on.len(), 9, "f is called once per item");
        assert!(
            ran_on.iter().all(|id| workers.contains(id)),
            "f ran on a thread that is not one of the pool's workers"
        );
        let most = meeting.most();
        assert_eq!(
            most, 3,
            "at most {most} items ran at the same time on 3 workers: queue every item \
             before waiting for any result"
        );
    });
}

/// Items that finish in the reverse of their order: item `x` returns only after item
/// `x + 1` has (the last item at once). Each waits at most until `give_up_at`, so an
/// implementation that runs them one at a time is slow, not stuck.
#[derive(Debug)]
struct ReverseFinish {
    last: u64,
    finished: Mutex<Vec<u64>>,
    changed: Condvar,
    give_up_at: Instant,
}

impl ReverseFinish {
    fn run(&self, x: u64) -> String {
        let mut finished = self.finished.lock().unwrap();
        while x != self.last && !finished.contains(&(x + 1)) {
            let Some(left) = self.give_up_at.checked_duration_since(Instant::now()) else {
                break;
            };
            finished = self.changed.wait_timeout(finished, left).unwrap().0;
        }
        finished.push(x);
        self.changed.notify_all();
        format!("item {x}")
    }
}

#[test]
fn results_come_back_in_the_items_order_not_the_finishing_order() {
    let (out, finished) = within(20, "pool_map", || {
        let pool = ThreadPool::new(4).unwrap();
        let items = Arc::new(ReverseFinish {
            last: 3,
            finished: Mutex::new(Vec::new()),
            changed: Condvar::new(),
            give_up_at: Instant::now() + Duration::from_secs(4),
        });
        let out = {
            let items = items.clone();
            pool_map(&pool, vec![0, 1, 2, 3], move |x| items.run(x))
        };
        let finished = items.finished.lock().unwrap().clone();
        (out, finished)
    });
    assert_eq!(finished, [3, 2, 1, 0], "the items ran at the same time");
    assert_eq!(
        out,
        Ok(vec![
            "item 0".to_string(),
            "item 1".to_string(),
            "item 2".to_string(),
            "item 3".to_string()
        ]),
        "results in the items' order, whatever order they finish in"
    );
}

#[test]
fn a_panic_is_reported_with_the_lowest_index_whichever_panics_first() {
    let (lower_first, higher_first, after) = within(20, "pool_map with panics", || {
        // One worker runs the items one after another: item 1 panics, then item 3.
        let one = ThreadPool::new(1).unwrap();
        let lower_first = pool_map(&one, vec![10, 0, 30, 0, 50], |x: u32| {
            assert!(x != 0, "zero is not allowed");
            x
        });

        // Two workers: item 0 holds one of them until item 3 has started on the other,
        // which ran item 2 (a panic) before it. So item 2 panics first, then item 0.
        let two = ThreadPool::new(2).unwrap();
        let item_3_started = Arc::new((Mutex::new(false), Condvar::new()));
        let give_up_at = Instant::now() + Duration::from_secs(4);
        let higher_first = pool_map(&two, vec![0, 1, 2, 3], move |x: u32| {
            let (started, changed) = &*item_3_started;
            match x {
                0 => {
                    let mut started = started.lock().unwrap();
                    while !*started && Instant::now() < give_up_at {
                        started = changed
                            .wait_timeout(started, Duration::from_millis(50))
                            .unwrap()
                            .0;
                    }
                    panic!("item 0 fails last");
                }
                2 => panic!("item 2 fails first"),
                3 => {
                    *started.lock().unwrap() = true;
                    changed.notify_all();
                }
                _ => {}
            }
            x
        });
        let after = pool_map(&two, vec![1, 2, 3], |x: u32| x + 1);
        (lower_first, higher_first, after)
    });
    assert_eq!(
        lower_first,
        Err(PoolMapError::Panicked { index: 1 }),
        "items 1 and 3 panicked, in that order: the lowest index is 1"
    );
    assert_eq!(
        higher_first,
        Err(PoolMapError::Panicked { index: 0 }),
        "items 2 and 0 panicked, in that order: the lowest index is 0"
    );
    assert_eq!(
        after,
        Ok(vec![2, 3, 4]),
        "the pool must still work after a panic"
    );
}

#[test]
fn returns_only_after_every_call_has_ended() {
    let (result, ended) = within(20, "pool_map with a panic", || {
        let pool = ThreadPool::new(2).unwrap();
        let ended = Arc::new(AtomicUsize::new(0));
        let result = {
            let ended = ended.clone();
            pool_map(&pool, vec![0, 1, 2, 3], move |x: u32| {
                if x == 0 {
                    panic!("item 0 fails at once");
                }
                std::thread::sleep(Duration::from_millis(100));
                ended.fetch_add(1, Ordering::SeqCst);
                x
            })
        };
        // Read at once: a call still running now was left behind by pool_map.
        (result, ended.load(Ordering::SeqCst))
    });
    assert_eq!(result, Err(PoolMapError::Panicked { index: 0 }));
    assert_eq!(
        ended, 3,
        "pool_map returned while calls of f were still running or queued"
    );
}

/// A gate that the items of a test wait at until the test opens it (or 10 s have passed,
/// so that a failed test leaves no worker stuck for good).
#[derive(Debug, Default)]
struct Gate {
    open: Mutex<bool>,
    changed: Condvar,
}

impl Gate {
    fn pass(&self) {
        let give_up_at = Instant::now() + Duration::from_secs(10);
        let mut open = self.open.lock().unwrap();
        while !*open {
            let Some(left) = give_up_at.checked_duration_since(Instant::now()) else {
                break;
            };
            open = self.changed.wait_timeout(open, left).unwrap().0;
        }
    }

    fn open(&self) {
        *self.open.lock().unwrap() = true;
        self.changed.notify_all();
    }
}

#[test]
fn the_caller_sleeps_while_it_waits_for_the_results() {
    within(30, "pool_map", || {
        let pool = ThreadPool::new(2).unwrap();
        let gate = Arc::new(Gate::default());
        let started = Arc::new(AtomicUsize::new(0));
        let (caller, tid) = {
            let (gate, started) = (gate.clone(), started.clone());
            spawn_watched(move || {
                measured(|| {
                    pool_map(&pool, vec![5, 6], move |x: u32| {
                        started.fetch_add(1, Ordering::SeqCst);
                        gate.pass();
                        x * 2
                    })
                })
            })
        };
        // Both items are running (held at the gate): the caller has nothing left to do
        // but wait for their results, and must be asleep while it does.
        let give_up_at = Instant::now() + Duration::from_secs(10);
        while started.load(Ordering::SeqCst) < 2 {
            assert!(
                Instant::now() < give_up_at,
                "the two items never both started"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        let seen = wait_until_asleep(tid, 10, "the caller of pool_map");
        assert_eq!(
            seen,
            Seen::Asleep,
            "pool_map returned before its items ended"
        );
        // Long enough that a caller polling every few milliseconds shows in its sleeps.
        std::thread::sleep(WAIT);
        gate.open();
        let (out, usage) = join_within(caller, 10, "pool_map after its items ended");
        assert_eq!(out, Ok(vec![10, 12]));
        assert_slept(usage, "the caller of pool_map");
    });
}

#[test]
fn works_on_a_bounded_pool_with_more_items_than_it_queues() {
    // Two workers and room for one waiting job: `execute` waits for room while the
    // workers must be able to hand in their results and take the next job.
    let out = within(20, "pool_map on a bounded pool", || {
        let pool = ThreadPool::bounded(2, 1).unwrap();
        pool_map(&pool, (1..=12u64).collect(), |x| x * x)
    });
    assert_eq!(out, Ok((1..=12u64).map(|x| x * x).collect::<Vec<_>>()));
}

#[test]
fn fewer_items_than_workers() {
    let out = within(10, "pool_map of one item", || {
        let pool = ThreadPool::new(4).unwrap();
        pool_map(&pool, vec![41u64], |x| x + 1)
    });
    assert_eq!(out, Ok(vec![42]));
}

#[test]
fn an_empty_input_gives_an_empty_output() {
    let out = within(5, "pool_map of nothing", || {
        let pool = ThreadPool::new(1).unwrap();
        pool_map(&pool, Vec::<u8>::new(), |_| -> u8 {
            panic!("f was called without an item")
        })
    });
    assert_eq!(out, Ok(vec![]));
}
