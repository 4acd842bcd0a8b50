    use std::sync::Arc;

    use tokio::sync::Semaphore;
    use tokio::task::JoinSet;

    let permits = Arc::new(Semaphore::new(limit.min(items.len()).max(1)));
    let mut results: Vec<Option<R>> = items.iter().map(|_| None).collect();
    let mut tasks = JoinSet::new();
    for (index, item) in items.into_iter().enumerate() {
        let work = f(item);
        let permits = permits.clone();
        tasks.spawn(async move {
            // The bound holds for the work, but every item is a task from the start.
            let _permit = permits.acquire_owned().await.expect("never closed");
            (index, work.await)
        });
    }
    while let Some(done) = tasks.join_next().await {
        let (index, result) = done.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
        results[index] = Some(result);
    }
    results.into_iter().map(|r| r.unwrap()).collect()
