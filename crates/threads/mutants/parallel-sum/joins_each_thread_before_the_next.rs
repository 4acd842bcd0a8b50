    if items.is_empty() {
        return 0;
    }
    let chunk = items.len().div_ceil(threads.max(1));
    let f = &f;
    std::thread::scope(|s| {
        items
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().fold(0u64, |acc, &x| acc.wrapping_add(f(x)))))
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .fold(0u64, u64::wrapping_add)
    })
