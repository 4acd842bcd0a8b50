//! One graded test, run as its own process with a deadline: the grader's unit of work.
//!
//! `cargo test` runs every test of a file as a thread of one process. That is fine for
//! the course's own tests, but not for grading what a learner wrote:
//!
//! - a test that hangs (a pipe end left open, a `wait` for a child that never ends)
//!   hangs the whole run, and nothing reports which test it was;
//! - lesson 1's exercises reap children with `waitpid(-1)`, which takes *any* child of
//!   the process: two such tests in one process steal each other's children;
//! - a crash (a forked child returning into the harness, an abort) takes every other
//!   test of the file down with it.
//!
//! So the grader starts the compiled test binary once per test (`--exact NAME`), each in
//! its own process group (`child`), and judges it from its exit and what the harness
//! printed (`panics`). This module runs the tests, a pool of them at once, and judges.

mod child;
mod panics;

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, ExitStatus};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use nix::sys::signal::Signal;

use crate::error::Error;

pub use child::{Finished, run};
pub use panics::panic_message;
use panics::{read_report, shorten};

/// How one test ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pass,
    Fail,
    /// It could not run: the lesson did not compile, or the runner failed.
    Error,
}

impl Status {
    /// The word Exercism's results.json uses.
    pub fn word(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Error => "error",
        }
    }
}

/// One graded test's result.
#[derive(Debug, Clone)]
pub struct TestOutcome {
    /// The test's name inside its test target, e.g. `captures_what_the_program_prints`.
    pub name: String,
    pub status: Status,
    /// For a failure: the assertion or panic message (or "timed out after 60 s ...").
    pub message: String,
    /// What the test printed (stdout and stderr), shortened.
    pub output: String,
    pub seconds: f64,
    /// Processes the test started that were still running when it ended (`pid name`).
    pub left_running: Vec<String>,
}

