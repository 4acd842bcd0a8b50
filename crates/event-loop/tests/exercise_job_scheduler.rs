//! Graded tests for exercise `event-loop/job-scheduler`.

mod common;
use common::within;

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use event_loop::exercises::job_scheduler::{Attempt, Job, Outcome, run_jobs};
use event_loop::step5_executor::{block_on, sleep};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A job whose attempts sleep `work` and then succeed (or fail while `fail_first`
/// attempts are left).
fn job(name: &str, work: u64, fail_first: u32) -> Job {
    let left = Rc::new(Cell::new(fail_first));
    let attempt: Attempt = Box::new(move || {
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
    });
    Job {
        name: name.into(),
        start_after: Duration::ZERO,
        timeout: Duration::from_secs(5),
        retries: 0,
        depends_on: vec![],
        attempt,
    }
}

#[test]
fn every_job_runs_and_reports_in_order() {
    let reports = within(20, "run_jobs", || {
        block_on(run_jobs(
            vec![job("a", 30, 0), job("b", 10, 0), job("c", 20, 0)],
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

#[test]
fn at_most_k_run_at_once() {
    let (reports, peak) = within(20, "run_jobs", || {
        let now = Rc::new(Cell::new(0usize));
        let peak = Rc::new(Cell::new(0usize));
        let jobs = (0..8)
            .map(|i| {
                let (now, peak) = (now.clone(), peak.clone());
                let mut j = job(&format!("j{i}"), 0, 0);
                j.attempt = Box::new(move || {
                    let (now, peak) = (now.clone(), peak.clone());
                    Box::pin(async move {
                        now.set(now.get() + 1);
                        peak.set(peak.get().max(now.get()));
                        sleep(ms(40)).await;
                        now.set(now.get() - 1);
                        Ok(())
                    })
                });
                j
            })
            .collect();
        let reports = block_on(run_jobs(jobs, 3)).unwrap();
        (reports, peak.get())
    });
    assert!(
        reports
            .iter()
            .all(|r| matches!(r.outcome, Outcome::Succeeded { .. }))
    );
    assert_eq!(
        peak, 3,
        "with K = 3 and 8 jobs, exactly 3 should run at once at some point"
    );
}

#[test]
fn a_job_waits_for_its_start_time() {
    let reports = within(20, "run_jobs", || {
        let mut late = job("late", 0, 0);
        late.start_after = ms(300);
        block_on(run_jobs(vec![job("now", 0, 0), late], 2)).unwrap()
    });
    assert!(reports[1].started.unwrap() >= ms(300), "{:?}", reports[1]);
    assert!(reports[0].started.unwrap() < ms(150), "{:?}", reports[0]);
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
        matches!(&reports[1].outcome, Outcome::Failed { attempts: 2, last } if last.contains("failing")),
        "{:?}",
        reports[1]
    );
    assert!(
        matches!(&reports[2].outcome, Outcome::Failed { attempts: 2, last } if last.contains("timed out")),
        "{:?}",
        reports[2]
    );
    assert!(
        reports[2].ended.unwrap() < ms(1_000),
        "timed-out attempts must not run on"
    );
}

#[test]
fn dependencies_run_first_and_failures_skip_their_dependents() {
    let reports = within(20, "run_jobs", || {
        let first = job("first", 50, 0);
        let mut second = job("second", 0, 0);
        second.depends_on = vec![0];
        let broken = job("broken", 0, 1);
        let mut after_broken = job("after-broken", 0, 0);
        after_broken.depends_on = vec![2];
        let mut after_that = job("after-that", 0, 0);
        after_that.depends_on = vec![3];
        block_on(run_jobs(
            vec![first, second, broken, after_broken, after_that],
            4,
        ))
        .unwrap()
    });
    assert!(
        reports[1].started.unwrap() >= reports[0].ended.unwrap(),
        "{reports:?}"
    );
    assert!(matches!(reports[2].outcome, Outcome::Failed { .. }));
    assert!(
        matches!(reports[3].outcome, Outcome::Skipped { .. }),
        "{:?}",
        reports[3]
    );
    assert!(
        matches!(reports[4].outcome, Outcome::Skipped { .. }),
        "{:?}",
        reports[4]
    );
    assert_eq!(reports[3].started, None);
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
        block_on(run_jobs(vec![a, b, c, job("free", 0, 0)], 2)).unwrap()
    });
    for r in &reports[..3] {
        assert!(matches!(r.outcome, Outcome::Skipped { .. }), "{r:?}");
    }
    assert_eq!(reports[3].outcome, Outcome::Succeeded { attempts: 1 });
}
