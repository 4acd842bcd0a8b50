//! Running a tool to its end, for at most a given time, with what it printed: lesson 1's
//! child with a deadline (`procs::bounded`), with both output streams kept for the
//! error messages.

use std::process::{Command, ExitStatus};
use std::time::Duration;

use crate::error::PeersError;

/// The most of each stream kept: wrk's report is a few hundred bytes, a failing tool's
/// complaint a few kilobytes.
const KEPT: usize = 1 << 20;

/// How a tool run ended, and what it printed.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Finished {
    /// What it printed, for an error message: the end of it, if it is long.
    pub fn output(&self) -> String {
        let text = format!("{}\n{}", self.stdout.trim(), self.stderr.trim());
        let lines: Vec<&str> = text.trim().lines().collect();
        let tail = lines.len().saturating_sub(40);
        format!("\n{}", lines[tail..].join("\n"))
    }
}

// ANCHOR: run_bounded
/// Runs `command` to its end, for at most `limit`: past it, the command is killed and
/// reaped, and the error says so.
pub fn run_bounded(command: Command, limit: Duration, what: &str) -> Result<Finished, PeersError> {
    let out =
        procs::bounded::outputs_within(command, limit, KEPT).map_err(|source| PeersError::Run {
            what: what.to_string(),
            source,
        })?;
    Ok(Finished {
        status: out.status,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}
// ANCHOR_END: run_bounded

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tool_that_runs_too_long_is_stopped_and_reaped() {
        // A minute of sleep, stopped at 100 ms: an error that says so, not a hang (a
        // child left running would keep this test waiting for its minute).
        let mut command = Command::new("sleep");
        command.arg("60");
        let e = run_bounded(command, Duration::from_millis(100), "sleep").unwrap_err();
        assert!(e.to_string().contains("still running"), "{e}");
    }

    #[test]
    fn both_streams_are_kept() {
        let mut command = Command::new("sh");
        command.args(["-c", "echo out; echo err >&2; exit 3"]);
        let done = run_bounded(command, Duration::from_secs(60), "sh").unwrap();
        assert_eq!(done.status.code(), Some(3));
        assert_eq!(
            (done.stdout.as_str(), done.stderr.as_str()),
            ("out\n", "err\n")
        );
        assert!(done.output().contains("out\nerr"));
    }
}
