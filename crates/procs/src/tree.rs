//! The process tree: every process has a parent, up to PID 1.
//!
//! The kernel starts two processes itself, `init` (PID 1) and `kthreadd` (PID 2, the
//! parent of its own threads); every other process was forked by another. Following the parent pid (`ppid`) from any process therefore climbs a
//! chain that ends at PID 1 — or at PID 2, `kthreadd`, for the kernel's own threads.
//! Inside a container, PID 1 is the container's first process: a PID namespace gives
//! it its own tree, and the chain ends there.

use std::path::Path;

use crate::error::{Error, Result};
use crate::proc::{Stat, read_stat_in};

/// A chain longer than this is a cycle in a fake /proc, not a real tree.
const MAX_DEPTH: usize = 4096;

// ANCHOR: ancestry
/// The chain from `pid` up to the root: `pid` first, then its parent, and so on, until
/// a process whose parent is 0 (PID 1, or PID 2 for kernel threads).
pub fn ancestry_in(proc_root: &Path, pid: i32) -> Result<Vec<Stat>> {
    let mut chain: Vec<Stat> = Vec::new();
    let mut next = pid;
    loop {
        let stat = read_stat_in(proc_root, next)?;
        next = stat.ppid;
        chain.push(stat);
        if next == 0 {
            return Ok(chain);
        }
        if chain.len() >= MAX_DEPTH {
            return Err(Error::Invalid {
                what: "process tree",
                reason: format!("no root after {MAX_DEPTH} parents of pid {pid}: a cycle?"),
            });
        }
    }
}
// ANCHOR_END: ancestry

/// [`ancestry_in`] on the real `/proc`.
pub fn ancestry(pid: i32) -> Result<Vec<Stat>> {
    ancestry_in(Path::new(crate::proc::PROC_ROOT), pid)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_proc(name: &str, entries: &[(i32, &str, i32)]) -> std::path::PathBuf {
        let root = std::env::temp_dir().join(format!("procs-tree-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for (pid, comm, ppid) in entries {
            let dir = root.join(pid.to_string());
            std::fs::create_dir_all(&dir).unwrap();
            let line =
                format!("{pid} ({comm}) S {ppid} 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 0 0 0\n");
            std::fs::write(dir.join("stat"), line).unwrap();
        }
        root
    }

    #[test]
    fn climbs_to_the_root_through_odd_names() {
        let root = fake_proc(
            "ok",
            &[(1, "init", 0), (50, "my (shell)", 1), (77, "a) b", 50)],
        );
        let chain = ancestry_in(&root, 77).unwrap();
        let pids: Vec<i32> = chain.iter().map(|s| s.pid).collect();
        assert_eq!(pids, [77, 50, 1]);
        assert_eq!(chain[1].comm, "my (shell)");
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn a_missing_parent_and_a_cycle_are_errors() {
        let root = fake_proc("bad", &[(5, "orphan", 9), (6, "a", 7), (7, "b", 6)]);
        let err = ancestry_in(&root, 5).unwrap_err().to_string();
        assert!(err.contains("9/stat"), "{err}");
        let err = ancestry_in(&root, 6).unwrap_err().to_string();
        assert!(err.contains("cycle"), "{err}");
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn this_process_descends_from_pid_1() {
        let chain = ancestry(std::process::id() as i32).unwrap();
        assert_eq!(chain.last().unwrap().pid, 1);
    }
}
