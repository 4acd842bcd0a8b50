//! Exercise `procs/pstree`: draw the process tree, like `pstree -p`.
//!
//! /proc lists processes, each knowing only its *parent*. Drawing the tree needs the
//! other direction: from each process to its children. Build that map once (parent ->
//! children), then walk it from the root.

// In your copy the body is `todo!()` and ignores its arguments until you write it:
// no warnings for that.
#![allow(unused_variables)]

use std::path::Path;

use procs::error::Result;

/// Draws the tree of the processes under `root` (included), as found in `proc_root`
/// (normally `/proc`; tests use a folder of hand-made entries). One line per process:
/// two spaces per level below `root`, then `pid (name)` (the name as it is, spaces and
/// parentheses included), then `\n`. Children in increasing numeric pid order, each
/// one's whole subtree before its next sibling. Entries that vanish or do not parse are
/// skipped; a `root` that cannot be read is an error. Each process is drawn once, even
/// when broken entries make the parents form a loop.
///
/// Use [`procs::proc::pids_in`] and [`procs::proc::read_stat_in`].
pub fn pstree_in(proc_root: &Path, root: i32) -> Result<String> {
    // BEGIN SOLUTION
    use procs::proc::{pids_in, read_stat_in};
    use std::collections::BTreeMap;

    let root_stat = read_stat_in(proc_root, root)?;
    let mut children: BTreeMap<i32, Vec<(i32, String)>> = BTreeMap::new();
    for pid in pids_in(proc_root)? {
        // A process can exit between the listing and the read: skip it.
        if let Ok(stat) = read_stat_in(proc_root, pid) {
            children
                .entry(stat.ppid)
                .or_default()
                .push((stat.pid, stat.comm));
        }
    }
    for list in children.values_mut() {
        list.sort();
    }
    let mut out = String::new();
    // An explicit stack instead of recursion: a deep (or cyclic, in a bad fixture) tree
    // cannot overflow it, and `seen` stops cycles.
    let mut stack = vec![(root, root_stat.comm, 0usize)];
    let mut seen = std::collections::HashSet::new();
    while let Some((pid, comm, depth)) = stack.pop() {
        if !seen.insert(pid) {
            continue;
        }
        out.push_str(&format!("{:width$}{pid} ({comm})\n", "", width = depth * 2));
        if let Some(kids) = children.get(&pid) {
            for (kid, name) in kids.iter().rev() {
                stack.push((*kid, name.clone(), depth + 1));
            }
        }
    }
    Ok(out)
    // END SOLUTION
}
