//! Graded tests for exercise `async-download/map-bounded`. The work is `sleep`s on
//! tokio's paused clock: each test runs at once, and its times are exact. Besides the
//! bound (reached, never passed), the order of the results and the start of the next
//! item as soon as one ends, they check where the work runs (a tokio task per call),
//! that waiting for a free slot does not spin, that a panic reaches the caller as it
//! was, and the limits 0, 1, the number of items and `usize::MAX`.
//!
//! Every check names the items and the limit it tried and the rule of the task it checks
//! ([`graded::scene`]); a panic in `map_bounded` is reported as one, with that case.

#[path = "../../../tests/common/mod.rs"]
mod common;
use common::{SPIN_LIMIT, paused, polls_until_ready, run_async};

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;
use std::time::Duration;

use async_download_map_bounded::map_bounded;
use graded::{Case, scene};
use tokio::time::{Instant, sleep};

/// Counts the calls in flight, and the most there ever were.
#[derive(Debug, Default)]
struct Gauge {
    now: AtomicUsize,
    peak: AtomicUsize,
    /// The items, in the order their work started.
    started: Mutex<Vec<usize>>,
}

impl Gauge {
    fn peak(&self) -> usize {
        // The tests run on one thread (`paused`): any ordering is exact; SeqCst is simplest.
        self.peak.load(Ordering::SeqCst)
    }
}

/// The work of item `index`: sleeps `ms` milliseconds, counted in flight meanwhile,
/// and returns `index`.
fn work(gauge: &Arc<Gauge>, index: usize, ms: u64) -> impl Future<Output = usize> + use<> {
    let gauge = gauge.clone();
    async move {
        // One thread runs every task (`paused`): any ordering is exact; SeqCst is simplest.
        let n = gauge.now.fetch_add(1, Ordering::SeqCst) + 1;
        gauge.peak.fetch_max(n, Ordering::SeqCst);
        gauge.started.lock().unwrap().push(index);
        sleep(Duration::from_millis(ms)).await;
        gauge.now.fetch_sub(1, Ordering::SeqCst);
        index
    }
}

/// A run of [`run`], as a case's input.
fn items(durations: &[u64], limit: usize) -> String {
    format!(
        "map_bounded over items 0, 1, ... whose work sleeps {durations:?} ms and returns \
         the item's index, limit {limit}"
    )
}

/// What a run did: the results, the most calls in flight at once, the order the
/// items' work started in, and the (paused) time it took.
#[derive(Debug)]
struct Run {
    out: Vec<usize>,
    peak: usize,
    started: Vec<usize>,
    took: Duration,
}

/// Runs `map_bounded` over items of the given durations, for case `c`: a panic in it,
/// or a run that never ends, fails `c`.
#[track_caller]
fn run(c: &Case, durations: &[u64], limit: usize) -> Run {
    let items: Vec<(usize, u64)> = durations.iter().copied().enumerate().collect();
    paused(c, async move {
        let gauge = Arc::new(Gauge::default());
        let start = Instant::now();
        let out = run_async(c, map_bounded(items, limit, |(i, ms)| work(&gauge, i, ms))).await;
        let took = start.elapsed();
        let started = gauge.started.lock().unwrap().clone();
        Run {
            out,
            peak: gauge.peak(),
            started,
            took,
        }
    })
}

/// Awaits `future`, catching a panic while it is polled: `Err` with its payload.
async fn catching_panic<F: Future>(future: F) -> Result<F::Output, Box<dyn Any + Send>> {
    let mut future = std::pin::pin!(future);
    // AssertUnwindSafe: after a panic the future is never polled again.
    std::future::poll_fn(
        |cx| match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => Poll::Ready(Err(payload)),
        },
    )
    .await
}

