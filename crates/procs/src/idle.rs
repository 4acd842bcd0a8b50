//! What a *waiting* process costs: the first step of the course's argument ("processes
//! are so heavy that memory runs out"), measured instead of told.
//!
//! A server that gives each download a process of its own has, most of the time,
//! processes that wait: for the network, for a disk. Their CPU cost is nil; what they
//! cost is memory, and most of it is not where `ps` looks. So this module forks N
//! children that block on a pipe (as a worker blocks on its socket), and reads two
//! places while all of them wait:
//!
//! - each child's `/proc/<pid>/smaps_rollup`: its *unique* pages (USS: the stack it
//!   touched, the pages it wrote after the fork and so had to copy) and its fair share
//!   of the pages it still shares with the parent (PSS). Its RSS counts those shared
//!   pages whole and says little.
//! - the kernel's memory for them, which no process's RSS shows: each child's page
//!   tables (`VmPTE` in its `status`), and, from the machine's `/proc/meminfo` before and
//!   during, the kernel stacks and the kernel's objects for each task (its
//!   `task_struct`, memory map, open files), in the slab. Those two are machine-wide, so
//!   whatever else the machine does meanwhile blurs them: many children at once, and
//!   several rounds, keep that small and show how small.
//!
//! The children are released and reaped on every path, errors and panics included (a
//! guard does it on drop): an experiment about the cost of processes must not leave
//! processes behind.

#![allow(unsafe_code)] // fork is the lesson; each block says why it is sound.

use std::os::fd::{AsFd, OwnedFd};
use std::time::{Duration, Instant};

use nix::fcntl::OFlag;
use nix::libc;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::unistd::{ForkResult, Pid, fork, pipe2};

use crate::error::{Error, Result};
use crate::proc::{meminfo, read_rollup, read_status};
use crate::spawn::wait_for;

/// The memory of one waiting process, in bytes: averages over the `processes` measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IdleProcesses {
    pub processes: usize,
    /// Unique set: pages only this process maps. What ending it gives back.
    pub uss: f64,
    /// Proportional set: unique pages plus a share of the shared ones.
    pub pss: f64,
    /// Resident set, shared pages counted whole (for comparison: it overstates).
    pub rss: f64,
    /// Page tables (each child's own `VmPTE`: exact, unlike the machine-wide figures).
    pub page_tables: f64,
    /// Kernel stacks (machine-wide `KernelStack` delta).
    pub kernel_stack: f64,
    /// Kernel objects (machine-wide `SUnreclaim` delta; the noisiest of the three).
    pub slab: f64,
}

impl IdleProcesses {
    /// The kernel's memory for one process, which no RSS shows.
    pub fn kernel(&self) -> f64 {
        self.page_tables + self.kernel_stack + self.slab
    }

    /// What one more waiting process costs the machine: its own pages and the kernel's.
    pub fn per_process(&self) -> f64 {
        self.uss + self.kernel()
    }
}

/// How long the children may take to be ready: forking a few hundred takes
/// milliseconds, so this is only reached when something is wrong.
const READY_WITHIN: Duration = Duration::from_secs(30);

