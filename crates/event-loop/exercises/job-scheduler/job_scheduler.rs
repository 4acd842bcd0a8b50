//! Exercise `event-loop/job-scheduler` (the capstone): a job scheduler on the executor.
//!
//! The homework the course ends on. Jobs are futures, run on lesson 4's executor on one
//! thread, and the scheduler has six features:
//!
//! - **(a) a limit**: never more than `limit` jobs run at once, 10 unless told otherwise
//!   ([`Config::default`]), and that many whenever that many may run;
//! - **(b) a timeout per attempt**: an attempt that takes longer is dropped, which
//!   cancels it, and counts as failed ([`run_job`]);
//! - **(c) a start time**: no job starts before its `start_after`;
//! - **(d) retries with backoff**: a failed attempt is tried again after a wait that
//!   doubles each time ([`backoff`]);
//! - **(e) dependencies**, by name: a job starts once the jobs it names have succeeded;
//!   a cycle, or a name that is not in the list, is an error before anything runs
//!   ([`check_jobs`]);
//! - **(f) a state file**: killed at any moment (`kill -9`) and started again with the
//!   same jobs and the same file, the scheduler reruns no finished job and loses no
//!   pending one ([`read_state`], [`StateFile`]).
//!
//! And one rule over all six: it waits on timers and on finished jobs, never by looking
//! again every few milliseconds. While nothing can change, the thread sleeps in
//! `epoll_wait` and costs no CPU.
//!
//! Everything the lesson built comes together: `spawn`, `sleep`, `timeout`, a waker kept
//! where a finished job can find it, and one thread. Each function below has its part of
//! the task in its doc comment, and [`run_jobs`] puts the parts together.
//!
//! The program `jobs` (`jobs.rs`, beside this file) runs simulated jobs, given on its
//! command line, through your `run_jobs`, and prints what happens:
//!
//! ```text
//! cargo run -p event-loop-job-scheduler --bin jobs -- --help
//! cargo run -p event-loop-job-scheduler --bin jobs -- --state /tmp/jobs.state \
//!     --job name=fetch,sleep=300ms,fail=2,retries=3,backoff=100ms \
//!     --job name=parse,after=fetch
//! ```
//!
//! # The state file
//!
//! An append-only journal, one line per event, each line ended by `\n`, its fields
//! separated by one space:
//!
//! ```text
//! started NAME                 the job's first attempt is about to begin
//! succeeded NAME ATTEMPTS      it succeeded at attempt ATTEMPTS (1 = the first)
//! failed NAME ATTEMPTS ERROR   all of its ATTEMPTS attempts failed; ERROR is the last
//!                              one's error, each `\n` and `\r` in it replaced by a space
//! ```
//!
//! A NAME has no whitespace ([`check_jobs`] refuses any other), and ERROR is the rest of
//! the line, maybe empty. Each line is written with one write of the whole line, so a
//! kill loses at most the line being written, which then lacks its `\n`: a torn last
//! line, which the reader ignores and the scheduler cuts off before it appends. (No
//! `fsync`: what a killed process wrote is in the kernel already; only a power cut
//! could lose it.)
//!
//! What the file means when the scheduler starts again with the same jobs:
//!
//! - a job with an outcome line finished: it is not run again, and its report gives
//!   that outcome;
//! - a job with only its `started` line was running when the scheduler stopped: it
//!   starts over, a fresh start with all of its attempts (the kill was not its fault);
//! - a job with no line has not started: it runs as usual.
//!
//! A skipped job has no line: it is skipped again if its dependency still has not
//! succeeded.

// In your copy the bodies are `todo!()` and ignore their arguments until you write
// them: no warnings for that.
#![allow(unused_variables, unused_mut, dead_code)]

use std::collections::HashMap;
use std::fs::File;
use std::future::Future;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::Duration;

/// One attempt at a job: a fresh future each time (a retry starts over).
pub type Attempt = Box<dyn Fn() -> Pin<Box<dyn Future<Output = Result<(), String>>>>>;

