//! Exercise `async-download/map-bounded`: run a function on every item, at most N at once.
//!
//! A task is cheap, so "spawn one per URL" is tempting, and with a million URLs it is
//! a million open sockets, a server that refuses most of them, and the file descriptor
//! limit reached in the first second. The fix is a bound: at most `limit` requests in
//! flight, the next one starting when one ends. A semaphore is that bound, written
//! once: `limit` permits; a task holds one while it works; whoever wants to start waits
//! for a permit to come back.
//!
//! Taking the permit *before* spawning (not inside the task) bounds the tasks too: a
//! million items never become a million tasks waiting in memory, only `limit` running
//! and the rest still in the `Vec`. The results come back in the order of the input,
//! whatever order the work finishes in, because the caller usually needs to know which
//! result is whose.

// In your copy the body is `todo!()` and ignores its arguments until you write it:
// no warnings for that.
#![allow(unused_variables, unused_mut, dead_code)]

use std::future::Future;

/// Runs `f` on every item of `items`, at most `limit` calls in flight at once, and
/// returns their results in the order of `items` (not the order they finished in).
///
/// - Each `f(item)` future runs as a tokio task (`tokio::spawn` or a
///   `tokio::task::JoinSet`), so call this inside a tokio runtime.
/// - A `tokio::sync::Semaphore` with `limit` permits is the bound: take a permit
///   *before* calling `f(item)` and spawning the item's task, and give it back (drop
///   it) when that task ends. So at most `limit` items are ever started and unfinished;
///   the others wait in the `Vec`, not as tasks.
/// - No more than `limit` calls are ever in flight, and `limit` of them are when there
///   is enough work: the next item starts as soon as one ends.
/// - Waiting for a free slot is waiting (awaiting the semaphore or the tasks), not
///   checking again and again: this future is polled about once per item, not in a loop.
/// - A `limit` of 0 counts as 1; a `limit` above the number of items, up to
///   `usize::MAX`, runs them all at once (a `Semaphore` holds at most
///   `Semaphore::MAX_PERMITS`). No items: an empty `Vec` at once.
/// - If a call panics, that panic reaches the caller as it was, with its own payload
///   (`std::panic::resume_unwind`).
pub async fn map_bounded<T, R, F, Fut>(items: Vec<T>, limit: usize, mut f: F) -> Vec<R>
where
    F: FnMut(T) -> Fut,
    Fut: Future<Output = R> + Send + 'static,
    R: Send + 'static,
{
    // BEGIN SOLUTION
    use std::sync::Arc;

    use tokio::sync::Semaphore;
    use tokio::task::JoinSet;

    // Never more permits than items: `Semaphore::new` panics above MAX_PERMITS, and a
    // `limit` of usize::MAX means "all at once".
    let permits = Arc::new(Semaphore::new(limit.min(items.len()).max(1)));
    let mut results: Vec<Option<R>> = items.iter().map(|_| None).collect();
    let mut tasks = JoinSet::new();
    for (index, item) in items.into_iter().enumerate() {
        // Waits here while `limit` tasks run: the loop never gets ahead of the bound.
        let permit = permits
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        let work = f(item);
        tasks.spawn(async move {
            let result = work.await;
            drop(permit); // the next item may start now
            (index, result)
        });
        // Collect what already finished, so that finished tasks do not pile up.
        while let Some(done) = tasks.try_join_next() {
            let (index, result) =
                done.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
            results[index] = Some(result);
        }
    }
    while let Some(done) = tasks.join_next().await {
        let (index, result) = done.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
        results[index] = Some(result);
    }
    results
        .into_iter()
        .map(|r| r.expect("every task reported its result"))
        .collect()
    // END SOLUTION
}
