//! Graded tests for exercise `threads/pool-map`.
//!
//! Every test runs under a deadline: a map that waits for a result a panicking job
//! never sends hangs. Where the calls of `f` run is checked against the pool's own
//! worker threads, and how many run at once with a meeting point inside `f`. The orders
//! that matter (which item finishes first, which panic comes first) are set by the
//! tests, never left to timing. While the items run, the caller must be seen asleep,
//! and its count of sleeps shows whether it polls. A pool that refuses jobs is made by
//! ending its only worker (see [`Bomb`]).
//!
//! Every check names the items, the pool and what `f` does ([`graded::scene`]) and the
//! rule of the task it checks, and a panic in `pool_map` is reported as one, with the
//! situation that caused it.

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

use graded::scene;
use threads::ThreadPool;
use threads::pool::PoolError;
use threads_pool_map::{PoolMapError, pool_map};

// The task's rules, in its words, as the checks name them.
const IN_ORDER: &str = "the results come back in the items' order, whatever order they finish in";
const ON_WORKERS: &str = "every call of f runs on the pool's workers";
const AT_ONCE: &str = "as many calls of f at once as there are workers";
const LOWEST: &str = "if f panics, return Panicked with the lowest index that panicked";
const ENDED: &str = "return only once every job already queued has ended";
const SLEEPS: &str = "while it waits for the results, the caller sleeps (no polling)";

/// Panics with `message`, as `f` does in the tests that need it to. `resume_unwind` is a
/// panic like `panic!`'s, without the standard message on stderr: in a failure report,
/// that message would pass for a failed check.
fn f_panics(message: &'static str) -> ! {
    std::panic::resume_unwind(Box::new(message))
}

/// The thread ids of the pool's workers. As many jobs as workers meet inside the job,
/// so each of them runs on a worker of its own.
fn worker_ids(pool: &ThreadPool) -> HashSet<ThreadId> {
    let meeting = Arc::new(Meeting::new(pool.workers(), Duration::from_secs(10)));
    let (tx, rx) = mpsc::channel();
    for _ in 0..pool.workers() {
        let (meeting, tx) = (meeting.clone(), tx.clone());
        pool.execute(move || {
            meeting.attend();
            tx.send(std::thread::current().id())
                .expect("the test waits for the ids");
        })
        .expect("a new pool takes the test's jobs");
    }
    drop(tx);
    let ids: HashSet<ThreadId> = rx.iter().collect();
    assert_eq!(
        ids.len(),
        pool.workers(),
        "the pool's workers, before the test"
    );
    ids
}

#[test]
fn every_call_runs_on_the_pool_as_many_at_once_as_there_are_workers() {
    let c = scene(
        "pool_map of the items 0..9, f(x) = 3x, on a pool of 3 workers",
        IN_ORDER,
    );
    let (out, calls, off_pool, most) = within(&c, 20, |c| {
        let pool = ThreadPool::new(3).expect("a pool of 3 workers");
        let workers = worker_ids(&pool);
        let meeting = Arc::new(Meeting::new(3, Duration::from_secs(4)));
        let ran_on = Arc::new(Mutex::new(Vec::new()));
        let out = {
            let (meeting, ran_on) = (meeting.clone(), ran_on.clone());
            c.run(|| {
                pool_map(&pool, (0..9u32).collect(), move |x| {
                    ran_on.lock().unwrap().push(std::thread::current().id());
                    meeting.attend();
                    x * 3
                })
            })
        };
        let ran_on = ran_on.lock().unwrap();
        let off_pool = ran_on.iter().filter(|id| !workers.contains(id)).count();
        (out, ran_on.len(), off_pool, meeting.most())
    });
    c.eq(out, Ok((0..9).map(|x| x * 3).collect::<Vec<_>>()));
    if calls != 9 {
        c.rule("f is called once per item")
            .fail_with(&format!("{calls} calls of f for the 9 items"));
    }
    if off_pool != 0 {
        c.rule(ON_WORKERS).fail_with(&format!(
            "{off_pool} of the 9 calls ran on threads that are not the pool's workers"
        ));
    }
    if most != 3 {
        c.rule(format!(
            "{AT_ONCE}: queue every item before waiting for any result"
        ))
        .fail_with(&format!(
            "the most calls of f at the same time: {most}, on 3 workers"
        ));
    }
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
    let c = scene(
        "pool_map of the items [0, 1, 2, 3] on 4 workers, where f(x) returns \"item x\" \
         only after f(x + 1) has returned (they finish in the order 3, 2, 1, 0)",
        IN_ORDER,
    );
    let (out, finished) = within(&c, 20, |c| {
        let pool = ThreadPool::new(4).expect("a pool of 4 workers");
        let items = Arc::new(ReverseFinish {
            last: 3,
            finished: Mutex::new(Vec::new()),
            changed: Condvar::new(),
            give_up_at: Instant::now() + Duration::from_secs(4),
        });
        let out = {
            let items = items.clone();
            c.run(|| pool_map(&pool, vec![0, 1, 2, 3], move |x| items.run(x)))
        };
        let finished = items.finished.lock().unwrap().clone();
        (out, finished)
    });
    c.rule(format!("{AT_ONCE}: the 4 items run at the same time"))
        .eq(finished, vec![3, 2, 1, 0]);
    c.eq(
        out,
        Ok(vec![
            "item 0".to_string(),
            "item 1".to_string(),
            "item 2".to_string(),
            "item 3".to_string(),
        ]),
    );
}

