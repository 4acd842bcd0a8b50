    use std::sync::Arc;

    use tokio::sync::Semaphore;
    use tokio::task::JoinSet;

    let permits = Arc::new(Semaphore::new(limit.min(items.len()).max(1)));
    let mut results: Vec<Option<R>> = items.iter().map(|_| None).collect();
    let mut tasks = JoinSet::new();
    for (index, item) in items.into_iter().enumerate() {
        // The permit lives to the end of this iteration, not as long as the task.
        let _permit = permits.acquire().await.expect("never closed");
        let work = f(item);
        tasks.spawn(async move { (index, work.await) });
    }
    while let Some(done) = tasks.join_next().await {
        let (index, result) = done.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
        results[index] = Some(result);
    }
    results.into_iter().map(|r| r.unwrap()).collect()
