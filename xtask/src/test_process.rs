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
//! its own process *group*. The group is what makes a timeout clean: a test and every
//! process it forked share the group, so one `killpg(SIGKILL)` ends them all, where
//! killing the test alone would leave its children running and holding its pipes open.
//!
//! What a test printed is read by two threads, one per pipe (a child blocks when a pipe
//! it writes is full and nobody reads), and only the last `KEEP` bytes are kept, so a
//! test that prints without end costs memory it cannot exhaust.

use crate::error::Error;
use std::io::{self, Read};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{Signal, killpg};
use nix::sys::wait::{Id, WaitPidFlag, waitid};
use nix::unistd::Pid;

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

/// How much of each pipe is kept: the end, where the harness reports the failure.
const KEEP: usize = 64 * 1024;

/// How long to keep reading once the test's process group is gone. A process that left
/// the group (`setsid`) could hold the pipes open forever; we stop waiting for it.
const GRACE: Duration = Duration::from_secs(2);

/// How many lines of a failure message are kept: an `assert_eq!` on a long vector can
/// print thousands, and the first ones say what went wrong.
const MESSAGE_LINES: usize = 40;

/// How a process ended, with the end of what it printed.
#[derive(Debug)]
pub struct Finished {
    /// `None` when waiting for it failed.
    pub status: Option<ExitStatus>,
    pub stdout: String,
    pub stderr: String,
    /// True when the deadline passed and the process group was killed.
    pub timed_out: bool,
    /// Processes (`pid name`) the command started that were still running after it
    /// ended (and were then killed): a child it neither waited for nor stopped.
    pub left_running: Vec<String>,
    pub seconds: f64,
}

/// Runs `command` in its own process group until it exits or `timeout` passes; either
/// way, whatever is left of its group is then killed. Fails only when it cannot start.
pub fn run(mut command: Command, timeout: Duration) -> io::Result<Finished> {
    let started = Instant::now();
    let mut child = command
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()?;
    let (done_tx, done_rx) = mpsc::channel();
    let stdout = Arc::new(Mutex::new(Tail::default()));
    let stderr = Arc::new(Mutex::new(Tail::default()));
    let mut pipes = 0;
    if let Some(pipe) = child.stdout.take() {
        spawn_reader(pipe, Arc::clone(&stdout), done_tx.clone());
        pipes += 1;
    }
    if let Some(pipe) = child.stderr.take() {
        spawn_reader(pipe, Arc::clone(&stderr), done_tx.clone());
        pipes += 1;
    }
    drop(done_tx);

    // process_group(0) made the child the leader of a new group whose id is its pid.
    let pid = Pid::from_raw(i32::try_from(child.id()).unwrap_or(i32::MAX));
    // Killed with the rest if xtask is interrupted (Ctrl-C) while it runs.
    let live = crate::signals::Live::new(pid.as_raw());
    let timed_out = !exited_within(pid, timeout);
    let left_running = if timed_out {
        Vec::new()
    } else {
        still_in_group(pid.as_raw())
    };
    // The leader is not reaped yet (`exited_within` waits with WNOWAIT), so its pid
    // cannot have been given to another process: this kills our group and nothing else.
    // It also ends what a finished test left running, e.g. a forked child still asleep.
    // ESRCH (the group is already empty) is the usual, happy case.
    let _ = killpg(pid, Signal::SIGKILL);
    // Forgotten before the leader is reaped: until then its group id cannot be reused.
    drop(live);
    let status = child.wait().ok();

    let deadline = Instant::now() + GRACE;
    for _ in 0..pipes {
        let left = deadline.saturating_duration_since(Instant::now());
        if done_rx.recv_timeout(left).is_err() {
            break;
        }
    }
    Ok(Finished {
        status,
        stdout: take_text(&stdout),
        stderr: take_text(&stderr),
        timed_out,
        left_running,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The processes of group `group` that are still running (not zombies), other than its
/// leader, as `pid name`: what a test that has ended left behind. Read from /proc, where
/// the fifth field of `stat` is the process group; an unreadable entry is a process that
/// has just gone.
fn still_in_group(group: i32) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        if pid == group {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // `pid (name) state ppid pgrp ...`; the name may hold spaces and parentheses.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let mut rest = stat[close + 1..].split_whitespace();
        let (Some(state), _, Some(pgrp)) = (rest.next(), rest.next(), rest.next()) else {
            continue;
        };
        if pgrp.parse() == Ok(group) && state != "Z" {
            found.push(format!("{pid} {}", &stat[open + 1..close]));
        }
    }
    found
}

/// Waits up to `timeout` for `pid` to exit, without reaping it. A helper thread does the
/// waiting because `waitid` has no timeout of its own; when the deadline passes, the
/// caller kills the process, which ends the helper's wait too.
///
/// Lesson 1's `procs::bounded` does the same for the lessons; xtask keeps its own copy
/// on purpose: it depends on no lesson crate, so that a lesson a student left broken
/// can still be graded (the grader must build when the lesson does not).
fn exited_within(pid: Pid, timeout: Duration) -> bool {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        // WNOWAIT leaves the exited child a zombie, so its pid (and group id) stays ours
        // until `Child::wait` reaps it. EINTR (a signal arrived) means: wait again.
        let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT;
        while let Err(Errno::EINTR) = waitid(Id::Pid(pid), flags) {}
        let _ = tx.send(());
    });
    match rx.recv_timeout(timeout) {
        Ok(()) | Err(RecvTimeoutError::Disconnected) => true,
        Err(RecvTimeoutError::Timeout) => false,
    }
}

