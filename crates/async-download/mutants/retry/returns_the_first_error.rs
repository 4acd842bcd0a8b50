    let mut attempt = 1;
    let mut first_error = None;
    loop {
        let error = match op(attempt).await {
            Ok(value) => return Ok(value),
            Err(error) => error,
        };
        let retryable = error.is_retryable();
        let asked = error.retry_after();
        // Keeps the error that started the trouble, not the one that ended it.
        first_error.get_or_insert(error);
        if attempt > policy.retries || !retryable {
            return Err(first_error.expect("an error was kept"));
        }
        let wait = match asked {
            Some(asked) => asked.min(policy.max),
            None => backoff(attempt, policy.base, policy.max, jitter()),
        };
        tokio::time::sleep(wait).await;
        attempt += 1;
    }
