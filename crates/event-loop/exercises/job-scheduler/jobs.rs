//! `jobs`: simulated jobs, given on the command line, run by the exercise's `run_jobs`.
//!
//! A job here is pretend work: each attempt sleeps, then fails (the first `fail` of
//! them) or succeeds. That is enough to watch every feature of the scheduler at work:
//! the limit, a timeout that cancels an attempt, a start time, retries with their
//! backoff, dependencies, and the state file that lets a killed run go on where it
//! stopped. Every attempt prints when it starts and how it ends, and the end is a table
//! of each job's outcome and times.
//!
//! It calls your `run_jobs`: in your copy of the course it works once you have written
//! it (until then, the `todo!()` stops it with the task).

use std::cell::Cell;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::{Duration, Instant};

use clap::Parser;
use event_loop::step7_executor::{Executor, sleep};
use event_loop_job_scheduler::{Config, Job, JobReport, Outcome, run_jobs};

const EXAMPLES: &str = "\
Examples:
  jobs --job name=fetch,sleep=300ms,fail=2,retries=3,backoff=100ms --job name=parse,after=fetch
  jobs --limit 2 --job name=a,sleep=1s --job name=b,sleep=1s --job name=c,sleep=1s
  jobs --job name=slow,sleep=2s,timeout=500ms,retries=1 --job name=later,start=+1s
  jobs --state /tmp/jobs.state --job name=one,sleep=2s --job name=two,sleep=2s,after=one
       (stop it with Ctrl-C while two runs, then run it again: one does not run again)";

/// Runs simulated jobs through the exercise's run_jobs (event-loop/job-scheduler), on
/// lesson 4's executor, and prints each attempt as it happens, then each job's outcome.
#[derive(Debug, Parser)]
#[command(name = "jobs", after_help = EXAMPLES)]
struct Args {
    /// A job (one --job for each), as name=NAME followed by any of: sleep=DUR (each attempt takes this long;
    /// 100ms), fail=N (its first N attempts fail; 0), timeout=DUR (per attempt; 60s),
    /// retries=N (0), backoff=DUR (the wait after the first failed attempt, doubled
    /// after each next one; 0s), after=NAME (a job that must succeed first; repeat it
    /// for several), start=+DUR (not before this long after the start; 0s). A DUR is a
    /// number followed by ms or s (250ms, 1.5s).
    #[arg(short, long = "job", value_name = "SPEC", required = true, value_parser = parse_job)]
    jobs: Vec<JobSpec>,

    /// At most this many jobs at once (0 counts as 1) [default: 10, Config::default()]
    #[arg(long, value_name = "N")]
    limit: Option<usize>,

    /// The state file: run again with the same file after stopping a run (Ctrl-C,
    /// kill -9), and the jobs that finished do not run again
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
}

/// One `--job`, parsed.
#[derive(Debug, Clone, PartialEq)]
struct JobSpec {
    name: String,
    sleep: Duration,
    fail: u32,
    timeout: Duration,
    retries: u32,
    backoff: Duration,
    after: Vec<String>,
    start: Duration,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let mut config = Config::default();
    if let Some(limit) = args.limit {
        config.limit = limit;
    }
    config.state = args.state;
    let executor = match Executor::new() {
        Ok(executor) => executor,
        Err(e) => {
            eprintln!("jobs: cannot start the executor: {e}");
            return ExitCode::from(2);
        }
    };
    let begun = Instant::now();
    let jobs = args
        .jobs
        .iter()
        .map(|spec| simulated(spec, begun))
        .collect();
    let limit = config.limit;
    println!("{} jobs, at most {limit} at once", args.jobs.len());
    match executor.block_on(run_jobs(jobs, config)) {
        Err(e) => {
            eprintln!("jobs: the executor failed: {e}");
            ExitCode::from(2)
        }
        Ok(Err(e)) => {
            eprintln!("jobs: {e}");
            ExitCode::from(2)
        }
        Ok(Ok(reports)) => {
            print!("{}", table(&reports));
            let all_succeeded = reports
                .iter()
                .all(|r| matches!(r.outcome, Outcome::Succeeded { .. }));
            if all_succeeded {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
    }
}

/// The job a spec describes: each attempt prints its start, sleeps, and fails while
/// `fail` attempts of this run have not failed yet.
fn simulated(spec: &JobSpec, begun: Instant) -> Job {
    let made = Rc::new(Cell::new(0u32));
    let (name, work, fail) = (spec.name.clone(), spec.sleep, spec.fail);
    let mut job = Job::new(spec.name.clone(), move || {
        made.set(made.get() + 1);
        let (n, name) = (made.get(), name.clone());
        async move {
            say(begun, &name, &format!("attempt {n} starts"));
            // Dropped before the sleep ends: the attempt timed out and was cancelled.
            let mut watch = Cancelled {
                begun,
                name: &name,
                n,
                done: false,
            };
            sleep(work).await;
            watch.done = true;
            if n <= fail {
                say(begun, &name, &format!("attempt {n} fails"));
                Err(format!("simulated failure {n} of {fail}"))
            } else {
                say(begun, &name, &format!("attempt {n} succeeds"));
                Ok(())
            }
        }
    });
    job.timeout = spec.timeout;
    job.retries = spec.retries;
    job.backoff = spec.backoff;
    job.after = spec.after.clone();
    job.start_after = spec.start;
    job
}

/// Says, when dropped before its attempt finished, that the attempt was cancelled.
struct Cancelled<'a> {
    begun: Instant,
    name: &'a str,
    n: u32,
    done: bool,
}

impl Drop for Cancelled<'_> {
    fn drop(&mut self) {
        if !self.done {
            let text = format!("attempt {} cancelled (dropped before its end)", self.n);
            say(self.begun, self.name, &text);
        }
    }
}

