    use procs::error::Error;
    use nix::errno::Errno;
    use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};

    let mut reaped = Vec::new();
    loop {
        match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            // Nobody has ended yet: look again in a moment.
            Ok(WaitStatus::StillAlive) => std::thread::sleep(std::time::Duration::from_millis(2)),
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