#[test]
fn never_more_than_limit_in_flight_and_limit_is_reached() {
    // Twenty items of uneven lengths (1 to 50 ms).
    let durations: Vec<u64> = (0..20u64).map(|i| 1 + (i * 37) % 50).collect();
    for limit in [2, 4, 7] {
        let c = scene(
            items(&durations, limit),
            format!(
                "never more than `limit` calls in flight, and `limit` of them when there is \
                 enough work: at most {limit} at once, and {limit} at some point"
            ),
        );
        let ran = run(&c, &durations, limit);
        c.rule("the results in the order of the items")
            .eq(ran.out, (0..20).collect());
        c.eq(ran.peak, limit);
    }
}

#[test]
fn results_come_back_in_the_order_of_the_input() {
    // The first item finishes last, the last first.
    let durations = [50, 40, 30, 20, 10];
    let c = scene(
        items(&durations, 3),
        "the results in the order of the items, not the order they finished in",
    );
    let ran = run(&c, &durations, 3);
    c.eq(ran.out, vec![0, 1, 2, 3, 4]);
    let words = vec!["one", "three", "five"];
    let c = scene(
        "map_bounded([\"one\", \"three\", \"five\"], 2, f), f(w) sleeping 100 - 10 * w.len() \
         ms and returning w.len()",
        "the results in the order of the items, not the order they finished in",
    );
    let lengths = paused(&c, async {
        let work = map_bounded(words, 2, |w| async move {
            sleep(Duration::from_millis(100 - 10 * w.len() as u64)).await;
            w.len()
        });
        run_async(&c, work).await
    });
    c.eq(lengths, vec![3, 5, 4]);
}

#[test]
fn the_next_item_starts_as_soon_as_one_ends() {
    // Eight items of 100 ms, four at a time: 200 ms in all.
    let c = scene(
        items(&[100; 8], 4),
        "four at once, the next starting as soon as one ends: 200ms in all",
    );
    let ran = run(&c, &[100; 8], 4);
    c.rule("four calls in flight at once").eq(ran.peak, 4);
    c.eq(ran.took, Duration::from_millis(200));
    // Not in batches: while the 300 ms item runs, the four short ones run one after
    // another beside it (400 ms). Batches of two, each waiting for its slowest, take 500.
    let durations = [300, 100, 100, 100, 100];
    let c = scene(
        items(&durations, 2),
        "the next item starts as soon as one ends, not when a whole batch is done: the \
         short items run one after another beside the long one, 400ms in all",
    );
    let ran = run(&c, &durations, 2);
    c.rule("the items start in their order")
        .eq(ran.started, vec![0, 1, 2, 3, 4]);
    c.eq(ran.took, Duration::from_millis(400));
}

#[test]
fn limit_one_is_one_after_another() {
    let durations = [30, 10, 20, 40, 5];
    let c = scene(
        items(&durations, 1),
        "limit 1: one call at a time, in the order of the items, taking the sum of their \
         times (105ms)",
    );
    let ran = run(&c, &durations, 1);
    c.eq(ran.out, vec![0, 1, 2, 3, 4]);
    c.eq(ran.peak, 1);
    c.eq(ran.started, vec![0, 1, 2, 3, 4]);
    c.eq(ran.took, Duration::from_millis(105));
}

#[test]
fn a_limit_above_the_number_of_items_runs_them_all_at_once() {
    let durations = [30, 10, 20, 40, 5];
    for limit in [5, 6, 100, usize::MAX] {
        let c = scene(
            items(&durations, limit),
            "a limit of at least the number of items, up to usize::MAX, runs them all at \
             once: 5 in flight, the longest item's time (40ms)",
        );
        let ran = run(&c, &durations, limit);
        c.eq(ran.out, vec![0, 1, 2, 3, 4]);
        c.eq(ran.peak, 5);
        c.eq(ran.took, Duration::from_millis(40));
    }
    // One below the number of items: the fifth waits for a free slot, which the 10 ms
    // item leaves first; it then runs from 10 to 15 ms, within the longest item's 40.
    let c = scene(
        items(&durations, 4),
        "limit 4 of 5 items: four at once, the fifth as soon as one ends (the 10ms one), \
         all done at 40ms",
    );
    let ran = run(&c, &durations, 4);
    c.eq((ran.peak, ran.started), (4, vec![0, 1, 2, 3, 4]));
    c.eq(ran.took, Duration::from_millis(40));
}

