//! Graded tests for exercise `threads/parallel-sum`.
//!
//! Besides the sums, the tests watch every call of `f`: which thread made it and on
//! which item, so the split itself is checked (one contiguous chunk per thread, none
//! longer than `len.div_ceil(threads)`). Threads that never call `f` are counted in a
//! child process of their own. A meeting point inside `f` shows that the threads run at
//! the same time without timing anything.
//!
//! Every check names the slice and thread count it tried and the rule of the task it
//! checks ([`graded::case`]), and a panic in `parallel_sum` is reported as one, with the
//! input that caused it.

#[path = "../../../tests/common/mod.rs"]
mod common;
use common::{Meeting, rerun_alone, running_alone, threads_started, within};

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::ThreadId;
use std::time::Duration;

use graded::{Case, scene};
use threads_parallel_sum::parallel_sum;

/// Runs `parallel_sum(items, threads, f)` as a check of `c`, under a deadline: a panic
/// in it is reported with the case.
#[track_caller]
fn sum_of(c: &Case, items: Vec<u64>, threads: usize, f: fn(u64) -> u64) -> u64 {
    within(c, 10, move |c| c.run(|| parallel_sum(&items, threads, f)))
}

/// "1 thread", "4 threads".
fn threads_text(threads: usize) -> String {
    match threads {
        1 => "1 thread".to_string(),
        n => format!("{n} threads"),
    }
}

/// Sums `f` over `items` on `threads` threads and checks the answer, for the task's
/// `rule`. `input` says what the items and `f` are. A failure points at the line that
/// called it (`track_caller`), not at this helper.
#[track_caller]
fn sums_to(
    input: &str,
    items: Vec<u64>,
    threads: usize,
    f: fn(u64) -> u64,
    rule: &str,
    expected: u64,
) {
    let c = scene(format!("{input}, on {}", threads_text(threads)), rule);
    let got = sum_of(&c, items, threads, f);
    c.eq(got, expected);
}

#[test]
fn sums_like_the_sequential_loop() {
    // Thread counts that divide 300 and that do not, one per item, more than items.
    for threads in [1, 2, 3, 7, 64, 299, 300, 301] {
        // 2x + 1 over 1..=300: a chunk lost or counted twice cannot give this by chance.
        sums_to(
            "f(x) = 2x + 1 over the items 1..=300",
            (1..=300).collect(),
            threads,
            |x| 2 * x + 1,
            "the sum of f(x) over the slice, whatever the number of threads",
            90_600,
        );
    }
}

#[test]
fn an_empty_slice_sums_to_zero_without_calling_f() {
    let c = scene(
        "an empty slice, on 4 threads",
        "an empty slice sums to 0, and f is never called",
    );
    let (sum, calls) = within(&c, 5, move |c| {
        let calls = AtomicUsize::new(0);
        let sum = c.run(|| {
            parallel_sum(&[], 4, |_| {
                // Read once parallel_sum joined its threads: Relaxed would do.
                calls.fetch_add(1, Ordering::SeqCst);
                1
            })
        });
        (sum, calls.into_inner())
    });
    c.eq(sum, 0);
    if calls != 0 {
        c.fail_with(&format!("f was called {calls} times"));
    }
}

#[test]
fn a_single_item() {
    for threads in [0, 1, 8] {
        sums_to(
            "f(x) = x + 1 over the items [41]",
            vec![41],
            threads,
            |x| x + 1,
            "one item: the sum is f of it (0 threads counts as 1, never more threads than items)",
            42,
        );
    }
}

#[test]
fn zero_threads_counts_as_one() {
    let c = scene(
        "f(x) = x over the items [1, 2, 3], on 0 threads",
        "0 threads counts as 1",
    );
    let (sum, split) = within(&c, 5, |c| c.run(|| watch_split(&[1, 2, 3], 0, None)));
    c.eq(sum, 6);
    c.check(split.len() == 1, Split(&split));
}

