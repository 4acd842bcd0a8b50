//! Graded tests for exercise `async-download/map-bounded`. The work is `sleep`s on
//! tokio's paused clock: each test runs at once, and its times are exact. Besides the
//! bound (reached, never passed), the order of the results and the start of the next
//! item as soon as one ends, they check where the work runs (a tokio task per call),
//! that waiting for a free slot does not spin, that a panic reaches the caller as it
//! was, and the limits 0, 1, the number of items and `usize::MAX`.

#[path = "../../../tests/common/mod.rs"]
mod common;
use common::{SPIN_LIMIT, paused, polls_until_ready};

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_download_map_bounded::map_bounded;
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
        self.peak.load(Ordering::SeqCst)
    }
}

/// The work of item `index`: sleeps `ms` milliseconds, counted in flight meanwhile,
/// and returns `index`.
fn work(gauge: &Arc<Gauge>, index: usize, ms: u64) -> impl Future<Output = usize> + use<> {
    let gauge = gauge.clone();
    async move {
        let n = gauge.now.fetch_add(1, Ordering::SeqCst) + 1;
        gauge.peak.fetch_max(n, Ordering::SeqCst);
        gauge.started.lock().unwrap().push(index);
        sleep(Duration::from_millis(ms)).await;
        gauge.now.fetch_sub(1, Ordering::SeqCst);
        index
    }
}

/// Runs `map_bounded` over items of the given durations; returns the results, the
/// peak in flight, the order of the starts, and the (paused) time it took.
fn run(durations: &[u64], limit: usize) -> (Vec<usize>, usize, Vec<usize>, Duration) {
    let items: Vec<(usize, u64)> = durations.iter().copied().enumerate().collect();
    paused("map_bounded", async move {
        let gauge = Arc::new(Gauge::default());
        let start = Instant::now();
        let out = map_bounded(items, limit, |(i, ms)| work(&gauge, i, ms)).await;
        let took = start.elapsed();
        let started = gauge.started.lock().unwrap().clone();
        (out, gauge.peak(), started, took)
    })
}

#[test]
fn never_more_than_limit_in_flight_and_limit_is_reached() {
    // Twenty items of uneven lengths (1 to 50 ms).
    let durations: Vec<u64> = (0..20u64).map(|i| 1 + (i * 37) % 50).collect();
    for limit in [2, 4, 7] {
        let (out, peak, _, _) = run(&durations, limit);
        assert_eq!(out, (0..20).collect::<Vec<_>>());
        assert_eq!(
            peak, limit,
            "with limit {limit}, the most calls in flight at once must be exactly {limit}"
        );
    }
}

#[test]
fn results_come_back_in_the_order_of_the_input() {
    // The first item finishes last, the last first.
    let (out, _, _, _) = run(&[50, 40, 30, 20, 10], 3);
    assert_eq!(out, [0, 1, 2, 3, 4], "results must be in input order");
    let words = vec!["one", "three", "five"];
    let lengths = paused("map_bounded", async move {
        map_bounded(words, 2, |w| async move {
            sleep(Duration::from_millis(100 - 10 * w.len() as u64)).await;
            w.len()
        })
        .await
    });
    assert_eq!(lengths, [3, 5, 4]);
}

#[test]
fn the_next_item_starts_as_soon_as_one_ends() {
    // Eight items of 100 ms, four at a time: 200 ms in all.
    let (_, peak, _, took) = run(&[100; 8], 4);
    assert_eq!(peak, 4);
    assert_eq!(
        took,
        Duration::from_millis(200),
        "eight 100 ms items, four at once"
    );
    // Not in batches: while the 300 ms item runs, the four short ones run one after
    // another beside it (400 ms). Batches of two, each waiting for its slowest, take 500.
    let (_, _, started, took) = run(&[300, 100, 100, 100, 100], 2);
    assert_eq!(started, [0, 1, 2, 3, 4]);
    assert_eq!(
        took,
        Duration::from_millis(400),
        "a free slot must be filled at once, not when the whole batch is done"
    );
}

#[test]
fn limit_one_is_one_after_another() {
    let (out, peak, started, took) = run(&[30, 10, 20, 40, 5], 1);
    assert_eq!(out, [0, 1, 2, 3, 4]);
    assert_eq!(peak, 1);
    assert_eq!(
        started,
        [0, 1, 2, 3, 4],
        "with limit 1, items start in input order"
    );
    assert_eq!(
        took,
        Duration::from_millis(105),
        "the sum of the items' times"
    );
}

#[test]
fn a_limit_above_the_number_of_items_runs_them_all_at_once() {
    for limit in [5, 6, 100, usize::MAX] {
        let (out, peak, _, took) = run(&[30, 10, 20, 40, 5], limit);
        assert_eq!(out, [0, 1, 2, 3, 4], "limit {limit}");
        assert_eq!(peak, 5, "limit {limit}: all five at once");
        assert_eq!(
            took,
            Duration::from_millis(40),
            "limit {limit}: the longest item's time"
        );
    }
    // One below the number of items: the fifth waits for a free slot, which the 10 ms
    // item leaves first; it then runs from 10 to 15 ms, within the longest item's 40.
    let (_, peak, started, took) = run(&[30, 10, 20, 40, 5], 4);
    assert_eq!((peak, started), (4, vec![0, 1, 2, 3, 4]));
    assert_eq!(took, Duration::from_millis(40));
}

