    use std::cell::RefCell;
    use std::future::poll_fn;
    use std::rc::Rc;
    use std::task::{Poll, Waker};
    use std::time::Instant;

    use event_loop::step7_executor::{sleep_until, spawn, timeout};

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
    let board: Rc<RefCell<Board>> = Rc::default();
    let mut running = 0;

    // A job whose dependency is missing can never start.
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
        let finished = std::mem::take(&mut board.borrow_mut().finished);
        for (i, outcome, started, ended) in finished {
            state[i] = State::Done;
            running -= 1;
            reports[i].outcome = outcome;
            reports[i].started = Some(started);
            reports[i].ended = Some(ended);
        }
        // Start what may start now; note when the next start time comes.
        let now = begun.elapsed();
        let mut next_start: Option<Duration> = None;
        for i in 0..n {
            if state[i] != State::Waiting || running >= limit {
                continue;
            }
            // A dependency is over: this job may go.
            let deps_ok = jobs[i].depends_on.iter().all(|&d| state[d] == State::Done);
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
            running += 1;
            let (job, board) = (jobs[i].clone(), board.clone());
            // Detached: the task reports through the board, not through its handle.
            drop(spawn(async move {
                let started = begun.elapsed();
                let mut attempts = 0;
                let outcome = loop {
                    attempts += 1;
                    // A timed-out attempt is dropped by `timeout`: cancelled, not left
                    // running beside the next one.
                    let error = match timeout(job.timeout, (job.attempt)()).await {
                        Ok(Ok(())) => break Outcome::Succeeded { attempts },
                        Ok(Err(e)) => e,
                        Err(_) => "timed out".to_string(),
                    };
                    // Compared, not `retries + 1`: that overflows for u32::MAX.
                    if attempts > job.retries {
                        break Outcome::Failed {
                            attempts,
                            last: error,
                        };
                    }
                };
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
            if !state.contains(&State::Waiting) {
                break;
            }
            if next_start.is_none() {
                // Nothing runs, nothing can start: the rest wait on a cycle.
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
        // Sleep until something can change: a job finishes (its task wakes us) or the
        // next start time comes. Never on a short timer: a loop that looked every few
        // milliseconds would wake hundreds of times a second for nothing.
        let mut start_time = next_start.map(|at| sleep_until(begun + at));
        poll_fn(|cx| {
            let mut board = board.borrow_mut();
            if !board.finished.is_empty() {
                return Poll::Ready(());
            }
            if let Some(start_time) = start_time.as_mut() {
                if Pin::new(start_time).poll(cx).is_ready() {
                    return Poll::Ready(());
                }
            }
            board.waiter = Some(cx.waker().clone());
            Poll::Pending
        })
        .await;
    }
    reports
