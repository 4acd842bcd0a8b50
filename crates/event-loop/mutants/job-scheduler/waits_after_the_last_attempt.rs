    use event_loop::step7_executor::{sleep, timeout};

    let mut attempts = 0;
    loop {
        attempts += 1;
        // A timed-out attempt is dropped by `timeout`: cancelled, not left running
        // beside the next one.
        let error = match timeout(job.timeout, (job.attempt)()).await {
            Ok(Ok(())) => return Outcome::Succeeded { attempts },
            Ok(Err(error)) => error,
            Err(_) => "timed out".to_string(),
        };
        // A rest after each failure, before deciding what comes next.
        sleep(backoff(job.backoff, attempts)).await;
        if attempts > job.retries {
            return Outcome::Failed {
                attempts,
                last: error,
            };
        }
    }