#[test]
fn a_single_item_runs_alone_for_its_own_time() {
    let (out, peak, started, took) = run(&[25], 3);
    assert_eq!((out, peak, started), (vec![0], 1, vec![0]));
    assert_eq!(took, Duration::from_millis(25));
}

#[test]
fn no_items_no_calls_and_limit_zero_counts_as_one() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let out = paused("map_bounded of nothing", async move {
        map_bounded(Vec::<u64>::new(), 4, move |x| {
            counted.fetch_add(1, Ordering::SeqCst);
            async move { x }
        })
        .await
    });
    assert!(out.is_empty());
    assert_eq!(calls.load(Ordering::SeqCst), 0, "no item, no call");

    let (out, peak, _, took) = run(&[10, 10, 10], 0);
    assert_eq!(out, [0, 1, 2]);
    assert_eq!(
        (peak, took),
        (1, Duration::from_millis(30)),
        "limit 0 counts as 1"
    );
}

#[test]
fn items_wait_in_the_list_not_as_tasks() {
    // A thousand items, four at a time: an item's future is made (f is called) only
    // when it may start, so at most four exist unfinished at any moment.
    let made = Arc::new(AtomicUsize::new(0));
    let finished = Arc::new(AtomicUsize::new(0));
    let most_unfinished = Arc::new(AtomicUsize::new(0));
    let (m, f, most) = (made.clone(), finished.clone(), most_unfinished.clone());
    let (out, took) = paused("map_bounded of 1000 items", async move {
        let start = Instant::now();
        let out = map_bounded((0..1000).collect(), 4, move |i: usize| {
            let unfinished = m.fetch_add(1, Ordering::SeqCst) + 1 - f.load(Ordering::SeqCst);
            most.fetch_max(unfinished, Ordering::SeqCst);
            let f = f.clone();
            async move {
                sleep(Duration::from_millis(1)).await;
                f.fetch_add(1, Ordering::SeqCst);
                i
            }
        })
        .await;
        (out, start.elapsed())
    });
    assert_eq!(out, (0..1000).collect::<Vec<_>>());
    assert_eq!(finished.load(Ordering::SeqCst), 1000);
    assert!(
        most_unfinished.load(Ordering::SeqCst) <= 4,
        "{} items were started (f called) but unfinished at once: take the permit \
         before calling f and spawning",
        most_unfinished.load(Ordering::SeqCst)
    );
    assert_eq!(took, Duration::from_millis(250));
}

#[test]
fn each_call_runs_as_a_tokio_task_of_its_own() {
    // map_bounded itself runs in a task here, so that "no task" and "the caller's task"
    // both show: every call must see a task id, its own, not the caller's.
    let (caller, ids) = paused("map_bounded in a task", async {
        tokio::spawn(async {
            let caller = tokio::task::try_id();
            let work = map_bounded((0..6).collect(), 3, |i: u64| async move {
                sleep(Duration::from_millis(10 * (6 - i))).await;
                tokio::task::try_id()
            });
            // Counted here too: the test's body only waits for this task.
            let (ids, polls) = polls_until_ready(work, SPIN_LIMIT).await;
            let ids = ids.unwrap_or_else(|| panic!("polled {polls} times: it spins"));
            (caller, ids)
        })
        .await
        .expect("the test's task")
    });
    assert!(caller.is_some(), "the test's own task has an id");
    for (item, id) in ids.iter().enumerate() {
        assert!(
            id.is_some() && *id != caller,
            "item {item} did not run as a tokio task of its own: spawn each call"
        );
    }
    let distinct: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!(distinct.len(), 6, "one task per call: {ids:?}");
}

/// What a call panics with in the tests below: a payload no other panic carries.
#[derive(Debug, PartialEq, Eq)]
struct CallPanicked(usize);

#[test]
fn a_panic_in_a_call_reaches_the_caller_as_it_was() {
    let caught = std::panic::catch_unwind(|| {
        paused("map_bounded with a panic", async {
            map_bounded((0..6).collect(), 2, |i: usize| async move {
                sleep(Duration::from_millis(10)).await;
                if i == 3 {
                    std::panic::panic_any(CallPanicked(3));
                }
                i
            })
            .await
        })
    });
    let payload = match caught {
        Ok(out) => panic!("a call panicked, yet map_bounded returned {out:?}"),
        Err(payload) => payload,
    };
    assert_eq!(
        payload.downcast_ref::<CallPanicked>(),
        Some(&CallPanicked(3)),
        "the caller must get the call's own panic (resume_unwind its payload), not a \
         panic of map_bounded's"
    );
}

#[test]
fn waiting_for_a_free_slot_does_not_spin() {
    // Twenty items of 100 ms, three at a time. Waiting well, map_bounded is polled when
    // a task ends or a permit comes back: a few times per item. Checking for a free
    // slot in a loop polls it without end (and on the paused clock, stops time).
    let items = 20;
    let cap = 10_000;
    let (out, polls) = paused("map_bounded, polls counted", async move {
        let work = map_bounded((0..items).collect(), 3, |i: usize| async move {
            sleep(Duration::from_millis(100)).await;
            i
        });
        polls_until_ready(work, cap).await
    });
    assert!(
        out.is_some(),
        "still not done after {cap} polls: waiting for a free slot must await (the \
         semaphore, the tasks), not check again and again"
    );
    assert_eq!(out.unwrap(), (0..items).collect::<Vec<_>>());
    assert!(
        polls <= 4 * items,
        "map_bounded was polled {polls} times for {items} items: it wakes itself instead \
         of waiting to be woken"
    );
}