/// The end of what a pipe carried: at most about `KEEP` bytes, and how many came before.
#[derive(Debug, Default)]
struct Tail {
    bytes: Vec<u8>,
    dropped: usize,
}

impl Tail {
    fn push(&mut self, chunk: &[u8]) {
        self.bytes.extend_from_slice(chunk);
        // Trim only once twice the limit is reached, so trimming is rare.
        if self.bytes.len() > 2 * KEEP {
            let cut = self.bytes.len() - KEEP;
            self.bytes.drain(..cut);
            self.dropped += cut;
        }
    }
}

fn spawn_reader(mut pipe: impl Read + Send + 'static, into: Arc<Mutex<Tail>>, done: Sender<()>) {
    thread::spawn(move || {
        let mut chunk = [0u8; 8192];
        loop {
            match pipe.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => lock(&into).push(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
        let _ = done.send(());
    });
}

/// A reader thread cannot panic while holding the lock, but if it did, the bytes it
/// collected are still good: take them rather than fail.
fn lock(tail: &Mutex<Tail>) -> std::sync::MutexGuard<'_, Tail> {
    tail.lock().unwrap_or_else(PoisonError::into_inner)
}

fn take_text(tail: &Mutex<Tail>) -> String {
    let tail = lock(tail);
    let text = String::from_utf8_lossy(&tail.bytes);
    if tail.dropped > 0 {
        format!("[... {} earlier bytes not kept ...]\n{text}", tail.dropped)
    } else {
        text.into_owned()
    }
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
                while let Some(job) = jobs.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let outcome = if fail_fast && failed.load(Ordering::Relaxed) {
                        skip(job)
                    } else {
                        run(job)
                    };
                    if outcome.status != Status::Pass {
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

/// A panic, as the standard panic hook reports it:
///
/// ```text
/// thread 'name' (1234) panicked at crates/procs/tests/exercise_reap.rs:31:5:
/// assertion `left == right` failed
///   left: []
///  right: [(101, Code(1))]
/// note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Panic {
    /// `crates/procs/tests/exercise_reap.rs:31:5`
    pub location: String,
    /// The lines after the location, up to the `note:`.
    pub message: String,
}

/// What the harness printed for one test, taken apart.
#[derive(Debug, Default)]
struct Report {
    panics: Vec<Panic>,
    /// What the test itself printed (its captured output, panics taken out).
    printed: Vec<String>,
    /// The captured section as a whole: the fallback message when nothing panicked.
    failure_text: String,
}

/// Reads the harness's output of a single-test run. A failing test's captured output
/// is shown between `---- NAME stdout ----` and the final `failures:` list; anything
/// else (a passing test, a killed one) is searched whole, minus the harness's lines.
fn read_report(stdout: &str, name: &str) -> Report {
    let header = format!("---- {name} stdout ----");
    let lines: Vec<&str> = stdout.lines().collect();
    let section: Vec<&str> = match lines.iter().position(|l| l.trim_end() == header) {
        Some(start) => lines[start + 1..]
            .iter()
            .take_while(|l| l.trim_end() != "failures:")
            .copied()
            .collect(),
        None => lines
            .iter()
            .filter(|l| !is_harness_line(l))
            .copied()
            .collect(),
    };
    let mut report = Report {
        failure_text: section.join("\n").trim().to_string(),
        ..Report::default()
    };
    let mut lines = section.iter().peekable();
    while let Some(line) = lines.next() {
        let Some(location) = panic_location(line) else {
            if !is_backtrace_note(line) {
                report.printed.push(line.to_string());
            }
            continue;
        };
        let mut message = Vec::new();
        while let Some(next) = lines.next_if(|l| !ends_a_panic(l)) {
            message.push(next.trim_end());
        }
        while message.last().is_some_and(|l| l.is_empty()) {
            message.pop();
        }
        report.panics.push(Panic {
            location,
            message: message.join("\n"),
        });
    }
    while report.printed.last().is_some_and(|l| l.trim().is_empty()) {
        report.printed.pop();
    }
    while report.printed.first().is_some_and(|l| l.trim().is_empty()) {
        report.printed.remove(0);
    }
    report
}

/// `thread 'x' (123) panicked at src/lib.rs:4:9:` -> `src/lib.rs:4:9`. Older Rust
/// versions print no thread id; both forms are read.
fn panic_location(line: &str) -> Option<String> {
    let line = line.trim_end();
    if !line.starts_with("thread '") {
        return None;
    }
    let at = line.find(" panicked at ")? + " panicked at ".len();
    Some(line[at..].trim_end_matches(':').to_string())
}

fn is_backtrace_note(line: &str) -> bool {
    line.starts_with("note: run with `RUST_BACKTRACE") || line.starts_with("stack backtrace:")
}

fn ends_a_panic(line: &str) -> bool {
    line.starts_with("note: ")
        || line.starts_with("stack backtrace:")
        || panic_location(line).is_some()
}

fn is_harness_line(line: &str) -> bool {
    let line = line.trim_end();
    line.is_empty()
        || line.starts_with("running ")
        || line.starts_with("test result:")
        // `test NAME ... ok`, or `test NAME ...` of a test killed before it ended.
        || (line.starts_with("test ") && (line.contains(" ... ") || line.ends_with(" ...")))
}

/// The panics as one message: the first in full (it is usually the cause: a helper
/// thread's `todo!()` before the test's own "the helper panicked"), later ones after it.
pub fn panic_message(panics: &[Panic]) -> String {
    let text = panics
        .iter()
        .map(|p| {
            if p.message.is_empty() {
                format!("panicked at {}", p.location)
            } else {
                format!("panicked at {}:\n{}", p.location, p.message)
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    shorten(&text)
}

/// At most `MESSAGE_LINES` lines of at most 300 characters each.
fn shorten(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out: Vec<String> = lines
        .iter()
        .take(MESSAGE_LINES)
        .map(|l| {
            if l.chars().count() > 300 {
                format!("{}...", l.chars().take(297).collect::<String>())
            } else {
                l.to_string()
            }
        })
        .collect();
    if lines.len() > MESSAGE_LINES {
        out.push(format!("... ({} more lines)", lines.len() - MESSAGE_LINES));
    }
    out.join("\n")
}

/// The panics found in a harness's output.
#[cfg(test)]
fn panics_in(stdout: &str, name: &str) -> Vec<Panic> {
    read_report(stdout, name).panics
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use std::path::PathBuf;

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
            "panicked at crates/procs/tests/exercise_reap.rs:31:5:\n\
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
            "panicked at crates/procs/tests/exercise_capture.rs:3:73:\nboom: 42"
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
            outcome
                .message
                .starts_with("panicked at crates/procs/src/exercises/pipeline.rs:20:5:\nnot yet"),
            "{}",
            outcome.message
        );
        assert_eq!(outcome.output, "");
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
            "panicked at tests/fake.rs:3:5:\nassertion `left == right` failed\n  left: 1\n right: 2"
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
