//! Sessions: a child started in a session of its own, as a daemon runs.
//!
//! Every process belongs to a *session* (what a login, or a terminal window, starts) and
//! to a *process group* inside it (what a shell starts for one pipeline). A child
//! inherits both from its parent; `setsid()` in the child, before it execs, makes it the
//! leader of a new session with no terminal. That is what a daemon does at start-up, and
//! what a service manager does for it.
//!
//! Why a course about costs cares: with *autogroup* on (`/proc/sys/kernel/
//! sched_autogroup_enabled`, on by default in many desktop and server kernels), the
//! scheduler first shares the cores between sessions, and only then between the threads
//! inside each. A server started as a plain child shares one group with the program that
//! started it, thread by thread: on 2 cores, a one-thread client and a server of two
//! workers get two thirds of a core each, whatever either needs. Started in a session of
//! its own, the server is scheduled as it would be in production, apart from its client.
//! A benchmark that measures a client against a real server starts the server this way,
//! so that the server's thread count does not decide the client's share of the machine.
#![allow(unsafe_code)] // Code between fork and exec is the lesson; the block says why it is sound.

use std::process::Command;

/// Where this kernel says whether autogroup is on.
pub const AUTOGROUP_SWITCH: &str = "/proc/sys/kernel/sched_autogroup_enabled";

// ANCHOR: in_own_session
/// Makes `command` start its child in a new session (`setsid()` between fork and exec),
/// without a controlling terminal: a Ctrl-C typed in this terminal no longer reaches it,
/// so whoever starts it must stop it.
pub fn in_own_session(command: &mut Command) -> &mut Command {
    use std::os::unix::process::CommandExt;
    // SAFETY: the closure runs in the child between fork and exec, where only
    // async-signal-safe functions may be called (see `spawn`). `setsid` is one (POSIX
    // lists it), and the closure allocates nothing, takes no lock, and builds its error
    // from the raw errno without allocating.
    unsafe {
        command.pre_exec(|| {
            nix::unistd::setsid()
                .map(drop)
                .map_err(|errno| std::io::Error::from_raw_os_error(errno as i32))
        })
    }
}
// ANCHOR_END: in_own_session

/// Whether the scheduler groups threads by session here: `Some(true)` or `Some(false)`
/// from the kernel's switch, `None` when this kernel has no such switch (built without
/// autogroup) or it cannot be read.
pub fn autogroup_enabled() -> Option<bool> {
    switch_state(&std::fs::read_to_string(AUTOGROUP_SWITCH).ok()?)
}

/// The switch's text as the kernel writes it: `0` or `1` and a newline.
fn switch_state(text: &str) -> Option<bool> {
    match text.trim() {
        "0" => Some(false),
        "1" => Some(true),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Stdio;

    /// Field `n` (1-based, as in proc(5)) of `/proc/PID/stat`, read after the command
    /// name, which may hold spaces.
    fn stat_field(text: &str, n: usize) -> i64 {
        let after_name = &text[text.rfind(')').unwrap() + 2..];
        after_name.split(' ').nth(n - 3).unwrap().parse().unwrap()
    }

    #[test]
    fn a_child_in_its_own_session_leads_it_and_a_plain_child_does_not() {
        let ours = stat_field(&std::fs::read_to_string("/proc/self/stat").unwrap(), 6);
        for own in [false, true] {
            // The child prints its own stat line: pid (field 1) and session (field 6).
            let mut command = Command::new("cat");
            command.arg("/proc/self/stat").stdout(Stdio::piped());
            if own {
                in_own_session(&mut command);
            }
            let out = command.output().unwrap();
            assert!(out.status.success());
            let text = String::from_utf8(out.stdout).unwrap();
            let pid: i64 = text.split(' ').next().unwrap().parse().unwrap();
            let session = stat_field(&text, 6);
            if own {
                assert_eq!(session, pid, "the child leads a session of its own");
                assert_ne!(session, ours);
            } else {
                assert_eq!(session, ours, "a plain child stays in ours");
            }
        }
    }

    #[test]
    fn the_autogroup_switch_is_read_as_on_off_or_unknown() {
        assert_eq!(switch_state("1\n"), Some(true));
        assert_eq!(switch_state("0\n"), Some(false));
        for odd in ["", "2\n", "on", "10"] {
            assert_eq!(switch_state(odd), None, "{odd:?}");
        }
    }
}
