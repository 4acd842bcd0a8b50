//! Does `fork` copy all the memory? What it really copies, and when.
//!
//! The folk story: "creating a process copies all its memory, so it is expensive". The
//! kernel is lazier than that. `fork` copies the *page tables* (the map from the
//! process's addresses to physical pages, 8 bytes per 4 KiB page) and marks every page
//! read-only in both processes. Only when one of them *writes* a page does the kernel
//! copy that one page: **copy-on-write**, one minor page fault per page written.
//!
//! So the cost of `fork` grows with the memory a process has touched, but by about
//! 1/512 of it (the page tables), not by all of it; and a child that writes `k` pages
//! pays about `k` page faults. This module measures both.
//!
//! Transparent huge pages (2 MiB pages, when the kernel offers them) shrink the page
//! tables 512-fold and would hide the effect, so [`Region`] asks for ordinary pages
//! with `madvise(MADV_NOHUGEPAGE)` and says so.
#![allow(unsafe_code)] // fork and raw memory mapping are the lesson; each block says why.

use std::num::NonZeroUsize;
use std::os::fd::OwnedFd;
use std::ptr::NonNull;
use std::time::Instant;

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::libc;
use nix::sys::mman::{MapFlags, MmapAdvise, ProtFlags, madvise, mmap_anonymous, munmap};
use nix::unistd::{ForkResult, fork, pipe2};

use crate::error::{Error, Result};
use crate::measure::{Stats, Usage, page_size};
use crate::proc::Mapping;
use crate::spawn::{Exit, read_full, wait_for};

/// A block of anonymous memory mapped with ordinary (4 KiB) pages, unmapped on drop.
#[derive(Debug)]
pub struct Region {
    ptr: NonNull<u8>,
    len: usize,
    page: usize,
}

impl Region {
    // ANCHOR: region_new
    /// Maps `len` bytes (rounded up to whole pages). Nothing is resident yet: the kernel
    /// gives a page only when it is first touched.
    pub fn new(len: usize) -> Result<Region> {
        let page = page_size();
        let len = len.div_ceil(page).max(1) * page;
        let nonzero = NonZeroUsize::new(len).ok_or(Error::Invalid {
            what: "region size",
            reason: "zero bytes".into(),
        })?;
        // SAFETY: a fresh private anonymous mapping at an address the kernel picks cannot
        // alias any memory Rust knows about.
        let ptr = unsafe {
            mmap_anonymous(
                None,
                nonzero,
                ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
                MapFlags::MAP_PRIVATE,
            )
        }
        .map_err(Error::sys("mmap"))?;
        // SAFETY: `ptr..ptr+len` is exactly the mapping made above. Failure only means
        // the kernel has no huge pages to avoid, so it is ignored.
        let _ = unsafe { madvise(ptr, len, MmapAdvise::MADV_NOHUGEPAGE) };
        Ok(Region {
            ptr: ptr.cast(),
            len,
            page,
        })
    }
    // ANCHOR_END: region_new

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn pages(&self) -> usize {
        self.len / self.page
    }

    /// The address of the first byte (to find the region in `/proc/self/smaps`).
    pub fn start(&self) -> usize {
        self.ptr.as_ptr() as usize
    }

    /// Writes one byte in each of the first `pages` pages, so that they are resident
    /// (in the parent) or copied (in a child after fork). Returns how many it wrote.
    pub fn write_pages(&mut self, pages: usize, value: u8) -> usize {
        let pages = pages.min(self.pages());
        for i in 0..pages {
            // SAFETY: i * page < len, inside the mapping this Region owns; volatile so the
            // compiler cannot drop a write whose only purpose is its side effect.
            unsafe { self.ptr.as_ptr().add(i * self.page).write_volatile(value) };
        }
        pages
    }

    /// Touches every page.
    pub fn touch_all(&mut self) {
        self.write_pages(self.pages(), 1);
    }

    /// The region as bytes (to copy it, for comparison with fork).
    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: the mapping is readable, `len` bytes long, owned by self, and zero-filled
        // by the kernel, so every byte is initialized.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping made in `new`, which nothing else references.
        let _ = unsafe { munmap(self.ptr.cast(), self.len) };
    }
}

// ANCHOR: fork_time
/// Times `fork()` itself, as seen by the parent: from the call until it returns the
/// child's pid. The child exits at once; it is waited for outside the timed part.
pub fn time_fork(trials: usize, warmup: usize) -> Result<Stats> {
    let mut samples = Vec::with_capacity(trials);
    for i in 0..warmup + trials {
        let start = Instant::now();
        // SAFETY: the child calls only _exit, which is async-signal-safe.
        let child = match unsafe { fork() }.map_err(Error::sys("fork"))? {
            // SAFETY: _exit ends the child at once; always sound.
            ForkResult::Child => unsafe { libc::_exit(0) },
            ForkResult::Parent { child } => child,
        };
        let elapsed = start.elapsed().as_secs_f64();
        wait_for(child)?;
        if i >= warmup {
            samples.push(elapsed);
        }
    }
    Stats::from_samples(samples).ok_or(Error::Invalid {
        what: "trial count",
        reason: "at least one trial is needed".into(),
    })
}
// ANCHOR_END: fork_time