// ANCHOR: idle_fork
/// Forks `n` children that wait on a pipe, measures them all waiting, then releases and
/// reaps them.
pub fn idle_processes(n: usize) -> Result<IdleProcesses> {
    if n == 0 {
        return Err(Error::Invalid {
            what: "process count",
            reason: "at least one process is needed".into(),
        });
    }
    // `go`: every child blocks reading it until the parent closes its end.
    // `ready`: each child writes one byte there once it is about to wait.
    let (go_read, go_write) = pipe2(OFlag::O_CLOEXEC).map_err(Error::sys("pipe2"))?;
    let (ready_read, ready_write) = pipe2(OFlag::O_CLOEXEC).map_err(Error::sys("pipe2"))?;
    let before = meminfo()?;
    let mut waiting = Waiting {
        children: Vec::with_capacity(n),
        go: Some(go_write),
    };
    for _ in 0..n {
        // SAFETY: the child only closes descriptors, writes and reads pipes and calls
        // _exit: all async-signal-safe, no allocation, no lock that another thread of
        // this process might hold.
        match unsafe { fork() }.map_err(Error::sys("fork"))? {
            ForkResult::Child => {
                // The child's copy of the write end must go, or its own read would
                // never see the end of the pipe.
                drop(waiting.go.take());
                let _ = nix::unistd::write(&ready_write, &[1]);
                let _ = nix::unistd::read(&go_read, &mut [0u8; 1]);
                // SAFETY: _exit ends the child at once; always sound.
                unsafe { libc::_exit(0) }
            }
            ForkResult::Parent { child } => waiting.children.push(child),
        }
    }
    // Only the children hold the write end now: if they all died, the read below
    // would see the end of the pipe instead of waiting out its deadline.
    drop(ready_write);
    wait_until_ready(&ready_read, n)?;
    // ANCHOR_END: idle_fork

    // ANCHOR: idle_measure
    let during = meminfo()?;
    let (mut uss, mut pss, mut rss, mut page_tables) = (0, 0, 0, 0);
    for child in &waiting.children {
        let r = read_rollup(child.as_raw())?;
        uss += r.uss();
        pss += r.pss;
        rss += r.rss;
        page_tables += read_status(child.as_raw())?.vm_pte;
    }
    waiting.release()?;

    let per = |bytes: u64| bytes as f64 / n as f64;
    let grew = |after: u64, before: u64| per(after.saturating_sub(before));
    Ok(IdleProcesses {
        processes: n,
        uss: per(uss),
        pss: per(pss),
        rss: per(rss),
        page_tables: per(page_tables),
        kernel_stack: grew(during.kernel_stack, before.kernel_stack),
        slab: grew(during.slab_unreclaimable, before.slab_unreclaimable),
    })
}
// ANCHOR_END: idle_measure

/// Reads one byte per child from `ready`, within [`READY_WITHIN`].
fn wait_until_ready(ready: &OwnedFd, n: usize) -> Result<()> {
    let deadline = crate::deadline::from_now(READY_WITHIN);
    let mut seen = 0;
    let mut buf = [0u8; 256];
    while seen < n {
        let left = deadline.saturating_duration_since(Instant::now());
        let millis = u16::try_from(left.as_millis()).unwrap_or(u16::MAX);
        let mut fds = [PollFd::new(ready.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::from(millis)) {
            Ok(0) if left.is_zero() => {
                return Err(Error::Invalid {
                    what: "experiment",
                    reason: format!(
                        "only {seen} of {n} waiting processes were ready within {} s",
                        READY_WITHIN.as_secs()
                    ),
                });
            }
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(Error::sys("poll")(e)),
        }
        match nix::unistd::read(ready, &mut buf) {
            Ok(0) => {
                return Err(Error::Invalid {
                    what: "experiment",
                    reason: format!("{} of {n} waiting processes ended early", n - seen),
                });
            }
            Ok(got) => seen += got,
            Err(nix::errno::Errno::EINTR | nix::errno::Errno::EAGAIN) => {}
            Err(e) => return Err(Error::sys("read")(e)),
        }
    }
    Ok(())
}

/// The waiting children. Dropping it releases and reaps them, so that an error or a
/// panic half-way leaves no process (and no zombie) behind.
struct Waiting {
    children: Vec<Pid>,
    go: Option<OwnedFd>,
}

impl Waiting {
    /// Releases the children and reaps each; an error if one did not end cleanly.
    fn release(mut self) -> Result<()> {
        drop(self.go.take());
        let children = std::mem::take(&mut self.children);
        let mut first_error = None;
        for child in children {
            match wait_for(child) {
                Ok(crate::spawn::Exit::Code(0)) => {}
                Ok(other) => {
                    first_error.get_or_insert(Error::Invalid {
                        what: "waiting process",
                        reason: format!("pid {child} ended with {other}"),
                    });
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        drop(self.go.take());
        for child in self.children.drain(..) {
            let _ = wait_for(child);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waiting_processes_cost_memory_and_leave_nothing_behind() {
        let _turn = crate::test_lock();
        let me = std::process::id() as i32;
        let idle = idle_processes(20).unwrap();
        assert_eq!(idle.processes, 20);
        // Each child touched at least one page of its own (its stack), and its fair
        // share is at least that and at most its whole resident set.
        assert!(idle.uss >= 4096.0, "{idle:?}");
        assert!(idle.pss >= idle.uss && idle.pss <= idle.rss, "{idle:?}");
        // Every child has been reaped: no zombie of this process is left.
        let zombies = crate::zombie::zombies_of(me).unwrap();
        assert!(zombies.is_empty(), "{zombies:?}");
    }

    #[test]
    fn none_is_refused() {
        assert!(idle_processes(0).is_err());
    }
}
