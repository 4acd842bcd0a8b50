//! Graded tests for exercise `threads/parallel-sum`.
//!
//! Besides the sums, the tests watch every call of `f`: which thread made it and on
//! which item, so the split itself is checked (one contiguous chunk per thread, none
//! longer than `len.div_ceil(threads)`). Threads that never call `f` are counted in a
//! child process of their own. A meeting point inside `f` shows that the threads run at
//! the same time without timing anything.

#[path = "../../../tests/common/mod.rs"]
mod common;
use common::{Meeting, rerun_alone, running_alone, threads_started, within};

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;
use std::thread::ThreadId;
use std::time::Duration;

use threads_parallel_sum::parallel_sum;

#[test]
fn sums_like_the_sequential_loop() {
    // Thread counts that divide 300 and that do not, one per item, more than items.
    for threads in [1, 2, 3, 7, 64, 299, 300, 301] {
        let sum = within(30, "parallel_sum", move || {
            let items: Vec<u64> = (1..=300).collect();
            parallel_sum(&items, threads, |x| 2 * x + 1)
        });
        // 2x + 1 over 1..=300: a chunk lost or counted twice cannot give this by chance.
        assert_eq!(sum, 90_600, "{threads} threads");
    }
}

#[test]
fn an_empty_slice_sums_to_zero_without_calling_f() {
    let sum = within(5, "parallel_sum of nothing", || {
        parallel_sum(&[], 4, |_| panic!("f was called for an empty slice"))
    });
    assert_eq!(sum, 0);
}

#[test]
fn a_single_item() {
    for threads in [0, 1, 8] {
        let sum = within(5, "parallel_sum of one item", move || {
            parallel_sum(&[41], threads, |x| x + 1)
        });
        assert_eq!(sum, 42, "{threads} threads");
    }
}

#[test]
fn zero_threads_counts_as_one() {
    let (sum, split) = within(5, "parallel_sum on 0 threads", || {
        watch_split(&[1, 2, 3], 0, None)
    });
    assert_eq!(sum, 6);
    assert_eq!(split.len(), 1, "0 threads counts as 1: {split:?}");
}

#[test]
fn additions_wrap_around_within_and_across_chunks() {
    let max = u64::MAX;
    let sum = within(5, "parallel_sum", move || {
        [
            // One chunk: the overflow happens inside a thread's own sum.
            parallel_sum(&[max, 2, 3], 1, |x| x),
            // One item per thread: the overflow happens when the partial sums are added.
            parallel_sum(&[max, 2, 3], 3, |x| x),
            // Both at once: 4 × (2^64 − 1) wraps to 2^64 − 4.
            parallel_sum(&[max; 4], 2, |x| x),
        ]
    });
    assert_eq!(sum, [4, 4, max - 3]);
}

/// Runs `parallel_sum` over `items` while recording, for every call of `f`, which thread
/// made it and on which item. With `meeting`, every call also attends it. Returns the
/// sum and, per thread, the items it summed (sorted).
fn watch_split(
    items: &[u64],
    threads: usize,
    meeting: Option<&Meeting>,
) -> (u64, HashMap<ThreadId, Vec<u64>>) {
    let calls: Mutex<Vec<(ThreadId, u64)>> = Mutex::new(Vec::new());
    let sum = parallel_sum(items, threads, |x| {
        calls.lock().unwrap().push((std::thread::current().id(), x));
        if let Some(meeting) = meeting {
            meeting.attend();
        }
        x
    });
    let mut split: HashMap<ThreadId, Vec<u64>> = HashMap::new();
    for (thread, x) in calls.into_inner().unwrap() {
        split.entry(thread).or_default().push(x);
    }
    for chunk in split.values_mut() {
        chunk.sort_unstable();
    }
    (sum, split)
}

