//! Graded tests for exercise `event-loop/job-scheduler`.
//!
//! The jobs' attempts write what they do in a log the test keeps (an event list, counters
//! of attempts alive), so the rules are checked on the order of events the test saw, not
//! only on the reports `run_jobs` writes about itself. One test runs the scheduler on an
//! executor of its own to count how often it is polled while nothing can happen.
//!
//! Every check names the jobs it ran (what their attempts do, their start times,
//! dependencies and retries, and K) and the rule of the task it checks
//! ([`graded::scene`]); a panic in `run_jobs`, or in a task it spawned, is reported as
//! one, with those jobs.

#[path = "../../../tests/common/mod.rs"]
mod common;

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use event_loop::step7_executor::{Executor, sleep, timeout};
use event_loop_job_scheduler::{Attempt, Job, JobReport, Outcome, run_jobs};
use graded::{Case, scene};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A job with no start time, dependency nor retry, a generous timeout, and `attempt`.
fn job_with(name: &str, attempt: Attempt) -> Job {
    Job {
        name: name.into(),
        start_after: Duration::ZERO,
        timeout: Duration::from_secs(5),
        retries: 0,
        depends_on: vec![],
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

/// Runs `jobs` with at most `k` at once on `executor` (on this thread) and returns the
/// reports, once checked to be one per job, in the order of the list. A panic in
/// `run_jobs`, or in a task it spawned (it unwinds out of `block_on`), is reported with
/// `c`.
#[track_caller]
fn run_on(executor: &Executor, c: &Case, jobs: Vec<Job>, k: usize) -> Vec<JobReport> {
    let names: Vec<String> = jobs.iter().map(|j| j.name.clone()).collect();
    let reports = c
        .run(|| executor.block_on(run_jobs(jobs, k)))
        .expect("the lesson's executor runs (epoll_wait)");
    let reported: Vec<String> = reports.iter().map(|r| r.name.clone()).collect();
    c.rule("report on each job, in the order of the list (the names in the reports)")
        .eq(reported, names);
    reports
}

/// [`run_on`] an executor made for this call.
#[track_caller]
fn run(c: &Case, jobs: Vec<Job>, k: usize) -> Vec<JobReport> {
    let executor = Executor::new().expect("the lesson's executor starts (epoll, eventfd)");
    run_on(&executor, c, jobs, k)
}

fn outcomes(reports: &[JobReport]) -> Vec<Outcome> {
    reports.iter().map(|r| r.outcome.clone()).collect()
}

#[test]
fn every_job_runs_and_reports_in_the_order_of_the_list() {
    // They finish in the order b, c, a; the reports keep the list's order.
    let c = scene(
        "jobs a, b, c whose attempts take 200, 10 and 100 ms and succeed; K = 3",
        "run each job and report on each, in the order of the list",
    );
    let reports = common::within(&c, 20, move |c| {
        let jobs = vec![job("a", 200, 0), job("b", 10, 0), job("c", 100, 0)];
        run(&c, jobs, 3)
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

/// Runs 8 jobs of 40 ms with at most `k` at once; returns the most attempts seen running
/// at the same time, and the outcomes.
fn peak_with_limit(c: &Case, k: usize) -> (usize, Vec<Outcome>) {
    common::within(c, 20, move |c| {
        let now = Rc::new(Cell::new(0usize));
        let peak = Rc::new(Cell::new(0usize));
        let jobs = (0..8)
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
        let reports = run(&c, jobs, k);
        (peak.get(), outcomes(&reports))
    })
}

#[test]
fn at_most_k_run_at_once_and_k_is_reached() {
    let c = scene(
        "8 jobs whose attempts take 40 ms and succeed; K = 3",
        "at most K attempts at once",
    );
    let (peak, outcomes) = peak_with_limit(&c, 3);
    c.rule("each job runs, and succeeds").check(
        outcomes
            .iter()
            .all(|o| matches!(o, Outcome::Succeeded { .. })),
        outcomes,
    );
    c.rule(
        "at most K attempts at once, and with 8 jobs K = 3 are reached (the most attempts \
         seen running at once)",
    )
    .eq(peak, 3);
}

#[test]
fn zero_at_once_counts_as_one() {
    let c = scene(
        "8 jobs whose attempts take 40 ms and succeed; K = 0",
        "K = 0 counts as 1",
    );
    let (peak, outcomes) = peak_with_limit(&c, 0);
    c.rule("K = 0 counts as 1: every job still runs, and succeeds")
        .check(
            outcomes
                .iter()
                .all(|o| matches!(o, Outcome::Succeeded { .. })),
            outcomes,
        );
    c.rule("K = 0 counts as 1 (the most attempts seen running at once)")
        .eq(peak, 1);
}

#[test]
fn a_job_starts_no_earlier_than_its_start_time() {
    let c = scene(
        "job \"now\" (0 ms), and job \"late\" that may start 300 ms after the call; K = 2",
        "no earlier than its start time",
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
        let reports = run(&c, vec![job("now", 0, 0), late], 2);
        (reports, seen_at.get())
    });
    // Timers never fire early: whatever the machine's load, 300 ms have passed.
    let Some(seen_at) = seen_at else {
        c.rule("each job runs: \"late\" too, once its time has come")
            .fail_with("the attempt of \"late\" never began");
    };
    c.rule(
        "no earlier than its start time: the attempt of \"late\" begins 300 ms after the \
         call or later",
    )
    .check(seen_at >= ms(300), seen_at);
    c.rule(
        "no earlier than its start time: the report of \"late\" says it started 300 ms \
         after the call or later",
    )
    .check(reports[1].started >= Some(ms(300)), &reports[1]);
    c.rule("each job runs: \"late\" succeeds at its 1st attempt")
        .eq(
            reports[1].outcome.clone(),
            Outcome::Succeeded { attempts: 1 },
        );
}

#[test]
fn a_job_waiting_for_its_start_time_takes_none_of_the_k_places() {
    // K = 1. The first job may not start before 400 ms; the second may start at once,
    // and must: it finishes long before the first one's time comes.
    let c = scene(
        "job \"late\" (0 ms) that may start 400 ms after the call, then job \"free\" \
         (50 ms); K = 1",
        "a job waiting for its start time takes none of the K places: \"free\" runs at \
         once (the attempts' log)",
    );
    let events = common::within(&c, 20, move |c| {
        let log: Log = Rc::default();
        let mut late = logged_job("late", 0, &log);
        late.start_after = ms(400);
        let free = logged_job("free", 50, &log);
        run(&c, vec![late, free], 1);
        log.take()
    });
    before(&c, &events, "free end", "late start");
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
    // K = 2. "short" ends at once; "next" must take its place then. "long" runs until
    // "next" has ended (or 3 s have passed, for a scheduler that never starts "next"
    // while "long" runs): no timing decides the order, only the scheduler.
    let c = scene(
        "jobs \"long\" (runs until \"next\" has ended, 3 s at most), \"short\" (10 ms), \
         \"next\" (0 ms); K = 2",
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
        run(&c, jobs, 2);
        log.take()
    });
    before(&c, &events, "next end", "long end");
}

#[test]
fn no_jobs_no_reports() {
    let c = scene(
        "no jobs (an empty list); K = 3",
        "report on each job: no report",
    );
    let reports = common::within(&c, 5, move |c| run(&c, Vec::new(), 3));
    c.eq(reports, vec![]);
}

#[test]
fn failures_and_timeouts_are_retried() {
    let c = scene(
        "job \"flaky\" that fails twice then succeeds, retries = 3; job \"hopeless\" that \
         fails 10 times, retries = 1; job \"slow\" whose attempts take 2 s, timeout \
         100 ms, retries = 1; K = 3",
        "retried up to `retries` times",
    );
    let reports = common::within(&c, 20, move |c| {
        let mut flaky = job("flaky", 5, 2);
        flaky.retries = 3;
        let mut hopeless = job("hopeless", 5, 10);
        hopeless.retries = 1;
        let mut slow = job("slow", 2_000, 0);
        slow.timeout = ms(100);
        slow.retries = 1;
        run(&c, vec![flaky, hopeless, slow], 3)
    });
    c.rule("retried up to `retries` times: \"flaky\" succeeds at its 3rd attempt")
        .eq(
            reports[0].outcome.clone(),
            Outcome::Succeeded { attempts: 3 },
        );
    c.rule(
        "retried up to `retries` times: \"hopeless\" fails after 2 attempts, with the \
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
        "each attempt within its timeout, its error \"timed out\": \"slow\" fails after 2 \
         attempts",
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
         retries = 2; job j2 that fails once, retries = 0; K = 3",
        "retried up to `retries` times",
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
        let reports = run(&c, jobs, 3);
        let calls: Vec<u32> = calls.iter().map(|c| c.get()).collect();
        (outcomes(&reports), calls)
    });
    c.eq(outcomes, expected);
    c.rule("retried up to `retries` times (attempts made, as counted by the jobs)")
        .eq(calls, vec![3, 3, 1]);
}

#[test]
fn the_largest_retry_count_does_not_overflow() {
    let c = scene(
        "one job that fails once then succeeds, retries = u32::MAX (4294967295); K = 1",
        "retried up to `retries` times (any u32): it succeeds at its 2nd attempt",
    );
    let reports = common::within(&c, 20, move |c| {
        let mut j = job("patient", 1, 1);
        j.retries = u32::MAX;
        run(&c, vec![j], 1)
    });
    c.eq(
        reports[0].outcome.clone(),
        Outcome::Succeeded { attempts: 2 },
    );
}

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
        "job \"stuck\" whose attempts take 10 s, timeout 50 ms, retries = 2; K = 1",
        "each attempt within its timeout, its error \"timed out\"",
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
        let reports = run_on(&executor, &c, vec![stuck], 1);
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
        "a timed-out attempt is dropped at once (attempts still alive when each attempt \
         began)",
    )
    .eq(alive_at_starts, vec![0, 0, 0]);
    c.rule("a timed-out attempt is dropped at once (attempts alive when run_jobs returned)")
        .eq(alive_after, 0);
}

