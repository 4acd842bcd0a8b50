//! Running a child process while showing its progress and keeping all of its output.
//!
//! Two things make this harder than `Command::output()`. First, we want lines *as they
//! happen*, for the live progress, not once the child ends. Second, a child writes to
//! two pipes, and each pipe holds only a few dozen KiB: read one to its end before the
//! other, and a child that fills the other blocks forever, with us waiting on it. So
//! each pipe gets its own reader thread, and a third thread waits for the exit; all
//! three report to this thread over one channel, which keeps the arrival order of the
//! lines (useful for the "last 40 lines" shown when a step fails).

use std::io::{self, BufRead, BufReader, Read};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread;
use std::time::{Duration, Instant};

use crate::progress::{Stream, clean};

/// Everything a finished child produced.
#[derive(Debug)]
pub struct Output {
    /// `None` when the exit status could not be collected (`wait` failed).
    pub status: Option<ExitStatus>,
    /// Stdout exactly as written (invalid UTF-8 replaced), for parsing.
    pub stdout: String,
    /// Stderr cleaned of colour codes (a CI may force cargo's colours on): it is only
    /// shown and searched for cargo's messages, never parsed as data.
    pub stderr: String,
    /// Every line of both pipes in arrival order, cleaned for display.
    pub combined: Vec<String>,
    /// True when the child exited but something it started kept the pipes open, and
    /// we stopped reading rather than wait forever (see `GRACE`).
    pub cut_short: bool,
    pub seconds: f64,
}

impl Output {
    pub fn success(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }

    /// "exit status: 101", "signal: 9 (SIGKILL)", or why there is none.
    pub fn status_text(&self) -> String {
        match self.status {
            Some(s) => s.to_string(),
            None => "no exit status (waiting for the process failed)".to_string(),
        }
    }
}

/// How long to keep reading after the child exits. Lessons fork: a grandchild that
/// outlives its parent inherits the pipes and keeps them open, and waiting for their
/// end would wait for that grandchild. Output written before the exit arrives well
/// within this time.
const GRACE: Duration = Duration::from_secs(3);

/// How often `Seen::Quiet` is reported while the child is silent.
const TICK: Duration = Duration::from_secs(1);

enum Event {
    Line(Stream, String),
    Closed,
    Exited(io::Result<ExitStatus>),
}

/// What the caller is shown while the child runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen<'a> {
    /// A line, as it arrives.
    Line(Stream, &'a str),
    /// Nothing arrived for a second: a chance to say "still running".
    Quiet,
}

