//! Graded tests for exercise `threads/pool-map`.

mod common;
use common::within;

use std::time::{Duration, Instant};

use threads::ThreadPool;
use threads::exercises::pool_map::{PoolMapError, pool_map};

#[test]
fn results_come_back_in_order() {
    let out = within(10, "pool_map", || {
        let pool = ThreadPool::new(3).unwrap();
        // Later items finish first: the order must come from the index, not arrival.
        let items: Vec<u64> = (0..12).collect();
        pool_map(&pool, items, |x| {
            std::thread::sleep(Duration::from_millis(30 - 2 * x));
            x * 10
        })
    });
    assert_eq!(out, Ok((0..12).map(|x| x * 10).collect::<Vec<_>>()));
}

#[test]
fn items_run_on_the_workers_at_the_same_time() {
    let took = within(10, "pool_map", || {
        let pool = ThreadPool::new(4).unwrap();
        let start = Instant::now();
        let out = pool_map(&pool, (0..8).collect::<Vec<u32>>(), |x| {
            std::thread::sleep(Duration::from_millis(50));
            x
        });
        assert!(out.is_ok());
        start.elapsed()
    });
    // In sequence: 400 ms. On four workers: about 100 ms.
    assert!(
        took < Duration::from_millis(300),
        "took {took:?}: did the items overlap?"
    );
}

#[test]
fn a_panic_is_reported_with_its_index_and_the_pool_goes_on() {
    let (result, after) = within(10, "pool_map with a panic", || {
        let pool = ThreadPool::new(2).unwrap();
        let result = pool_map(&pool, vec![1, 2, 0, 4, 0], |x: u32| {
            assert!(x != 0, "zero is not allowed");
            x
        });
        let after = pool_map(&pool, vec![1, 2, 3], |x: u32| x + 1);
        (result, after)
    });
    assert_eq!(result, Err(PoolMapError::Panicked { index: 2 }));
    assert_eq!(
        after,
        Ok(vec![2, 3, 4]),
        "the pool must still work after a panic"
    );
}

#[test]
fn an_empty_input_gives_an_empty_output() {
    let out = within(5, "pool_map of nothing", || {
        let pool = ThreadPool::new(1).unwrap();
        pool_map(&pool, Vec::<u8>::new(), |x| x)
    });
    assert_eq!(out, Ok(vec![]));
}