/// Times copying the whole region into another, already-resident buffer: what `fork`
/// would cost if it really copied the memory.
pub fn time_copy(region: &Region, trials: usize) -> Stats {
    let mut target = vec![1u8; region.len()];
    let samples = (0..trials.max(1))
        .map(|_| {
            let start = Instant::now();
            target.copy_from_slice(region.as_slice());
            std::hint::black_box(&target);
            start.elapsed().as_secs_f64()
        })
        .collect();
    Stats::from_samples(samples).unwrap_or(Stats {
        trials: 0,
        median: f64::NAN,
        p10: f64::NAN,
        p90: f64::NAN,
        min: f64::NAN,
        max: f64::NAN,
    })
}

// ANCHOR: cow_faults
/// Forks; the child writes one byte into each of the first `pages` pages of `region`
/// and reports how many minor page faults that cost it. Copy-on-write predicts about
/// one fault per page.
pub fn child_write_faults(region: &mut Region, pages: usize) -> Result<i64> {
    let in_the_child = |write_end: &OwnedFd| {
        let faults = |u: std::result::Result<nix::sys::resource::Usage, Errno>| {
            u.map_or(-1, |u| u.minor_page_faults())
        };
        use nix::sys::resource::{UsageWho, getrusage};
        let before = faults(getrusage(UsageWho::RUSAGE_SELF));
        region.write_pages(pages, 2);
        let after = faults(getrusage(UsageWho::RUSAGE_SELF));
        let _ = nix::unistd::write(write_end, &(after - before).to_ne_bytes());
        // SAFETY: _exit ends the child at once, without destructors or atexit handlers:
        // they could take a lock another thread held at the fork, and would flush the
        // output the parent had buffered a second time.
        unsafe { libc::_exit(0) }
    };
    // SAFETY: the child only writes to memory it owns (its copy of the region), calls
    // getrusage, write and _exit, and allocates nothing (write and _exit are on the
    // POSIX list of async-signal-safe functions; getrusage is not listed, but glibc's is
    // the bare system call, which takes no lock).
    let (_, report) = unsafe { child_reports("the page-writing child", in_the_child) }?;
    report
}
// ANCHOR_END: cow_faults

// ANCHOR: child_reports
/// Forks a child that runs `body` with the write end of a pipe, reads the one number
/// the child sends back, and waits for the child on every path: a child that dies
/// before it writes is reaped too, never left a zombie. Returns the child's pid and
/// what it reported (an error if it sent nothing or did not exit with 0).
///
/// # Safety
///
/// `body` runs in the child of a process that may have other threads, so it may only
/// do what is async-signal-safe (no allocation, no lock), and it must end the child
/// with `_exit` instead of returning.
unsafe fn child_reports(
    what: &'static str,
    body: impl FnOnce(&OwnedFd),
) -> Result<(nix::unistd::Pid, Result<i64>)> {
    let (read_end, write_end) = cloexec_pipe()?;
    // SAFETY: the caller promises that `body` is async-signal-safe and ends in _exit.
    match unsafe { fork() }.map_err(Error::sys("fork"))? {
        ForkResult::Child => {
            drop(read_end);
            body(&write_end);
            // SAFETY: only reached if `body` broke its promise and returned: end the
            // child here rather than let it run the parent's code.
            unsafe { libc::_exit(101) }
        }
        ForkResult::Parent { child } => {
            // Our copy of the write end must go, or the read below never sees the end
            // of the file when the child dies without writing.
            drop(write_end);
            let report = read_i64(&read_end);
            let exit = wait_for(child)?;
            let report = match (report, exit) {
                (Ok(n), Exit::Code(0)) => Ok(n),
                (Ok(_), exit) | (Err(_), exit @ (Exit::Code(1..) | Exit::Signal(_))) => {
                    Err(Error::Invalid {
                        what: "child",
                        reason: format!("{what} ended with {exit}"),
                    })
                }
                (Err(e), _) => Err(e),
            };
            Ok((child, report))
        }
    }
}
// ANCHOR_END: child_reports

/// A pipe whose ends close on exec, like every descriptor in the course: a program that
/// another thread of this process starts meanwhile must not inherit an end (it would
/// keep the pipe open, and a reader here would wait for its end-of-file forever).
fn cloexec_pipe() -> Result<(OwnedFd, OwnedFd)> {
    pipe2(OFlag::O_CLOEXEC).map_err(Error::sys("pipe2"))
}