/// Runs `jobs`, up to one per CPU at once, each with `run` on a worker thread; `done`
/// sees each result on the calling thread, in the order they end (for progress lines).
/// With `fail_fast`, once one has failed the rest are not started: `skip` gives their
/// outcome instead. Returns every job with its outcome, in the order they ended.
pub fn run_pool<J: Sync>(
    jobs: &[J],
    fail_fast: bool,
    run: impl Fn(&J) -> TestOutcome + Sync,
    skip: impl Fn(&J) -> TestOutcome + Sync,
    mut done: impl FnMut(&J, &TestOutcome),
) -> Vec<(&J, TestOutcome)> {
    let workers = thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(jobs.len());
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let (tx, rx) = mpsc::channel();
    let mut finished = Vec::with_capacity(jobs.len());
    thread::scope(|scope| {
        for _ in 0..workers {
            let tx = tx.clone();
            let (next, failed, run, skip) = (&next, &failed, &run, &skip);
            scope.spawn(move || {
                // Relaxed: the read-modify-write alone hands out each job once, and `failed` is a
                // flag that publishes no data (a late look only runs one more job).
                while let Some(job) = jobs.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let outcome = if fail_fast && failed.load(Ordering::Relaxed) {
                        skip(job)
                    } else {
                        run(job)
                    };
                    if outcome.status != Status::Pass {
                        // Relaxed: see the loop's head.
                        failed.store(true, Ordering::Relaxed);
                    }
                    if tx.send((job, outcome)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(tx);
        for (job, outcome) in rx {
            done(job, &outcome);
            finished.push((job, outcome));
        }
    });
    finished
}

/// The names of the tests in a test binary that are not `#[ignore]`d (`--list --format
/// terse` prints one `name: test` line per test; `--ignored` lists only the ignored).
pub fn list(bin: &Path, cwd: &Path, timeout: Duration) -> Result<Vec<String>, Error> {
    let ignored = list_some(bin, cwd, timeout, &["--ignored"])?;
    let all = list_some(bin, cwd, timeout, &[])?;
    Ok(all.into_iter().filter(|t| !ignored.contains(t)).collect())
}

fn list_some(
    bin: &Path,
    cwd: &Path,
    timeout: Duration,
    which: &[&str],
) -> Result<Vec<String>, Error> {
    let mut command = Command::new(bin);
    command
        .args(["--list", "--format", "terse"])
        .args(which)
        .current_dir(cwd);
    let shown = bin.display();
    let out = run(command, timeout).map_err(Error::spawn(shown.to_string()))?;
    if out.timed_out {
        return Err(Error::answer(
            shown.to_string(),
            "listing its tests timed out",
        ));
    }
    if !out.status.is_some_and(|s| s.success()) {
        return Err(Error::answer(
            shown.to_string(),
            format!(
                "listing its tests failed ({}): {}",
                status_text(out.status),
                out.stderr.trim()
            ),
        ));
    }
    Ok(out
        .stdout
        .lines()
        .filter_map(|l| l.strip_suffix(": test"))
        .map(str::to_string)
        .collect())
}

/// Runs the test `name` of `bin` alone, with the lesson's folder as working directory
/// (as `cargo test` does), and says how it went.
pub fn run_test(bin: &Path, name: &str, cwd: &Path, timeout: Duration) -> TestOutcome {
    let mut command = Command::new(bin);
    command
        .args(["--exact", name, "--test-threads", "1"])
        .current_dir(cwd)
        .env("CARGO_MANIFEST_DIR", cwd);
    match run(command, timeout) {
        Ok(finished) => judge(name, &finished, timeout),
        Err(e) => TestOutcome {
            name: name.to_string(),
            status: Status::Error,
            message: format!("could not start the test binary {}: {e}", bin.display()),
            output: String::new(),
            seconds: 0.0,
            left_running: Vec::new(),
        },
    }
}

/// Decides pass or fail from how the test process ended and what it printed.
pub fn judge(name: &str, finished: &Finished, timeout: Duration) -> TestOutcome {
    let stdout = &finished.stdout;
    let report = read_report(stdout, name);
    let mut printed = report.printed;
    if !finished.stderr.trim().is_empty() {
        // Only what the test's children wrote straight to fd 2 lands here: the harness
        // captures the test's own prints and shows them on stdout.
        printed.push(finished.stderr.trim_end().to_string());
    }
    let outcome = |status, message: String| TestOutcome {
        name: name.to_string(),
        status,
        message,
        output: printed.join("\n"),
        seconds: finished.seconds,
        left_running: finished.left_running.clone(),
    };
    // Exit status 0 alone is not a pass: a test that calls `std::process::exit(0)` in
    // the middle also exits 0. The harness's closing line is the proof. (Not its
    // `test NAME ... ok` line: a child the test starts may write to the same stdout,
    // so `head` in a pipeline test turns it into `test NAME ... y` and `ok` below.)
    let said_ok = stdout
        .lines()
        .any(|l| l.starts_with("test result: ok. 1 passed"));
    let exited_ok = finished.status.is_some_and(|s| s.success());
    if finished.timed_out {
        return outcome(Status::Fail, timeout_message(timeout));
    }
    if exited_ok && said_ok {
        return outcome(Status::Pass, String::new());
    }
    if !report.panics.is_empty() {
        return outcome(Status::Fail, panic_message(&report.panics));
    }
    let message = if exited_ok {
        "the test process exited with status 0 before the test finished: does the code \
         call std::process::exit, or let a forked child return instead of exiting?"
            .to_string()
    } else if let Some(signal) = finished.status.and_then(|s| s.signal()) {
        format!(
            "the test process was killed by signal {} before it could report \
             (a crash, or an abort)",
            signal_name(signal)
        )
    } else if !report.failure_text.is_empty() {
        // A test returning `Err` prints `Error: ...` instead of panicking.
        shorten(&report.failure_text)
    } else {
        format!(
            "the test failed ({}) without a panic message",
            status_text(finished.status)
        )
    };
    outcome(Status::Fail, message)
}

/// The message of a test killed at its deadline.
pub fn timeout_message(timeout: Duration) -> String {
    format!(
        "timed out after {} s and was killed, with every process it started: it probably \
         hangs or deadlocks (a pipe end left open? a wait for a child that never ends?)",
        seconds_text(timeout)
    )
}

/// "60", or "1.5" for a deadline that is not whole seconds.
fn seconds_text(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        d.as_secs().to_string()
    } else {
        format!("{:.1}", d.as_secs_f64())
    }
}

fn status_text(status: Option<ExitStatus>) -> String {
    status.map_or_else(|| "no exit status".to_string(), |s| s.to_string())
}

fn signal_name(signal: i32) -> String {
    match Signal::try_from(signal) {
        Ok(s) => format!("{signal} ({s})"),
        Err(_) => signal.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::panics::{MESSAGE_LINES, Panic, panics_in};
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use std::path::PathBuf;
    use std::time::Instant;

    const ASSERT_EQ: &str = "
running 1 test
test reaps_every_child ... FAILED

failures:

---- reaps_every_child stdout ----
reaping 3 children

thread 'reaps_every_child' (11787) panicked at crates/procs/tests/exercise_reap.rs:31:5:
assertion `left == right` failed: wanted three children
  left: 0
 right: 3
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace


failures:
    reaps_every_child

test result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 4 filtered out; finished in 0.00s
";

    const TODO_IN_A_THREAD: &str = "
running 1 test
test data_flows_from_a_to_b ... FAILED

failures:

---- data_flows_from_a_to_b stdout ----

thread '<unnamed>' (2001) panicked at crates/procs/src/exercises/pipeline.rs:20:5:
not yet implemented: procs/pipeline: Run two programs connected by a pipe
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace

thread 'data_flows_from_a_to_b' (2000) panicked at crates/procs/tests/exercise_pipeline.rs:25:51:
pipeline panicked


failures:
    data_flows_from_a_to_b

test result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 4 filtered out; finished in 0.00s
";

    fn finished(stdout: &str, code: i32) -> Finished {
        Finished {
            status: Some(ExitStatus::from_raw(code << 8)),
            stdout: stdout.to_string(),
            stderr: String::new(),
            timed_out: false,
            left_running: Vec::new(),
            seconds: 0.1,
        }
    }

    #[test]
    fn an_assert_eq_gives_its_location_message_and_both_sides() {
        let panics = panics_in(ASSERT_EQ, "reaps_every_child");
        assert_eq!(
            panics,
            [Panic {
                location: "crates/procs/tests/exercise_reap.rs:31:5".into(),
                message:
                    "assertion `left == right` failed: wanted three children\n  left: 0\n right: 3"
                        .into(),
            }]
        );
        let outcome = judge(
            "reaps_every_child",
            &finished(ASSERT_EQ, 101),
            Duration::from_secs(60),
        );
        assert_eq!(outcome.status, Status::Fail);
        assert_eq!(
            outcome.message,
            "a graded check failed at crates/procs/tests/exercise_reap.rs:31:5:\n\
             assertion `left == right` failed: wanted three children\n  left: 0\n right: 3"
        );
        assert!(!outcome.message.contains("exit status"));
        assert_eq!(outcome.output, "reaping 3 children");
    }

    #[test]
    fn a_plain_panic_keeps_what_the_test_printed_apart() {
        let stdout = "
running 1 test
test plain ... FAILED

failures:

---- plain stdout ----
some stdout
some stderr

thread 'plain' (11791) panicked at crates/procs/tests/exercise_capture.rs:3:73:
boom: 42
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace


failures:
    plain

test result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 4 filtered out; finished in 0.00s
";
        let outcome = judge("plain", &finished(stdout, 101), Duration::from_secs(60));
        assert_eq!(outcome.status, Status::Fail);
        assert_eq!(
            outcome.message,
            "a graded check failed at crates/procs/tests/exercise_capture.rs:3:73:\nboom: 42"
        );
        assert_eq!(outcome.output, "some stdout\nsome stderr");
    }

    #[test]
    fn a_plain_panic_in_a_helper_thread_comes_first() {
        let panics = panics_in(TODO_IN_A_THREAD, "data_flows_from_a_to_b");
        assert_eq!(panics.len(), 2);
        assert_eq!(
            panics[0].message,
            "not yet implemented: procs/pipeline: Run two programs connected by a pipe"
        );
        assert_eq!(panics[1].message, "pipeline panicked");
        let outcome = judge(
            "data_flows_from_a_to_b",
            &finished(TODO_IN_A_THREAD, 101),
            Duration::from_secs(60),
        );
        assert!(
            outcome.message.starts_with(
                "your code panicked at crates/procs/src/exercises/pipeline.rs:20:5:\nnot yet"
            ),
            "{}",
            outcome.message
        );
        assert_eq!(outcome.output, "");
    }

    #[test]
    fn a_panic_a_graded_case_caught_is_shown_once_inside_the_case() {
        let panics = [
            Panic {
                location: "crates/sockets/exercises/status-line/status_line.rs:41:28".into(),
                message: "byte index 8 is not a char boundary".into(),
            },
            Panic {
                location: "crates/sockets/exercises/status-line/tests/exercise_status_line.rs:9:5"
                    .into(),
                message: "input:    \"HTTP/1.é\"\nthe task: never a panic\n\
                          got:      your code panicked: byte index 8 is not a char boundary"
                    .into(),
            },
        ];
        assert_eq!(
            panic_message(&panics),
            "a graded check failed at \
             crates/sockets/exercises/status-line/tests/exercise_status_line.rs:9:5:\n\
             input:    \"HTTP/1.é\"\nthe task: never a panic\n\
             got:      your code panicked: byte index 8 is not a char boundary\n\
             (your code panicked at crates/sockets/exercises/status-line/status_line.rs:41:28)"
        );
    }

    #[test]
    fn a_pass_needs_the_harness_ok_line_not_just_exit_0() {
        let ok = "\nrunning 1 test\ntest t ... ok\n\ntest result: ok. 1 passed; 0 failed\n";
        let timeout = Duration::from_secs(60);
        assert_eq!(judge("t", &finished(ok, 0), timeout).status, Status::Pass);
        // A child of the test wrote to the shared stdout in the middle of the line.
        let mixed = ok.replace("... ok", "... y\nok");
        assert_eq!(
            judge("t", &finished(&mixed, 0), timeout).status,
            Status::Pass
        );
        let exited = judge("t", &finished("\nrunning 1 test\n", 0), timeout);
        assert_eq!(exited.status, Status::Fail);
        assert!(
            exited.message.contains("std::process::exit"),
            "{}",
            exited.message
        );
        let mut killed = finished("\nrunning 1 test\n", 0);
        killed.status = Some(ExitStatus::from_raw(11));
        let killed = judge("t", &killed, timeout);
        assert!(
            killed.message.contains("signal 11 (SIGSEGV)"),
            "{}",
            killed.message
        );
    }

    #[test]
    fn a_timeout_says_how_long_and_what_it_probably_means() {
        let mut hung = finished("\nrunning 1 test\n", 0);
        hung.status = Some(ExitStatus::from_raw(9));
        hung.timed_out = true;
        hung.stdout = "\nrunning 1 test\ntest t ... \nchild output\n".into();
        let outcome = judge("t", &hung, Duration::from_secs(60));
        assert_eq!(outcome.status, Status::Fail);
        assert_eq!(outcome.output, "child output");
        assert!(
            outcome.message.starts_with("timed out after 60 s")
                && outcome.message.contains("deadlock"),
            "{}",
            outcome.message
        );
    }

    #[test]
    fn a_long_message_is_cut_to_its_first_lines() {
        let long: String = (0..100).map(|i| format!("line {i}\n")).collect();
        let text = shorten(&long);
        assert_eq!(text.lines().count(), MESSAGE_LINES + 1);
        assert!(text.ends_with("(60 more lines)"));
    }

    /// A fake test binary: a shell script that answers like libtest's harness.
    fn fake_binary(dir: &Path) -> PathBuf {
        let script = r#"#!/bin/sh
dir=$(dirname "$0")
if [ "$1" = "--list" ]; then
    case "$*" in
    *--ignored*) printf 'ignored: test\n' ;;
    *) printf 'passes: test\nignored: test\nfails: test\nhangs: test\n' ;;
    esac
    exit 0
fi
[ "$1" = "--exact" ] || exit 2
case "$2" in
passes)
    printf '\nrunning 1 test\ntest passes ... ok\n\ntest result: ok. 1 passed; 0 failed\n'
    exit 0 ;;
fails)
    printf '\nrunning 1 test\ntest fails ... FAILED\n\nfailures:\n\n---- fails stdout ----\n'
    printf "thread 'fails' (7) panicked at tests/fake.rs:3:5:\n"
    printf 'assertion `left == right` failed\n  left: 1\n right: 2\n'
    printf 'note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n'
    printf '\n\nfailures:\n    fails\n\ntest result: FAILED. 0 passed; 1 failed\n'
    exit 101 ;;
leaves)
    sleep 1000 &
    echo $! > "$dir/left.pid"
    printf '\nrunning 1 test\ntest leaves ... ok\n\ntest result: ok. 1 passed; 0 failed\n'
    exit 0 ;;
hangs)
    printf '\nrunning 1 test\n'
    sleep 1000 &
    echo $! > "$dir/grandchild.pid"
    wait
    exit 0 ;;