#[test]
fn each_thread_sums_one_contiguous_chunk_no_longer_than_its_share() {
    // (items, threads): evenly divided or not, more threads than items, one each.
    let cases = [
        (40, 4),
        (10, 4),
        (9, 4),
        (7, 3),
        (1000, 7),
        (5, 5),
        (3, 8),
        (2, 64),
    ];
    for (n, threads) in cases {
        // The item values are their indices, so a chunk is a run of consecutive values.
        let items: Vec<u64> = (0..n).collect();
        let (sum, split) = within(10, "parallel_sum", move || {
            watch_split(&items, threads, None)
        });
        let case = format!("{n} items on {threads} threads");
        assert_eq!(sum, n * (n - 1) / 2, "{case}");
        let most_threads = threads.min(n as usize);
        assert!(
            split.len() <= most_threads,
            "{case}: f ran on {} threads, at most {most_threads} allowed",
            split.len()
        );
        let longest = (n as usize).div_ceil(threads);
        let mut seen: Vec<u64> = Vec::new();
        for chunk in split.values() {
            assert!(
                chunk.windows(2).all(|w| w[1] == w[0] + 1),
                "{case}: a thread summed items that are not one contiguous chunk: {chunk:?}"
            );
            assert!(
                chunk.len() <= longest,
                "{case}: a thread summed {} items, more than {n}.div_ceil({threads}) = \
                 {longest}: the work is not spread over the threads",
                chunk.len()
            );
            seen.extend(chunk);
        }
        seen.sort_unstable();
        assert_eq!(
            seen,
            (0..n).collect::<Vec<_>>(),
            "{case}: every item exactly once"
        );
    }
}

#[test]
fn never_more_threads_than_asked_nor_than_items() {
    // (items, threads): a thread with nothing to sum never calls f, so only counting the
    // threads started shows it. That count is clean only in a process of its own.
    let cases = [(2u64, 64usize), (0, 4), (10, 4), (7, 3), (5, 1)];
    if running_alone() {
        for (n, threads) in cases {
            let items: Vec<u64> = (0..n).collect();
            let before = threads_started();
            parallel_sum(&items, threads, |x| x);
            // `threads_started` itself starts one thread, after the call.
            let started = threads_started() - before - 1;
            println!("started {n} {threads} {started}");
        }
        return;
    }
    let report = rerun_alone("never_more_threads_than_asked_nor_than_items", 30);
    for (n, threads) in cases {
        let prefix = format!("started {n} {threads} ");
        let started: usize = report
            .lines()
            // The harness prints `test NAME ... ` before the first line.
            .find_map(|l| l.split_once(&prefix))
            .and_then(|(_, count)| count.split_whitespace().next())
            .unwrap_or_else(|| panic!("no count for {n} items on {threads} threads:\n{report}"))
            .parse()
            .unwrap();
        let most = threads.min(n as usize);
        assert!(
            started <= most,
            "{n} items on {threads} threads: {started} threads started, at most {most} allowed"
        );
    }
}

#[test]
fn the_threads_run_at_the_same_time() {
    // 10 items on 4 threads: chunks of at most 3 items, so exactly 4 threads. Each call
    // of f waits at the meeting until 4 calls are inside f at once: threads that run
    // one after another never get there.
    let most = within(20, "parallel_sum", || {
        let meeting = Meeting::new(4, Duration::from_secs(4));
        let items: Vec<u64> = (0..10).collect();
        let (sum, split) = watch_split(&items, 4, Some(&meeting));
        assert_eq!(sum, 45);
        assert_eq!(split.len(), 4, "10 items on 4 threads: {split:?}");
        meeting.most()
    });
    assert_eq!(
        most, 4,
        "at most {most} of the 4 threads ran at the same time: start them all before \
         joining any (collect the JoinHandles first)"
    );
}

#[test]
fn a_panic_in_f_reaches_the_caller_with_its_message() {
    let outcome = within(10, "parallel_sum with a panicking f", || {
        catch_unwind(AssertUnwindSafe(|| {
            let items: Vec<u64> = (0..40).collect();
            parallel_sum(&items, 4, |x| {
                if x == 27 {
                    panic!("f refuses item 27");
                }
                x
            })
        }))
    });
    let payload = outcome.expect_err("f panicked on item 27, but parallel_sum returned a sum");
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str));
    assert_eq!(
        message,
        Some("f refuses item 27"),
        "the caller must get f's own panic (std::panic::resume_unwind), not another one"
    );
}
