//! fork, exec, wait: how a shell starts a program.
//!
//! A Unix shell that runs `find . -name '*.toml'` does three things:
//!
//! 1. `fork()`: the kernel copies the shell. Now there are two processes running the
//!    same code; `fork` returns the child's pid in the parent and 0 in the child.
//! 2. `exec()` in the child: the copy throws its program away and loads `find` in its
//!    place. Same pid, new program. On success `exec` never returns.
//! 3. `waitpid()` in the parent: it sleeps until the child exits and collects its exit
//!    status. Until then the dead child stays in the process table as a *zombie*.
//!
//! Three details make the difference between a toy and a correct version:
//!
//! - **After `fork` in a program with threads, the child may only call
//!   async-signal-safe functions until it execs** (another thread may have held a lock,
//!   e.g. inside `malloc`, at the moment of the fork, and in the child nobody will ever
//!   release it). So everything that allocates — looking the program up in `PATH`,
//!   turning arguments into C strings, building the `argv` array — happens *before*
//!   the fork, in [`Program::new`]. The child calls only `signal`, `execv`, `write` and
//!   `_exit`.
//! - **What the child inherits matters**: open files, the signal mask, and ignored
//!   signals all survive exec. Rust ignores `SIGPIPE`, so [`Program::exec`] restores its
//!   default first, as a shell would.
//! - **A failed exec must reach the parent as an error**, not as a mysterious exit code
//!   127. The parent makes a pipe whose ends close on exec (`O_CLOEXEC`). If the exec
//!   succeeds, the kernel closes the child's end and the parent reads end-of-file; if it
//!   fails, the child writes its `errno` into the pipe before exiting.
#![allow(unsafe_code)] // fork and exec are the lesson; every block says why it is sound.

use std::ffi::{CString, c_char};
use std::fmt;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::libc;
use nix::sys::signal::{SigHandler, Signal, signal};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{AccessFlags, ForkResult, Pid, access, fork, pipe2};

use crate::error::{Error, Result};

/// A program ready to be started: resolved path and C-string arguments, all allocated
/// before any fork.
#[derive(Debug)]
pub struct Program {
    /// The name as the caller gave it, for messages.
    name: String,
    path: CString,
    /// Owns the argument strings that `argv` points into.
    _args: Vec<CString>,
    /// NULL-terminated array of pointers into `_args`, as `execv` wants it.
    argv: Vec<*const c_char>,
}

impl Program {
    // ANCHOR: program_new
    /// Resolves `program` (through `PATH` unless it contains a `/`) and prepares its
    /// arguments; `args` does not include the program name, which becomes `argv[0]`.
    pub fn new<S: AsRef<str>>(program: &str, args: &[S]) -> Result<Program> {
        let path = find_program(program)?;
        let mut c_args = Vec::with_capacity(args.len() + 1);
        for (index, arg) in std::iter::once(program)
            .chain(args.iter().map(|a| a.as_ref()))
            .enumerate()
        {
            c_args.push(CString::new(arg).map_err(|_| Error::NulInArgument {
                index,
                arg: arg.to_string(),
            })?);
        }
        let argv = c_args
            .iter()
            .map(|a| a.as_ptr())
            .chain(std::iter::once(std::ptr::null()))
            .collect();
        let path = CString::new(path.as_os_str().as_bytes()).map_err(|_| Error::NulInArgument {
            index: 0,
            arg: program.to_string(),
        })?;
        Ok(Program {
            name: program.to_string(),
            path,
            _args: c_args,
            argv,
        })
    }
    // ANCHOR_END: program_new

    /// The name the caller gave.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The resolved path that will be executed.
    pub fn path(&self) -> &str {
        self.path.to_str().unwrap_or("(non-UTF-8 path)")
    }

    // ANCHOR: exec
    /// Replaces the calling process with this program; returns only on failure.
    ///
    /// Calls only `signal` and `execv`, so it is safe to use in a freshly forked child.
    pub fn exec(&self) -> Errno {
        // Rust programs ignore SIGPIPE (so a closed pipe is an error, not a death), and
        // an ignored signal stays ignored across exec. Programs like `yes` or `find`
        // expect the default: die quietly when the reader of their output goes away.
        // SAFETY: SIG_DFL installs no handler; signal() is async-signal-safe.
        let _ = unsafe { signal(Signal::SIGPIPE, SigHandler::SigDfl) };
        // SAFETY: `path` is a valid C string and `argv` is a NULL-terminated array of
        // pointers to C strings owned by `self._args`, alive for this whole call.
        unsafe { libc::execv(self.path.as_ptr(), self.argv.as_ptr()) };
        Errno::last()
    }
    // ANCHOR_END: exec
}

