    let mut attempt = 1;
    loop {
        let error = match op(attempt).await {
            Ok(value) => return Ok(value),
            Err(error) => error,
        };
        // Waits first, and only then asks whether another attempt is allowed.
        let wait = match error.retry_after() {
            Some(asked) => asked.min(policy.max),
            None => backoff(attempt, policy.base, policy.max, jitter()),
        };
        tokio::time::sleep(wait).await;
        if attempt > policy.retries || !error.is_retryable() {
            return Err(error);
        }
        attempt += 1;
    }
