    use std::sync::Arc;

    // The pool's workers are busy with other things: a thread per item is simpler.
    let _ = pool;
    let f = Arc::new(f);
    let handles: Vec<_> = items
        .into_iter()
        .map(|item| {
            let f = f.clone();
            std::thread::spawn(move || f(item))
        })
        .collect();
    let mut results = Vec::with_capacity(handles.len());
    let mut failed: Option<usize> = None;
    for (index, handle) in handles.into_iter().enumerate() {
        match handle.join() {
            Ok(value) => results.push(value),
            Err(_) => {
                failed.get_or_insert(index);
            }
        }
    }
    match failed {
        Some(index) => Err(PoolMapError::Panicked { index }),
        None => Ok(results),
    }
