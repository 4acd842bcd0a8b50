//! Graded tests for exercise `event-loop/job-scheduler`.
//!
//! The jobs' attempts write what they do in a log the test keeps (an event list, counters
//! of attempts alive), so the rules are checked on the order of events the test saw, not
//! only on the reports `run_jobs` writes about itself. One test runs the scheduler on an
//! executor of its own to count how often it is polled while nothing can happen.

#[path = "../../../tests/common/mod.rs"]
mod common;
use common::within;

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use event_loop::step5_executor::{Executor, block_on, sleep, timeout};
use event_loop_job_scheduler::{Attempt, Job, Outcome, run_jobs};

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

/// Where `event` is in `log` (fails the test if it is not there).
fn position(log: &[String], event: &str) -> usize {
    log.iter()
        .position(|e| e == event)
        .unwrap_or_else(|| panic!("no {event:?} in {log:?}"))
}

#[test]
fn every_job_runs_and_reports_in_the_order_of_the_list() {
    // They finish in the order b, c, a; the reports keep the list's order.
    let reports = within(20, "run_jobs", || {
        block_on(run_jobs(
            vec![job("a", 200, 0), job("b", 10, 0), job("c", 100, 0)],
            3,
        ))
        .unwrap()
    });
    let names: Vec<&str> = reports.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "c"]);
    for r in &reports {
        assert_eq!(r.outcome, Outcome::Succeeded { attempts: 1 }, "{r:?}");
        assert!(r.started.is_some() && r.ended >= r.started, "{r:?}");
    }
}

/// Runs 8 jobs of 40 ms with at most `k` at once; returns the most attempts seen running
/// at the same time, and whether every job succeeded.
fn peak_with_limit(k: usize) -> (usize, bool) {
    within(20, "run_jobs", move || {
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
        let reports = block_on(run_jobs(jobs, k)).unwrap();
        let all_succeeded = reports
            .iter()
            .all(|r| matches!(r.outcome, Outcome::Succeeded { .. }));
        (peak.get(), all_succeeded)
    })
}

#[test]
fn at_most_k_run_at_once_and_k_is_reached() {
    let (peak, all_succeeded) = peak_with_limit(3);
    assert!(all_succeeded);
    assert_eq!(
        peak, 3,
        "with K = 3 and 8 jobs, exactly 3 should run at once at some point"
    );
}

#[test]
fn zero_at_once_counts_as_one() {
    let (peak, all_succeeded) = peak_with_limit(0);
    assert!(
        all_succeeded,
        "with K = 0 (taken as 1), every job still runs"
    );
    assert_eq!(peak, 1, "K = 0 counts as 1");
}

#[test]
fn a_job_starts_no_earlier_than_its_start_time() {
    let (reports, seen_at) = within(20, "run_jobs", || {
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
        let reports = block_on(run_jobs(vec![job("now", 0, 0), late], 2)).unwrap();
        (reports, seen_at.get())
    });
    // Timers never fire early: whatever the machine's load, 300 ms have passed.
    let seen_at = seen_at.expect("the late job ran");
    assert!(seen_at >= ms(300), "its attempt began after {seen_at:?}");
    assert!(reports[1].started.unwrap() >= ms(300), "{:?}", reports[1]);
    assert_eq!(reports[1].outcome, Outcome::Succeeded { attempts: 1 });
}

#[test]
fn a_job_waiting_for_its_start_time_takes_none_of_the_k_places() {
    // K = 1. The first job may not start before 400 ms; the second may start at once,
    // and must: it finishes long before the first one's time comes.
    let events = within(20, "run_jobs", || {
        let log: Log = Rc::default();
        let mut late = logged_job("late", 0, &log);
        late.start_after = ms(400);
        let free = logged_job("free", 50, &log);
        block_on(run_jobs(vec![late, free], 1)).unwrap();
        log.take()
    });
    assert!(
        position(&events, "free end") < position(&events, "late start"),
        "a job that may start now must not wait behind one waiting for its start time: \
         {events:?}"
    );
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
    let events = within(20, "run_jobs", || {
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
        block_on(run_jobs(jobs, 2)).unwrap();
        log.take()
    });
    assert!(
        position(&events, "next end") < position(&events, "long end"),
        "a job must start as soon as a place is free, not when the whole first pair is \
         over: {events:?}"
    );
}

#[test]
fn no_jobs_no_reports() {
    let reports = within(5, "run_jobs of nothing", || {
        block_on(run_jobs(Vec::new(), 3)).unwrap()
    });
    assert!(reports.is_empty(), "{reports:?}");
}

