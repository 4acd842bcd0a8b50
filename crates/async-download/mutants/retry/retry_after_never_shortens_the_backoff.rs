    let mut attempt = 1;
    loop {
        let error = match op(attempt).await {
            Ok(value) => return Ok(value),
            Err(error) => error,
        };
        if attempt > policy.retries || !error.is_retryable() {
            return Err(error);
        }
        // Takes the longer of the server's wish and the backoff.
        let backoff = backoff(attempt, policy.base, policy.max, jitter());
        let wait = match error.retry_after() {
            Some(asked) => asked.max(backoff).min(policy.max),
            None => backoff,
        };
        tokio::time::sleep(wait).await;
        attempt += 1;
    }
