//! A server in a child process: started, found, and stopped without signals.
//!
//! Later lessons measure a client and its server apart — each end of a connection is a
//! file descriptor and some memory, and measuring both in one process would mix them —
//! so their tours start a server as a child process: the tour's own binary again, with
//! a hidden argument. Lesson 1's tools make that simple and safe:
//!
//! - the child prints one line, `listening on http://ADDR`, and the parent reads it;
//! - the child's standard input is a pipe from the parent, and the child serves until
//!   that pipe reaches end-of-file. The parent stops the child by closing it — and if the
//!   parent dies, the kernel closes it too, so no server is ever left behind;
//! - the parent waits for the child (no zombie), killing it after a grace period.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

use crate::error::{Error, Result};

/// The line a child server prints first, followed by its address.
pub const LISTENING: &str = "listening on http://";

/// How long a child server may take to print its address: far more than starting one
/// takes, even on a busy machine.
pub const START_LIMIT: Duration = Duration::from_secs(30);

/// A server running in a child process.
#[derive(Debug)]
pub struct ChildServer {
    child: Child,
    stdin: Option<ChildStdin>,
    addr: SocketAddr,
}

impl ChildServer {
    /// Starts this program again with `args` (its hidden serving mode) and waits for
    /// its `listening on http://ADDR` line.
    pub fn start(args: &[&str]) -> Result<ChildServer> {
        ChildServer::start_command(ChildServer::command(args)?)
    }

    /// This program again with `args`, as [`start`](ChildServer::start) runs it: for
    /// a caller that sets more up (a session of its own, say) before
    /// [`start_command`](ChildServer::start_command).
    pub fn command(args: &[&str]) -> Result<Command> {
        let me = std::env::current_exe().map_err(|e| Error::Invalid {
            what: "child server",
            reason: format!("cannot find this program to start it again: {e}"),
        })?;
        let mut command = Command::new(me);
        command.args(args);
        Ok(command)
    }

    /// Starts `command` as the server (its stdin and stdout are taken over), waiting up
    /// to [`START_LIMIT`] for its address.
    pub fn start_command(command: Command) -> Result<ChildServer> {
        ChildServer::start_command_within(command, START_LIMIT)
    }

    /// [`start_command`](ChildServer::start_command), waiting up to `limit` for the
    /// address line: a child that hangs before printing it is killed and reaped, not
    /// waited for forever.
    pub fn start_command_within(mut command: Command, limit: Duration) -> Result<ChildServer> {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| Error::Invalid {
                what: "child server",
                reason: format!("cannot start it: {e}"),
            })?;
        // The line is read on a thread of its own so that the wait has a limit; the
        // thread ends when the line comes, or when the killed child's stdout closes.
        let stdout = child.stdout.take();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            if let Some(stdout) = stdout {
                // One line, of bounded length: an address is short.
                let _ = BufReader::new(stdout.take(4096)).read_line(&mut line);
            }
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(limit)
            .unwrap_or_else(|_| format!("nothing within {limit:?}"));
        let addr = line
            .trim()
            .strip_prefix(LISTENING)
            .and_then(|a| a.parse().ok());
        let Some(addr) = addr else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(Error::Invalid {
                what: "child server",
                reason: format!("it printed {line:?} instead of `{LISTENING}ADDR`"),
            });
        };
        let stdin = child.stdin.take();
        Ok(ChildServer { child, stdin, addr })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Closes the child's stdin (its signal to stop), waits up to five seconds, then
    /// kills it; either way it is reaped.
    pub fn stop(mut self) {
        self.shut_down();
    }

    fn shut_down(&mut self) {
        drop(self.stdin.take());
        if crate::bounded::reaped_within(&mut self.child, Duration::from_secs(5)) {
            return;
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        if self.stdin.is_some() {
            self.shut_down();
        }
    }
}

/// The child's side: prints the `listening` line for `addr`, then blocks until the
/// parent closes our stdin, or `max` passes (a bound, in case stdin never closes).
pub fn announce_and_wait(addr: SocketAddr, max: Duration) {
    println!("{LISTENING}{addr}");
    let _ = std::io::stdout().flush();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
        let _ = tx.send(());
    });
    let _ = rx.recv_timeout(max);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_that_never_prints_its_address_is_killed_and_reaped() {
        let mut command = Command::new("sleep");
        command.arg("60");
        let err = ChildServer::start_command_within(command, Duration::from_millis(300))
            .unwrap_err()
            .to_string();
        assert!(err.contains("nothing within"), "{err}");
        assert!(
            crate::zombie::zombies_of(std::process::id() as i32)
                .unwrap()
                .iter()
                .all(|z| z.comm != "sleep"),
            "the child was left a zombie"
        );
    }

    #[test]
    fn a_child_that_prints_its_address_is_found_and_stopped() {
        let mut command = Command::new("sh");
        command.args([
            "-c",
            "echo 'listening on http://127.0.0.1:4567'; cat >/dev/null",
        ]);
        let server = ChildServer::start_command(command).unwrap();
        assert_eq!(server.addr().port(), 4567);
        let pid = server.pid() as i32;
        server.stop();
        assert!(
            !std::path::Path::new(&format!("/proc/{pid}")).exists(),
            "reaped"
        );
    }

    #[test]
    fn a_child_that_says_something_else_is_an_error() {
        let mut command = Command::new("sh");
        command.args(["-c", "echo hello"]);
        let err = ChildServer::start_command(command).unwrap_err();
        assert!(err.to_string().contains("hello"), "{err}");
    }
}