fn read_i64(fd: &OwnedFd) -> Result<i64> {
    let mut buf = [0u8; 8];
    let got = read_full(fd, &mut buf, "read from the child")?;
    if got != buf.len() {
        return Err(Error::Invalid {
            what: "child report",
            reason: format!("expected 8 bytes from the child, got {got}"),
        });
    }
    Ok(i64::from_ne_bytes(buf))
}

/// The kernel's own word on whether `fork` copied `region`: its smaps entry before the
/// fork, and while the child is still alive.
#[derive(Debug, Clone, Copy)]
pub struct Sharing {
    pub before: Mapping,
    pub during: Mapping,
}

// ANCHOR: sharing_after_fork
/// Forks a child that does nothing but wait, and reads this process's smaps entry for
/// `region` while the child lives. If fork copied the memory, the pages would stay
/// private to each process; if it shares them, they show up as `Shared_Dirty`.
pub fn sharing_after_fork(region: &Region) -> Result<Sharing> {
    let before = crate::proc::self_mapping(region.start())?;
    let (read_end, write_end) = cloexec_pipe()?;
    // SAFETY: the child only closes a descriptor, reads from a pipe and calls _exit, all
    // async-signal-safe, and allocates nothing.
    match unsafe { fork() }.map_err(Error::sys("fork"))? {
        ForkResult::Child => {
            drop(write_end);
            // Blocks until the parent closes its end: read returns 0 (end of file).
            let _ = nix::unistd::read(&read_end, &mut [0u8; 1]);
            // SAFETY: _exit ends the child at once; always sound.
            unsafe { libc::_exit(0) }
        }
        ForkResult::Parent { child } => {
            drop(read_end);
            let during = crate::proc::self_mapping(region.start());
            // Closing our end lets the child finish, whatever the read above returned.
            drop(write_end);
            let exit = wait_for(child)?;
            if exit != Exit::Code(0) {
                return Err(Error::Invalid {
                    what: "child",
                    reason: format!("the waiting child ended with {exit}"),
                });
            }
            Ok(Sharing {
                before,
                during: during?,
            })
        }
    }
}
// ANCHOR_END: sharing_after_fork

// ANCHOR: fork_copies
/// Shows that the child works on a copy: it adds one to a variable and sends the new
/// value back; the parent's variable is unchanged. Returns (parent's value after the
/// child ran, the value the child saw).
pub fn child_changes_a_copy(start: u64) -> Result<(u64, u64)> {
    let mut value = std::hint::black_box(start);
    let in_the_child = |write_end: &OwnedFd| {
        value += 1; // changes the child's copy only
        let _ = nix::unistd::write(write_end, &(value as i64).to_ne_bytes());
        // SAFETY: _exit ends the child at once; always sound.
        unsafe { libc::_exit(0) }
    };
    // SAFETY: the child touches only its own copy of `value`, then write and _exit.
    let (_, seen) = unsafe { child_reports("the child that changed its copy", in_the_child) }?;
    Ok((std::hint::black_box(value), seen? as u64))
}
// ANCHOR_END: fork_copies

/// Measures a fresh, fully touched region of `bytes`: how long fork takes with it in
/// the process, and how large the page tables are then.
#[derive(Debug, Clone)]
pub struct ForkWithMemory {
    pub bytes: usize,
    /// The fork's time over the rounds below (median, spread).
    pub fork: Stats,
    /// The median of each of three blocks of trials, in seconds: a claim compares them
    /// to tell an effect from the noise of the run.
    pub rounds: Vec<f64>,
    /// VmPTE of this process while the region is mapped and touched.
    pub page_tables: u64,
}

/// How many blocks the fork trials are split into.
const ROUNDS: usize = 3;

/// Maps and touches `bytes`, then times `fork` `trials` times, in three blocks.
pub fn fork_with_memory(bytes: usize, trials: usize) -> Result<ForkWithMemory> {
    let mut region = Region::new(bytes)?;
    region.touch_all();
    let page_tables = crate::proc::self_status()?.vm_pte;
    let per_round = trials.div_ceil(ROUNDS).max(1);
    let mut rounds = Vec::new();
    for _ in 0..ROUNDS {
        rounds.push(time_fork(per_round, 2)?.median);
    }
    drop(region);
    Ok(ForkWithMemory {
        bytes,
        fork: Stats::from_samples(rounds.clone()).ok_or(Error::Invalid {
            what: "trial count",
            reason: "at least one trial is needed".into(),
        })?,
        rounds,
        page_tables,
    })
}

