//! Exercise `procs/pipeline`: `a | b`, the way a shell does it.
//!
//! One pipe, two children. The first child's stdout becomes the pipe's write end, the
//! second child's stdin its read end. The classic bug is an end left open somewhere: if
//! any process (the parent included!) still holds a write end, the reader never sees
//! end-of-file and waits forever; if the parent holds the read end, a writer whose
//! reader has exited blocks forever instead of getting SIGPIPE.

// In your copy the body is `todo!()` and ignores its arguments until you write it:
// no warnings for that.
#![allow(unused_variables)]
#![allow(unsafe_code)] // fork is the lesson; each block says why it is sound.

use procs::error::Result;
use procs::spawn::Exit;

/// Runs `a[0] a[1..] | b[0] b[1..]` and returns how each ended, `a`'s first.
/// An empty command is an [`procs::Error::Invalid`], a missing program a
/// [`procs::Error::ProgramNotFound`]; both programs are resolved before either starts,
/// so nothing is started then.
///
/// - `a` holds the pipe only as its fd 1 and `b` only as its fd 0; once both are started
///   this process holds no end (so `b` sees end-of-file as soon as `a` closes its
///   stdout, and `a` dies of SIGPIPE when `b` is gone). This holds also when this
///   process started with fds 0 and 1 closed, and `pipe2` handed out those very numbers.
/// - Every child started is waited for before returning, on every path, even when a
///   wait fails; `EINTR` means wait again; waiting blocks, it does not poll.
pub fn pipeline(a: &[&str], b: &[&str]) -> Result<(Exit, Exit)> {
    // BEGIN SOLUTION
    use nix::fcntl::{FcntlArg, FdFlag, OFlag, fcntl};
    use nix::unistd::{ForkResult, Pid, dup2_stdin, dup2_stdout, fork, pipe2};
    use procs::error::Error;
    use procs::spawn::{Program, wait_for};
    use std::os::fd::{AsRawFd, OwnedFd};

    fn prepare(command: &[&str]) -> Result<Program> {
        match command.split_first() {
            Some((program, args)) => Program::new(program, args),
            None => Err(Error::Invalid {
                what: "command",
                reason: "a pipeline needs a program on each side".into(),
            }),
        }
    }

    /// Forks a child that puts `fd` in place of stdin or stdout, then execs.
    fn start(program: &Program, fd: &OwnedFd, as_stdout: bool) -> Result<Pid> {
        // SAFETY: the child calls only dup2, fcntl, signal, execv and _exit
        // (async-signal-safe).
        match unsafe { fork() }.map_err(Error::sys("fork"))? {
            ForkResult::Child => {
                let target = if as_stdout { 1 } else { 0 };
                let moved = if fd.as_raw_fd() == target {
                    // This process started with fd 0 (or 1) closed and pipe2 handed out
                    // that very number: dup2 onto itself does nothing and the fd keeps
                    // O_CLOEXEC, so exec would close it. Clear the flag instead.
                    fcntl(fd, FcntlArg::F_SETFD(FdFlag::empty())).map(drop)
                } else if as_stdout {
                    dup2_stdout(fd)
                } else {
                    dup2_stdin(fd)
                };
                if moved.is_ok() {
                    program.exec();
                }
                // SAFETY: _exit ends the child at once; always sound.
                unsafe { nix::libc::_exit(127) }
            }
            ForkResult::Parent { child } => Ok(child),
        }
    }

    // Both programs are resolved before anything starts: a typo starts nothing.
    let (first, second) = (prepare(a)?, prepare(b)?);
    // O_CLOEXEC keeps the *other* end out of each exec'd program; the dup2'd copy on
    // fd 0 or 1 does not carry the flag and survives.
    let (read_end, write_end) = pipe2(OFlag::O_CLOEXEC).map_err(Error::sys("pipe2"))?;
    let writer = start(&first, &write_end, true)?;
    drop(write_end); // now only the writer holds it: its exit means end-of-file
    let reader = start(&second, &read_end, false);
    drop(read_end); // now only the reader holds it: its exit means SIGPIPE for the writer
    let reader = match reader {
        Ok(pid) => pid,
        Err(e) => {
            // The writer ends (SIGPIPE or end of its output); reap it, and report why the
            // reader could not start.
            let _ = wait_for(writer);
            return Err(e);
        }
    };
    // Wait for both before looking at either result: returning as soon as the first
    // wait fails would leave the reader un-waited (a zombie, or still running).
    let writer_exit = wait_for(writer);
    let reader_exit = wait_for(reader);
    Ok((writer_exit?, reader_exit?))
    // END SOLUTION
}