#[test]
fn a_panic_is_reported_with_the_lowest_index_whichever_panics_first() {
    // One worker runs the items one after another: item 1 panics, then item 3.
    let lower_first = scene(
        "pool_map of the items [10, 0, 30, 0, 50] on 1 worker, where f panics on 0: item 1 \
         panics, then item 3",
        LOWEST,
    );
    let out = within(&lower_first, 20, |c| {
        let one = ThreadPool::new(1).expect("a pool of 1 worker");
        c.run(|| {
            pool_map(&one, vec![10, 0, 30, 0, 50], |x: u32| {
                if x == 0 {
                    f_panics("zero is not allowed");
                }
                x
            })
        })
    });
    lower_first.eq(out, Err(PoolMapError::Panicked { index: 1 }));

    // Two workers: item 0 holds one of them until item 3 has started on the other,
    // which ran item 2 (a panic) before it. So item 2 panics first, then item 0.
    let higher_first = scene(
        "pool_map of the items [0, 1, 2, 3] on 2 workers, where f panics on items 2 and 0, \
         item 2 first (item 0 waits until item 3 has started)",
        LOWEST,
    );
    let after = scene(
        "pool_map of the items [1, 2, 3], f(x) = x + 1, on the same 2 workers, after the \
         panics",
        "the pool still works after a panic in f",
    );
    let (out, two) = within(&higher_first, 20, |c| {
        let two = ThreadPool::new(2).expect("a pool of 2 workers");
        let item_3_started = Arc::new((Mutex::new(false), Condvar::new()));
        let give_up_at = Instant::now() + Duration::from_secs(4);
        let out = c.run(|| {
            pool_map(&two, vec![0, 1, 2, 3], move |x: u32| {
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
                        f_panics("item 0 fails last");
                    }
                    2 => f_panics("item 2 fails first"),
                    3 => {
                        *started.lock().unwrap() = true;
                        changed.notify_all();
                    }
                    _ => {}
                }
                x
            })
        });
        (out, two)
    });
    higher_first.eq(out, Err(PoolMapError::Panicked { index: 0 }));
    let out = within(&after, 10, move |c| {
        c.run(|| pool_map(&two, vec![1, 2, 3], |x: u32| x + 1))
    });
    after.eq(out, Ok(vec![2, 3, 4]));
}

#[test]
fn returns_only_after_every_call_has_ended() {
    let c = scene(
        "pool_map of the items [0, 1, 2, 3] on 2 workers, where f panics at once on item 0 \
         and takes 100 ms on the others",
        ENDED,
    );
    let (out, ended) = within(&c, 20, |c| {
        let pool = ThreadPool::new(2).expect("a pool of 2 workers");
        let ended = Arc::new(AtomicUsize::new(0));
        let out = {
            let ended = ended.clone();
            c.run(|| {
                pool_map(&pool, vec![0, 1, 2, 3], move |x: u32| {
                    if x == 0 {
                        f_panics("item 0 fails at once");
                    }
                    std::thread::sleep(Duration::from_millis(100));
                    // A count, ordered before the read by pool_map's waiting: Relaxed would do.
                    ended.fetch_add(1, Ordering::SeqCst);
                    x
                })
            })
        };
        // Read at once: a call still running now was left behind by pool_map.
        (out, ended.load(Ordering::SeqCst))
    });
    c.rule(LOWEST)
        .eq(out, Err(PoolMapError::Panicked { index: 0 }));
    if ended != 3 {
        c.fail_with(&format!(
            "pool_map returned when {ended} of the 3 other calls of f had ended"
        ));
    }
}

/// A panic payload whose drop panics in turn. A pool's worker catches the panic of a job
/// and drops its payload: with this one, the second panic escapes the worker, which
/// ends. From outside, that is the one way to leave a pool without workers, whose
/// `execute` then refuses every job.
struct Bomb;

impl Drop for Bomb {
    fn drop(&mut self) {
        // A plain payload this time, dropped quietly; `resume_unwind` for the same
        // reason as in `f_panics`.
        std::panic::resume_unwind(Box::new("the worker ends"));
    }
}

