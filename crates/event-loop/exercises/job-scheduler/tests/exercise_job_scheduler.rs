//! Graded tests for exercise `event-loop/job-scheduler`, a section for each feature of
//! the task: (a) the limit, (b) the timeout, (c) the start time, (d) retries with
//! backoff, (e) dependencies, (f) the state file, and last the scheduler's own sleep.
//!
//! The jobs' attempts write what they do in a log the test keeps (an event list,
//! counters of attempts alive), so the rules are checked on the order of events the
//! test saw, not only on the reports `run_jobs` writes about itself. The parts that are
//! plain functions (`check_jobs`, `backoff`, `read_state`, `StateFile`) are also
//! checked alone, on exact values.
//!
//! No check measures speed. A time is checked from below (timers never fire early: a job
//! that may start at 300 ms has not started before), or against a *witness*: a timer
//! the test sets at the same moment as the scheduler's own, half as long again as the
//! wait the task asks for. A busy machine delays both alike, and the executor wakes
//! timers in the order of their deadlines, so a scheduler that waits too long is seen
//! to, however slow the machine.
//!
//! The state file tests work in a folder of their own under the system's temp folder,
//! removed at the end. One of them kills a scheduler: it runs itself again as a child
//! process (this same test binary, with [`KILL_CHILD`] set), kills it (SIGKILL) while a
//! job runs, and runs the same jobs again with the same state file.
//!
//! Every check names the jobs it ran and the rule of the task it checks
//! ([`graded::scene`]); a panic in your code, or in a task it spawned, is reported as
//! one, with those jobs.

#[path = "../../../tests/common/mod.rs"]
mod common;

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::fmt;
use std::future::poll_fn;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use event_loop::step7_executor::{Executor, sleep, spawn, timeout};
use event_loop_job_scheduler::{
    Attempt, Config, Job, JobError, JobReport, Outcome, StateFile, backoff, check_jobs, read_state,
    run_jobs,
};
use graded::{Case, case, scene};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// At most `k` jobs at once, no state file.
fn limit(k: usize) -> Config {
    Config {
        limit: k,
        state: None,
    }
}

/// A job with no start time, dependency, retry nor backoff, a generous timeout, and
/// `attempt`.
fn job_with(name: &str, attempt: Attempt) -> Job {
    Job {
        name: name.into(),
        start_after: Duration::ZERO,
        timeout: Duration::from_secs(5),
        retries: 0,
        backoff: Duration::ZERO,
        after: vec![],
        attempt,
    }
}

/// A job whose attempts sleep `work` ms and then succeed (or fail while `fail_first`
/// attempts are left).
fn job(name: &str, work: u64, fail_first: u32) -> Job {
    let left = Rc::new(Cell::new(fail_first));
    job_with(
        name,
        Box::new(move || {
            let left = left.clone();
            Box::pin(async move {
                sleep(ms(work)).await;
                if left.get() > 0 {
                    left.set(left.get() - 1);
                    Err(format!("failing, {} more", left.get()))
                } else {
                    Ok(())
                }
            })
        }),
    )
}

/// `job`, depending on the jobs `names`.
fn after(mut job: Job, names: &[&str]) -> Job {
    job.after = names.iter().map(|n| n.to_string()).collect();
    job
}

/// What the attempts did, in order: "<name> start" and "<name> end".
type Log = Rc<RefCell<Vec<String>>>;

/// A job whose attempts write their start and end in `log` and sleep `work` ms between.
fn logged_job(name: &str, work: u64, log: &Log) -> Job {
    let (name_owned, log) = (name.to_string(), log.clone());
    job_with(
        name,
        Box::new(move || {
            let (name, log) = (name_owned.clone(), log.clone());
            Box::pin(async move {
                log.borrow_mut().push(format!("{name} start"));
                sleep(ms(work)).await;
                log.borrow_mut().push(format!("{name} end"));
                Ok(())
            })
        }),
    )
}

/// Checks that `first` comes before `then` in the attempts' `log`, for the task's rule in
/// `c`. An event that is not there at all fails too.
#[track_caller]
fn before(c: &Case, log: &[String], first: &str, then: &str) {
    let at = |event: &str| log.iter().position(|e| e == event);
    match (at(first), at(then)) {
        (Some(a), Some(b)) => c.check(a < b, log),
        _ => c.fail_with(&format!(
            "the attempts' log has no {first:?} or no {then:?}: {log:?}"
        )),
    }
}

/// Checks that `event` is in the `log`, before the `witness` timer fired (or the witness
/// never fired: the run was over first).
#[track_caller]
fn before_the_witness(c: &Case, log: &[String], event: &str, witness: &str) {
    let at = |e: &str| log.iter().position(|x| x == e);
    match (at(event), at(witness)) {
        (None, _) => c.fail_with(&format!("the log has no {event:?}: {log:?}")),
        (Some(a), Some(w)) if w < a => {
            c.fail_with(&format!("{witness:?} came first, then {event:?}: {log:?}"))
        }
        _ => {}
    }
}

/// Runs `jobs` with `config` on `executor` (on this thread): what `run_jobs` returned. A
/// panic in `run_jobs`, or in a task it spawned (it unwinds out of `block_on`), is
/// reported with `c`.
#[track_caller]
fn try_run_on(
    executor: &Executor,
    c: &Case,
    jobs: Vec<Job>,
    config: Config,
) -> Result<Vec<JobReport>, JobError> {
    c.run(|| executor.block_on(run_jobs(jobs, config)))
        .expect("the lesson's executor runs (epoll_wait)")
}

/// [`try_run_on`], which must return reports: one per job, in the order of the list.
#[track_caller]
fn run_on(executor: &Executor, c: &Case, jobs: Vec<Job>, config: Config) -> Vec<JobReport> {
    let names: Vec<String> = jobs.iter().map(|j| j.name.clone()).collect();
    let reports = match try_run_on(executor, c, jobs, config) {
        Ok(reports) => reports,
        Err(e) => c.fail_with(&format!("run_jobs returned an error: {e} ({e:?})")),
    };
    let reported: Vec<String> = reports.iter().map(|r| r.name.clone()).collect();
    c.rule("report on each job, in the order of the list (the names in the reports)")
        .eq(reported, names);
    reports
}

/// [`run_on`] an executor made for this call.
#[track_caller]
fn run(c: &Case, jobs: Vec<Job>, config: Config) -> Vec<JobReport> {
    let executor = Executor::new().expect("the lesson's executor starts (epoll, eventfd)");
    run_on(&executor, c, jobs, config)
}

fn outcomes(reports: &[JobReport]) -> Vec<Outcome> {
    reports.iter().map(|r| r.outcome.clone()).collect()
}

/// A folder of its own under the system's temp folder, removed with what it holds when
/// dropped (a failing check included: it unwinds).
struct TempDir(PathBuf);

impl TempDir {
    fn new(what: &str) -> TempDir {
        static MADE: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "job-scheduler-{what}-{}-{}",
            std::process::id(),
            // The read-modify-write alone makes each number unique: Relaxed would do.
            MADE.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("a folder in the temp folder");
        TempDir(path)
    }

    fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The text of a file, or "" when there is none.
fn file_text(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Text shown as it is in a failure (a file's lines, say), not quoted and escaped.
#[derive(PartialEq)]
struct Shown(String);

impl fmt::Debug for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

// ----- (a) the limit -----

#[test]
fn every_job_runs_and_reports_in_the_order_of_the_list() {
    // They finish in the order b, c, a; the reports keep the list's order.
    let c = scene(
        "jobs a, b, c whose attempts take 200, 10 and 100 ms and succeed; limit 3",
        "run each job and report on each, in the order of the list",
    );
    let reports = common::within(&c, 20, move |c| {
        let jobs = vec![job("a", 200, 0), job("b", 10, 0), job("c", 100, 0)];
        run(&c, jobs, limit(3))
    });
    c.rule("each job runs, and succeeds at its 1st attempt").eq(
        outcomes(&reports),
        vec![Outcome::Succeeded { attempts: 1 }; 3],
    );
    c.rule("a job that ran says when it started and ended, the end not before the start")
        .check(
            reports
                .iter()
                .all(|r| r.started.is_some() && r.ended >= r.started),
            &reports,
        );
}

/// Runs `count` jobs of 40 ms with `config`; returns the most attempts seen running at
/// the same time, and the outcomes.
fn peak_with(c: &Case, count: usize, config: Config) -> (usize, Vec<Outcome>) {
    common::within(c, 20, move |c| {
        let now = Rc::new(Cell::new(0usize));
        let peak = Rc::new(Cell::new(0usize));
        let jobs = (0..count)
            .map(|i| {
                let (now, peak) = (now.clone(), peak.clone());
                job_with(
                    &format!("j{i}"),
                    Box::new(move || {
                        let (now, peak) = (now.clone(), peak.clone());
                        Box::pin(async move {
                            now.set(now.get() + 1);
                            peak.set(peak.get().max(now.get()));
                            sleep(ms(40)).await;
                            now.set(now.get() - 1);
                            Ok(())
                        })
                    }),
                )
            })
            .collect();
        let reports = run(&c, jobs, config);
        (peak.get(), outcomes(&reports))
    })
}

#[track_caller]
fn all_succeeded(c: &Case, outcomes: &[Outcome]) {
    c.check(
        outcomes
            .iter()
            .all(|o| matches!(o, Outcome::Succeeded { .. })),
        outcomes,
    );
}

#[test]
fn at_most_k_run_at_once_and_k_is_reached() {
    let c = scene(
        "8 jobs whose attempts take 40 ms and succeed; limit 3",
        "(a) never more than `limit` jobs at once, and `limit` at once whenever that many \
         may run",
    );
    let (peak, outcomes) = peak_with(&c, 8, limit(3));
    all_succeeded(&c.rule("each job runs, and succeeds"), &outcomes);
    c.rule(
        "(a) never more than `limit` jobs at once, and `limit` at once whenever that many \
         may run: 8 jobs, limit 3 (the most attempts seen running at once)",
    )
    .eq(peak, 3);
}

#[test]
fn a_limit_of_zero_counts_as_one() {
    let c = scene(
        "8 jobs whose attempts take 40 ms and succeed; limit 0",
        "(a) a limit of 0 counts as 1",
    );
    let (peak, outcomes) = peak_with(&c, 8, limit(0));
    all_succeeded(
        &c.rule("(a) a limit of 0 counts as 1: every job still runs, and succeeds"),
        &outcomes,
    );
    c.rule("(a) a limit of 0 counts as 1 (the most attempts seen running at once)")
        .eq(peak, 1);
}

#[test]
fn the_default_limit_is_10() {
    let c = scene(
        "Config::default()",
        "(a) the default: a limit of 10, and no state file",
    );
    let config = c.run(Config::default);
    c.eq(
        config.clone(),
        Config {
            limit: 10,
            state: None,
        },
    );
    let c = scene(
        "15 jobs whose attempts take 40 ms and succeed; Config::default()",
        "(a) by default never more than 10 jobs at once, and 10 when 15 may run (the most \
         attempts seen running at once)",
    );
    let (peak, outcomes) = peak_with(&c, 15, config);
    all_succeeded(&c.rule("each job runs, and succeeds"), &outcomes);
    c.eq(peak, 10);
}

/// A gate a job's attempt can wait at until another attempt opens it (all on one thread).
#[derive(Default)]
struct Gate {
    open: Cell<bool>,
    waiter: RefCell<Option<Waker>>,
}

impl Gate {
    fn open(&self) {
        self.open.set(true);
        let waiter = self.waiter.borrow_mut().take();
        if let Some(waiter) = waiter {
            waiter.wake();
        }
    }

    async fn opened(&self) {
        poll_fn(|cx| {
            if self.open.get() {
                return Poll::Ready(());
            }
            *self.waiter.borrow_mut() = Some(cx.waker().clone());
            Poll::Pending
        })
        .await;
    }
}

#[test]
fn a_finished_job_frees_its_place_at_once() {
    // Limit 2. "short" ends at once; "next" must take its place then. "long" runs until
    // "next" has ended (or 3 s have passed, for a scheduler that never starts "next"
    // while "long" runs): no timing decides the order, only the scheduler.
    let c = scene(
        "jobs \"long\" (runs until \"next\" has ended, 3 s at most), \"short\" (10 ms), \
         \"next\" (0 ms); limit 2",
        "each job as soon as it may: \"next\" takes the place of \"short\" when it ends, \
         while \"long\" runs (the attempts' log)",
    );
    let events = common::within(&c, 20, move |c| {
        let log: Log = Rc::default();
        let gate = Rc::new(Gate::default());
        let (long_log, long_gate) = (log.clone(), gate.clone());
        let long = job_with(
            "long",
            Box::new(move || {
                let (log, gate) = (long_log.clone(), long_gate.clone());
                Box::pin(async move {
                    log.borrow_mut().push("long start".into());
                    let _ = timeout(Duration::from_secs(3), gate.opened()).await;
                    log.borrow_mut().push("long end".into());
                    Ok(())
                })
            }),
        );
        let (next_log, next_gate) = (log.clone(), gate.clone());
        let next = job_with(
            "next",
            Box::new(move || {
                let (log, gate) = (next_log.clone(), next_gate.clone());
                Box::pin(async move {
                    log.borrow_mut().push("next start".into());
                    log.borrow_mut().push("next end".into());
                    gate.open();
                    Ok(())
                })
            }),
        );
        let jobs = vec![long, logged_job("short", 10, &log), next];
        run(&c, jobs, limit(2));
        log.take()
    });
    before(&c, &events, "next end", "long end");
}

#[test]
fn no_jobs_no_reports() {
    let c = scene(
        "no jobs (an empty list); limit 3",
        "report on each job: no report",
    );
    let reports = common::within(&c, 5, move |c| run(&c, Vec::new(), limit(3)));
    c.eq(reports, vec![]);
}

// ----- (b) the timeout -----

/// Counts the attempts alive (made and not dropped yet).
struct Alive(Rc<Cell<u32>>);

impl Drop for Alive {
    fn drop(&mut self) {
        self.0.set(self.0.get() - 1);
    }
}

#[test]
fn a_timed_out_attempt_is_dropped_before_the_next_begins() {
    let c = scene(
        "job \"stuck\" whose attempts take 10 s, timeout 50 ms, retries = 2; limit 1",
        "(b) each attempt within its timeout, its error \"timed out\"",
    );
    let (outcome, alive_at_starts, alive_after) = common::within(&c, 20, move |c| {
        let alive = Rc::new(Cell::new(0u32));
        let alive_at_starts = Rc::new(RefCell::new(Vec::new()));
        let (a, seen) = (alive.clone(), alive_at_starts.clone());
        let mut stuck = job_with(
            "stuck",
            Box::new(move || {
                let (alive, seen) = (a.clone(), seen.clone());
                Box::pin(async move {
                    seen.borrow_mut().push(alive.get());
                    alive.set(alive.get() + 1);
                    let _alive = Alive(alive);
                    sleep(Duration::from_secs(10)).await;
                    Ok(())
                })
            }),
        );
        stuck.timeout = ms(50);
        stuck.retries = 2;
        // The executor lives on after run_jobs returns: what is alive then was left
        // behind by run_jobs, not yet dropped with the executor.
        let executor = Executor::new().expect("the lesson's executor starts");
        let reports = run_on(&executor, &c, vec![stuck], limit(1));
        let alive_after = alive.get();
        (
            reports[0].outcome.clone(),
            alive_at_starts.take(),
            alive_after,
        )
    });
    c.eq(
        outcome,
        Outcome::Failed {
            attempts: 3,
            last: "timed out".into(),
        },
    );
    c.rule(
        "(b) a timed-out attempt is dropped at once (attempts still alive when each \
         attempt began)",
    )
    .eq(alive_at_starts, vec![0, 0, 0]);
    c.rule("(b) a timed-out attempt is dropped at once (attempts alive when run_jobs returned)")
        .eq(alive_after, 0);
}

#[test]
fn the_timeout_is_for_each_attempt_not_for_the_whole_job() {
    // Each attempt takes 100 ms, well within 250 ms; the three together take longer.
    // (An attempt's own timer is due before its timeout's, and `timeout` polls the
    // attempt first: however late both fire, the attempt wins.)
    let c = scene(
        "job \"steady\" whose attempts take 100 ms, fail twice then succeed; timeout \
         250 ms, retries = 2, no backoff; limit 1",
        "(b) each attempt within its timeout: the timeout is for one attempt, not for all \
         of them together",
    );
    let reports = common::within(&c, 20, move |c| {
        let mut steady = job("steady", 100, 2);
        steady.timeout = ms(250);
        steady.retries = 2;
        run(&c, vec![steady], limit(1))
    });
    c.eq(
        reports[0].outcome.clone(),
        Outcome::Succeeded { attempts: 3 },
    );
}

// ----- (c) the start time -----

#[test]
fn a_job_starts_no_earlier_than_its_start_time() {
    let c = scene(
        "job \"now\" (0 ms), and job \"late\" that may start 300 ms after the call; limit 2",
        "(c) no earlier than its start time",
    );
    let (reports, seen_at) = common::within(&c, 20, move |c| {
        let seen_at: Rc<Cell<Option<Duration>>> = Rc::default();
        let called = Instant::now();
        let seen = seen_at.clone();
        let mut late = job_with(
            "late",
            Box::new(move || {
                seen.set(Some(called.elapsed()));
                Box::pin(async { Ok(()) })
            }),
        );
        late.start_after = ms(300);
        let reports = run(&c, vec![job("now", 0, 0), late], limit(2));
        (reports, seen_at.get())
    });
    // Timers never fire early: whatever the machine's load, 300 ms have passed.
    let Some(seen_at) = seen_at else {
        c.rule("each job runs: \"late\" too, once its time has come")
            .fail_with("the attempt of \"late\" never began");
    };
    c.rule(
        "(c) no earlier than its start time: the attempt of \"late\" begins 300 ms after \
         the call or later",
    )
    .check(seen_at >= ms(300), seen_at);
    c.rule(
        "(c) no earlier than its start time: the report of \"late\" says it started \
         300 ms after the call or later",
    )
    .check(reports[1].started >= Some(ms(300)), &reports[1]);
    c.rule("each job runs: \"late\" succeeds at its 1st attempt")
        .eq(
            reports[1].outcome.clone(),
            Outcome::Succeeded { attempts: 1 },
        );
}

#[test]
fn a_job_waiting_for_its_start_time_takes_none_of_the_places() {
    // Limit 1. The first job may not start before 400 ms; the second may start at once,
    // and must: it finishes long before the first one's time comes.
    let c = scene(
        "job \"late\" (0 ms) that may start 400 ms after the call, then job \"free\" \
         (50 ms); limit 1",
        "(a, c) a job waiting for its start time takes none of the `limit` places: \
         \"free\" runs at once (the attempts' log)",
    );
    let events = common::within(&c, 20, move |c| {
        let log: Log = Rc::default();
        let mut late = logged_job("late", 0, &log);
        late.start_after = ms(400);
        let free = logged_job("free", 50, &log);
        run(&c, vec![late, free], limit(1));
        log.take()
    });
    before(&c, &events, "free end", "late start");
}

#[test]
fn a_start_time_counts_from_the_call_not_from_the_dependencies() {
    // "late" may start 200 ms after the call, once "first" has succeeded: at about
    // 300 ms, when "first" ends. Counted from the end of "first", it would wait until
    // 500 ms, after "witness" (450 ms). Both are started by the scheduler: even on a
    // machine so slow that every timer is late, "late" is due first, or with "witness"
    // and before it in the list.
    let c = scene(
        "job \"first\" (300 ms); job \"late\" after \"first\", may start 200 ms after the \
         call; job \"witness\" that may start 450 ms after the call; limit 3",
        "(c) a start time is counted from the call: \"late\" starts when \"first\" ends, \
         its time long come, before \"witness\" (the attempts' log)",
    );
    let events = common::within(&c, 20, move |c| {
        let log: Log = Rc::default();
        let mut late = after(logged_job("late", 0, &log), &["first"]);
        late.start_after = ms(200);
        let mut witness = logged_job("witness", 0, &log);
        witness.start_after = ms(450);
        let jobs = vec![logged_job("first", 300, &log), late, witness];
        run(&c, jobs, limit(3));
        log.take()
    });
    before(&c, &events, "late start", "witness start");
}

// ----- (d) retries with backoff -----

#[test]
fn failures_and_timeouts_are_retried() {
    let c = scene(
        "job \"flaky\" that fails twice then succeeds, retries = 3; job \"hopeless\" that \
         fails 10 times, retries = 1; job \"slow\" whose attempts take 2 s, timeout \
         100 ms, retries = 1; no backoff; limit 3",
        "(d) retried up to `retries` times",
    );
    let reports = common::within(&c, 20, move |c| {
        let mut flaky = job("flaky", 5, 2);
        flaky.retries = 3;
        let mut hopeless = job("hopeless", 5, 10);
        hopeless.retries = 1;
        let mut slow = job("slow", 2_000, 0);
        slow.timeout = ms(100);
        slow.retries = 1;
        run(&c, vec![flaky, hopeless, slow], limit(3))
    });
    c.rule("(d) retried up to `retries` times: \"flaky\" succeeds at its 3rd attempt")
        .eq(
            reports[0].outcome.clone(),
            Outcome::Succeeded { attempts: 3 },
        );
    c.rule(
        "(d) retried up to `retries` times: \"hopeless\" fails after 2 attempts, with the \
         last attempt's error",
    )
    .eq(
        reports[1].outcome.clone(),
        Outcome::Failed {
            attempts: 2,
            last: "failing, 8 more".into(),
        },
    );
    c.rule(
        "(b) each attempt within its timeout, its error \"timed out\": \"slow\" fails \
         after 2 attempts",
    )
    .eq(
        reports[2].outcome.clone(),
        Outcome::Failed {
            attempts: 2,
            last: "timed out".into(),
        },
    );
}

#[test]
fn retries_are_exactly_as_many_as_allowed() {
    // (fails first, retries) -> expected outcome: exactly enough retries, one too few,
    // none at all.
    let cases = [
        (2, 2, Outcome::Succeeded { attempts: 3 }),
        (
            3,
            2,
            Outcome::Failed {
                attempts: 3,
                last: "failing, 0 more".into(),
            },
        ),
        (
            1,
            0,
            Outcome::Failed {
                attempts: 1,
                last: "failing, 0 more".into(),
            },
        ),
    ];
    let expected: Vec<Outcome> = cases.iter().map(|c| c.2.clone()).collect();
    let c = scene(
        "job j0 that fails twice then succeeds, retries = 2; job j1 that fails 3 times, \
         retries = 2; job j2 that fails once, retries = 0; no backoff; limit 3",
        "(d) retried up to `retries` times",
    );
    let (outcomes, calls) = common::within(&c, 20, move |c| {
        let calls: Vec<Rc<Cell<u32>>> = cases.iter().map(|_| Rc::default()).collect();
        let jobs = cases
            .iter()
            .zip(&calls)
            .enumerate()
            .map(|(i, ((fail_first, retries, _), calls))| {
                let mut j = job(&format!("j{i}"), 1, *fail_first);
                let (inner, calls) = (j.attempt, calls.clone());
                j.attempt = Box::new(move || {
                    calls.set(calls.get() + 1);
                    inner()
                });
                j.retries = *retries;
                j
            })
            .collect();
        let reports = run(&c, jobs, limit(3));
        let calls: Vec<u32> = calls.iter().map(|c| c.get()).collect();
        (outcomes(&reports), calls)
    });
    c.eq(outcomes, expected);
    c.rule("(d) retried up to `retries` times (attempts made, as counted by the jobs)")
        .eq(calls, vec![3, 3, 1]);
}

#[test]
fn the_largest_retry_count_does_not_overflow() {
    let c = scene(
        "one job that fails once then succeeds, retries = u32::MAX (4294967295), no \
         backoff; limit 1",
        "(d) retried up to `retries` times (any u32): it succeeds at its 2nd attempt",
    );
    let reports = common::within(&c, 20, move |c| {
        let mut j = job("patient", 1, 1);
        j.retries = u32::MAX;
        run(&c, vec![j], limit(1))
    });
    c.eq(
        reports[0].outcome.clone(),
        Outcome::Succeeded { attempts: 2 },
    );
}

#[test]
fn backoff_doubles_from_its_base() {
    let rule = "(d) the wait after failed attempt n is base * 2^(n - 1)";
    for (base, failed, wait) in [
        (ms(100), 1, ms(100)),
        (ms(100), 2, ms(200)),
        (ms(100), 3, ms(400)),
        (ms(100), 4, ms(800)),
        (ms(250), 11, ms(256_000)),
        (Duration::from_nanos(1), 64, Duration::from_nanos(1 << 63)),
        (ms(0), 5, ms(0)),
    ] {
        let c = case(format!("backoff({base:?}, {failed})"), rule);
        let got = c.run(|| backoff(base, failed));
        c.eq(got, wait);
    }
    let c = case(
        format!("backoff({:?}, 0)", ms(100)),
        "(d) `failed` 0 counts as 1: the wait is base",
    );
    let got = c.run(|| backoff(ms(100), 0));
    c.eq(got, ms(100));
}

#[test]
fn backoff_never_overflows() {
    let rule = "(d) never panics: a wait too long for a Duration is Duration::MAX";
    for (base, failed) in [
        (Duration::from_secs(1), 65),
        (Duration::from_nanos(1), 200),
        (Duration::from_nanos(1), u32::MAX),
        (Duration::MAX, 2),
        (Duration::MAX, u32::MAX),
    ] {
        let c = case(format!("backoff({base:?}, {failed})"), rule);
        let got = c.run(|| backoff(base, failed));
        c.eq(got, Duration::MAX);
    }
    let c = case(
        "backoff(0ns, 4294967295)",
        "(d) never panics, whatever `failed`: a zero base waits zero",
    );
    let got = c.run(|| backoff(Duration::ZERO, u32::MAX));
    c.eq(got, Duration::ZERO);
}

/// When each attempt of a job began and when it failed, as the attempts saw it.
type Times = Rc<RefCell<Vec<(Instant, Option<Instant>)>>>;

/// A job with backoff `base` whose attempts fail at once while `fail_first` attempts of
/// it have not failed yet, then succeed. Each writes "<name> attempt N" in `log` when it
/// begins and its times in `times`; failed attempt N sets a witness timer of
/// `witness(N)`, which writes "witness N" in `log` when it fires.
fn witnessed_job(
    name: &str,
    fail_first: u32,
    base: Duration,
    witness: fn(u32) -> Duration,
    log: &Log,
    times: &Times,
) -> Job {
    let made = Rc::new(Cell::new(0u32));
    let (name_owned, log, times) = (name.to_string(), log.clone(), times.clone());
    let mut job = job_with(
        name,
        Box::new(move || {
            made.set(made.get() + 1);
            let (n, name) = (made.get(), name_owned.clone());
            let (log, times) = (log.clone(), times.clone());
            Box::pin(async move {
                times.borrow_mut().push((Instant::now(), None));
                log.borrow_mut().push(format!("{name} attempt {n}"));
                if n > fail_first {
                    return Ok(());
                }
                if let Some(last) = times.borrow_mut().last_mut() {
                    last.1 = Some(Instant::now());
                }
                let wait = witness(n);
                drop(spawn(async move {
                    sleep(wait).await;
                    log.borrow_mut().push(format!("witness {n}"));
                }));
                Err(format!("failure {n}"))
            })
        }),
    );
    job.backoff = base;
    job
}

#[test]
fn a_retry_waits_for_its_backoff_doubled_each_time() {
    let c = scene(
        "job \"flaky\" whose attempts fail at once twice, then succeed; retries = 3, \
         backoff 150 ms; limit 1",
        "(d) after failed attempt n, wait backoff * 2^(n - 1) before the next: 150 ms \
         after the 1st, 300 ms after the 2nd",
    );
    let (outcome, times, events) = common::within(&c, 20, move |c| {
        let (log, times): (Log, Times) = Default::default();
        // 1.5 x the backoff the scheduler should wait.
        let witness = |n: u32| ms(150 * 2u64.pow(n - 1)).mul_f64(1.5);
        let mut flaky = witnessed_job("flaky", 2, ms(150), witness, &log, &times);
        flaky.retries = 3;
        let reports = run(&c, vec![flaky], limit(1));
        (reports[0].outcome.clone(), times.take(), log.take())
    });
    c.eq(outcome, Outcome::Succeeded { attempts: 3 });
    for (n, wait) in [(1usize, ms(150)), (2, ms(300))] {
        let (Some((_, Some(failed))), Some((next, _))) = (times.get(n - 1), times.get(n)) else {
            c.fail_with(&format!("the attempts' log is short: {events:?}"));
        };
        // Timers never fire early: whatever the machine's load, the wait has passed.
        let waited = next.duration_since(*failed);
        c.rule(format!(
            "(d) after failed attempt {n}, wait backoff * 2^{} = {wait:?} before the next \
             attempt (the wait between them)",
            n - 1
        ))
        .check(
            waited >= wait,
            Shown(format!(
                "attempt {} began {waited:?} after attempt {n} failed",
                n + 1
            )),
        );
        before_the_witness(
            &c.rule(format!(
                "(d) after failed attempt {n}, wait {wait:?}, not longer: attempt {} \
                 begins before a witness timer of 1.5 x {wait:?} set when attempt {n} \
                 failed",
                n + 1
            )),
            &events,
            &format!("flaky attempt {}", n + 1),
            &format!("witness {n}"),
        );
    }
}

#[test]
fn no_wait_follows_the_last_attempt() {
    // Had the scheduler waited after the last attempt too (600 ms after the 2nd failure),
    // the witness set at that failure (450 ms) would fire before run_jobs returned.
    let c = scene(
        "job \"hopeless\" whose attempts fail at once, always; retries = 1, backoff \
         300 ms; limit 1",
        "(d) no wait follows the last attempt: run_jobs returns before a witness timer of \
         450 ms set when the last attempt failed",
    );
    let (outcome, events) = common::within(&c, 20, move |c| {
        let (log, times): (Log, Times) = Default::default();
        let witness = |_| ms(450);
        let mut hopeless = witnessed_job("hopeless", u32::MAX, ms(300), witness, &log, &times);
        hopeless.retries = 1;
        let reports = run(&c, vec![hopeless], limit(1));
        (reports[0].outcome.clone(), log.take())
    });
    c.rule("(d) retried up to `retries` times, with the last attempt's error")
        .eq(
            outcome,
            Outcome::Failed {
                attempts: 2,
                last: "failure 2".into(),
            },
        );
    c.check(!events.iter().any(|e| e == "witness 2"), &events);
}

// ----- (e) dependencies -----

#[test]
fn dependencies_run_first_and_failures_skip_their_dependents() {
    let c = scene(
        "jobs \"first\" (50 ms); \"second\" after \"first\"; \"broken\" fails once with \
         no retry; \"after-broken\" after \"broken\"; \"after-that\" after \
         \"after-broken\"; limit 4",
        "(e) after its dependencies succeeded (skipped if one did not)",
    );
    let (reports, events) = common::within(&c, 20, move |c| {
        let log: Log = Rc::default();
        let jobs = vec![
            logged_job("first", 50, &log),
            after(logged_job("second", 0, &log), &["first"]),
            job("broken", 0, 1),
            after(logged_job("after-broken", 0, &log), &["broken"]),
            after(logged_job("after-that", 0, &log), &["after-broken"]),
        ];
        let reports = run(&c, jobs, limit(4));
        (reports, log.take())
    });
    before(
        &c.rule("(e) after its dependencies succeeded: \"first\" ends before \"second\" starts"),
        &events,
        "first end",
        "second start",
    );
    c.rule("(e) after its dependencies succeeded: \"second\" runs, and succeeds")
        .eq(
            reports[1].outcome.clone(),
            Outcome::Succeeded { attempts: 1 },
        );
    c.rule("\"broken\" fails, with no retry").check(
        matches!(reports[2].outcome, Outcome::Failed { .. }),
        &reports[2],
    );
    for r in &reports[3..] {
        c.rule(format!(
            "(e) skipped if a dependency did not succeed: {:?}, with no start nor end time",
            r.name
        ))
        .check(
            matches!(r.outcome, Outcome::Skipped { .. }) && (r.started, r.ended) == (None, None),
            r,
        );
    }
    c.rule("(e) a skipped job never runs (the attempts' log)")
        .check(!events.iter().any(|e| e.starts_with("after-")), &events);
}

/// A list of jobs for check_jobs: each job's name and the names in its `after`.
type List<'a> = &'a [(&'a str, &'a [&'a str])];

/// Jobs named as `list` says, each with its dependencies; their attempts succeed at once.
fn listed(list: List<'_>) -> Vec<Job> {
    list.iter()
        .map(|(name, deps)| after(job(name, 0, 0), deps))
        .collect()
}

/// `list` in words: `[a after b, b after a, c]`.
fn in_words(list: List<'_>) -> String {
    let jobs: Vec<String> = list
        .iter()
        .map(|(name, deps)| match deps {
            [] => format!("{name:?}"),
            _ => {
                let deps: Vec<String> = deps.iter().map(|d| format!("{d:?}")).collect();
                format!("{name:?} after {}", deps.join(" and "))
            }
        })
        .collect();
    format!("check_jobs([{}])", jobs.join(", "))
}

/// check_jobs on `list`, a panic reported with `c`.
#[track_caller]
fn checked(c: &Case, list: List<'_>) -> Result<(), JobError> {
    let jobs = listed(list);
    c.run(|| check_jobs(&jobs))
}

#[test]
fn a_cycle_is_an_error_that_names_its_jobs() {
    let cycles: [(List<'_>, &[&str]); 4] = [
        (&[("a", &["b"]), ("b", &["a"])], &["a", "b"]),
        (&[("free", &[]), ("itself", &["itself"])], &["itself"]),
        (
            &[
                ("outside", &["a"]),
                ("a", &["b"]),
                ("b", &["c"]),
                ("c", &["a"]),
                ("free", &[]),
            ],
            &["a", "b", "c"],
        ),
        (
            &[
                ("ok", &[]),
                ("p", &["q", "ok"]),
                ("q", &["ok", "r"]),
                ("r", &["q"]),
            ],
            &["q", "r"],
        ),
    ];
    for (list, cycle) in cycles {
        let c = case(
            Shown(in_words(list)),
            format!(
                "(e) a cycle is an error, JobError::Cycle naming each job of the cycle \
                 ({cycle:?}) once, in its order (each one's `after` names the next, the \
                 last one's the first), and no other job"
            ),
        );
        let got = checked(&c, list);
        let Err(JobError::Cycle { jobs }) = &got else {
            c.fail(&got);
        };
        let mut names = jobs.clone();
        names.sort();
        let needs = |a: &str, b: &String| {
            list.iter()
                .any(|(name, deps)| *name == a && deps.contains(&b.as_str()))
        };
        let in_order = (0..jobs.len()).all(|k| needs(&jobs[k], &jobs[(k + 1) % jobs.len()]));
        c.check(names == cycle && in_order, &got);
    }
}

#[test]
fn a_shared_dependency_or_a_start_time_to_come_is_no_cycle() {
    let diamond: List<'_> = &[
        ("top", &[]),
        ("left", &["top"]),
        ("right", &["top"]),
        ("bottom", &["left", "right"]),
        ("under", &["bottom", "top"]),
    ];
    let c = case(
        Shown(in_words(diamond)),
        "(e) a job that two others depend on (a diamond) is no cycle",
    );
    let got = checked(&c, diamond);
    c.check(got.is_ok(), &got);

    let c = scene(
        "jobs \"top\"; \"left\" and \"right\" after \"top\"; \"bottom\" after \"left\" \
         and \"right\"; \"timed\" that may start 100 ms after the call; \"after-timed\" \
         after \"timed\"; all take 10 ms; limit 2",
        "(e) each job runs after its dependencies succeeded: no cycle, and a start time \
         to come is none either",
    );
    let (reports, events) = common::within(&c, 20, move |c| {
        let log: Log = Rc::default();
        let mut timed = logged_job("timed", 10, &log);
        timed.start_after = ms(100);
        let jobs = vec![
            logged_job("top", 10, &log),
            after(logged_job("left", 10, &log), &["top"]),
            after(logged_job("right", 10, &log), &["top"]),
            after(logged_job("bottom", 10, &log), &["left", "right"]),
            timed,
            after(logged_job("after-timed", 10, &log), &["timed"]),
        ];
        (run(&c, jobs, limit(2)), log.take())
    });
    c.eq(
        outcomes(&reports),
        vec![Outcome::Succeeded { attempts: 1 }; 6],
    );
    before(&c, &events, "left end", "bottom start");
    before(&c, &events, "right end", "bottom start");
    before(&c, &events, "timed end", "after-timed start");
}

#[test]
fn unknown_dependencies_and_bad_names_are_errors() {
    let lists: [(List<'_>, &str, &str); 6] = [
        (
            &[("a", &[]), ("b", &["a", "nope"])],
            "UnknownDependency { job: \"b\", missing: \"nope\" }",
            "(e) a name in `after` that is no job of the list is an error, naming the job \
             and the name",
        ),
        (
            &[("a", &[]), ("b", &[]), ("a", &[])],
            "Duplicate { name: \"a\" }",
            "(e) two jobs with the same name are an error",
        ),
        (
            &[("ok", &[]), ("", &[])],
            "BadName { name: \"\" }",
            "(e) an empty name is an error",
        ),
        (
            &[("two words", &[])],
            "BadName { name: \"two words\" }",
            "(e) a name with whitespace is an error",
        ),
        (
            &[("tab\there", &[])],
            "BadName { name: \"tab\\there\" }",
            "(e) a name with whitespace is an error",
        ),
        (
            &[("new\nline", &[])],
            "BadName { name: \"new\\nline\" }",
            "(e) a name with whitespace is an error",
        ),
    ];
    for (list, error, rule) in lists {
        let c = case(Shown(in_words(list)), rule);
        let got = checked(&c, list);
        c.eq(Shown(format!("{got:?}")), Shown(format!("Err({error})")));
    }
    let chain: List<'_> = &[("c", &["b"]), ("b", &["a"]), ("a", &[])];
    let c = case(
        Shown(in_words(chain)),
        "(e) dependencies may come later in the list: no error",
    );
    let got = checked(&c, chain);
    c.check(got.is_ok(), &got);
}

#[test]
fn run_jobs_refuses_a_cycle_before_anything_runs() {
    let c = scene(
        "jobs \"free\" (0 ms); \"a\" after \"b\"; \"b\" after \"a\"; limit 3, a state \
         file that does not exist yet",
        "(e) a cycle is an error before anything runs: run_jobs returns \
         JobError::Cycle, no attempt begins, and the state file is not even made",
    );
    let dir = TempDir::new("cycle");
    let state = dir.join("state");
    let config = Config {
        limit: 3,
        state: Some(state.clone()),
    };
    let (got, events) = common::within(&c, 20, move |c| {
        let log: Log = Rc::default();
        let jobs = vec![
            logged_job("free", 0, &log),
            after(logged_job("a", 0, &log), &["b"]),
            after(logged_job("b", 0, &log), &["a"]),
        ];
        let executor = Executor::new().expect("the lesson's executor starts");
        let got = try_run_on(&executor, &c, jobs, config).map(|_| ());
        (format!("{got:?}"), log.take())
    });
    c.check(got.starts_with("Err(Cycle"), &got);
    c.check(events.is_empty(), &events);
    c.check(!state.exists(), "a state file was made");
}

// ----- (f) the state file -----

/// The outcomes read_state found, in the order of their names.
fn sorted(outcomes: std::collections::HashMap<String, Outcome>) -> BTreeMap<String, Outcome> {
    outcomes.into_iter().collect()
}

/// Outcomes by name, as read_state should find them.
type Named = Vec<(String, Outcome)>;

fn succeeded(name: &str, attempts: u32) -> (String, Outcome) {
    (name.into(), Outcome::Succeeded { attempts })
}

fn failed(name: &str, attempts: u32, last: &str) -> (String, Outcome) {
    (
        name.into(),
        Outcome::Failed {
            attempts,
            last: last.into(),
        },
    )
}

#[test]
fn read_state_reads_the_outcome_lines() {
    // (the file's text, the rule, the outcomes by name)
    let cases: [(&str, &str, Named); 8] = [
        (
            "succeeded a 2\nfailed b 3 it broke down\nstarted c\n",
            "(f) `succeeded NAME ATTEMPTS` and `failed NAME ATTEMPTS ERROR` give outcomes, \
             ERROR the rest of the line; `started NAME` gives none",
            vec![succeeded("a", 2), failed("b", 3, "it broke down")],
        ),
        (
            "failed b 1 \n",
            "(f) ERROR may be empty",
            vec![failed("b", 1, "")],
        ),
        (
            "succeeded a 1\nsucceeded d 1",
            "(f) a torn last line (no \\n) is ignored",
            vec![succeeded("a", 1)],
        ),
        (
            "succeeded d 12",
            "(f) a torn last line (no \\n) is ignored",
            vec![],
        ),
        ("", "(f) an empty file: no outcome", vec![]),
        (
            "hello there\nskipped e x\nsucceeded f\nsucceeded g two\nsucceeded  1\n",
            "(f) a line of no known form gives no outcome",
            vec![],
        ),
        (
            "failed a 1 boom\nsucceeded a 2\n",
            "(f) the last outcome line of a name counts",
            vec![succeeded("a", 2)],
        ),
        (
            "started a\nsucceeded a 1\nstarted b\nstarted a\n",
            "(f) a `started` line gives no outcome, and takes none away",
            vec![succeeded("a", 1)],
        ),
    ];
    for (text, rule, expected) in cases {
        let c = case(text, rule);
        let got = c.run(|| read_state(text));
        c.eq(sorted(got), expected.into_iter().collect());
    }
}

#[test]
fn a_state_file_is_cut_to_complete_lines_before_lines_are_added() {
    let dir = TempDir::new("open");
    let path = dir.join("state");
    let torn = "succeeded a 1\nstarted b\nsucceeded b";
    std::fs::write(&path, torn).expect("the test writes a state file");
    let c = scene(
        format!(
            "a state file {torn:?}; StateFile::open, then started(\"c\"), \
             finished(\"c\", Failed {{ attempts: 2, last: \"no\\r\\nroute\" }}), \
             finished(\"d\", Skipped), finished(\"e\", Succeeded {{ attempts: 3 }})"
        ),
        "(f) open reads the outcomes, and cuts the torn last line off the file; each \
         line is then added whole, `\\n` and `\\r` of an error replaced by spaces, and a \
         skipped job writes nothing",
    );
    let got = c.run(|| -> Result<_, JobError> {
        let (mut file, outcomes) = StateFile::open(&path)?;
        file.started("c")?;
        let broken = Outcome::Failed {
            attempts: 2,
            last: "no\r\nroute".into(),
        };
        file.finished("c", &broken)?;
        let skipped = Outcome::Skipped {
            because: "a did not succeed".into(),
        };
        file.finished("d", &skipped)?;
        file.finished("e", &Outcome::Succeeded { attempts: 3 })?;
        Ok(outcomes)
    });
    let outcomes = match got {
        Ok(outcomes) => outcomes,
        Err(e) => c.fail_with(&format!("an error: {e} ({e:?})")),
    };
    c.rule("(f) open returns the outcomes of the complete lines")
        .eq(sorted(outcomes), [succeeded("a", 1)].into_iter().collect());
    c.rule("(f) the file's lines after open and four writes")
        .eq(
            Shown(file_text(&path)),
            Shown(
                "succeeded a 1\nstarted b\nstarted c\nfailed c 2 no  route\nsucceeded e 3\n".into(),
            ),
        );

    let fresh = dir.join("fresh");
    let c = scene(
        "StateFile::open of a file that does not exist",
        "(f) open makes the file: a first run, with no outcomes",
    );
    let got = c.run(|| StateFile::open(&fresh).map(|(_, outcomes)| sorted(outcomes)));
    c.check(
        matches!(&got, Ok(o) if o.is_empty()) && fresh.is_file(),
        &got,
    );

    let c = scene(
        "StateFile::open of a path that is a folder",
        "(f) an error opening the file is JobError::State, with its path",
    );
    let got = c.run(|| StateFile::open(&dir.0).map(|_| ()));
    c.check(
        matches!(&got, Err(JobError::State { path, .. }) if *path == dir.0),
        &got,
    );
}

/// The lines of `text` that end in `\n`, and whether it ends with one (or is empty).
fn lines_of(text: &str) -> (Vec<String>, bool) {
    let complete = text.is_empty() || text.ends_with('\n');
    let lines = text.lines().map(String::from).collect();
    (lines, complete)
}

#[test]
fn a_run_writes_each_start_and_outcome_down() {
    let c = scene(
        "jobs \"a\" (succeeds); \"b\" (fails, error \"boom\\nbang\", retries = 1); \"c\" \
         after \"b\"; limit 3, a new state file",
        "(f) the state file gets `started NAME` once per job that runs, before its \
         outcome line (`succeeded NAME ATTEMPTS` or `failed NAME ATTEMPTS ERROR`, each \
         \\n of the error a space), and nothing for a skipped job",
    );
    let dir = TempDir::new("run");
    let state = dir.join("state");
    let config = Config {
        limit: 3,
        state: Some(state.clone()),
    };
    let reports = common::within(&c, 20, move |c| {
        let mut b = job_with(
            "b",
            Box::new(|| Box::pin(async { Err("boom\nbang".to_string()) })),
        );
        b.retries = 1;
        let jobs = vec![job("a", 0, 0), b, after(job("c", 0, 0), &["b"])];
        run(&c, jobs, config)
    });
    c.rule("each job as the task says; the report keeps the error as it is")
        .eq(
            outcomes(&reports[..2]),
            vec![
                Outcome::Succeeded { attempts: 1 },
                Outcome::Failed {
                    attempts: 2,
                    last: "boom\nbang".into(),
                },
            ],
        );
    c.rule("(e) skipped if a dependency did not succeed: c")
        .check(
            matches!(reports[2].outcome, Outcome::Skipped { .. }),
            &reports[2],
        );
    let text = file_text(&state);
    let (lines, complete) = lines_of(&text);
    c.check(complete, Shown(text.clone()));
    let mut got = lines.clone();
    got.sort();
    let mut expected = vec![
        "failed b 2 boom bang",
        "started a",
        "started b",
        "succeeded a 1",
    ];
    expected.sort_unstable();
    c.check(got == expected, Shown(text.clone()));
    let at = |line: &str| lines.iter().position(|l| l == line);
    c.check(
        at("started a") < at("succeeded a 1") && at("started b") < at("failed b 2 boom bang"),
        Shown(text),
    );
}

#[test]
fn a_second_run_reruns_nothing_that_finished() {
    let kept = "succeeded a 2\nfailed b 3 it broke\nstarted c\nhello there\nsucceeded zz 1\n";
    let torn = "succeeded d 1";
    let c = scene(
        format!(
            "a state file {:?}; jobs \"a\", \"b\", \"c\", \"d\", \"e\" after \"a\", \"f\" \
             after \"b\", all succeed at once; limit 1",
            format!("{kept}{torn}")
        ),
        "(f) a job with an outcome line is not run again, and its report gives that \
         outcome with no times; the others run (c, which only started, from its 1st \
         attempt; d, whose line is torn)",
    );
    let dir = TempDir::new("again");
    let state = dir.join("state");
    std::fs::write(&state, format!("{kept}{torn}")).expect("the test writes a state file");
    let config = Config {
        limit: 1,
        state: Some(state.clone()),
    };
    let (reports, events) = common::within(&c, 20, move |c| {
        let log: Log = Rc::default();
        let jobs = vec![
            logged_job("a", 0, &log),
            logged_job("b", 0, &log),
            logged_job("c", 0, &log),
            logged_job("d", 0, &log),
            after(logged_job("e", 0, &log), &["a"]),
            after(logged_job("f", 0, &log), &["b"]),
        ];
        (run(&c, jobs, config), log.take())
    });
    let ran: Vec<&str> = events
        .iter()
        .filter_map(|e| e.strip_suffix(" start"))
        .collect();
    c.rule("(f) the jobs that run: those with no outcome line, and e, whose dependency succeeded earlier (the attempts' log)")
        .eq(ran, vec!["c", "d", "e"]);
    c.rule("(f) a job that finished earlier has its outcome, and no start nor end time")
        .eq(
            reports[..2].to_vec(),
            vec![
                JobReport {
                    name: "a".into(),
                    outcome: Outcome::Succeeded { attempts: 2 },
                    started: None,
                    ended: None,
                },
                JobReport {
                    name: "b".into(),
                    outcome: Outcome::Failed {
                        attempts: 3,
                        last: "it broke".into(),
                    },
                    started: None,
                    ended: None,
                },
            ],
        );
    c.rule("(f) c (only started) starts over at its 1st attempt; d and e run")
        .eq(
            outcomes(&reports[2..5]),
            vec![Outcome::Succeeded { attempts: 1 }; 3],
        );
    c.rule("(e) skipped if a dependency did not succeed, in an earlier run too: f")
        .check(
            matches!(reports[5].outcome, Outcome::Skipped { .. }),
            &reports[5],
        );
    let text = file_text(&state);
    let added = text.strip_prefix(kept).map(lines_of);
    let expected = [
        "started c",
        "succeeded c 1",
        "started d",
        "succeeded d 1",
        "started e",
        "succeeded e 1",
    ];
    c.rule(
        "(f) the torn line is cut off, the earlier run's lines stay, and this run's are \
         added whole, each outcome line as soon as its job finished (with a limit of 1: \
         started c, succeeded c 1, started d...)",
    )
    .check(
        matches!(&added, Some((lines, true)) if *lines == expected),
        Shown(text),
    );
}

/// Set in the child process that [`a_killed_scheduler_goes_on_where_it_stopped`]
/// starts: the folder of the test. The test then runs the jobs until it is killed,
/// instead of starting another child.
const KILL_CHILD: &str = "JOB_SCHEDULER_KILL_CHILD";

/// The names of the kill test's jobs, in the order of the list.
const KILL_JOBS: [&str; 5] = ["first", "second", "blocker", "free", "last"];

/// Appends `line` to the file at `path`, in one write (the child and the test both
/// write there).
fn append_line(path: &Path, line: &str) {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("the test's log file opens");
    file.write_all(format!("{line}\n").as_bytes())
        .expect("the test's log file takes a line");
}

/// The kill test's jobs, the same in the child and after the restart: "first";
/// "second" after it; "blocker" after "second", whose attempts take `blocker_work`;
/// "free"; "last" after "blocker". With a limit of 1, one runs at a time: first, second,
/// then blocker, while free and last wait. Each attempt writes "<name> start" and
/// "<name> end" in the file `log`.
fn kill_test_jobs(log: &Path, blocker_work: Duration) -> Vec<Job> {
    let logged = |name: &str, work: Duration| {
        let (name, log) = (name.to_string(), log.to_path_buf());
        job_with(
            &name.clone(),
            Box::new(move || {
                let (name, log) = (name.clone(), log.clone());
                Box::pin(async move {
                    append_line(&log, &format!("{name} start"));
                    sleep(work).await;
                    append_line(&log, &format!("{name} end"));
                    Ok(())
                })
            }),
        )
    };
    vec![
        logged("first", Duration::ZERO),
        after(logged("second", Duration::ZERO), &["first"]),
        after(logged("blocker", blocker_work), &["second"]),
        logged("free", Duration::ZERO),
        after(logged("last", Duration::ZERO), &["blocker"]),
    ]
}

fn kill_test_config(dir: &Path) -> Config {
    Config {
        limit: 1,
        state: Some(dir.join("state")),
    }
}

/// The child's part: runs the jobs until it is killed. Blocker's attempt takes 30 s, so
/// a child the test fails to kill still ends by itself.
fn run_until_killed(dir: &Path) {
    let executor = Executor::new().expect("the lesson's executor starts");
    let jobs = kill_test_jobs(&dir.join("log"), Duration::from_secs(30));
    let result = executor.block_on(run_jobs(jobs, kill_test_config(dir)));
    eprintln!("run_jobs returned before the child was killed: {result:?}");
}

/// A child process, killed and reaped when dropped (a failing check included).
struct KilledOnDrop(std::process::Child);

impl Drop for KilledOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_killed_scheduler_goes_on_where_it_stopped() {
    if let Some(dir) = std::env::var_os(KILL_CHILD) {
        run_until_killed(Path::new(&dir));
        return;
    }
    let c = scene(
        "jobs \"first\"; \"second\" after \"first\"; \"blocker\" after \"second\" (30 s); \
         \"free\"; \"last\" after \"blocker\"; limit 1, a state file. A child process \
         runs them and is killed (SIGKILL) while \"blocker\" runs; then they run again \
         with the same state file (\"blocker\" now takes 0 ms)",
        "(f) started again after a kill, run no finished job again, start over the job \
         that was running, and run the pending ones",
    );
    let dir = TempDir::new("kill");
    let log = dir.join("log");
    let mut child = KilledOnDrop(
        std::process::Command::new(std::env::current_exe().expect("this test's path"))
            .args([
                "--exact",
                "a_killed_scheduler_goes_on_where_it_stopped",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(KILL_CHILD, &dir.0)
            // Its report is a panic message, not a backtrace.
            .env("RUST_BACKTRACE", "0")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start this test again in a child process"),
    );
    // Until blocker's attempt has begun in the child: a few milliseconds, 30 s at most.
    let waited = Instant::now();
    while !file_text(&log).contains("blocker start\n") {
        if let Ok(Some(status)) = child.0.try_wait() {
            let mut stderr = String::new();
            if let Some(mut pipe) = child.0.stderr.take() {
                let _ = pipe.read_to_string(&mut stderr);
            }
            c.fail_with(&format!(
                "the child process ended ({status}) before blocker's attempt began; the \
                 jobs' log: {:?}; its stderr:\n{}",
                file_text(&log),
                stderr.trim_end()
            ));
        }
        if waited.elapsed() > Duration::from_secs(30) {
            c.fail_with(&format!(
                "blocker's attempt had not begun in the child after 30 s; the jobs' log: \
                 {:?}",
                file_text(&log)
            ));
        }
        std::thread::sleep(ms(10));
    }
    drop(child); // SIGKILL, and reaped
    let (in_child, _) = lines_of(&file_text(&log));

    let (log_path, dir_path) = (log.clone(), dir.0.clone());
    let reports = common::within(&c, 20, move |c| {
        let jobs = kill_test_jobs(&log_path, Duration::ZERO);
        run(&c, jobs, kill_test_config(&dir_path))
    });
    let (all, _) = lines_of(&file_text(&log));
    let restarted = &all[in_child.len().min(all.len())..];
    let count = |lines: &[String], event: String| lines.iter().filter(|l| **l == event).count();
    for (name, report) in KILL_JOBS.iter().zip(&reports) {
        let began = count(&in_child, format!("{name} start")) > 0;
        let ended = count(&in_child, format!("{name} end")) > 0;
        let runs = count(restarted, format!("{name} start"));
        let (rule, expected) = match (began, ended) {
            (_, true) => (
                "(f) a job that finished before the kill is not run again",
                0,
            ),
            (true, false) => ("(f) the job that was running at the kill starts again", 1),
            (false, _) => ("(f) a pending job is not lost: it runs", 1),
        };
        let c = c.rule(format!("{rule}: {name:?} (its attempts after the restart)"));
        if runs != expected {
            c.fail_with(&format!(
                "{runs} attempts; the jobs' log before the kill: {in_child:?}, after the \
                 restart: {restarted:?}"
            ));
        }
        c.rule(format!(
            "{rule}: {name:?} succeeds at its 1st attempt (a fresh start for the one that \
             was running), and only a job that ran in this call has times"
        ))
        .check(
            report.outcome == Outcome::Succeeded { attempts: 1 }
                && report.started.is_some() == (expected == 1),
            report,
        );
    }
}

// ----- the scheduler's own sleep -----

#[test]
fn while_nothing_can_happen_the_scheduler_sleeps() {
    // For 800 ms nothing can change but four things: a job ends at about 400 ms, another
    // job's start time comes at 800 ms, a third one fails at once and retries after its
    // 300 ms backoff. A scheduler that sleeps until the next of these is polled a few
    // times; one that looks again every few milliseconds (at the clock or at its state
    // file), a hundred times or more, even on a busy machine.
    let c = scene(
        "job \"long\" (400 ms); job \"late\" (0 ms) that may start 800 ms after the call; \
         job \"retry\" that fails at once, then succeeds, retries = 1, backoff 300 ms; \
         limit 3, a state file",
        "each job runs, and succeeds",
    );
    let dir = TempDir::new("sleep");
    let config = Config {
        limit: 3,
        state: Some(dir.join("state")),
    };
    let (polls, cpu, reports) = common::within(&c, 20, move |c| {
        let executor = Executor::new().expect("the lesson's executor starts");
        let mut late = job("late", 0, 0);
        late.start_after = ms(800);
        let mut retry = job("retry", 0, 1);
        retry.retries = 1;
        retry.backoff = ms(300);
        let jobs = vec![job("long", 400, 0), late, retry];
        let before = thread_cpu();
        let reports = run_on(&executor, &c, jobs, config);
        (executor.stats().polls, thread_cpu() - before, reports)
    });
    c.eq(
        outcomes(&reports),
        vec![
            Outcome::Succeeded { attempts: 1 },
            Outcome::Succeeded { attempts: 1 },
            Outcome::Succeeded { attempts: 2 },
        ],
    );
    let sleeps = "while nothing can change, sleep until a job finishes or the next start \
                  time (or backoff) comes: not on a short timer, nor by reading the state \
                  file again";
    if polls > 40 {
        c.rule(format!("{sleeps} (40 polls of the executor at most)"))
            .fail_with(&format!(
                "the executor polled {polls} times in these 800 ms"
            ));
    }
    // A loop that never yields is polled once, and burns the core: the CPU time of the
    // thread tells. Waiting costs a fraction of a millisecond.
    if cpu >= ms(100) {
        c.rule(format!(
            "{sleeps}, nor spin towards it (less than 100 ms of CPU)"
        ))
        .fail_with(&format!("run_jobs used {cpu:?} of CPU in these 800 ms"));
    }
}

/// The CPU time this thread has used so far.
fn thread_cpu() -> Duration {
    use nix::sys::resource::{UsageWho, getrusage};
    let usage = getrusage(UsageWho::RUSAGE_THREAD).expect("getrusage of this thread");
    let time = |t: nix::sys::time::TimeVal| {
        Duration::from_secs(t.tv_sec() as u64) + Duration::from_micros(t.tv_usec() as u64)
    };
    time(usage.user_time()) + time(usage.system_time())
}