/// A job to run.
// Holds a closure, which has no Debug.
#[allow(missing_debug_implementations)]
pub struct Job {
    /// Names the job in dependencies, in reports and in the state file, from one run to
    /// the next: not empty, no whitespace, and no other job of the list has it.
    pub name: String,
    /// (c) Do not start before this long after `run_jobs` was called.
    pub start_after: Duration,
    /// (b) Each attempt may take at most this long; a slower one is dropped and counts
    /// as failed, its error "timed out".
    pub timeout: Duration,
    /// (d) Attempts after the first one, when an attempt fails or times out: at most
    /// `retries + 1` attempts in all.
    pub retries: u32,
    /// (d) The wait after the first failed attempt, doubled after each next one
    /// ([`backoff`]).
    pub backoff: Duration,
    /// (e) The names of the jobs that must succeed before this one starts.
    pub after: Vec<String>,
    pub attempt: Attempt,
}

impl Job {
    /// A job named `name` whose attempts are the futures `attempt` makes: no start time,
    /// no retry, no backoff, no dependency, and a timeout of a minute.
    pub fn new<F, Fut>(name: impl Into<String>, attempt: F) -> Job
    where
        F: Fn() -> Fut + 'static,
        Fut: Future<Output = Result<(), String>> + 'static,
    {
        Job {
            name: name.into(),
            start_after: Duration::ZERO,
            timeout: Duration::from_secs(60),
            retries: 0,
            backoff: Duration::ZERO,
            after: Vec::new(),
            attempt: Box::new(move || Box::pin(attempt())),
        }
    }
}

/// The most jobs that run at once unless told otherwise: the default `limit`.
pub const DEFAULT_LIMIT: usize = 10;

/// How to run a list of jobs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// (a) Never more than this many jobs run at once (0 counts as 1), and this many
    /// whenever this many may run: a job starts as soon as it may, so a finished job's
    /// place is taken at once. A job runs from the start of its first attempt to its
    /// outcome, its backoff waits included; a job that waits for its start time or for
    /// its dependencies does not run, and takes no place.
    pub limit: usize,
    /// (f) The state file (see the module's documentation); `None`: nothing is kept,
    /// and every run starts from scratch.
    pub state: Option<PathBuf>,
}

impl Default for Config {
    /// (a) The default: `limit` [`DEFAULT_LIMIT`] (10), and no state file.
    fn default() -> Config {
        // BEGIN SOLUTION
        Config {
            limit: DEFAULT_LIMIT,
            state: None,
        }
        // END SOLUTION
    }
}

/// How a job ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It succeeded on attempt number `attempts` (1 = the first).
    Succeeded { attempts: u32 },
    /// Every attempt failed; `last` is the last attempt's error ("timed out" for a
    /// timeout).
    Failed { attempts: u32, last: String },
    /// It never ran: a job it depends on did not succeed.
    Skipped { because: String },
}

/// What happened to one job (in the order of the `jobs` list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobReport {
    pub name: String,
    pub outcome: Outcome,
    /// When its first attempt started and when it ended, relative to the call; `None`
    /// for a job that did not run in this call: skipped, or finished in an earlier run
    /// (its outcome read from the state file).
    pub started: Option<Duration>,
    pub ended: Option<Duration>,
}