#[test]
fn a_pool_that_refuses_the_jobs_is_an_error() {
    let c = scene(
        "pool_map of the items [1, 2, 3] on a pool whose only worker has ended, so that \
         execute returns Err(Stopped)",
        "if the pool refuses a job, return Pool with that error's text",
    );
    let out = within(&c, 10, |c| {
        // A queue without room: `execute` returns once the worker has taken the job, or
        // with an error once no worker is left to take it.
        let pool = ThreadPool::bounded(1, 0).expect("a pool of 1 worker");
        pool.execute(|| std::panic::resume_unwind(Box::new(Bomb)))
            .expect("the worker takes the test's job");
        c.run(|| pool_map(&pool, vec![1u32, 2, 3], |x| x))
    });
    c.eq(out, Err(PoolMapError::Pool(PoolError::Stopped.to_string())));
}

/// A gate that the items of a test wait at until the test opens it (or 20 s have passed,
/// so that a failed test leaves no worker stuck for good). 20 s: longer than the test
/// gives the caller to fall asleep, so that a caller that spins is seen spinning, not
/// returning once the items give up.
#[derive(Debug, Default)]
struct Gate {
    open: Mutex<bool>,
    changed: Condvar,
}

impl Gate {
    fn pass(&self) {
        let give_up_at = Instant::now() + Duration::from_secs(20);
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
    let c = scene(
        "pool_map of the items [5, 6], f(x) = 2x, on 2 workers, both items held at a \
         gate for 500 ms",
        SLEEPS,
    );
    within(&c, 30, |c| {
        let pool = ThreadPool::new(2).expect("a pool of 2 workers");
        let gate = Arc::new(Gate::default());
        let started = Arc::new(AtomicUsize::new(0));
        let (caller, tid) = {
            let (gate, started) = (gate.clone(), started.clone());
            spawn_watched(move || {
                measured(|| {
                    pool_map(&pool, vec![5, 6], move |x: u32| {
                        // A count polled below, with a bounded wait: Relaxed would do.
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
        while started.load(Ordering::SeqCst) < 2 && !caller.is_finished() {
            if Instant::now() >= give_up_at {
                let n = started.load(Ordering::SeqCst);
                c.rule(AT_ONCE)
                    .fail_with(&format!("{n} of the 2 items started within 10 s"));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        if wait_until_asleep(tid, 10, &c) == Seen::Exited {
            gate.open();
            let (out, _) = join_within(caller, 5, &c);
            c.rule(ENDED)
                .fail_with(&format!("it returned {out:?} while its items were running"));
        }
        // Long enough that a caller polling every few milliseconds shows in its sleeps.
        std::thread::sleep(WAIT);
        gate.open();
        let (out, usage) = join_within(caller, 10, &c.rule("once its items end, it returns"));
        c.rule(IN_ORDER).eq(out, Ok(vec![10, 12]));
        assert_slept(usage, &c);
    });
}

#[test]
fn works_on_a_bounded_pool_with_more_items_than_it_queues() {
    // Two workers and room for one waiting job: `execute` waits for room while the
    // workers must be able to hand in their results and take the next job.
    let c = scene(
        "pool_map of the items 1..=12, f(x) = x², on a bounded pool of 2 workers with room \
         for 1 waiting job",
        "bounded pools too, whose execute waits for room",
    );
    let out = within(&c, 20, |c| {
        let pool = ThreadPool::bounded(2, 1).expect("a bounded pool of 2 workers");
        c.run(|| pool_map(&pool, (1..=12u64).collect(), |x| x * x))
    });
    c.eq(out, Ok((1..=12u64).map(|x| x * x).collect::<Vec<_>>()));
}

#[test]
fn fewer_items_than_workers() {
    let c = scene(
        "pool_map of the items [41], f(x) = x + 1, on 4 workers",
        IN_ORDER,
    );
    let out = within(&c, 10, |c| {
        let pool = ThreadPool::new(4).expect("a pool of 4 workers");
        c.run(|| pool_map(&pool, vec![41u64], |x| x + 1))
    });
    c.eq(out, Ok(vec![42]));
}

#[test]
fn an_empty_input_gives_an_empty_output() {
    let c = scene(
        "pool_map of no items on 1 worker",
        "no items: no results, and f is never called",
    );
    let (out, calls) = within(&c, 5, |c| {
        let pool = ThreadPool::new(1).expect("a pool of 1 worker");
        let calls = Arc::new(AtomicUsize::new(0));
        let out = {
            let calls = calls.clone();
            c.run(|| {
                pool_map(&pool, Vec::<u8>::new(), move |x| {
                    // A count, read after pool_map returned: Relaxed would do.
                    calls.fetch_add(1, Ordering::SeqCst);
                    x
                })
            })
        };
        // See the increment above.
        (out, calls.load(Ordering::SeqCst))
    });
    c.eq(out, Ok(vec![]));
    if calls != 0 {
        c.fail_with(&format!("f was called {calls} times"));
    }
}
