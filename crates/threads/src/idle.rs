//! What an idle thread costs in memory, and what the usual figures do not show.
//!
//! Each thread gets a stack: by default 2 MiB of *address space* (plus a guard page that
//! turns an overflow into a crash instead of silent corruption), and Rust adds a small
//! signal stack to report stack overflows. Address space is cheap: the kernel gives a
//! page of RAM only when it is touched, and an idle thread touches a few pages at the
//! top of its stack. So the virtual size (VmSize) grows by about 2 MiB per thread while
//! the resident size (VmRSS) grows by a few KiB.
//!
//! RSS does not show all of it. Each thread also has a *kernel* stack (16 KiB on
//! x86-64 and arm64) and its own kernel bookkeeping (its `task_struct`, in the slab),
//! and its mappings need page tables: this module reads those too (`KernelStack` and
//! `SUnreclaim` in /proc/meminfo, for the whole machine, through
//! [`procs::proc::meminfo`]; `VmPTE` for this process). They are the same figures
//! lesson 1 reads for a waiting process ([`procs::idle`]), so the two compare.

use std::sync::Arc;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::gate::Gate;
use crate::spawn::{join_all, spawn_many};

/// Memory of `threads` idle threads, per thread, in bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IdleMemory {
    pub threads: usize,
    /// The stack size asked for, or `None` for the default (2 MiB in Rust's std).
    pub stack: Option<usize>,
    pub rss: f64,
    pub virt: f64,
    /// Page tables (VmPTE) per thread.
    pub page_tables: f64,
    /// Kernel stacks per thread, from the machine-wide /proc/meminfo (noisy if other
    /// programs start or stop threads meanwhile).
    pub kernel_stack: f64,
    /// Kernel objects per thread (machine-wide `SUnreclaim`; the noisiest figure).
    pub slab: f64,
    /// Memory mappings per thread (lines of /proc/self/maps): what vm.max_map_count limits.
    pub maps: f64,
}

// ANCHOR: idle_threads_wait
/// Starts `n` threads that wait at a gate, measures the process with all of them alive,
/// then lets them finish. Returns the growth per thread.
pub fn idle_threads(n: usize, stack: Option<usize>) -> Result<IdleMemory> {
    if n == 0 {
        return Err(Error::Invalid {
            what: "thread count",
            reason: "at least one thread is needed".into(),
        });
    }
    warm_up_malloc_arenas();
    let before = Snapshot::take()?;
    let gate = Arc::new(Gate::new());
    let waiting = gate.clone();
    let (handles, refused) = spawn_many(n, stack, move |_| waiting.wait());
    // Measure only once every thread is really running and parked at the gate.
    let arrived = gate.wait_for_arrivals(handles.len(), Duration::from_secs(60));
    let during = Snapshot::take();
    gate.open();
    join_all(handles)?;
    // ANCHOR_END: idle_threads_wait
    // ANCHOR: idle_threads_per_thread
    if let Some(e) = refused {
        return Err(e);
    }
    if arrived < n {
        return Err(Error::Invalid {
            what: "experiment",
            reason: format!("only {arrived} of {n} threads reached the gate within 60 s"),
        });
    }
    let during = during?;
    let per = |a: u64, b: u64| a.saturating_sub(b) as f64 / n as f64;
    Ok(IdleMemory {
        threads: n,
        stack,
        rss: per(during.status.vm_rss, before.status.vm_rss),
        virt: per(during.status.vm_size, before.status.vm_size),
        page_tables: per(during.status.vm_pte, before.status.vm_pte),
        kernel_stack: per(during.kernel.kernel_stack, before.kernel.kernel_stack),
        slab: per(
            during.kernel.slab_unreclaimable,
            before.kernel.slab_unreclaimable,
        ),
        maps: per(during.maps, before.maps),
    })
}
// ANCHOR_END: idle_threads_per_thread

/// Makes the C library's malloc arenas exist before the measurement.
///
/// glibc's malloc gives each of the first few threads that allocate (up to 8 per core on
/// a 64-bit machine) an arena of its own, and reserves 64 MiB of address space for each.
/// An arena outlives its thread and is handed to the next thread that starts, so it is
/// a cost of the process, paid once, not of each thread: in a fresh process, 16 of them
/// on 2 cores add a whole mebibyte to "virtual size per thread" at 1,000 threads. So
/// that many threads allocate first, all alive at once (a thread that has ended hands
/// its arena on, so one after another they would make only one or two), and the
/// baseline includes their arenas.
fn warm_up_malloc_arenas() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let gate = Arc::new(Gate::new());
    let handles: Vec<_> = (0..8 * cores)
        .filter_map(|_| {
            let gate = gate.clone();
            let allocate_then_wait = move || {
                let bytes = std::hint::black_box(vec![0u8; 64]);
                gate.wait();
                bytes.len()
            };
            // A thread refused here only makes the warm-up less complete.
            std::thread::Builder::new().spawn(allocate_then_wait).ok()
        })
        .collect();
    gate.wait_for_arrivals(handles.len(), Duration::from_secs(10));
    gate.open();
    for h in handles {
        let _ = h.join();
    }
}

impl IdleMemory {
    /// What one more waiting thread costs the machine: its resident pages, its page
    /// tables, and the kernel's memory for it. Counted as [`procs::idle`] counts a
    /// process, so the two compare.
    pub fn per_thread(&self) -> f64 {
        self.rss + self.page_tables + self.kernel_stack + self.slab
    }
}

/// What the kernel says about this process's memory (and the machine's kernel memory).
struct Snapshot {
    status: procs::proc::Status,
    kernel: procs::proc::Meminfo,
    maps: u64,
}

impl Snapshot {
    fn take() -> Result<Snapshot> {
        Ok(Snapshot {
            status: procs::proc::self_status()?,
            kernel: procs::proc::meminfo()?,
            maps: count_maps()?,
        })
    }
}

/// How many memory mappings this process has (lines of /proc/self/maps).
pub fn count_maps() -> Result<u64> {
    let path = "/proc/self/maps";
    let text = std::fs::read_to_string(path).map_err(|source| procs::Error::ProcRead {
        path: path.into(),
        source,
    })?;
    Ok(text.lines().count() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_threads_cost_address_space_more_than_ram() {
        let _alone = crate::test_lock();
        let m = idle_threads(200, None).unwrap();
        assert!(m.virt > 1024.0 * 1024.0, "{m:?}");
        assert!(m.rss < m.virt / 8.0, "{m:?}");
        assert!(m.maps >= 1.0, "{m:?}");
    }

    #[test]
    fn a_small_stack_shrinks_the_address_space() {
        let _alone = crate::test_lock();
        let small = idle_threads(200, Some(64 * 1024)).unwrap();
        assert!(small.virt < 512.0 * 1024.0, "{small:?}");
    }

    #[test]
    fn kernel_figures_are_readable() {
        assert!(count_maps().unwrap() > 5);
        assert!(idle_threads(0, None).is_err());
    }
}
