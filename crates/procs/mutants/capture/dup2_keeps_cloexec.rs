    use procs::error::Error;
    use procs::spawn::{Program, wait_for};
    use nix::errno::Errno;
    use nix::fcntl::OFlag;
    use nix::unistd::{ForkResult, dup2_stdout, fork, pipe2};

    let prepared = Program::new(program, args)?;
    // O_CLOEXEC: the program must not inherit a second copy of the write end, or the
    // pipe would never report end-of-file. dup2 onto fd 1 makes a copy without the flag.
    let (read_end, write_end) = pipe2(OFlag::O_CLOEXEC).map_err(Error::sys("pipe2"))?;
    // SAFETY: the child calls only dup2, fcntl, signal, execv and _exit
    // (async-signal-safe) on memory prepared before the fork.
    match unsafe { fork() }.map_err(Error::sys("fork"))? {
        ForkResult::Child => {
            if dup2_stdout(&write_end).is_ok() {
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
