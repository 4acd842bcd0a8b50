    use procs::error::Error;
    use nix::errno::Errno;
    use nix::sys::wait::{WaitStatus, waitpid};

    let mut reaped = Vec::new();
    loop {
        match waitpid(None, None) {
            Ok(WaitStatus::Exited(pid, code)) => reaped.push((pid, Exit::Code(code))),
            Ok(WaitStatus::Signaled(pid, signal, _)) => reaped.push((pid, Exit::Signal(signal))),
            Ok(_) => continue,
            Err(Errno::ECHILD) => return Ok(reaped),
            Err(errno) => {
                return Err(Error::Sys {
                    what: "waitpid(-1)",
                    errno,
                });
            }
        }
    }
