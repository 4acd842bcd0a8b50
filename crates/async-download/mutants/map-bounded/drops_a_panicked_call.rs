    use std::sync::Arc;

    use tokio::sync::Semaphore;
    use tokio::task::JoinSet;

    let permits = Arc::new(Semaphore::new(limit.min(items.len()).max(1)));
    let mut results: Vec<Option<R>> = items.iter().map(|_| None).collect();
    let mut tasks = JoinSet::new();
    for (index, item) in items.into_iter().enumerate() {
        let permit = permits.clone().acquire_owned().await.expect("never closed");
        let work = f(item);
        tasks.spawn(async move {
            let result = work.await;
            drop(permit);
            (index, result)
        });
    }
    while let Some(done) = tasks.join_next().await {
        // A task that panicked is skipped: its result is simply missing.
        if let Ok((index, result)) = done {
            results[index] = Some(result);
        }
    }
    results.into_iter().flatten().collect()
