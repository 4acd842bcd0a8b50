//! A command run in its own process group with a deadline, its output read by two
//! threads and only the end of it kept: what runs one graded test.
//!
//! The group is what makes a timeout clean: a test and every process it forked share the
//! group, so one `killpg(SIGKILL)` ends them all, where killing the test alone would
//! leave its children running and holding its pipes open. What a test printed is read by
//! two threads, one per pipe (a child blocks when a pipe it writes is full and nobody
//! reads), and only the last `KEEP` bytes are kept, so a test that prints without end
//! costs memory it cannot exhaust.

use std::io::{self, Read};
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{Signal, killpg};
use nix::sys::wait::{Id, WaitPidFlag, waitid};
use nix::unistd::Pid;

/// How much of each pipe is kept: the end, where the harness reports the failure.
const KEEP: usize = 64 * 1024;

/// How long to keep reading once the test's process group is gone. A process that left
/// the group (`setsid`) could hold the pipes open forever; we stop waiting for it.
const GRACE: Duration = Duration::from_secs(2);

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