esac
exit 3
"#;
        let path = dir.join("fake-test-binary");
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    /// Another test thread forking while our script's file was open for writing makes
    /// exec fail with ETXTBSY for a moment: try the listing again until it works.
    fn list_with_retries(bin: &Path, dir: &Path) -> Vec<String> {
        for _ in 0..50 {
            match list(bin, dir, Duration::from_secs(5)) {
                Ok(names) => return names,
                Err(e) if e.to_string().contains("busy") => {
                    thread::sleep(Duration::from_millis(20))
                }
                Err(e) => panic!("{e}"),
            }
        }
        panic!("the fake binary stayed busy");
    }

    /// Dead means gone, or a zombie (the container's init may not reap orphans).
    fn is_dead(pid: i32) -> bool {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => true,
            Ok(stat) => stat
                .rsplit_once(") ")
                .is_some_and(|(_, rest)| rest.starts_with('Z')),
        }
    }

    #[test]
    fn each_test_runs_alone_and_a_hung_one_is_killed_with_its_children() {
        let dir = std::env::temp_dir().join(format!("xtask-fake-tests-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let bin = fake_binary(&dir);
        // An #[ignore]d test is not listed: run alone, it would pass nothing.
        assert_eq!(list_with_retries(&bin, &dir), ["passes", "fails", "hangs"]);

        // The tests that end by themselves get all the time a busy machine could need;
        // the one that hangs gets a second (it never ends: any limit is reached).
        let ample = Duration::from_secs(60);
        let timeout = Duration::from_secs(1);
        let passes = run_test(&bin, "passes", &dir, ample);
        assert_eq!(passes.status, Status::Pass, "{passes:?}");
        assert!(passes.left_running.is_empty(), "{passes:?}");

        // A test that passes but leaves a child running: named, then killed.
        let leaves = run_test(&bin, "leaves", &dir, ample);
        assert_eq!(leaves.status, Status::Pass, "{leaves:?}");
        let left: i32 = std::fs::read_to_string(dir.join("left.pid"))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        // Named by pid; its name may still be the shell's if it has not exec'd `sleep`
        // yet when the test ends.
        assert_eq!(leaves.left_running.len(), 1, "{leaves:?}");
        assert!(
            leaves.left_running[0].starts_with(&format!("{left} ")),
            "{leaves:?}"
        );

        let fails = run_test(&bin, "fails", &dir, ample);
        assert_eq!(fails.status, Status::Fail);
        assert_eq!(
            fails.message,
            "a graded check failed at tests/fake.rs:3:5:\nassertion `left == right` failed\n  left: 1\n right: 2"
        );

        let started = Instant::now();
        let hangs = run_test(&bin, "hangs", &dir, timeout);
        let took = started.elapsed();
        assert_eq!(hangs.status, Status::Fail);
        assert!(
            hangs.message.starts_with("timed out after 1 s"),
            "{}",
            hangs.message
        );
        // The hang would last 1000 s (its sleep); the limit and the kill take about a
        // second. 20 s tells the two apart on any machine.
        assert!(took < Duration::from_secs(20), "took {took:?}");
        let grandchild: i32 = std::fs::read_to_string(dir.join("grandchild.pid"))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        // SIGKILL is delivered at once, but the kernel may take a moment to tear down
        // (10 s: only a survivor uses it up).
        let deadline = Instant::now() + Duration::from_secs(10);
        while !is_dead(grandchild) && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(20));
        }
        assert!(is_dead(grandchild), "the grandchild {grandchild} survived");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
