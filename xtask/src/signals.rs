//! Ctrl-C while tests run: nothing is left behind.
//!
//! Every graded test runs in a process group of its own (`test_process`), so that a test
//! that hangs can be killed together with whatever it started. The other side of that
//! coin: the terminal's Ctrl-C goes to the foreground group, xtask's, and not to the
//! tests' groups. Without this module, leaving `cargo xtask watch` with Ctrl-C would
//! leave a hung test running, the very case the time limit exists for.
//!
//! So xtask takes SIGINT, SIGTERM and SIGHUP itself: the `signal-hook` crate's handler
//! only writes the signal's number to a pipe, and a thread of ours reads it (so that
//! thread may lock and allocate like any other), kills every test group still alive,
//! and exits as the signal would have (128 + its number). Nothing is blocked: a signal
//! mask would be inherited by every program xtask starts, through fork and exec, and a
//! test that sends SIGTERM to its child would see nothing happen. A handler, unlike a
//! mask, is reset to the default by exec.

use std::sync::Mutex;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// The process groups of the tests running now.
static LIVE: Mutex<Vec<i32>> = Mutex::new(Vec::new());

/// Starts the thread that waits for SIGINT, SIGTERM and SIGHUP. Call it first in
/// `main`. If the handler cannot be installed, the default actions stay.
pub fn watch() {
    let Ok(mut signals) = Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
        return;
    };
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            kill_live();
            std::process::exit(128 + signal);
        }
    });
}

/// A test's process group, alive until dropped.
#[derive(Debug)]
pub struct Live(i32);

impl Live {
    /// Records the group `pgid` as alive.
    pub fn new(pgid: i32) -> Live {
        groups().push(pgid);
        Live(pgid)
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        groups().retain(|&g| g != self.0);
    }
}

fn groups() -> std::sync::MutexGuard<'static, Vec<i32>> {
    // A list of numbers cannot be left half-changed: a poisoned lock is used as it is.
    LIVE.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Kills every live test group (SIGKILL: a hung test ignores nothing else reliably).
pub fn kill_live() {
    for &pgid in groups().iter() {
        let _ = killpg(Pid::from_raw(pgid), Signal::SIGKILL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::{CommandExt, ExitStatusExt};

    #[test]
    fn the_programs_xtask_starts_have_no_signal_blocked() {
        watch();
        let out = std::process::Command::new("grep")
            .args(["SigBlk", "/proc/self/status"])
            .output()
            .unwrap();
        let line = String::from_utf8_lossy(&out.stdout);
        assert_eq!(line.trim(), "SigBlk:\t0000000000000000", "{line}");
    }

    #[test]
    fn a_live_test_group_is_killed_and_a_finished_one_forgotten() {
        let mut child = std::process::Command::new("sleep")
            .arg("60")
            .process_group(0)
            .spawn()
            .unwrap();
        let live = Live::new(child.id() as i32);
        kill_live();
        let status = child.wait().unwrap();
        assert_eq!(status.signal(), Some(Signal::SIGKILL as i32));
        drop(live);
        assert!(!groups().contains(&(child.id() as i32)));
    }
}
