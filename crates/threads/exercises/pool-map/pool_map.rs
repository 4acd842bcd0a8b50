//! Exercise `threads/pool-map`: a parallel map on the lesson's thread pool.
//!
//! The pool runs `FnOnce()` jobs and returns nothing. To get results back, each job
//! sends `(index, result)` through a channel; the caller collects them and puts them
//! back in order. A job whose call of `f` panics must still answer (with `None` for a
//! value): a result that never comes cannot be told from a slow one, and the caller
//! would wait for it forever.

// In your copy the body is `todo!()` and ignores its arguments until you write it:
// no warnings for that.
#![allow(unused_variables, dead_code)]

use threads::pool::ThreadPool;

/// Why a pool map failed.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PoolMapError {
    /// `f` panicked on the item at this index (the pool itself carries on).
    #[error("the function panicked on item {index}")]
    Panicked { index: usize },
    /// The pool could not take a job.
    #[error("the pool refused a job: {0}")]
    Pool(String),
}

/// Applies `f` to every item, once per item, on the pool's workers, as many at once as
/// there are workers, and returns the results in the items' order (whatever order they
/// finish in). Works on a bounded pool too, whose `execute` waits for room. If `f`
/// panics on an item, returns [`PoolMapError::Panicked`] with the lowest such index, and
/// the pool still works afterwards. If the pool
/// refuses a job, queues no more and returns [`PoolMapError::Pool`] with the pool's
/// error as text. Whatever the outcome, it returns only once every job it queued has
/// ended, so nothing of the call runs after it returns; while it waits for the results
/// the caller sleeps (no polling).
pub fn pool_map<T, U, F>(pool: &ThreadPool, items: Vec<T>, f: F) -> Result<Vec<U>, PoolMapError>
where
    T: Send + 'static,
    U: Send + 'static,
    F: Fn(T) -> U + Send + Sync + 'static,
{
    // BEGIN SOLUTION
    use std::panic::{AssertUnwindSafe, catch_unwind};
    use std::sync::{Arc, mpsc};

    let f = Arc::new(f);
    let (tx, rx) = mpsc::channel();
    let n = items.len();
    let mut refused = None;
    for (index, item) in items.into_iter().enumerate() {
        let (f, tx) = (f.clone(), tx.clone());
        let job = move || {
            // Catch the panic here so the caller learns which item failed; a result
            // that never comes would otherwise be indistinguishable from a slow one.
            let result = catch_unwind(AssertUnwindSafe(|| f(item))).ok();
            let _ = tx.send((index, result));
        };
        if let Err(e) = pool.execute(job) {
            // Queue no more, but do not return yet (no `?`): the loop below waits until
            // every job already queued has ended (run, or been dropped by the pool), so
            // nothing of this call outlives it, whatever the pool's reason to refuse.
            refused = Some(PoolMapError::Pool(e.to_string()));
            break;
        }
    }
    drop(tx);
    let mut slots: Vec<Option<U>> = (0..n).map(|_| None).collect();
    let mut failed: Option<usize> = None;
    for (index, result) in rx {
        match result {
            Some(value) => slots[index] = Some(value),
            None => failed = Some(failed.map_or(index, |i| i.min(index))),
        }
    }
    if let Some(error) = refused {
        return Err(error);
    }
    if let Some(index) = failed {
        return Err(PoolMapError::Panicked { index });
    }
    slots
        .into_iter()
        .enumerate()
        .map(|(index, slot)| slot.ok_or(PoolMapError::Panicked { index }))
        .collect()
    // END SOLUTION
}
