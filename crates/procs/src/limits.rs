//! How many tasks (processes and threads alike: each is a task to the kernel, with a pid
//! of its own) this machine allows, and which setting decides.
//!
//! - `kernel.threads-max` and `kernel.pid_max`: tasks and ids for the whole machine.
//! - `pids.max` of the control group (containers, systemd services).
//! - `RLIMIT_NPROC` (`ulimit -u`): tasks per user (not enforced for root).
//!
//! Lesson 1 compares them with what memory would allow for waiting processes; lesson 2
//! adds the limit only threads meet (`vm.max_map_count`, mappings per process).

use std::path::Path;

use nix::sys::resource::{Resource, getrlimit};

/// The settings that bound the number of tasks, as read from the kernel; the ones that
/// cannot be read (or are unlimited) are `None`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TaskLimits {
    pub threads_max: Option<u64>,
    pub pid_max: Option<u64>,
    /// The control group's `pids.max`, when there is one with a number.
    pub cgroup_pids_max: Option<u64>,
    /// `RLIMIT_NPROC` when finite and enforced (not for root).
    pub rlimit_nproc: Option<u64>,
}

impl TaskLimits {
    /// Reads every setting it can.
    pub fn read() -> TaskLimits {
        let number = |path: &str| read_number(Path::new(path));
        let nproc = getrlimit(Resource::RLIMIT_NPROC)
            .ok()
            .map(|(soft, _hard)| soft)
            .filter(|&soft| soft != nix::libc::RLIM_INFINITY && !nix::unistd::geteuid().is_root());
        TaskLimits {
            threads_max: number("/proc/sys/kernel/threads-max"),
            pid_max: number("/proc/sys/kernel/pid_max"),
            cgroup_pids_max: cgroup_pids_max(),
            rlimit_nproc: nproc,
        }
    }

    /// Each setting that could be read, with its name.
    pub fn named(&self) -> Vec<(u64, &'static str)> {
        [
            (self.threads_max, "kernel.threads-max"),
            (self.pid_max, "kernel.pid_max"),
            (self.cgroup_pids_max, "the cgroup's pids.max"),
            (self.rlimit_nproc, "RLIMIT_NPROC"),
        ]
        .into_iter()
        .filter_map(|(limit, name)| Some((limit?, name)))
        .collect()
    }

    /// The lowest setting and its name, if any could be read.
    pub fn lowest(&self) -> Option<(u64, &'static str)> {
        self.named().into_iter().min_by_key(|(n, _)| *n)
    }
}

/// A number alone in a file (`/proc/sys/...`, cgroup files); `None` for anything else.
pub fn read_number(path: &Path) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// `pids.max` of this process's cgroup (v2), if it has a number (not "max").
fn cgroup_pids_max() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    // cgroup v2: one line "0::/some/path".
    let rel = text.lines().find_map(|l| l.strip_prefix("0::"))?;
    let dir = Path::new("/sys/fs/cgroup").join(rel.trim_start_matches('/'));
    read_number(&dir.join("pids.max")).or_else(|| read_number(Path::new("/sys/fs/cgroup/pids.max")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lowest_setting_is_named() {
        let limits = TaskLimits {
            threads_max: Some(192_729),
            pid_max: Some(32_768),
            cgroup_pids_max: None,
            rlimit_nproc: Some(40_000),
        };
        assert_eq!(limits.lowest(), Some((32_768, "kernel.pid_max")));
        assert_eq!(TaskLimits::default().lowest(), None);
        // Every Linux machine has the two kernel settings.
        let here = TaskLimits::read();
        assert!(
            here.pid_max.is_some() && here.threads_max.is_some(),
            "{here:?}"
        );
    }
}
