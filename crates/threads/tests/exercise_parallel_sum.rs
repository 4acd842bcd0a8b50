//! Graded tests for exercise `threads/parallel-sum`.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use threads::exercises::parallel_sum::parallel_sum;

#[test]
fn sums_like_the_sequential_loop() {
    let items: Vec<u64> = (1..=1000).collect();
    for threads in [1, 2, 3, 7, 64] {
        assert_eq!(
            parallel_sum(&items, threads, |x| x * 2),
            1000 * 1001,
            "{threads} threads"
        );
    }
}

#[test]
fn edge_cases() {
    assert_eq!(parallel_sum(&[], 4, |x| x), 0);
    assert_eq!(parallel_sum(&[5], 8, |x| x), 5);
    assert_eq!(
        parallel_sum(&[1, 2, 3], 0, |x| x),
        6,
        "0 threads counts as 1"
    );
    assert_eq!(parallel_sum(&[u64::MAX, 2], 2, |x| x), 1, "additions wrap");
}

#[test]
fn uses_as_many_threads_as_asked() {
    let seen = Mutex::new(HashSet::new());
    let items: Vec<u64> = (0..40).collect();
    parallel_sum(&items, 4, |x| {
        seen.lock().unwrap().insert(std::thread::current().id());
        std::thread::sleep(Duration::from_millis(2));
        x
    });
    assert_eq!(
        seen.lock().unwrap().len(),
        4,
        "expected 4 distinct worker threads"
    );
    let seen = Mutex::new(HashSet::new());
    parallel_sum(&[1, 2], 8, |x| {
        seen.lock().unwrap().insert(std::thread::current().id());
        x
    });
    assert!(
        seen.lock().unwrap().len() <= 2,
        "never more threads than items"
    );
}

#[test]
fn the_chunks_run_at_the_same_time() {
    let items: Vec<u64> = (0..40).collect();
    let start = Instant::now();
    parallel_sum(&items, 4, |x| {
        std::thread::sleep(Duration::from_millis(10));
        x
    });
    // In sequence: 400 ms. Four at once: about 100 ms.
    let took = start.elapsed();
    assert!(
        took < Duration::from_millis(300),
        "took {took:?}: did the threads overlap?"
    );
}