/// Runs `command` to its end, showing `watch` each line and each quiet second. Fails
/// only if the child cannot be started (e.g. `cargo` is not on PATH).
pub fn run(command: &mut Command, watch: &mut dyn FnMut(Seen<'_>)) -> io::Result<Output> {
    let started = Instant::now();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let (tx, rx) = mpsc::channel();
    let mut open_pipes = 0;
    if let Some(pipe) = child.stdout.take() {
        spawn_reader(pipe, Stream::Stdout, tx.clone());
        open_pipes += 1;
    }
    if let Some(pipe) = child.stderr.take() {
        spawn_reader(pipe, Stream::Stderr, tx.clone());
        open_pipes += 1;
    }
    let exit_tx = tx.clone();
    thread::spawn(move || {
        // The receiver may be gone if we stopped reading: nothing left to tell.
        let _ = exit_tx.send(Event::Exited(child.wait()));
    });
    // Only the threads hold senders now, so the channel disconnects when all are done.
    drop(tx);

    let mut out = Output {
        status: None,
        stdout: String::new(),
        stderr: String::new(),
        combined: Vec::new(),
        cut_short: false,
        seconds: 0.0,
    };
    let mut exited_at: Option<Instant> = None;
    loop {
        match rx.recv_timeout(TICK) {
            Ok(Event::Line(stream, line)) => {
                let cleaned = clean(&line);
                let text = match stream {
                    Stream::Stdout => &mut out.stdout,
                    Stream::Stderr => &mut out.stderr,
                };
                text.push_str(if stream == Stream::Stdout {
                    &line
                } else {
                    &cleaned
                });
                text.push('\n');
                out.combined.push(cleaned);
                watch(Seen::Line(stream, &line));
            }
            Ok(Event::Closed) => open_pipes -= 1,
            Ok(Event::Exited(status)) => {
                out.status = status.ok();
                exited_at = Some(Instant::now());
            }
            Err(RecvTimeoutError::Timeout) => watch(Seen::Quiet),
            Err(RecvTimeoutError::Disconnected) => break,
        }
        if open_pipes == 0 && exited_at.is_some() {
            break;
        }
        if exited_at.is_some_and(|t| t.elapsed() >= GRACE) {
            // The reader threads stay blocked on the inherited pipes until the
            // grandchild closes them; they end on their own then, or with xtask.
            out.cut_short = true;
            break;
        }
    }
    out.seconds = started.elapsed().as_secs_f64();
    Ok(out)
}

/// Reads `pipe` line by line until it closes. Bytes, not `String`s: a child may print
/// invalid UTF-8, and that must cost it a replacement character, not its whole output.
fn spawn_reader(pipe: impl Read + Send + 'static, stream: Stream, tx: Sender<Event>) {
    thread::spawn(move || {
        let mut reader = BufReader::new(pipe);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if buf.ends_with(b"\n") {
                        buf.pop();
                    }
                    let line = String::from_utf8_lossy(&buf).into_owned();
                    if tx.send(Event::Line(stream, line)).is_err() {
                        return;
                    }
                }
            }
        }
        let _ = tx.send(Event::Closed);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Output {
        let mut lines = Vec::new();
        let out = run(Command::new("sh").args(["-c", script]), &mut |seen| {
            if let Seen::Line(s, l) = seen {
                lines.push((s, l.to_string()));
            }
        })
        .expect("sh runs");
        assert_eq!(lines.len(), out.combined.len());
        out
    }

    #[test]
    fn both_pipes_are_captured_with_the_exit_status() {
        let out = sh(r"echo out1; printf '\033[31merr1\033[0m\n' >&2; echo out2; exit 3");
        assert_eq!(out.stdout, "out1\nout2\n");
        assert_eq!(out.stderr, "err1\n");
        assert_eq!(out.status.and_then(|s| s.code()), Some(3));
        assert!(!out.success() && !out.cut_short);
    }

    #[test]
    fn a_child_filling_both_pipes_does_not_deadlock() {
        // 200,000 lines on each pipe: far more than a pipe buffer holds.
        let out = sh("seq 200000; seq 200000 >&2");
        assert_eq!(out.stdout.lines().count(), 200_000);
        assert_eq!(out.stderr.lines().count(), 200_000);
        assert!(out.success());
    }

    #[test]
    fn invalid_utf8_and_a_missing_last_newline_are_kept() {
        let out = sh(r"printf 'a\377b\nlast'");
        assert_eq!(out.stdout, "a\u{fffd}b\nlast\n");
    }

    #[test]
    fn a_grandchild_holding_the_pipes_does_not_hang_us() {
        // The grandchild keeps our pipes open for five minutes: however slow the
        // machine, it is still there when we stop reading, `GRACE` after its parent
        // exits. Its pid goes to a file, so that the test can end it afterwards.
        let pid_file =
            std::env::temp_dir().join(format!("xtask-grandchild-{}.pid", std::process::id()));
        let started = Instant::now();
        let out = sh(&format!(
            "echo parent; (sleep 300 & echo $! > '{}'); exit 0",
            pid_file.display()
        ));
        let took = started.elapsed();
        if let Ok(pid) = std::fs::read_to_string(&pid_file) {
            let _ = Command::new("kill").arg(pid.trim()).status();
        }
        let _ = std::fs::remove_file(&pid_file);
        assert!(out.success());
        assert_eq!(out.stdout, "parent\n");
        assert!(out.cut_short);
        // `GRACE` (3 s) is what this takes; waiting for the grandchild would take five
        // minutes. 60 s is far from both.
        assert!(took < Duration::from_secs(60), "{took:?}");
    }

    #[test]
    fn a_missing_program_is_an_error_not_a_panic() {
        let r = run(
            &mut Command::new("/nonexistent/xtask-test-program"),
            &mut |_| {},
        );
        assert!(r.is_err());
    }
}
