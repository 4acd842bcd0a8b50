    use event_loop::step7_executor::{sleep, timeout};

    // One deadline for the job: all of its attempts, retries included, within it.
    let attempts = std::cell::Cell::new(0);
    let all = async {
        loop {
            attempts.set(attempts.get() + 1);
            let n = attempts.get();
            match (job.attempt)().await {
                Ok(()) => return Outcome::Succeeded { attempts: n },
                Err(error) if n > job.retries => {
                    return Outcome::Failed {
                        attempts: n,
                        last: error,
                    };
                }
                Err(_) => sleep(backoff(job.backoff, n)).await,
            }
        }
    };
    match timeout(job.timeout, all).await {
        Ok(outcome) => outcome,
        Err(_) => Outcome::Failed {
            attempts: attempts.get(),
            last: "timed out".to_string(),
        },
    }
