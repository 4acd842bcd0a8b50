    use std::sync::Arc;

    use tokio::sync::Semaphore;
    use tokio::task::JoinSet;

    // A limit of usize::MAX is more permits than a Semaphore can hold: it panics.
    let permits = Arc::new(Semaphore::new(limit.max(1)));
    let mut results: Vec<Option<R>> = items.iter().map(|_| None).collect();
    let mut tasks = JoinSet::new();
    for (index, item) in items.into_iter().enumerate() {
        let permit = permits
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
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
    results
        .into_iter()
        .map(|r| r.expect("every task reported its result"))
        .collect()
