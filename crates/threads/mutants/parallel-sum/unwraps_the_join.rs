    if items.is_empty() {
        return 0;
    }
    let chunk = items.len().div_ceil(threads.max(1));
    let f = &f;
    std::thread::scope(|s| {
        let parts: Vec<_> = items
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().fold(0u64, |acc, &x| acc.wrapping_add(f(x)))))
            .collect();
        parts
            .into_iter()
            .map(|h| h.join().unwrap())
            .fold(0u64, u64::wrapping_add)
    })