#[test]
fn failures_and_timeouts_are_retried() {
    let reports = within(20, "run_jobs", || {
        let mut flaky = job("flaky", 5, 2);
        flaky.retries = 3;
        let mut hopeless = job("hopeless", 5, 10);
        hopeless.retries = 1;
        let mut slow = job("slow", 2_000, 0);
        slow.timeout = ms(100);
        slow.retries = 1;
        block_on(run_jobs(vec![flaky, hopeless, slow], 3)).unwrap()
    });
    assert_eq!(reports[0].outcome, Outcome::Succeeded { attempts: 3 });
    assert!(
        matches!(&reports[1].outcome, Outcome::Failed { attempts: 2, last } if last == "failing, 8 more"),
        "{:?}",
        reports[1]
    );
    assert!(
        matches!(&reports[2].outcome, Outcome::Failed { attempts: 2, last } if last == "timed out"),
        "{:?}",
        reports[2]
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
    let (outcomes, calls) = within(20, "run_jobs", move || {
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
        let reports = block_on(run_jobs(jobs, 3)).unwrap();
        let outcomes: Vec<Outcome> = reports.into_iter().map(|r| r.outcome).collect();
        (outcomes, calls.iter().map(|c| c.get()).collect::<Vec<_>>())
    });
    assert_eq!(outcomes, expected);
    assert_eq!(calls, [3, 3, 1], "attempts made, as counted by the jobs");
}

#[test]
fn the_largest_retry_count_does_not_overflow() {
    let outcome = within(20, "run_jobs", || {
        let mut j = job("patient", 1, 1);
        j.retries = u32::MAX;
        block_on(run_jobs(vec![j], 1)).unwrap().remove(0).outcome
    });
    assert_eq!(outcome, Outcome::Succeeded { attempts: 2 });
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
    let (outcome, alive_at_starts, alive_after) = within(20, "run_jobs", || {
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
        let (outcome, alive_after) = block_on(async move {
            let reports = run_jobs(vec![stuck], 1).await;
            (reports[0].outcome.clone(), alive.get())
        })
        .unwrap();
        (outcome, alive_at_starts.take(), alive_after)
    });
    assert_eq!(
        outcome,
        Outcome::Failed {
            attempts: 3,
            last: "timed out".into()
        }
    );
    assert_eq!(
        alive_at_starts,
        [0, 0, 0],
        "attempts alive when each attempt began: a timed-out attempt must be dropped"
    );
    assert_eq!(
        alive_after, 0,
        "an attempt is still alive after run_jobs returned"
    );
}

#[test]
fn dependencies_run_first_and_failures_skip_their_dependents() {
    let (reports, events) = within(20, "run_jobs", || {
        let log: Log = Rc::default();
        let first = logged_job("first", 50, &log);
        let mut second = logged_job("second", 0, &log);
        second.depends_on = vec![0];
        let broken = job("broken", 0, 1);
        let mut after_broken = logged_job("after-broken", 0, &log);
        after_broken.depends_on = vec![2];
        let mut after_that = logged_job("after-that", 0, &log);
        after_that.depends_on = vec![3];
        let reports = block_on(run_jobs(
            vec![first, second, broken, after_broken, after_that],
            4,
        ))
        .unwrap();
        (reports, log.take())
    });
    assert!(
        position(&events, "first end") < position(&events, "second start"),
        "{events:?}"
    );
    assert_eq!(reports[1].outcome, Outcome::Succeeded { attempts: 1 });
    assert!(matches!(reports[2].outcome, Outcome::Failed { .. }));
    for r in &reports[3..] {
        assert!(matches!(r.outcome, Outcome::Skipped { .. }), "{r:?}");
        assert_eq!((r.started, r.ended), (None, None), "{r:?}");
    }
    assert!(
        !events.iter().any(|e| e.starts_with("after-")),
        "a skipped job ran: {events:?}"
    );
}

#[test]
fn a_cycle_or_a_missing_dependency_is_skipped_not_hung() {
    let reports = within(20, "run_jobs with a cycle", || {
        let mut a = job("a", 0, 0);
        a.depends_on = vec![1];
        let mut b = job("b", 0, 0);
        b.depends_on = vec![0];
        let mut c = job("c", 0, 0);
        c.depends_on = vec![9];
        let mut itself = job("itself", 0, 0);
        itself.depends_on = vec![3];
        // Not a cycle: for 100 ms nothing runs and nothing can start, but a start time
        // will come, and then its dependent may start too.
        let mut timed = job("timed", 0, 0);
        timed.start_after = ms(100);
        let mut after_timed = job("after-timed", 0, 0);
        after_timed.depends_on = vec![5];
        let jobs = vec![a, b, c, itself, job("free", 0, 0), timed, after_timed];
        block_on(run_jobs(jobs, 2)).unwrap()
    });
    for r in &reports[..4] {
        assert!(matches!(r.outcome, Outcome::Skipped { .. }), "{r:?}");
    }
    for r in &reports[4..] {
        assert_eq!(r.outcome, Outcome::Succeeded { attempts: 1 }, "{r:?}");
    }
}

#[test]
fn while_nothing_can_happen_the_scheduler_sleeps() {
    // For 800 ms nothing can change but two things: a job ends at about 400 ms, another
    // job's start time comes at 800 ms. A scheduler that sleeps until the next of these
    // is polled a few times (7 for the two jobs and their tasks); one that looks again
    // every few milliseconds, a hundred times or more, even on a busy machine.
    let (polls, cpu, reports) = within(20, "run_jobs", || {
        let executor = Executor::new().unwrap();
        let mut late = job("late", 0, 0);
        late.start_after = ms(800);
        let before = thread_cpu();
        let reports = executor
            .block_on(run_jobs(vec![job("long", 400, 0), late], 2))
            .unwrap();
        (executor.stats().polls, thread_cpu() - before, reports)
    });
    assert!(
        reports
            .iter()
            .all(|r| r.outcome == Outcome::Succeeded { attempts: 1 }),
        "{reports:?}"
    );
    assert!(
        polls <= 25,
        "the executor polled {polls} times in 800 ms where only two things happened: \
         wait for a job to finish or for the next start time, not on a short timer"
    );
    // A loop that never yields is polled once, and burns the core: the CPU time of the
    // thread tells. Waiting costs a fraction of a millisecond.
    assert!(
        cpu < Duration::from_millis(100),
        "run_jobs used {cpu:?} of CPU in 800 ms where only two things happened: it must \
         sleep until the next start time, not spin towards it"
    );
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
