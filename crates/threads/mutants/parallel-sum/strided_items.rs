    let threads = threads.max(1).min(items.len());
    if threads == 0 {
        return 0;
    }
    let f = &f;
    std::thread::scope(|s| {
        let parts: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    items
                        .iter()
                        .skip(t)
                        .step_by(threads)
                        .fold(0u64, |acc, &x| acc.wrapping_add(f(x)))
                })
            })
            .collect();
        parts
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .fold(0u64, u64::wrapping_add)
    })