#[test]
fn a_single_item_runs_alone_for_its_own_time() {
    let c = scene(
        items(&[25], 3),
        "one item: its one call, its result, its own time (25ms)",
    );
    let ran = run(&c, &[25], 3);
    c.eq((ran.out, ran.peak, ran.started), (vec![0], 1, vec![0]));
    c.eq(ran.took, Duration::from_millis(25));
}

#[test]
fn no_items_no_calls_and_limit_zero_counts_as_one() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let c = scene(
        "map_bounded(vec![], 4, f)",
        "no items: an empty Vec at once, and f is never called",
    );
    let out = paused(&c, async {
        let work = map_bounded(Vec::<u64>::new(), 4, move |x| {
            // A count on the test's one thread: any ordering; SeqCst is simplest.
            counted.fetch_add(1, Ordering::SeqCst);
            async move { x }
        });
        run_async(&c, work).await
    });
    c.eq(out, vec![]);
    // One thread (`paused`): any ordering is exact.
    c.rule("no item, no call of f")
        .eq(calls.load(Ordering::SeqCst), 0);

    let c = scene(
        items(&[10, 10, 10], 0),
        "a limit of 0 counts as 1: one call at a time, 30ms in all",
    );
    let ran = run(&c, &[10, 10, 10], 0);
    c.eq(ran.out, vec![0, 1, 2]);
    c.eq((ran.peak, ran.took), (1, Duration::from_millis(30)));
}

#[test]
fn items_wait_in_the_list_not_as_tasks() {
    // A thousand items, four at a time: an item's future is made (f is called) only
    // when it may start, so at most four exist unfinished at any moment.
    let made = Arc::new(AtomicUsize::new(0));
    let finished = Arc::new(AtomicUsize::new(0));
    let most_unfinished = Arc::new(AtomicUsize::new(0));
    let (m, f, most) = (made.clone(), finished.clone(), most_unfinished.clone());
    let c = scene(
        "map_bounded over 1000 items, limit 4, each call's work sleeping 1 ms",
        "take a permit before calling f(item) and spawning: the other items wait in the \
         Vec, so at most 4 calls are ever made and unfinished",
    );
    let (out, took) = paused(&c, async {
        let start = Instant::now();
        let work = map_bounded((0..1000).collect(), 4, move |i: usize| {
            // Two counts read together, exact because one thread runs every task (`paused`).
            let unfinished = m.fetch_add(1, Ordering::SeqCst) + 1 - f.load(Ordering::SeqCst);
            most.fetch_max(unfinished, Ordering::SeqCst);
            let f = f.clone();
            async move {
                sleep(Duration::from_millis(1)).await;
                // One thread runs every task (`paused`): any ordering is exact.
                f.fetch_add(1, Ordering::SeqCst);
                i
            }
        });
        let out = run_async(&c, work).await;
        (out, start.elapsed())
    });
    c.rule("every item's result, in order")
        .eq(out, (0..1000).collect());
    // One thread (`paused`): these counts are exact whatever the ordering.
    c.rule("every call's work finished")
        .eq(finished.load(Ordering::SeqCst), 1000);
    let most = most_unfinished.load(Ordering::SeqCst);
    if most > 4 {
        c.fail_with(&format!(
            "{most} calls made (f called) and unfinished at once"
        ));
    }
    c.rule("four at a time: 1000 items of 1ms take 250ms")
        .eq(took, Duration::from_millis(250));
}

