    use std::cell::RefCell;
    use std::rc::Rc;
    use std::task::Waker;
    use std::time::Instant;

    use event_loop::step7_executor::{sleep, spawn};

    #[derive(Clone, Copy, PartialEq, Eq)]
    enum State {
        Waiting,
        Running,
        Done,
    }

    /// Where a job's task reports that it is done, and how it wakes the loop below.
    #[derive(Default)]
    struct Board {
        /// (job index, outcome, started, ended) of the jobs done since the last look.
        finished: Vec<(usize, Outcome, Duration, Duration)>,
        /// The waker of `run_jobs` while it waits for a finished job.
        waiter: Option<Waker>,
    }

    // (e) Refused before anything runs, the state file untouched.
    check_jobs(&jobs)?;
    let begun = Instant::now();
    let n = jobs.len();
    let limit = config.limit.max(1);
    // Dependencies as indexes into the list: check_jobs made sure each name is there.
    let deps: Vec<Vec<usize>> = {
        let index: HashMap<&str, usize> = jobs
            .iter()
            .enumerate()
            .map(|(i, job)| (job.name.as_str(), i))
            .collect();
        jobs.iter()
            .map(|job| job.after.iter().map(|name| index[name.as_str()]).collect())
            .collect()
    };
    let mut reports: Vec<JobReport> = jobs
        .iter()
        .map(|job| JobReport {
            name: job.name.clone(),
            outcome: Outcome::Skipped {
                because: String::new(),
            },
            started: None,
            ended: None,
        })
        .collect();
    let mut state = vec![State::Waiting; n];
    // (f) What an earlier run finished is done: its outcome stands, and it is not rerun.
    let mut state_file = None;
    if let Some(path) = &config.state {
        let (file, earlier) = StateFile::open(path)?;
        for (i, report) in reports.iter_mut().enumerate() {
            if let Some(outcome) = earlier.get(&report.name) {
                state[i] = State::Done;
                report.outcome = outcome.clone();
            }
        }
        state_file = Some(file);
    }
    let jobs: Vec<Rc<Job>> = jobs.into_iter().map(Rc::new).collect();
    let board: Rc<RefCell<Board>> = Rc::default();
    let mut running = 0;
    // The first failed write to the state file: no job starts after it.
    let mut broken: Option<JobError> = None;

    loop {
        // Collect what finished, and write it down before anything else starts: a kill
        // after a dependent started must find its dependency's outcome in the file.
        let finished = std::mem::take(&mut board.borrow_mut().finished);
        for (i, outcome, started, ended) in finished {
            state[i] = State::Done;
            running -= 1;
            if let (Some(file), None) = (state_file.as_mut(), &broken) {
                if let Err(error) = file.finished(&reports[i].name, &outcome) {
                    broken = Some(error);
                }
            }
            reports[i].outcome = outcome;
            reports[i].started = Some(started);
            reports[i].ended = Some(ended);
        }
        // Skip jobs whose dependencies ended without success, until nothing changes: the
        // dependents of a skipped job are skipped too.
        let mut changed = true;
        while changed {
            changed = false;
            for i in 0..n {
                if state[i] != State::Waiting {
                    continue;
                }
                let failed_dep = deps[i].iter().find(|&&d| {
                    state[d] == State::Done
                        && !matches!(reports[d].outcome, Outcome::Succeeded { .. })
                });
                if let Some(&d) = failed_dep {
                    state[i] = State::Done;
                    reports[i].outcome = Outcome::Skipped {
                        because: format!("{} did not succeed", reports[d].name),
                    };
                    changed = true;
                }
            }
        }
        // Start what may start now, in the order of the list; note when the next start
        // time comes.
        let now = begun.elapsed();
        let mut next_start: Option<Duration> = None;
        for i in 0..n {
            if state[i] != State::Waiting || running >= limit || broken.is_some() {
                continue;
            }
            let deps_ok = deps[i].iter().all(|&d| {
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
            if let Some(file) = state_file.as_mut() {
                if let Err(error) = file.started(&jobs[i].name) {
                    broken = Some(error);
                    continue;
                }
            }
            state[i] = State::Running;
            running += 1;
            let (job, board) = (jobs[i].clone(), board.clone());
            // Detached: the task reports through the board, not through its handle.
            drop(spawn(async move {
                let started = begun.elapsed();
                let outcome = run_job(&job).await;
                let waiter = {
                    let mut board = board.borrow_mut();
                    board.finished.push((i, outcome, started, begun.elapsed()));
                    board.waiter.take()
                };
                // Woken with no borrow held: the waker may run code that looks at the board.
                if let Some(waiter) = waiter {
                    waiter.wake();
                }
            }));
        }
        if running == 0 && board.borrow().finished.is_empty() {
            if let Some(error) = broken {
                return Err(error);
            }
            if !state.contains(&State::Waiting) {
                break;
            }
            // Something waits and nothing runs. With no cycle (check_jobs), some waiting
            // job has all of its dependencies succeeded: it waits for its start time, so
            // `next_start` is set and the sleep below ends.
        }
        // Wait a little for running jobs to finish or a start time to come. A short
        // sleep keeps this loop simple; the executor sleeps in epoll meanwhile.
        let step = Duration::from_millis(2);
        let wait = next_start.map_or(step, |at| at.saturating_sub(begun.elapsed()).min(step));
        sleep(wait).await;
    }
    Ok(reports)
