    use std::future::poll_fn;
    use std::pin::Pin;
    use std::task::Poll;

    // Every future is polled right here, inside the caller's future: no tokio task.
    let limit = limit.min(items.len()).max(1);
    let mut results: Vec<Option<R>> = items.iter().map(|_| None).collect();
    let mut waiting = items.into_iter().enumerate();
    let mut running: Vec<(usize, Pin<Box<Fut>>)> = Vec::new();
    poll_fn(|cx| {
        loop {
            while running.len() < limit {
                match waiting.next() {
                    Some((index, item)) => running.push((index, Box::pin(f(item)))),
                    None => break,
                }
            }
            if running.is_empty() {
                return Poll::Ready(());
            }
            let mut finished_one = false;
            let mut k = 0;
            while k < running.len() {
                if let Poll::Ready(result) = running[k].1.as_mut().poll(cx) {
                    let (index, _) = running.swap_remove(k);
                    results[index] = Some(result);
                    finished_one = true;
                } else {
                    k += 1;
                }
            }
            if !finished_one {
                return Poll::Pending;
            }
        }
    })
    .await;
    results.into_iter().map(|r| r.unwrap()).collect()
