//! Exercise `procs/reap`: wait for every child, in the order they end.
//!
//! `waitpid(pid)` waits for one particular child. A server with many children wants the
//! next one that ends, whichever it is: `waitpid(-1)` (nix: `waitpid(None, ...)`). When
//! no child is left, it fails with `ECHILD`: that is the signal to stop, not an error.

// In your copy the body is `todo!()` and ignores its arguments until you write it:
// no warnings for that.
#![allow(unused_variables)]

use nix::unistd::Pid;

use procs::error::Result;
use procs::spawn::Exit;

/// Waits for every child of this process, whichever ends first, until none is left.
/// Returns each child's pid and how it ended, in the order they ended: each child is
/// reaped as soon as it ends, whatever its pid (a child may be waiting for another one
/// to be reaped before it ends). A child killed by a signal is an [`Exit::Signal`]. No
/// zombie is left behind. With no
/// children at all, returns an empty list. Retries on `EINTR`; waiting blocks, it does
/// not poll.
pub fn reap_all() -> Result<Vec<(Pid, Exit)>> {
    // BEGIN SOLUTION
    use nix::errno::Errno;
    use nix::sys::wait::{WaitStatus, waitpid};
    use procs::error::Error;

    let mut reaped = Vec::new();
    loop {
        match waitpid(None, None) {
            Ok(WaitStatus::Exited(pid, code)) => reaped.push((pid, Exit::Code(code))),
            Ok(WaitStatus::Signaled(pid, signal, _)) => reaped.push((pid, Exit::Signal(signal))),
            Ok(_) | Err(Errno::EINTR) => continue,
            Err(Errno::ECHILD) => return Ok(reaped),
            Err(errno) => {
                return Err(Error::Sys {
                    what: "waitpid(-1)",
                    errno,
                });
            }
        }
    }
    // END SOLUTION
}
