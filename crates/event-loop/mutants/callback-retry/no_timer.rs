    /// An attempt is over, with `result`: another one, or the end.
    fn over(lp: &mut Loop, fetch: Shared, result: Result<usize, FetchError>) {
        let again = {
            let f = fetch.borrow();
            result.is_err() && f.attempts <= f.retry.retries
        };
        if again {
            attempt(lp, fetch);
        } else {
            report(lp, &fetch, result);
        }
    }

    let (addr, id, _timeout) = {
        let mut f = fetch.borrow_mut();
        f.attempts += 1;
        (f.addr, f.id, f.retry.timeout)
    };
    let conn = fetch_one(lp, addr, id, {
        let fetch = fetch.clone();
        move |lp, result| {
            // The chain has closed its connection; its timer goes too.
            let timer = {
                let mut f = fetch.borrow_mut();
                f.conn = None;
                f.timer.take()
            };
            if let Some(timer) = timer {
                lp.cancel(timer);
            }
            over(lp, fetch, result);
        }
    });
    // fetch_one ends by itself, well or badly.
    let mut f = fetch.borrow_mut();
    f.conn = Some(conn);