#[test]
fn additions_wrap_around_within_and_across_chunks() {
    let max = u64::MAX;
    let rule = "the additions wrap around on overflow";
    // One chunk: the overflow happens inside a thread's own sum.
    sums_to(
        "f(x) = x over the items [u64::MAX, 2, 3] (one chunk: it overflows inside a thread)",
        vec![max, 2, 3],
        1,
        |x| x,
        rule,
        4,
    );
    // One item per thread: the overflow happens when the partial sums are added.
    sums_to(
        "f(x) = x over the items [u64::MAX, 2, 3] (one item per thread: it overflows \
         adding the threads' sums)",
        vec![max, 2, 3],
        3,
        |x| x,
        rule,
        4,
    );
    // Both at once: 4 × (2^64 − 1) wraps to 2^64 − 4.
    sums_to(
        "f(x) = x over the items [u64::MAX; 4] (it overflows inside the threads and \
         across them)",
        vec![max; 4],
        2,
        |x| x,
        rule,
        max - 3,
    );
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
        calls
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((std::thread::current().id(), x));
        if let Some(meeting) = meeting {
            meeting.attend();
        }
        x
    });
    let mut split: HashMap<ThreadId, Vec<u64>> = HashMap::new();
    for (thread, x) in calls.into_inner().unwrap_or_else(|p| p.into_inner()) {
        split.entry(thread).or_default().push(x);
    }
    for chunk in split.values_mut() {
        chunk.sort_unstable();
    }
    (sum, split)
}

/// A split as a failure shows it: the items each thread summed, in the order of their
/// first item, a run of consecutive items written `first..=last`.
struct Split<'a>(&'a HashMap<ThreadId, Vec<u64>>);

impl std::fmt::Debug for Split<'_> {
    fn fmt(&self, out: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut chunks: Vec<&Vec<u64>> = self.0.values().collect();
        chunks.sort_by_key(|chunk| chunk.first().copied());
        let shown: Vec<String> = chunks
            .iter()
            .map(|chunk| match (chunk.first(), chunk.last()) {
                (Some(first), Some(last))
                    if chunk.len() > 2 && chunk.windows(2).all(|w| w[1] == w[0] + 1) =>
                {
                    format!("{first}..={last}")
                }
                _ => format!("{chunk:?}"),
            })
            .collect();
        write!(
            out,
            "f ran on {} threads, which summed the items {}",
            chunks.len(),
            shown.join(", ")
        )
    }
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
        let c = scene(
            format!("f(x) = x over the items 0..{n}, on {threads} threads"),
            "the sum of f(x) over the slice",
        );
        let (sum, split) = within(&c, 10, move |c| {
            let items: Vec<u64> = (0..n).collect();
            c.run(|| watch_split(&items, threads, None))
        });
        c.eq(sum, n * (n - 1) / 2);
        let most_threads = threads.min(n as usize);
        c.rule(format!(
            "never more threads than asked nor than items: at most {most_threads} call f"
        ))
        .check(split.len() <= most_threads, Split(&split));
        c.rule("one contiguous chunk per thread").check(
            split
                .values()
                .all(|chunk| chunk.windows(2).all(|w| w[1] == w[0] + 1)),
            Split(&split),
        );
        let longest = (n as usize).div_ceil(threads);
        c.rule(format!(
            "each chunk at most {n}.div_ceil({threads}) = {longest} items long"
        ))
        .check(
            split.values().all(|chunk| chunk.len() <= longest),
            Split(&split),
        );
        let mut seen: Vec<u64> = split.values().flatten().copied().collect();
        seen.sort_unstable();
        c.rule("f is called once for every item, on one of the threads")
            .check(seen == (0..n).collect::<Vec<_>>(), Split(&split));
    }
}

