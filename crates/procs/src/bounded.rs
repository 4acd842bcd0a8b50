//! A child process with a deadline: its output, its exit status, or its end at the
//! deadline.
//!
//! Later lessons run a piece of work in a child process of its own (the race runs each
//! engine that way, so that its peak memory and its threads are its alone) and read one
//! line of results from it. A child that hangs would hang its parent with it: reading
//! its output waits for the child to close it, and `wait` waits for it to exit. So both
//! waits get the same deadline, and a child that overruns it is killed and reaped.
//!
//! `wait` itself has no timeout. A helper thread does the waiting with
//! `waitid(WEXITED | WNOWAIT)`, which leaves the exited child a zombie (its pid stays
//! ours, so a kill can never reach another process that got the number), and tells the
//! caller over a channel; the caller waits on the channel with the deadline. Only then
//! is the child reaped, by [`Child::wait`].

use std::io::Read;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::wait::{Id, WaitPidFlag, waitid};
use nix::unistd::Pid;

use crate::error::{Error, Result};

/// How a child run with [`output_within`] or [`outputs_within`] ended.
#[derive(Debug)]
pub struct Output {
    pub status: ExitStatus,
    /// What it wrote to its standard output: the first `max` bytes of it.
    pub stdout: Vec<u8>,
    /// What it wrote to its standard error, the first `max` bytes of it, when
    /// [`outputs_within`] read it; empty for [`output_within`], which leaves it alone.
    pub stderr: Vec<u8>,
}

/// Runs `command` with its standard input empty and its standard output read (at most
/// `max` bytes kept; the rest is read and dropped, so the child never blocks on a full
/// pipe), until it exits or `limit` passes. A child still running at the deadline is
/// killed and reaped, and the error says so. Its standard error is left as it is: the
/// child's messages reach the same place as the parent's.
pub fn output_within(command: Command, limit: Duration, max: usize) -> Result<Output> {
    run_within(command, limit, max, false)
}

/// [`output_within`], with the standard error read as well (for a tool whose messages
/// are part of what it answers, such as a version banner, or go into an error report).
pub fn outputs_within(command: Command, limit: Duration, max: usize) -> Result<Output> {
    run_within(command, limit, max, true)
}

fn run_within(
    mut command: Command,
    limit: Duration,
    max: usize,
    with_stderr: bool,
) -> Result<Output> {
    let deadline = crate::deadline::from_now(limit);
    command.stdin(Stdio::null()).stdout(Stdio::piped());
    if with_stderr {
        command.stderr(Stdio::piped());
    }
    let mut child = command.spawn().map_err(|e| Error::Invalid {
        what: "child process",
        reason: format!("cannot start {command:?}: {e}"),
    })?;
    let stdout = child.stdout.take().map(|pipe| read_in_thread(pipe, max));
    let stderr = child.stderr.take().map(|pipe| read_in_thread(pipe, max));
    if !exited_by(&child, deadline) {
        // SIGKILL, then reap: nothing of it is left behind.
        let _ = child.kill();
        let _ = child.wait();
        return Err(Error::Invalid {
            what: "child process",
            reason: format!(
                "{command:?} was still running after {:.0} s, and was killed",
                limit.as_secs_f64()
            ),
        });
    }
    let status = child.wait().map_err(|e| Error::Invalid {
        what: "child process",
        reason: format!("cannot wait for {command:?}: {e}"),
    })?;
    // The child has exited; a process it started may still hold a pipe open, so the
    // output is awaited no longer than the deadline either.
    let collect = |reader: Option<mpsc::Receiver<Vec<u8>>>| {
        let left = deadline.saturating_duration_since(Instant::now());
        reader
            .and_then(|rx| rx.recv_timeout(left).ok())
            .unwrap_or_default()
    };
    Ok(Output {
        status,
        stdout: collect(stdout),
        stderr: collect(stderr),
    })
}

