    use std::panic::{AssertUnwindSafe, catch_unwind};
    use std::sync::{Arc, mpsc};

    let f = Arc::new(f);
    let (tx, rx) = mpsc::channel();
    let n = items.len();
    for (index, item) in items.into_iter().enumerate() {
        let (f, tx) = (f.clone(), tx.clone());
        pool.execute(move || {
            let result = catch_unwind(AssertUnwindSafe(|| f(item))).ok();
            let _ = tx.send((index, result));
        })
        .map_err(|e| PoolMapError::Pool(e.to_string()))?;
    }
    let mut slots: Vec<Option<U>> = (0..n).map(|_| None).collect();
    let mut failed: Option<usize> = None;
    for (index, result) in rx {
        match result {
            Some(value) => slots[index] = Some(value),
            None => failed = Some(failed.map_or(index, |i| i.min(index))),
        }
    }
    drop(tx);
    if let Some(index) = failed {
        return Err(PoolMapError::Panicked { index });
    }
    slots
        .into_iter()
        .enumerate()
        .map(|(index, slot)| slot.ok_or(PoolMapError::Panicked { index }))
        .collect()