// ANCHOR: rss_growth
/// Resident memory before and after touching a region: mapping is free, touching is not.
pub fn rss_growth_on_touch(bytes: usize) -> Result<(u64, u64)> {
    let mut region = Region::new(bytes)?;
    let mapped = crate::measure::rss_bytes()?;
    region.touch_all();
    let touched = crate::measure::rss_bytes()?;
    Ok((mapped, touched))
}
// ANCHOR_END: rss_growth

/// Minor faults this process took while `f` ran.
pub fn faults_during(f: impl FnOnce()) -> Result<i64> {
    let before = Usage::of_self()?;
    f();
    Ok(Usage::of_self()?.since(&before).minor_faults)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_that_dies_before_it_reports_is_reaped_not_left_a_zombie() {
        let _turn = one_at_a_time();
        // SAFETY: _exit ends the child at once; always sound.
        let dies = |_: &OwnedFd| unsafe { libc::_exit(0) };
        // SAFETY: the body only calls _exit.
        let (pid, report) = unsafe { child_reports("a child that dies at once", dies) }.unwrap();
        let error = report.unwrap_err().to_string();
        assert!(error.contains("expected 8 bytes"), "{error}");
        // Reaped: the kernel forgot it (a zombie would still have a /proc entry, Z).
        assert!(
            crate::proc::read_stat(pid.as_raw()).is_err(),
            "child {pid} is still in /proc after the error"
        );
        // SAFETY: _exit ends the child at once; always sound.
        let fails = |_: &OwnedFd| unsafe { libc::_exit(3) };
        // SAFETY: the body only calls _exit.
        let (pid, report) = unsafe { child_reports("a child that fails", fails) }.unwrap();
        assert!(report.unwrap_err().to_string().contains("exit code 3"));
        assert!(crate::proc::read_stat(pid.as_raw()).is_err());
    }

    // RSS and page tables are per process, and tests run on parallel threads: the tests
    // that map memory take turns so one does not disturb another's measurement, and
    // with the tests that fork (a child shares the pages it was forked with).
    fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
        crate::test_lock()
    }

    #[test]
    fn the_child_changes_only_its_copy() {
        let _turn = one_at_a_time();
        assert_eq!(child_changes_a_copy(41).unwrap(), (41, 42));
    }

    #[test]
    fn writing_pages_after_fork_costs_about_one_fault_each() {
        let _turn = one_at_a_time();
        let mut region = Region::new(4 << 20).unwrap();
        region.touch_all();
        let base = child_write_faults(&mut region, 0).unwrap();
        let k = 256;
        let faults = child_write_faults(&mut region, k).unwrap() - base;
        assert!(
            (k as i64 * 9 / 10..=k as i64 * 11 / 10 + 8).contains(&faults),
            "{faults} faults for {k} pages"
        );
    }

    #[test]
    fn fork_shares_the_pages_instead_of_copying_them() {
        let _turn = one_at_a_time();
        let mut region = Region::new(16 << 20).unwrap();
        region.touch_all();
        let s = sharing_after_fork(&region).unwrap();
        let len = region.len() as u64;
        assert!(s.before.private_dirty >= len, "{s:?}");
        assert!(s.before.shared_dirty < len / 10, "{s:?}");
        assert!(s.during.shared_dirty >= len, "{s:?}");
        assert!(s.during.private_dirty < len / 10, "{s:?}");
        // Once the child is gone, the pages are this process's alone again.
        let after = crate::proc::self_mapping(region.start()).unwrap();
        assert!(after.private_dirty >= len, "{after:?}");
    }

    #[test]
    fn touching_makes_memory_resident() {
        let _turn = one_at_a_time();
        let (mapped, touched) = rss_growth_on_touch(16 << 20).unwrap();
        assert!(touched >= mapped + (12 << 20), "{mapped} -> {touched}");
    }

    #[test]
    fn region_rounds_to_pages_and_counts_faults() {
        let _turn = one_at_a_time();
        let mut r = Region::new(1).unwrap();
        assert_eq!(r.len(), page_size());
        assert_eq!(r.write_pages(10, 1), 1);
        let mut big = Region::new(64 * page_size()).unwrap();
        let faults = faults_during(|| big.touch_all()).unwrap();
        assert!(faults >= 60, "{faults}");
    }

    #[test]
    fn page_tables_grow_with_touched_memory() {
        let _turn = one_at_a_time();
        let small = fork_with_memory(1 << 20, 3).unwrap();
        let big = fork_with_memory(64 << 20, 3).unwrap();
        // 64 MiB of 4 KiB pages needs 128 KiB of page-table entries.
        assert!(
            big.page_tables >= small.page_tables + (96 << 10),
            "{} -> {}",
            small.page_tables,
            big.page_tables
        );
    }
}
