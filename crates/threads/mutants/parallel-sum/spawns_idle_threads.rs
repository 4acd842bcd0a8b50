    let threads = threads.max(1);
    let chunk = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|s| {
        let parts: Vec<_> = (0..threads)
            .map(|i| {
                let start = (i * chunk).min(items.len());
                let end = ((i + 1) * chunk).min(items.len());
                let part = &items[start..end];
                s.spawn(move || part.iter().fold(0u64, |acc, &x| acc.wrapping_add(f(x))))
            })
            .collect();
        parts
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .fold(0u64, u64::wrapping_add)
    })
