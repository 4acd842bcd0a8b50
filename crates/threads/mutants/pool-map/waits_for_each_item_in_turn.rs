    use std::panic::{AssertUnwindSafe, catch_unwind};
    use std::sync::{Arc, mpsc};

    let f = Arc::new(f);
    let (tx, rx) = mpsc::channel();
    let mut results = Vec::with_capacity(items.len());
    let mut failed: Option<usize> = None;
    for (index, item) in items.into_iter().enumerate() {
        let (f, tx) = (f.clone(), tx.clone());
        pool.execute(move || {
            let result = catch_unwind(AssertUnwindSafe(|| f(item))).ok();
            let _ = tx.send(result);
        })
        .map_err(|e| PoolMapError::Pool(e.to_string()))?;
        // Its result, before the next item: the order is right by construction.
        match rx.recv() {
            Ok(Some(value)) => results.push(value),
            _ => {
                failed.get_or_insert(index);
            }
        }
    }
    match failed {
        Some(index) => Err(PoolMapError::Panicked { index }),
        None => Ok(results),
    }
