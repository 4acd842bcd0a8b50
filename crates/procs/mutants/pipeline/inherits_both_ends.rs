    use procs::error::Error;
    use procs::spawn::{Program, wait_for};
    use nix::fcntl::{FcntlArg, FdFlag, OFlag, fcntl};
    use nix::unistd::{ForkResult, Pid, dup2_stdin, dup2_stdout, fork, pipe2};
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
    // Each child dup2s its end onto fd 0 or 1; the parent closes its copies below.
    let (read_end, write_end) = pipe2(OFlag::empty()).map_err(Error::sys("pipe2"))?;
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
