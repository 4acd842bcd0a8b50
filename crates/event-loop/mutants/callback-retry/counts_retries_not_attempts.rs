    /// An attempt is over, with `result`: another one, or the end.
    fn over(lp: &mut Loop, fetch: Shared, result: Result<usize, FetchError>) {
        let again = {
            let f = fetch.borrow();
            result.is_err() && f.attempts < f.retry.retries
        };
        if again {
            // Count the retry.
            fetch.borrow_mut().attempts += 1;
            attempt(lp, fetch);
        } else {
            report(lp, &fetch, result);
        }
    }

    let (addr, id, timeout) = {
        let f = fetch.borrow();
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
    let timer = lp.call_later(timeout, {
        let fetch = fetch.clone();
        move |lp| {
            // Too late: closing the connection drops the chain's callbacks.
            let conn = {
                let mut f = fetch.borrow_mut();
                f.timer = None;
                f.conn.take()
            };
            let doing = conn.as_ref().map_or("connecting", Conn::doing);
            if let Some(conn) = conn {
                close(lp, &conn);
            }
            let error = FetchError::Timeout {
                doing,
                after: timeout,
            };
            over(lp, fetch, Err(error));
        }
    });
    let mut f = fetch.borrow_mut();
    f.conn = Some(conn);
    f.timer = Some(timer);
