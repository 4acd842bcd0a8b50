    use std::panic::{AssertUnwindSafe, catch_unwind};
    use std::sync::{Arc, mpsc};

    let f = Arc::new(f);
    let (tx, rx) = mpsc::channel();
    for (index, item) in items.into_iter().enumerate() {
        let (f, tx) = (f.clone(), tx.clone());
        pool.execute(move || {
            let result = catch_unwind(AssertUnwindSafe(|| f(item))).ok();
            let _ = tx.send((index, result));
        })
        .map_err(|e| PoolMapError::Pool(e.to_string()))?;
    }
    drop(tx);
    // The results, as they come.
    let mut results = Vec::new();
    let mut failed: Option<usize> = None;
    for (index, result) in rx {
        match result {
            Some(value) => results.push(value),
            None => failed = Some(failed.map_or(index, |i| i.min(index))),
        }
    }
    match failed {
        Some(index) => Err(PoolMapError::Panicked { index }),
        None => Ok(results),
    }