/// Why `run_jobs` refused to run, or stopped.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// A name that is empty or has whitespace.
    #[error("job name {name:?} is empty or has whitespace")]
    BadName { name: String },
    /// Two jobs of the list have this name.
    #[error("two jobs are named {name:?}")]
    Duplicate { name: String },
    /// `job` depends on `missing`, which is no job of the list.
    #[error("job {job:?} depends on {missing:?}, which is not in the list")]
    UnknownDependency { job: String, missing: String },
    /// The jobs of a cycle, in its order: each one depends on the next, and the last one
    /// on the first.
    #[error(
        "the dependencies form a cycle: {} (each one needs the next, the last one the first)",
        .jobs.join(", ")
    )]
    Cycle { jobs: Vec<String> },
    /// The state file could not be opened, read or written.
    #[error("state file {}: {source}", .path.display())]
    State {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// (e) Checks a list of jobs, before anything runs. In this order:
///
/// 1. each name is not empty and has no whitespace ([`JobError::BadName`]), and no two
///    jobs have the same name ([`JobError::Duplicate`]);
/// 2. each name in a job's `after` is a job of the list
///    ([`JobError::UnknownDependency`]: the first such job in the list, and the name);
/// 3. the dependencies form no cycle ([`JobError::Cycle`]: the names of the jobs of one
///    cycle, each once, in the cycle's order: each one's `after` names the next, and
///    the last one's names the first). A job that names itself is a cycle of one. A job
///    that depends on a cycle without being part of it is not named; a job that two
///    others depend on (a diamond) is no cycle.
pub fn check_jobs(jobs: &[Job]) -> Result<(), JobError> {
    // BEGIN SOLUTION
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (i, job) in jobs.iter().enumerate() {
        if job.name.is_empty() || job.name.chars().any(char::is_whitespace) {
            return Err(JobError::BadName {
                name: job.name.clone(),
            });
        }
        if index.insert(&job.name, i).is_some() {
            return Err(JobError::Duplicate {
                name: job.name.clone(),
            });
        }
    }
    let mut needs: Vec<Vec<usize>> = Vec::with_capacity(jobs.len());
    for job in jobs {
        let mut deps = Vec::with_capacity(job.after.len());
        for name in &job.after {
            match index.get(name.as_str()) {
                Some(&d) => deps.push(d),
                None => {
                    return Err(JobError::UnknownDependency {
                        job: job.name.clone(),
                        missing: name.clone(),
                    });
                }
            }
        }
        needs.push(deps);
    }

    // A depth-first walk along the dependencies. A job reached again while it is still
    // on the current path closes a cycle: the path from it. A job whose dependencies
    // were all walked is clear, and reaching it again (a diamond) is no cycle. A loop
    // with an explicit path, not recursion: a chain of a million jobs would overflow
    // the thread's stack.
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Mark {
        New,
        OnPath,
        Clear,
    }
    let mut mark = vec![Mark::New; jobs.len()];
    for root in 0..jobs.len() {
        if mark[root] != Mark::New {
            continue;
        }
        // Each job on the path, and how many of its dependencies were walked.
        let mut path: Vec<(usize, usize)> = vec![(root, 0)];
        mark[root] = Mark::OnPath;
        while let Some(top) = path.last_mut() {
            let (job, walked) = *top;
            let Some(&dep) = needs[job].get(walked) else {
                mark[job] = Mark::Clear;
                path.pop();
                continue;
            };
            top.1 += 1;
            match mark[dep] {
                Mark::New => {
                    mark[dep] = Mark::OnPath;
                    path.push((dep, 0));
                }
                Mark::OnPath => {
                    let from = path.iter().position(|&(j, _)| j == dep).unwrap_or(0);
                    return Err(JobError::Cycle {
                        jobs: path[from..]
                            .iter()
                            .map(|&(j, _)| jobs[j].name.clone())
                            .collect(),
                    });
                }
                Mark::Clear => {}
            }
        }
    }
    Ok(())
    // END SOLUTION
}

/// (d) The wait after failed attempt number `failed` (1 = the first attempt failed),
/// before the next attempt: `base * 2^(failed - 1)`, so `base`, `2 * base`,
/// `4 * base`... `failed` 0 counts as 1. Never panics: a wait too long for a
/// `Duration` is `Duration::MAX`, whatever `failed` (`u32::MAX` included).
pub fn backoff(base: Duration, failed: u32) -> Duration {
    // BEGIN SOLUTION
    // Doubling the Duration itself, saturating, never overflows, whereas a factor
    // 2^(failed - 1) in an integer runs out (a u32 at 33 failures). After 128 doublings
    // any wait of 1 ns or more is past Duration::MAX (about 2^94 ns), and a zero one
    // stays zero: stopping there keeps failed = u32::MAX quick.
    let doublings = (failed.max(1) - 1).min(128);
    let mut wait = base;
    for _ in 0..doublings {
        wait = wait.saturating_mul(2);
    }
    wait
    // END SOLUTION
}

/// (f) What an earlier run's state file says: the outcome of each job that finished, by
/// name.
///
/// - Only complete lines count, those ended by `\n`: a torn last line is ignored.
/// - `succeeded NAME ATTEMPTS` gives `Succeeded { attempts }`, and
///   `failed NAME ATTEMPTS ERROR` gives `Failed { attempts, last: ERROR }`, where
///   ATTEMPTS is a number (a `u32`) and ERROR everything after the space that follows
///   it (maybe nothing; a `failed` line without that space has an empty ERROR).
/// - A `started` line gives no outcome, and neither does a line that fits none of these
///   forms (an unknown first word, a missing field, ATTEMPTS not a number, an empty
///   NAME): such lines are ignored.
/// - When a name has several outcome lines, the last one counts.
pub fn read_state(text: &str) -> HashMap<String, Outcome> {
    // BEGIN SOLUTION
    /// The job and outcome of an outcome line; `None` for any other line.
    fn parse_outcome(line: &str) -> Option<(&str, Outcome)> {
        let (word, rest) = line.split_once(' ')?;
        let (name, rest) = rest.split_once(' ')?;
        if name.is_empty() {
            return None;
        }
        match word {
            "succeeded" => Some((
                name,
                Outcome::Succeeded {
                    attempts: rest.parse().ok()?,
                },
            )),
            "failed" => {
                let (attempts, error) = rest.split_once(' ').unwrap_or((rest, ""));
                Some((
                    name,
                    Outcome::Failed {
                        attempts: attempts.parse().ok()?,
                        last: error.to_string(),
                    },
                ))
            }
            _ => None,
        }
    }

    let mut outcomes = HashMap::new();
    // Only up to the last '\n': what follows it is a line whose writing was cut short.
    let Some(end) = text.rfind('\n') else {
        return outcomes;
    };
    // A later line replaces what an earlier one said about the same job.
    for line in text[..end].split('\n') {
        if let Some((name, outcome)) = parse_outcome(line) {
            outcomes.insert(name.to_string(), outcome);
        }
    }
    outcomes
    // END SOLUTION
}

/// (f) The state file, open for appending: where [`run_jobs`] writes what happens.
#[derive(Debug)]
pub struct StateFile {
    path: PathBuf,
    file: File,
}

impl StateFile {
    /// Opens the state file at `path` for appending, creating it when it does not exist
    /// (a first run: nothing finished yet), and returns it with the outcomes an earlier
    /// run wrote ([`read_state`]). A torn last line is cut off the file first, so that
    /// the next line written starts a line of its own: written after the torn
    /// `succeeded b`, `started c` would make one line `succeeded bstarted c`. Any error
    /// is [`JobError::State`], with the path.
    pub fn open(path: &Path) -> Result<(StateFile, HashMap<String, Outcome>), JobError> {
        // BEGIN SOLUTION
        use std::fs::OpenOptions;
        use std::io::Read;

        let failed = |source| JobError::State {
            path: path.to_path_buf(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(failed)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(failed)?;
        let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        if complete < bytes.len() {
            // Appending writes at the end of the file, wherever that is now.
            file.set_len(complete as u64).map_err(failed)?;
        }
        let outcomes = read_state(&String::from_utf8_lossy(&bytes[..complete]));
        let state = StateFile {
            path: path.to_path_buf(),
            file,
        };
        Ok((state, outcomes))
        // END SOLUTION
    }

    /// Appends `started NAME`, in one write of the whole line.
    pub fn started(&mut self, name: &str) -> Result<(), JobError> {
        // BEGIN SOLUTION
        self.append(&format!("started {name}\n"))
        // END SOLUTION
    }

    /// Appends a finished job's outcome line, in one write of the whole line:
    /// `succeeded NAME ATTEMPTS`, or `failed NAME ATTEMPTS ERROR` with each `\n` and
    /// `\r` of the error replaced by a space. A skipped job writes nothing.
    pub fn finished(&mut self, name: &str, outcome: &Outcome) -> Result<(), JobError> {
        // BEGIN SOLUTION
        let line = match outcome {
            Outcome::Succeeded { attempts } => format!("succeeded {name} {attempts}\n"),
            Outcome::Failed { attempts, last } => {
                let last = last.replace(['\n', '\r'], " ");
                format!("failed {name} {attempts} {last}\n")
            }
            Outcome::Skipped { .. } => return Ok(()),
        };
        self.append(&line)
        // END SOLUTION
    }

    /// Writes `line` whole, with one `write_all` (never `writeln!`, which writes a line
    /// in pieces: a kill between two of them would tear it anywhere).
    fn append(&mut self, line: &str) -> Result<(), JobError> {
        self.file
            .write_all(line.as_bytes())
            .map_err(|source| JobError::State {
                path: self.path.clone(),
                source,
            })
    }
}

/// (b, d) Makes the attempts of one job, one after the other, and returns its outcome:
///
/// - (b) each attempt within `job.timeout`: an attempt still running then is dropped
///   at once, which cancels it, and fails with the error "timed out";
/// - the first attempt that succeeds ends the job: `Succeeded` with its number;
/// - (d) a failed attempt is retried while fewer than `job.retries + 1` attempts were
///   made (any `u32`), after a wait of `backoff(job.backoff, n)` following failed
///   attempt number `n`, on a timer (`sleep`); no wait follows the last attempt, which
///   gives `Failed` with its error.
pub async fn run_job(job: &Job) -> Outcome {
    // BEGIN SOLUTION
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
        // Compared, not `retries + 1`: that overflows for u32::MAX.
        if attempts > job.retries {
            return Outcome::Failed {
                attempts,
                last: error,
            };
        }
        sleep(backoff(job.backoff, attempts)).await;
    }
    // END SOLUTION
}

/// Runs `jobs` on the current executor (call it inside `block_on`) and reports on each,
/// in the order of the list:
///
/// 1. (e) First [`check_jobs`]: its error is returned before anything runs, and before
///    the state file is opened.
/// 2. (f) With a state file, [`StateFile::open`]: a job it gives an outcome finished in
///    an earlier run; it is not run again, and its report has that outcome.
/// 3. Each other job starts as soon as it may: (c) no earlier than its `start_after`
///    after the call; (e) once every job its `after` names has succeeded, in this run or
///    an earlier one (a job one of whose dependencies did not succeed is skipped, never
///    run); (a) while fewer than `config.limit` jobs run (0 counts as 1). When several
///    may start at once, they start in the order of the list.
/// 4. A job that starts runs its attempts with [`run_job`], in a task of its own.
/// 5. (f) `started NAME` is written before a job's first attempt begins, and its outcome
///    line as soon as `run_jobs` learns it, before any other job starts. A failed write
///    ends the run: no job starts after it, and once the running ones are over,
///    `run_jobs` returns the error.
/// 6. While nothing can change, it sleeps until a job finishes or the next start time
///    comes: not on a short timer, nor by reading the state file again.
///
/// Returns one report per job, in the order of the list.
pub async fn run_jobs(jobs: Vec<Job>, config: Config) -> Result<Vec<JobReport>, JobError> {
    // BEGIN SOLUTION
    use std::cell::RefCell;
    use std::future::poll_fn;
    use std::rc::Rc;
    use std::task::{Poll, Waker};
    use std::time::Instant;

    use event_loop::step7_executor::{sleep_until, spawn};

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
        // Sleep until something can change: a job finishes (its task wakes us) or the
        // next start time comes. Never on a short timer: a loop that looked every few
        // milliseconds would wake hundreds of times a second for nothing.
        let mut start_time = next_start.map(|at| sleep_until(procs::deadline::after(begun, at)));
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
    Ok(reports)
    // END SOLUTION
}