// ANCHOR: find_program
/// Finds the file a shell would run for `program`: a name with a `/` is a path; any
/// other name is looked up in each folder of `PATH`, in order.
pub fn find_program(program: &str) -> Result<PathBuf> {
    let not_found = |reason: String| Error::ProgramNotFound {
        program: program.to_string(),
        reason,
    };
    if program.is_empty() {
        return Err(not_found("the name is empty".into()));
    }
    if program.contains('/') {
        let path = Path::new(program);
        return if is_executable(path) {
            Ok(path.to_path_buf())
        } else if path.exists() {
            Err(not_found("the file is not executable".into()))
        } else {
            Err(not_found("no such file".into()))
        };
    }
    // POSIX leaves the default search path to the system; this is what shells use.
    let path_var = std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into());
    std::env::split_paths(&path_var)
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable(candidate))
        .ok_or_else(|| {
            not_found(format!(
                "not in any folder of PATH ({})",
                path_var.to_string_lossy()
            ))
        })
}
// ANCHOR_END: find_program

fn is_executable(path: &Path) -> bool {
    path.is_file() && access(path, AccessFlags::X_OK).is_ok()
}

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// It called `exit(code)` (or returned from `main`).
    Code(i32),
    /// A signal killed it.
    Signal(Signal),
}

impl Exit {
    pub fn success(&self) -> bool {
        *self == Exit::Code(0)
    }
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Exit::Code(c) => write!(f, "exit code {c}"),
            Exit::Signal(s) => write!(f, "killed by {s}"),
        }
    }
}

/// A started child that has not been waited for yet: until [`Child::wait`], it will
/// linger as a zombie after it exits.
#[derive(Debug)]
#[must_use = "a child that is never waited for stays a zombie"]
pub struct Child {
    pid: Pid,
}

impl Child {
    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// Waits for this child to end and reaps it (its zombie is gone afterwards).
    pub fn wait(self) -> Result<Exit> {
        wait_for(self.pid)
    }
}

// ANCHOR: wait_for
/// `waitpid` for one child, retried when a signal interrupts the wait.
pub fn wait_for(pid: Pid) -> Result<Exit> {
    loop {
        match waitpid(pid, None) {
            Ok(WaitStatus::Exited(_, code)) => return Ok(Exit::Code(code)),
            Ok(WaitStatus::Signaled(_, signal, _core_dumped)) => return Ok(Exit::Signal(signal)),
            // Stopped/continued states are only reported when asked for (WUNTRACED).
            Ok(_) => continue,
            Err(Errno::EINTR) => continue,
            Err(errno) => {
                return Err(Error::Sys {
                    what: "waitpid",
                    errno,
                });
            }
        }
    }
}
// ANCHOR_END: wait_for

// ANCHOR: spawn
/// Starts `program` as a child process: fork, then exec in the child.
///
/// Returns once the child runs the new program, or with [`Error::Exec`] if it could
/// not (in which case the failed child has already been reaped).
pub fn spawn(program: &Program) -> Result<Child> {
    // Both ends close on exec: a successful exec closes the child's write end, and the
    // parent's read() then sees end-of-file.
    let (read_end, write_end) = pipe2(OFlag::O_CLOEXEC).map_err(Error::sys("pipe2"))?;

    // SAFETY: after fork the child calls only async-signal-safe functions (signal, execv,
    // write, _exit) and touches only memory prepared before the fork, so it is sound even when
    // other threads held locks at the moment of the fork.
    match unsafe { fork() }.map_err(Error::sys("fork"))? {
        ForkResult::Child => {
            let errno = program.exec();
            // Still here: exec failed. Tell the parent why, then leave without running
            // any of the parent's cleanup (atexit handlers, buffered output): `_exit`.
            let _ = nix::unistd::write(&write_end, &(errno as i32).to_ne_bytes());
            // SAFETY: _exit ends the process at once; always sound.
            unsafe { libc::_exit(127) }
        }
        ForkResult::Parent { child } => {
            // Close our copy of the write end, or read() would wait forever.
            drop(write_end);
            match read_exec_error(&read_end)? {
                None => Ok(Child { pid: child }),
                Some(errno) => {
                    wait_for(child)?; // reap the failed child: no zombie left behind
                    Err(Error::Exec {
                        program: program.name().to_string(),
                        errno,
                    })
                }
            }
        }
    }
}
// ANCHOR_END: spawn

/// Reads the child's report: end-of-file means the exec succeeded.
fn read_exec_error(read_end: &OwnedFd) -> Result<Option<Errno>> {
    let mut buf = [0u8; 4];
    Ok(
        match read_full(read_end, &mut buf, "read from the exec-status pipe")? {
            0 => None,
            4 => Some(Errno::from_raw(i32::from_ne_bytes(buf))),
            // A partial report cannot come from our child; say so rather than guess.
            _ => Some(Errno::EIO),
        },
    )
}

