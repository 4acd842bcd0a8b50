    use event_loop::step7_executor::{sleep, timeout};

    let mut outcome = Outcome::Failed {
        attempts: 0,
        last: String::new(),
    };
    // The first attempt, then the retries.
    for attempts in 1..=job.retries + 1 {
        let error = match timeout(job.timeout, (job.attempt)()).await {
            Ok(Ok(())) => return Outcome::Succeeded { attempts },
            Ok(Err(error)) => error,
            Err(_) => "timed out".to_string(),
        };
        outcome = Outcome::Failed {
            attempts,
            last: error,
        };
        if attempts <= job.retries {
            sleep(backoff(job.backoff, attempts)).await;
        }
    }
    outcome