#[test]
fn each_call_runs_as_a_tokio_task_of_its_own() {
    // map_bounded itself runs in a task here, so that "no task" and "the caller's task"
    // both show: every call must see a task id, its own, not the caller's.
    let c = scene(
        "map_bounded over 6 items, limit 3, called inside a tokio task; each call's work \
         returns tokio::task::try_id()",
        "each f(item) future runs as a tokio task of its own: a task id, not the caller's, \
         one per call",
    );
    let in_task = c.clone();
    let (caller, ids, polls) = paused(&c, async move {
        let task = tokio::spawn(async move {
            let caller = tokio::task::try_id();
            let work = map_bounded((0..6).collect(), 3, |i: u64| async move {
                sleep(Duration::from_millis(10 * (6 - i))).await;
                tokio::task::try_id()
            });
            // Counted here too: the test's body only waits for this task.
            let (ids, polls) = polls_until_ready(run_async(&in_task, work), SPIN_LIMIT).await;
            (caller, ids, polls)
        });
        match task.await {
            Ok(seen) => seen,
            // The case failed inside the task (a panic of map_bounded, reported by
            // run_async): that failure goes on as it was.
            Err(error) => std::panic::resume_unwind(error.into_panic()),
        }
    });
    assert!(caller.is_some(), "the test's own task has an id");
    let Some(ids) = ids else {
        c.fail_with(&format!(
            "polled {polls} times without an end: something wakes itself to be polled \
             again (it spins) instead of waiting to be woken"
        ))
    };
    for (item, id) in ids.iter().enumerate() {
        if id.is_none() || *id == caller {
            c.fail_with(&format!(
                "item {item}'s work ran in task {id:?}; the caller's is {caller:?}"
            ));
        }
    }
    let distinct: std::collections::HashSet<_> = ids.iter().collect();
    if distinct.len() != 6 {
        c.rule("one task per call: 6 different task ids")
            .fail_with(&format!("the calls ran in tasks {ids:?}"));
    }
}

/// What a call panics with in the test below: a payload no other panic carries. The
/// panic hook prints it among the test's output, so it says that it is meant.
const CALL_PANIC: &str = "the work of item 3 panics, on purpose: the test checks that \
                          map_bounded's caller gets this panic";

#[test]
fn a_panic_in_a_call_reaches_the_caller_as_it_was() {
    let c = scene(
        "map_bounded over 6 items, limit 2, each call's work sleeping 10 ms; the call of \
         item 3 then panics with a payload of its own",
        "a call's panic reaches the caller as it was, with its own payload \
         (resume_unwind it)",
    );
    let caught = paused(&c, async {
        let work = map_bounded((0..6).collect(), 2, |i: usize| async move {
            sleep(Duration::from_millis(10)).await;
            if i == 3 {
                std::panic::panic_any(CALL_PANIC);
            }
            i
        });
        catching_panic(work).await
    });
    match caught {
        Ok(out) => c.fail_with(&format!("no panic: it returned {out:?}")),
        Err(payload) if payload.downcast_ref::<&str>() == Some(&CALL_PANIC) => {}
        // Another panic: map_bounded's own (an unwrap of the JoinError, a todo!()).
        Err(payload) => graded::rethrow(&c, payload),
    }
}

#[test]
fn waiting_for_a_free_slot_does_not_spin() {
    // Twenty items of 100 ms, three at a time. Waiting well, map_bounded is polled when
    // a task ends or a permit comes back: a few times per item. Checking for a free
    // slot in a loop polls it without end (and on the paused clock, stops time).
    let items = 20;
    let cap = 10_000;
    let c = scene(
        "map_bounded over 20 items, limit 3, each call's work sleeping 100 ms; its polls \
         counted",
        "waiting for a free slot is awaiting (the semaphore, the tasks), not checking again \
         and again: polled a few times per item, at most 80",
    );
    let (out, polls) = paused(&c, async {
        let work = map_bounded((0..items).collect(), 3, |i: usize| async move {
            sleep(Duration::from_millis(100)).await;
            i
        });
        polls_until_ready(run_async(&c, work), cap).await
    });
    let Some(out) = out else {
        c.fail_with(&format!("still no result after {cap} polls"))
    };
    c.rule("every item's result, in order")
        .eq(out, (0..items).collect());
    if polls > 4 * items {
        c.fail_with(&format!("polled {polls} times for {items} items"));
    }
}
