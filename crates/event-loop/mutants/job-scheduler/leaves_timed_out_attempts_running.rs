    use event_loop::step7_executor::{sleep, spawn, timeout};

    let mut attempts = 0;
    loop {
        attempts += 1;
        // Each attempt as a task of its own: a stuck one cannot hold the job.
        let error = match timeout(job.timeout, spawn((job.attempt)())).await {
            Ok(Ok(Ok(()))) => return Outcome::Succeeded { attempts },
            Ok(Ok(Err(error))) => error,
            Ok(Err(aborted)) => aborted.to_string(),
            Err(_) => "timed out".to_string(),
        };
        // Compared, not `retries + 1`: that overflows for u32::MAX.
        if attempts > job.retries {
            return Outcome::Failed {
                attempts,
                last: error,
            };
        }
        sleep(backoff(job.backoff, attempts)).await;
    }
