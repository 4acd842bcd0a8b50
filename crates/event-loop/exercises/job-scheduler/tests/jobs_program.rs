//! The program `jobs` (`jobs.rs`), run as a learner runs it: its help, two small jobs
//! with a state file (twice: the second run finds them done), and the errors it reports.
//!
//! Not graded: the program only drives the exercise's `run_jobs`, whose graded tests are
//! in `exercise_job_scheduler.rs`. These check the program around it, so they pass once
//! `run_jobs` works (on the `todo!()` stubs, only the help does).

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The program, built by cargo for these tests.
const JOBS: &str = env!("CARGO_BIN_EXE_jobs");

/// Runs `jobs` with `args` and returns what it printed; killed if it has not ended after
/// 30 s (its runs here take a fraction of a second).
fn jobs(args: &[&str]) -> Output {
    let mut child = Command::new(JOBS)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the jobs program starts");
    let started = Instant::now();
    // It prints a few lines only: no pipe fills up while this waits.
    while child.try_wait().expect("waiting for jobs").is_none() {
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("jobs {args:?} had not ended after 30 s");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.wait_with_output().expect("the output of jobs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A folder of its own under the system's temp folder, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(what: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!(
            "job-scheduler-program-{what}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("a folder in the temp folder");
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn help_shows_how_to_give_jobs() {
    let out = jobs(&["--help"]);
    let help = text(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    for part in [
        "--job <SPEC>",
        "name=NAME",
        "sleep=DUR",
        "fail=N",
        "timeout=DUR",
        "retries=N",
        "backoff=DUR",
        "after=NAME",
        "start=+DUR",
        "--limit <N>",
        "--state <FILE>",
        "Examples:",
    ] {
        assert!(help.contains(part), "the help has no {part:?}:\n{help}");
    }
}

#[test]
fn two_jobs_run_and_a_second_run_finds_them_done() {
    let dir = TempDir::new("two");
    let state = dir.0.join("state");
    let state = state.to_str().expect("a temp path in UTF-8");
    let args = [
        "--state",
        state,
        "--job",
        "name=fetch,sleep=20ms,fail=1,retries=1,backoff=10ms",
        "--job",
        "name=parse,sleep=10ms,after=fetch",
    ];
    let out = jobs(&args);
    let printed = text(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    for part in [
        "fetch: attempt 1 fails",
        "fetch: attempt 2 succeeds",
        "parse: attempt 1 starts",
        "fetch  succeeded at attempt 2",
        "parse  succeeded at attempt 1",
    ] {
        assert!(printed.contains(part), "no {part:?} in:\n{printed}");
    }
    let fetched = printed.find("fetch: attempt 2 succeeds");
    let parsing = printed.find("parse: attempt 1 starts");
    assert!(
        fetched < parsing,
        "parse began before fetch succeeded:\n{printed}"
    );

    let again = jobs(&args);
    let printed = text(&again.stdout);
    assert!(again.status.success(), "{again:?}");
    assert!(
        !printed.contains("attempt 1 starts"),
        "a job ran again:\n{printed}"
    );
    assert_eq!(
        printed.matches("(in an earlier run)").count(),
        2,
        "both jobs finished in the first run:\n{printed}"
    );
}

#[test]
fn a_failed_job_a_cycle_and_a_bad_spec_are_reported() {
    let out = jobs(&[
        "--job",
        "name=flaky,sleep=0ms,fail=1",
        "--job",
        "name=next,after=flaky",
    ]);
    let printed = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "a job failed:\n{printed}");
    assert!(
        printed.contains("failed at its only attempt: simulated failure 1 of 1"),
        "{printed}"
    );
    assert!(
        printed.contains("skipped: flaky did not succeed"),
        "{printed}"
    );

    let out = jobs(&["--job", "name=a,after=b", "--job", "name=b,after=a"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(text(&out.stderr).contains("cycle"), "{out:?}");

    let out = jobs(&["--job", "name=a,colour=red"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(text(&out.stderr).contains("unknown key"), "{out:?}");
}