#[test]
fn dependencies_run_first_and_failures_skip_their_dependents() {
    let c = scene(
        "jobs: 0 \"first\" (50 ms), 1 \"second\" needs 0, 2 \"broken\" fails once with no \
         retry, 3 \"after-broken\" needs 2, 4 \"after-that\" needs 3; K = 4",
        "after its dependencies succeeded (skipped if one did not)",
    );
    let (reports, events) = common::within(&c, 20, move |c| {
        let log: Log = Rc::default();
        let first = logged_job("first", 50, &log);
        let mut second = logged_job("second", 0, &log);
        second.depends_on = vec![0];
        let broken = job("broken", 0, 1);
        let mut after_broken = logged_job("after-broken", 0, &log);
        after_broken.depends_on = vec![2];
        let mut after_that = logged_job("after-that", 0, &log);
        after_that.depends_on = vec![3];
        let jobs = vec![first, second, broken, after_broken, after_that];
        let reports = run(&c, jobs, 4);
        (reports, log.take())
    });
    before(
        &c.rule("after its dependencies succeeded: \"first\" ends before \"second\" starts"),
        &events,
        "first end",
        "second start",
    );
    c.rule("after its dependencies succeeded: \"second\" runs, and succeeds")
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
            "skipped if a dependency did not succeed: {:?}, with no start nor end time",
            r.name
        ))
        .check(
            matches!(r.outcome, Outcome::Skipped { .. }) && (r.started, r.ended) == (None, None),
            r,
        );
    }
    c.rule("a skipped job never runs (the attempts' log)")
        .check(!events.iter().any(|e| e.starts_with("after-")), &events);
}

