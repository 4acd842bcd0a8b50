//! Zombies: a child that has exited but has not been waited for.
//!
//! When a process exits, the kernel frees its memory and files at once but keeps a
//! small record — pid, exit status, CPU times — until the parent asks for it with
//! `wait`. Meanwhile `/proc/<pid>/stat` shows state `Z`. A parent that never waits
//! leaks one process-table slot per child; when it exits, its children are adopted by
//! the nearest subreaper (a process that asked for it with `PR_SET_CHILD_SUBREAPER`)
//! or else by `init`, which reaps them.

use std::path::Path;
use std::time::{Duration, Instant};

use nix::unistd::Pid;

use crate::error::{Error, Result};
use crate::proc::{PROC_ROOT, Stat, pids_in, read_stat, read_stat_in};
use crate::spawn::{Exit, fork_and_exit, wait_for};

/// What happened to one child between its exit and its reaping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZombieLife {
    pub pid: i32,
    /// Its state while exited and not yet waited for ('Z').
    pub state_before_wait: char,
    pub exit: Exit,
    /// Whether /proc still had it after the wait (it should not).
    pub present_after_wait: bool,
}

// ANCHOR: zombie
/// Forks a child that exits at once, watches it turn into a zombie, then reaps it.
pub fn watch_a_zombie(timeout: Duration) -> Result<ZombieLife> {
    let pid = fork_and_exit(0)?;
    let state = wait_for_state(pid, 'Z', timeout);
    // Reap it whatever happened, so this function never leaves a zombie behind.
    let exit = wait_for(pid)?;
    let state = state?;
    let present_after_wait = Path::new(PROC_ROOT).join(pid.to_string()).exists();
    Ok(ZombieLife {
        pid: pid.as_raw(),
        state_before_wait: state,
        exit,
        present_after_wait,
    })
}
// ANCHOR_END: zombie

/// Polls `/proc/<pid>/stat` until the state is `want` or `timeout` passes; returns the
/// last state seen.
fn wait_for_state(pid: Pid, want: char, timeout: Duration) -> Result<char> {
    let deadline = crate::deadline::from_now(timeout);
    loop {
        let state = read_stat(pid.as_raw())?.state;
        if state == want {
            return Ok(state);
        }
        if Instant::now() >= deadline {
            return Err(Error::Invalid {
                what: "zombie watch",
                reason: format!("pid {pid} still in state {state} after {timeout:?}"),
            });
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The zombie children of `parent` now: processes whose parent it is, in state `Z`.
pub fn zombies_of_in(proc_root: &Path, parent: i32) -> Result<Vec<Stat>> {
    Ok(pids_in(proc_root)?
        .into_iter()
        // A process may exit between the listing and the read: skip what is gone.
        .filter_map(|pid| read_stat_in(proc_root, pid).ok())
        .filter(|s| s.ppid == parent && s.state == 'Z')
        .collect())
}

/// [`zombies_of_in`] on the real `/proc`.
pub fn zombies_of(parent: i32) -> Result<Vec<Stat>> {
    zombies_of_in(Path::new(PROC_ROOT), parent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exited_child_is_a_zombie_until_waited_for() {
        // Forking: takes its turn with the memory tests (see `test_lock`).
        let _turn = crate::test_lock();
        let life = watch_a_zombie(Duration::from_secs(5)).unwrap();
        assert_eq!(life.state_before_wait, 'Z');
        assert_eq!(life.exit, Exit::Code(0));
        assert!(!life.present_after_wait);
    }

    #[test]
    fn finds_a_zombie_child_and_not_after_reaping() {
        let _turn = crate::test_lock();
        let me = std::process::id() as i32;
        let pid = fork_and_exit(0).unwrap();
        wait_for_state(pid, 'Z', Duration::from_secs(5)).unwrap();
        let found = zombies_of(me).unwrap();
        assert!(found.iter().any(|s| s.pid == pid.as_raw()), "{found:?}");
        wait_for(pid).unwrap();
        let found = zombies_of(me).unwrap();
        assert!(!found.iter().any(|s| s.pid == pid.as_raw()), "{found:?}");
    }
}