/// One line of what happens: the time since the start, the job, the event.
fn say(begun: Instant, name: &str, what: &str) {
    println!("{:>8.3}s  {name}: {what}", begun.elapsed().as_secs_f64());
}

/// The reports as a table: each job, its outcome, when it started and ended.
fn table(reports: &[JobReport]) -> String {
    let rows: Vec<[String; 4]> = reports
        .iter()
        .map(|r| {
            let at =
                |t: Option<Duration>| t.map_or("-".into(), |t| format!("{:.3}s", t.as_secs_f64()));
            let mut outcome = match &r.outcome {
                Outcome::Succeeded { attempts } => format!("succeeded at attempt {attempts}"),
                Outcome::Failed { attempts: 1, last } => {
                    format!("failed at its only attempt: {last}")
                }
                Outcome::Failed { attempts, last } => {
                    format!("failed after {attempts} attempts: {last}")
                }
                Outcome::Skipped { because } => format!("skipped: {because}"),
            };
            if r.started.is_none() && !matches!(r.outcome, Outcome::Skipped { .. }) {
                outcome.push_str(" (in an earlier run)");
            }
            [r.name.clone(), outcome, at(r.started), at(r.ended)]
        })
        .collect();
    let header = ["job", "outcome", "started", "ended"].map(String::from);
    let mut widths = header.clone().map(|h| h.len());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut text = String::from("\n");
    for row in std::iter::once(&header).chain(&rows) {
        let _ = writeln!(
            text,
            "{:<w0$}  {:<w1$}  {:>w2$}  {:>w3$}",
            row[0],
            row[1],
            row[2],
            row[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3]
        );
    }
    text
}

/// Parses a `--job` spec: `name=NAME,key=value,...`.
fn parse_job(text: &str) -> Result<JobSpec, String> {
    let mut spec = JobSpec {
        name: String::new(),
        sleep: Duration::from_millis(100),
        fail: 0,
        timeout: Duration::from_secs(60),
        retries: 0,
        backoff: Duration::ZERO,
        after: Vec::new(),
        start: Duration::ZERO,
    };
    for field in text.split(',') {
        let (key, value) = field
            .split_once('=')
            .ok_or_else(|| format!("{field:?} is not key=value"))?;
        let number = |value: &str| {
            value
                .parse::<u32>()
                .map_err(|_| format!("{key}={value}: not a whole number"))
        };
        match key {
            "name" => spec.name = value.to_string(),
            "sleep" => spec.sleep = parse_duration(value)?,
            "fail" => spec.fail = number(value)?,
            "timeout" => spec.timeout = parse_duration(value)?,
            "retries" => spec.retries = number(value)?,
            "backoff" => spec.backoff = parse_duration(value)?,
            "after" => spec.after.push(value.to_string()),
            "start" => spec.start = parse_duration(value.strip_prefix('+').unwrap_or(value))?,
            _ => {
                return Err(format!(
                    "unknown key {key:?} (name, sleep, fail, timeout, retries, backoff, \
                     after, start)"
                ));
            }
        }
    }
    if spec.name.is_empty() {
        return Err("a job needs name=NAME".into());
    }
    Ok(spec)
}

/// `250ms`, `2s`, `1.5s` (and `0`).
fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("{text:?} is not a duration (250ms, 2s, 1.5s)");
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    if let Some(ms) = text.strip_suffix("ms") {
        return ms
            .parse::<u64>()
            .map(Duration::from_millis)
            .map_err(|_| bad());
    }
    let secs: f64 = text
        .strip_suffix('s')
        .ok_or_else(bad)?
        .parse()
        .map_err(|_| bad())?;
    Duration::try_from_secs_f64(secs).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_spec_sets_each_field_and_keeps_the_defaults() {
        let spec = parse_job("name=fetch,sleep=200ms,fail=2,timeout=1s,retries=3,backoff=50ms,after=a,after=b,start=+1.5s").unwrap();
        assert_eq!(
            spec,
            JobSpec {
                name: "fetch".into(),
                sleep: Duration::from_millis(200),
                fail: 2,
                timeout: Duration::from_secs(1),
                retries: 3,
                backoff: Duration::from_millis(50),
                after: vec!["a".into(), "b".into()],
                start: Duration::from_millis(1500),
            }
        );
        let plain = parse_job("name=x").unwrap();
        assert_eq!(
            (plain.sleep, plain.fail, plain.retries),
            (Duration::from_millis(100), 0, 0)
        );
    }

    #[test]
    fn a_bad_spec_says_what_is_wrong() {
        assert!(parse_job("sleep=1s").unwrap_err().contains("name=NAME"));
        assert!(
            parse_job("name=x,colour=red")
                .unwrap_err()
                .contains("unknown key")
        );
        assert!(
            parse_job("name=x,sleep=soon")
                .unwrap_err()
                .contains("not a duration")
        );
        assert!(
            parse_job("name=x,fail=-1")
                .unwrap_err()
                .contains("whole number")
        );
        assert!(parse_job("name=x,start=-1s").is_err());
    }
}
