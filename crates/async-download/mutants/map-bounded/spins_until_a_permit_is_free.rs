    use std::sync::Arc;

    use tokio::sync::Semaphore;
    use tokio::task::JoinSet;

    let permits = Arc::new(Semaphore::new(limit.min(items.len()).max(1)));
    let mut results: Vec<Option<R>> = items.iter().map(|_| None).collect();
    let mut tasks = JoinSet::new();
    for (index, item) in items.into_iter().enumerate() {
        // Checks again and again instead of waiting to be woken when a permit is free.
        let permit = loop {
            match permits.clone().try_acquire_owned() {
                Ok(permit) => break permit,
                Err(_) => tokio::task::yield_now().await,
            }
        };
        let work = f(item);
        tasks.spawn(async move {
            let result = work.await;
            drop(permit);
            (index, result)
        });
    }
    while let Some(done) = tasks.join_next().await {
        let (index, result) = done.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
        results[index] = Some(result);
    }
    results.into_iter().map(|r| r.unwrap()).collect()