/// Reads `pipe` to its end in a thread of its own, keeping the first `max` bytes; the
/// bytes arrive on the channel when the pipe is closed.
fn read_in_thread(mut pipe: impl Read + Send + 'static, max: usize) -> mpsc::Receiver<Vec<u8>> {
    let (done_tx, done_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        let mut chunk = [0u8; 8192];
        loop {
            match pipe.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => {
                    let room = max.saturating_sub(kept.len());
                    kept.extend_from_slice(&chunk[..n.min(room)]);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        let _ = done_tx.send(kept);
    });
    done_rx
}

/// Waits until `child` has exited or `limit` has passed, without polling; true when it
/// exited, and then it is reaped too. On false it is still running, and still the
/// caller's to stop (and reap).
pub fn reaped_within(child: &mut Child, limit: Duration) -> bool {
    if exited_by(child, crate::deadline::from_now(limit)) {
        let _ = child.wait();
        true
    } else {
        false
    }
}

/// Waits until `child` has exited or `deadline` has passed, without reaping it; true
/// when it exited.
fn exited_by(child: &Child, deadline: Instant) -> bool {
    let pid = Pid::from_raw(i32::try_from(child.id()).unwrap_or(i32::MAX));
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT;
        // EINTR (a signal arrived) means: wait again.
        while let Err(Errno::EINTR) = waitid(Id::Pid(pid), flags) {}
        let _ = tx.send(());
    });
    let left = deadline.saturating_duration_since(Instant::now());
    match rx.recv_timeout(left) {
        Ok(()) | Err(RecvTimeoutError::Disconnected) => true,
        Err(RecvTimeoutError::Timeout) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut command = Command::new("sh");
        command.args(["-c", script]);
        command
    }

    #[test]
    fn a_child_that_ends_gives_its_output_and_status() {
        let out = output_within(sh("echo one line; exit 3"), Duration::from_secs(60), 64).unwrap();
        assert_eq!(out.stdout, b"one line\n");
        assert_eq!(out.status.code(), Some(3));
        assert!(out.stderr.is_empty());
    }

    #[test]
    fn a_child_is_reaped_when_it_ends_and_left_running_when_it_does_not() {
        let mut quick = sh("exit 0").spawn().unwrap();
        assert!(reaped_within(&mut quick, Duration::from_secs(60)));
        // Reaped: no process of that pid is left, not even a zombie.
        assert!(!std::path::Path::new(&format!("/proc/{}", quick.id())).exists());
        let mut slow = sh("exec sleep 1000").spawn().unwrap();
        assert!(!reaped_within(&mut slow, Duration::from_millis(100)));
        assert!(slow.try_wait().unwrap().is_none(), "still running");
        slow.kill().unwrap();
        slow.wait().unwrap();
    }

    #[test]
    fn both_streams_are_read_when_asked() {
        let script = "echo out; echo err >&2; exit 1";
        let out = outputs_within(sh(script), Duration::from_secs(60), 64).unwrap();
        assert_eq!(
            (out.stdout, out.stderr),
            (b"out\n".to_vec(), b"err\n".to_vec())
        );
        assert_eq!(out.status.code(), Some(1));
    }

    #[test]
    fn only_the_first_bytes_are_kept_and_the_child_is_not_blocked() {
        // 1 MiB is more than a pipe holds: a child whose output is not read would block.
        let script = "head -c 1048576 /dev/zero";
        let out = output_within(sh(script), Duration::from_secs(60), 10).unwrap();
        assert!(out.status.success());
        assert_eq!(out.stdout, vec![0u8; 10]);
    }

    #[test]
    fn a_child_that_overruns_is_killed_and_reaped() {
        let dir = std::env::temp_dir().join(format!("procs-bounded-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pid_file = dir.join("pid");
        let script = format!("echo $$ > {}; exec sleep 1000", pid_file.display());
        let err = output_within(sh(&script), Duration::from_millis(300), 64)
            .unwrap_err()
            .to_string();
        assert!(err.contains("was still running after"), "{err}");
        // Killed and reaped: no process of that pid is left, not even a zombie. (A
        // child left running would keep this test waiting for its 1000 s instead.)
        let pid = std::fs::read_to_string(&pid_file).unwrap();
        assert!(
            !std::path::Path::new(&format!("/proc/{}", pid.trim())).exists(),
            "the child {} is still there",
            pid.trim()
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
