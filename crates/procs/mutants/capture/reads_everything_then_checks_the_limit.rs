    use procs::error::Error;
    use procs::spawn::{Program, wait_for};
    use nix::errno::Errno;
    use nix::fcntl::{FcntlArg, FdFlag, OFlag, fcntl};
    use nix::unistd::{ForkResult, dup2_stdout, fork, pipe2};
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
            let mut total = 0usize;
            let mut buf = [0u8; 64 * 1024];
            let read_result = loop {
                match nix::unistd::read(&read_end, &mut buf) {
                    Ok(0) => break Ok(()),
                    // Count everything, keep at most MAX_OUTPUT; judge at the end.
                    Ok(n) => {
                        total += n;
                        let room = MAX_OUTPUT.saturating_sub(output.len()).min(n);
                        output.extend_from_slice(&buf[..room]);
                    }
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
            read_result?;
            if total > MAX_OUTPUT {
                return Err(Error::Invalid {
                    what: "output",
                    reason: format!("`{program}` printed more than {MAX_OUTPUT} bytes"),
                });
            }
            Ok((exit, output))
        }
    }
