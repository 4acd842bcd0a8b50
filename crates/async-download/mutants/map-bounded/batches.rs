    use tokio::task::JoinSet;

    let limit = limit.min(items.len()).max(1);
    let mut results: Vec<Option<R>> = items.iter().map(|_| None).collect();
    let mut items = items.into_iter().enumerate().peekable();
    while items.peek().is_some() {
        // A batch of `limit`, then wait for all of it before the next batch.
        let mut tasks = JoinSet::new();
        for (index, item) in items.by_ref().take(limit) {
            let work = f(item);
            tasks.spawn(async move { (index, work.await) });
        }
        while let Some(done) = tasks.join_next().await {
            let (index, result) =
                done.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
            results[index] = Some(result);
        }
    }
    results.into_iter().map(|r| r.unwrap()).collect()