#[test]
fn never_more_threads_than_asked_nor_than_items() {
    // (items, threads): a thread with nothing to sum never calls f, so only counting the
    // threads started shows it. That count is clean only in a process of its own.
    let cases = [(2u64, 64usize), (0, 4), (10, 4), (7, 3), (5, 1)];
    let case = |n: u64, threads: usize| {
        let most = threads.min(n as usize);
        scene(
            format!("f(x) = x over the items 0..{n}, on {threads} threads"),
            format!("never more threads than asked nor than items: at most {most} started"),
        )
    };
    if running_alone() {
        for (n, threads) in cases {
            let items: Vec<u64> = (0..n).collect();
            let before = threads_started();
            // A panic here would end the child, whose error output the parent does not
            // see: the parent reports it with the case instead.
            match catch_unwind(|| parallel_sum(&items, threads, |x| x)) {
                Ok(_) => {
                    // `threads_started` itself starts one thread, after the call.
                    let started = threads_started() - before - 1;
                    println!("started {n} {threads} {started}");
                }
                Err(payload) => {
                    println!(
                        "panicked {n} {threads} {}",
                        graded::payload_text(payload.as_ref())
                    );
                }
            }
        }
        return;
    }
    let report = rerun_alone("never_more_threads_than_asked_nor_than_items", 30);
    for (n, threads) in cases {
        let c = case(n, threads);
        let answer = |word: &str| {
            let prefix = format!("{word} {n} {threads} ");
            // The harness prints `test NAME ... ` before the first line.
            report
                .lines()
                .find_map(|l| l.split_once(&prefix).map(|(_, rest)| rest.to_string()))
        };
        if let Some(message) = answer("panicked") {
            c.fail_with(&format!("your code panicked: {message}"));
        }
        let started: usize = answer("started")
            .and_then(|count| count.trim().parse().ok())
            .unwrap_or_else(|| panic!("the child printed no count for this case:\n{report}"));
        let most = threads.min(n as usize);
        if started > most {
            c.fail_with(&format!("{started} threads started"));
        }
    }
}

#[test]
fn the_threads_run_at_the_same_time() {
    // 10 items on 4 threads: chunks of at most 3 items, so exactly 4 threads. Each call
    // of f waits at the meeting until 4 calls are inside f at once: threads that run
    // one after another never get there.
    let c = scene(
        "f(x) = x over the items 0..10, on 4 threads (chunks of at most 3: exactly 4 threads)",
        "the sum of f(x) over the slice",
    );
    let (sum, split, most) = within(&c, 20, |c| {
        let meeting = Meeting::new(4, Duration::from_secs(4));
        let items: Vec<u64> = (0..10).collect();
        let (sum, split) = c.run(|| watch_split(&items, 4, Some(&meeting)));
        (sum, split, meeting.most())
    });
    c.eq(sum, 45);
    c.rule("one contiguous chunk of at most 3 items per thread, at most 4 threads")
        .check(split.len() == 4, Split(&split));
    if most != 4 {
        c.rule(
            "all threads running at the same time (start them all before joining any: \
             collect the JoinHandles first)",
        )
        .fail_with(&format!(
            "no more than {most} of the 4 threads inside f at the same time"
        ));
    }
}

#[test]
fn a_panic_in_f_reaches_the_caller_with_its_message() {
    let c = scene(
        "f(x) = x over the items 0..40, on 4 threads, where f panics on item 27 with the \
         message \"f refuses item 27\"",
        "a panic in f reaches the caller as the same panic (its message)",
    );
    let outcome = within(&c, 10, |_| {
        catch_unwind(AssertUnwindSafe(|| {
            let items: Vec<u64> = (0..40).collect();
            parallel_sum(&items, 4, |x| {
                if x == 27 {
                    // A panic like `panic!`'s, without the standard message on stderr:
                    // in a failure report, that message would pass for a failed check.
                    std::panic::resume_unwind(Box::new("f refuses item 27"));
                }
                x
            })
        }))
    });
    match outcome {
        Ok(sum) => c.fail_with(&format!("it returned {sum} instead of panicking")),
        Err(payload) => {
            let message = graded::payload_text(payload.as_ref());
            if message != "f refuses item 27" {
                c.fail_with(&format!("a panic with another message: {message:?}"));
            }
        }
    }
}