/// Reads until `buf` is full or the writer closed its end; returns how many bytes came.
/// A pipe may deliver a message in pieces, and a signal may interrupt the read (EINTR):
/// neither is an error.
pub(crate) fn read_full(fd: &OwnedFd, buf: &mut [u8], what: &'static str) -> Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match nix::unistd::read(fd, &mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(Errno::EINTR) => continue,
            Err(errno) => return Err(Error::Sys { what, errno }),
        }
    }
    Ok(got)
}

/// Runs `program` with `args` to completion: spawn, then wait. Returns the child's pid
/// (to show it) and how it ended.
pub fn run<S: AsRef<str>>(program: &str, args: &[S]) -> Result<(Pid, Exit)> {
    let program = Program::new(program, args)?;
    let child = spawn(&program)?;
    let pid = child.pid();
    Ok((pid, child.wait()?))
}

// ANCHOR: fork_exit
/// The cheapest possible child: fork, and the child exits at once. Returns the child's
/// pid, not yet waited for.
pub fn fork_and_exit(code: i32) -> Result<Pid> {
    // SAFETY: the child calls only _exit, which is async-signal-safe.
    match unsafe { fork() }.map_err(Error::sys("fork"))? {
        // SAFETY: _exit ends the child at once; always sound.
        ForkResult::Child => unsafe { libc::_exit(code) },
        ForkResult::Parent { child } => Ok(child),
    }
}
// ANCHOR_END: fork_exit

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_a_program_and_reports_its_exit_code() {
        // Each test that forks takes its turn with the memory tests (see `test_lock`).
        let _turn = crate::test_lock();
        let (pid, exit) = run("true", &[] as &[&str]).unwrap();
        assert!(pid.as_raw() > 0);
        assert_eq!(exit, Exit::Code(0));
        let (_, exit) = run("sh", &["-c", "exit 3"]).unwrap();
        assert_eq!(exit, Exit::Code(3));
        assert_eq!(exit.to_string(), "exit code 3");
    }

    #[test]
    fn a_killed_child_reports_the_signal() {
        let _turn = crate::test_lock();
        let (_, exit) = run("sh", &["-c", "kill -9 $$"]).unwrap();
        assert_eq!(exit, Exit::Signal(Signal::SIGKILL));
        assert!(!exit.success());
    }

    #[test]
    fn a_missing_program_is_a_clear_error() {
        let _turn = crate::test_lock();
        let err = run("no-such-program-xyz", &[] as &[&str]).unwrap_err();
        assert!(matches!(err, Error::ProgramNotFound { .. }), "{err}");
        assert!(err.to_string().contains("no-such-program-xyz"), "{err}");
        let err = run("/no/such/file", &[] as &[&str]).unwrap_err();
        assert!(err.to_string().contains("no such file"), "{err}");
        let err = run("", &[] as &[&str]).unwrap_err();
        assert!(err.to_string().contains("empty"), "{err}");
    }

    #[test]
    fn a_nul_in_an_argument_is_refused_before_forking() {
        let err = Program::new("echo", &["ok", "bad\0arg"]).unwrap_err();
        assert!(
            matches!(err, Error::NulInArgument { index: 2, .. }),
            "{err}"
        );
    }

    #[test]
    fn an_exec_failure_reaches_the_parent_with_its_errno() {
        // A file that is executable but not a valid program: exec fails with ENOEXEC.
        let dir = std::env::temp_dir().join(format!("procs-spawn-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("not-a-program");
        std::fs::write(&path, [0u8, 1, 2, 3]).unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let program = Program::new(path.to_str().unwrap(), &[] as &[&str]).unwrap();
        let err = {
            let _turn = crate::test_lock();
            spawn(&program).unwrap_err()
        };
        std::fs::remove_dir_all(&dir).unwrap();
        match err {
            Error::Exec { errno, .. } => assert_eq!(errno, Errno::ENOEXEC),
            other => panic!("expected an exec error, got {other}"),
        }
    }

    #[test]
    fn a_non_executable_file_is_not_found() {
        let path = std::env::temp_dir().join(format!("procs-noexec-{}", std::process::id()));
        std::fs::write(&path, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o644))
            .unwrap();
        let err = find_program(path.to_str().unwrap()).unwrap_err();
        std::fs::remove_file(&path).unwrap();
        assert!(err.to_string().contains("not executable"), "{err}");
    }

    #[test]
    fn fork_and_exit_gives_the_code_to_wait() {
        let _turn = crate::test_lock();
        let pid = fork_and_exit(7).unwrap();
        assert_eq!(wait_for(pid).unwrap(), Exit::Code(7));
    }
}
