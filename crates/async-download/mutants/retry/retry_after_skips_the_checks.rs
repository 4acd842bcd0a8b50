    let mut attempt = 1;
    loop {
        let error = match op(attempt).await {
            Ok(value) => return Ok(value),
            Err(error) => error,
        };
        // The server asked to come back later: do as it says, whatever else holds.
        if let Some(asked) = error.retry_after() {
            tokio::time::sleep(asked.min(policy.max)).await;
            attempt += 1;
            continue;
        }
        if attempt > policy.retries || !error.is_retryable() {
            return Err(error);
        }
        tokio::time::sleep(backoff(attempt, policy.base, policy.max, jitter())).await;
        attempt += 1;
    }
