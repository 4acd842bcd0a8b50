    use std::cell::RefCell;
    use std::rc::Rc;
    use std::time::Instant;

    use event_loop::step7_executor::{JoinHandle, sleep, spawn, timeout};

    #[derive(Clone, Copy, PartialEq, Eq)]
    enum State {
        Waiting,
        Running,
        Done,
    }

    let begun = Instant::now();
    let n = jobs.len();
    let limit = max_at_once.max(1);
    let mut reports: Vec<JobReport> = jobs
        .iter()
        .map(|j| JobReport {
            name: j.name.clone(),
            outcome: Outcome::Skipped {
                because: String::new(),
            },
            started: None,
            ended: None,
        })
        .collect();
    let mut state = vec![State::Waiting; n];
    let jobs: Vec<Rc<Job>> = jobs.into_iter().map(Rc::new).collect();
    /// A job's task reports here when it is done: (job index, outcome, started, ended).
    type Finished = Rc<RefCell<Vec<(usize, Outcome, Duration, Duration)>>>;
    let finished: Finished = Rc::default();
    let mut running: Vec<JoinHandle<()>> = Vec::new();

    // A job whose dependency is missing or part of a cycle can never start.
    for i in 0..n {
        if let Some(bad) = jobs[i].depends_on.iter().find(|&&d| d >= n) {
            state[i] = State::Done;
            reports[i].outcome = Outcome::Skipped {
                because: format!("it depends on job {bad}, which does not exist"),
            };
        }
    }

    loop {
        // Collect what finished.
        for (i, outcome, started, ended) in finished.borrow_mut().drain(..) {
            state[i] = State::Done;
            reports[i].outcome = outcome;
            reports[i].started = Some(started);
            reports[i].ended = Some(ended);
        }
        running.retain(|h| !h.is_finished());
        // Skip jobs whose dependencies ended without success.
        let mut changed = true;
        while changed {
            changed = false;
            for i in 0..n {
                if state[i] != State::Waiting {
                    continue;
                }
                let failed_dep = jobs[i].depends_on.iter().find(|&&d| {
                    state[d] == State::Done
                        && !matches!(reports[d].outcome, Outcome::Succeeded { .. })
                });
                if let Some(&d) = failed_dep {
                    state[i] = State::Done;
                    reports[i].outcome = Outcome::Skipped {
                        because: format!("job {} ({}) did not succeed", d, reports[d].name),
                    };
                    changed = true;
                }
            }
        }
        // Start what may start now.
        let now = begun.elapsed();
        let mut next_start: Option<Duration> = None;
        for i in 0..n {
            if state[i] != State::Waiting || running.len() >= limit {
                continue;
            }
            let deps_ok = jobs[i].depends_on.iter().all(|&d| {
                state[d] == State::Done && matches!(reports[d].outcome, Outcome::Succeeded { .. })
            });
            if !deps_ok {
                continue;
            }
            if jobs[i].start_after > now {
                next_start = Some(next_start.map_or(jobs[i].start_after, |t: Duration| {
                    t.min(jobs[i].start_after)
                }));
                continue;
            }
            state[i] = State::Running;
            let (job, finished) = (jobs[i].clone(), finished.clone());
            running.push(spawn(async move {
                let started = begun.elapsed();
                let mut attempts = 0;
                let outcome = loop {
                    attempts += 1;
                    let error = match timeout(job.timeout, (job.attempt)()).await {
                        Ok(Ok(())) => break Outcome::Succeeded { attempts },
                        Ok(Err(e)) => e,
                        Err(_) => "timed out".to_string(),
                    };
                    if attempts > job.retries {
                        break Outcome::Failed {
                            attempts,
                            last: error,
                        };
                    }
                };
                finished
                    .borrow_mut()
                    .push((i, outcome, started, begun.elapsed()));
            }));
        }
        let waiting = state.contains(&State::Waiting);
        if running.is_empty() && finished.borrow().is_empty() {
            if !waiting {
                break;
            }
            match next_start {
                Some(at) => sleep(at.saturating_sub(begun.elapsed())).await,
                // Nothing runs, nothing can start: the rest wait on a cycle.
                None => {
                    for i in 0..n {
                        if state[i] == State::Waiting {
                            state[i] = State::Done;
                            reports[i].outcome = Outcome::Skipped {
                                because: "its dependencies form a cycle".into(),
                            };
                        }
                    }
                    break;
                }
            }
            continue;
        }
        // Wait a little for running jobs to finish or a start time to come. A short
        // sleep keeps this loop simple; the executor sleeps in poll meanwhile.
        let step = Duration::from_millis(2);
        let wait = next_start.map_or(step, |at| at.saturating_sub(begun.elapsed()).min(step));
        sleep(wait).await;
    }
    reports
