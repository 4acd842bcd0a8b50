//! Exercise `procs/capture`: run a program and collect what it prints.
//!
//! A shell's `$(...)` does this: it makes a pipe, forks, and in the child puts the pipe's
//! write end where standard output is (file descriptor 1, with `dup2`) before the exec.
//! The program never knows: it writes to fd 1 as always.

// In your copy the body is `todo!()` and ignores its arguments until you write it:
// no warnings for that.
#![allow(unused_variables)]
#![allow(unsafe_code)] // fork is the lesson; each block says why it is sound.

use procs::error::Result;
use procs::spawn::Exit;

/// Most output a capture keeps; a program printing more is an error, not an OOM.
pub const MAX_OUTPUT: usize = 16 << 20;

/// Runs `program` with `args`, and returns how it ended and every byte it wrote to its
/// standard output (at most [`MAX_OUTPUT`]; more is an [`procs::Error::Invalid`]).
///
/// - Resolve the program with [`procs::spawn::Program::new`] *before* forking: a missing
///   program is its [`procs::Error::ProgramNotFound`], not a panic.
/// - In the child: `dup2` the pipe's write end onto fd 1, then exec. The program holds
///   the pipe only as its fd 1, also when this process started with fds 0 and 1 closed
///   (`pipe2` then hands out fd 1 itself, and `dup2(1, 1)` leaves `O_CLOEXEC` set).
/// - In the parent: close the write end (or you never see end-of-file), read until
///   end-of-file, then wait for the child. Past [`MAX_OUTPUT`] bytes, stop reading (the
///   program then gets SIGPIPE) and still wait for it.
/// - A program killed by a signal is an [`Exit::Signal`], with what it wrote.
/// - `EINTR` from `read` or `waitpid` means try again; waiting blocks, it does not poll.
/// - On every path, success or error, no zombie and no fd of the pipe is left behind.
pub fn capture(program: &str, args: &[&str]) -> Result<(Exit, Vec<u8>)> {
    // BEGIN SOLUTION
    use nix::errno::Errno;
    use nix::fcntl::{FcntlArg, FdFlag, OFlag, fcntl};
    use nix::unistd::{ForkResult, dup2_stdout, fork, pipe2};
    use procs::error::Error;
    use procs::spawn::{Program, wait_for};
    use std::os::fd::AsRawFd;

    let prepared = Program::new(program, args)?;
    // O_CLOEXEC: the program must not inherit a second copy of the write end, or the
    // pipe would never report end-of-file. dup2 onto fd 1 makes a copy without the flag.
    let (read_end, write_end) = pipe2(OFlag::O_CLOEXEC).map_err(Error::sys("pipe2"))?;
    // SAFETY: the child calls only dup2, fcntl, signal, execv and _exit
    // (async-signal-safe) on memory prepared before the fork.
    match unsafe { fork() }.map_err(Error::sys("fork"))? {
        ForkResult::Child => {
            // If this process started with fd 1 closed, pipe2 may have handed out fd 1
            // itself as the write end: dup2(1, 1) then does nothing and the fd keeps
            // O_CLOEXEC, so exec would close the program's stdout. Clear the flag instead.
            let moved = if write_end.as_raw_fd() == 1 {
                fcntl(&write_end, FcntlArg::F_SETFD(FdFlag::empty())).map(drop)
            } else {
                dup2_stdout(&write_end)
            };
            if moved.is_ok() {
                prepared.exec();
            }
            // SAFETY: _exit ends the child at once; always sound.
            unsafe { nix::libc::_exit(127) }
        }
        ForkResult::Parent { child } => {
            drop(write_end);
            let mut output = Vec::new();
            let mut buf = [0u8; 64 * 1024];
            let read_result = loop {
                match nix::unistd::read(&read_end, &mut buf) {
                    Ok(0) => break Ok(()),
                    Ok(n) if output.len() + n > MAX_OUTPUT => {
                        break Err(Error::Invalid {
                            what: "output",
                            reason: format!("`{program}` printed more than {MAX_OUTPUT} bytes"),
                        });
                    }
                    Ok(n) => output.extend_from_slice(&buf[..n]),
                    Err(Errno::EINTR) => continue,
                    Err(errno) => {
                        break Err(Error::Sys {
                            what: "read",
                            errno,
                        });
                    }
                }
            };
            // Close our end first: a child still writing gets SIGPIPE instead of blocking
            // forever, and then it can be reaped.
            drop(read_end);
            let exit = wait_for(child)?;
            read_result.map(|()| (exit, output))
        }
    }
    // END SOLUTION
}