#[test]
fn a_cycle_or_a_missing_dependency_is_skipped_not_hung() {
    let c = scene(
        "jobs: 0 \"a\" needs 1, 1 \"b\" needs 0, 2 \"c\" needs 9 (there is no job 9), \
         3 \"itself\" needs 3, 4 \"free\", 5 \"timed\" may start after 100 ms, \
         6 \"after-timed\" needs 5; all take 0 ms; K = 2",
        "skipped if a dependency is missing, or they form a cycle; the others run",
    );
    let reports = common::within(&c, 20, move |c| {
        let mut a = job("a", 0, 0);
        a.depends_on = vec![1];
        let mut b = job("b", 0, 0);
        b.depends_on = vec![0];
        let mut c_ = job("c", 0, 0);
        c_.depends_on = vec![9];
        let mut itself = job("itself", 0, 0);
        itself.depends_on = vec![3];
        // Not a cycle: for 100 ms nothing runs and nothing can start, but a start
        // time will come, and then its dependent may start too.
        let mut timed = job("timed", 0, 0);
        timed.start_after = ms(100);
        let mut after_timed = job("after-timed", 0, 0);
        after_timed.depends_on = vec![5];
        let jobs = vec![a, b, c_, itself, job("free", 0, 0), timed, after_timed];
        run(&c, jobs, 2)
    });
    for r in &reports[..4] {
        c.rule(format!(
            "skipped if a dependency is missing, or they form a cycle: {:?}",
            r.name
        ))
        .check(matches!(r.outcome, Outcome::Skipped { .. }), r);
    }
    for r in &reports[4..] {
        c.rule(format!(
            "no cycle, nothing missing: {:?} runs (a start time to come is no cycle)",
            r.name
        ))
        .eq(r.outcome.clone(), Outcome::Succeeded { attempts: 1 });
    }
}

#[test]
fn while_nothing_can_happen_the_scheduler_sleeps() {
    // For 800 ms nothing can change but two things: a job ends at about 400 ms, another
    // job's start time comes at 800 ms. A scheduler that sleeps until the next of these
    // is polled a few times (7 for the two jobs and their tasks); one that looks again
    // every few milliseconds, a hundred times or more, even on a busy machine.
    let c = scene(
        "job \"long\" (400 ms), and job \"late\" (0 ms) that may start 800 ms after the \
         call; K = 2",
        "each job runs, and succeeds",
    );
    let (polls, cpu, reports) = common::within(&c, 20, move |c| {
        let executor = Executor::new().expect("the lesson's executor starts");
        let mut late = job("late", 0, 0);
        late.start_after = ms(800);
        let before = thread_cpu();
        let reports = run_on(&executor, &c, vec![job("long", 400, 0), late], 2);
        (executor.stats().polls, thread_cpu() - before, reports)
    });
    c.eq(
        outcomes(&reports),
        vec![Outcome::Succeeded { attempts: 1 }; 2],
    );
    let sleeps = "while nothing can change, sleep until a job finishes or the next start \
                  time comes, not on a short timer";
    if polls > 25 {
        c.rule(format!("{sleeps} (25 polls of the executor at most)"))
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
