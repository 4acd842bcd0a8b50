//! Graded tests for exercise `procs/pstree`.
//!
//! Each test draws a hand-made folder shaped like /proc, whose pids, names and folder
//! order are chosen so that a wrong order (by name, by pid as text, breadth first) cannot
//! give the right drawing by accident. A loop in the parents would make a solution
//! without a guard recurse or grow its output without end: that test runs in a fresh
//! process with its memory capped.

#[path = "../../../tests/common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};

use procs::spawn::{Program, spawn};
use procs_pstree::pstree_in;

/// A folder shaped like /proc: `<pid>/stat` for each (pid, name, parent).
fn fake_proc(name: &str, entries: &[(i32, &str, i32)]) -> PathBuf {
    let root = std::env::temp_dir().join(format!("pstree-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    for (pid, comm, ppid) in entries {
        write_stat(
            &root,
            *pid,
            &format!("{pid} ({comm}) S {ppid} 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 0 0 0\n"),
        );
    }
    root
}

fn write_stat(root: &Path, pid: i32, line: &str) {
    let dir = root.join(pid.to_string());
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("stat"), line).unwrap();
}

#[test]
fn draws_a_small_tree_in_pid_order() {
    let root = fake_proc(
        "small",
        &[
            (1, "init", 0),
            (30, "sshd", 1),
            (7, "cron", 1),
            (31, "bash", 30),
            (40, "vim", 31),
        ],
    );
    let tree = pstree_in(&root, 1);
    let sub = pstree_in(&root, 30);
    std::fs::remove_dir_all(root).unwrap();
    assert_eq!(
        tree.unwrap(),
        "1 (init)\n  7 (cron)\n  30 (sshd)\n    31 (bash)\n      40 (vim)\n"
    );
    assert_eq!(sub.unwrap(), "30 (sshd)\n  31 (bash)\n    40 (vim)\n");
}

#[test]
fn children_are_in_numeric_pid_order() {
    // By pid: 9, 10, 20, 100. By name: 10, 20, 100, 9. By pid as text: 10, 100, 20, 9.
    // The folders are made in none of these orders.
    let root = fake_proc(
        "order",
        &[
            (1, "init", 0),
            (20, "bb", 1),
            (100, "mm", 1),
            (9, "zz", 1),
            (10, "aa", 1),
        ],
    );
    let tree = pstree_in(&root, 1);
    std::fs::remove_dir_all(root).unwrap();
    let tree = tree.unwrap();
    assert_eq!(
        tree,
        "1 (init)\n  9 (zz)\n  10 (aa)\n  20 (bb)\n  100 (mm)\n"
    );
}

#[test]
fn each_subtree_is_drawn_before_the_next_sibling() {
    // Depth first: 2's whole subtree (5, then 6 under it) comes before 2's sibling 3.
    let root = fake_proc(
        "depth",
        &[
            (1, "init", 0),
            (2, "a", 1),
            (3, "b", 1),
            (4, "c", 3),
            (5, "d", 2),
            (6, "e", 5),
        ],
    );
    let tree = pstree_in(&root, 1);
    std::fs::remove_dir_all(root).unwrap();
    let tree = tree.unwrap();
    assert_eq!(
        tree,
        "1 (init)\n  2 (a)\n    5 (d)\n      6 (e)\n  3 (b)\n    4 (c)\n"
    );
}

#[test]
fn a_root_without_children_is_one_line() {
    let root = fake_proc("leaf", &[(1, "init", 0), (2, "lonely", 1), (3, "other", 1)]);
    let tree = pstree_in(&root, 2);
    std::fs::remove_dir_all(root).unwrap();
    assert_eq!(tree.unwrap(), "2 (lonely)\n");
}

#[test]
fn a_loop_in_the_parents_draws_each_process_once() {
    common::in_a_fresh_process("a_loop_in_the_parents_draws_each_process_once", || {
        // A solution that follows the loop forever recurses until its stack overflows,
        // or grows its output until memory runs out: cap memory at 1 GiB so that it fails
        // fast instead of slowing the machine down.
        let cap = 1 << 30;
        nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_AS, cap, cap).unwrap();
        // 1 is its own ancestor through 3 -> 2 -> 1; 7 is its own parent.
        let root = fake_proc(
            "loop",
            &[(1, "a", 3), (2, "b", 1), (3, "c", 2), (7, "self", 7)],
        );
        let from_1 = pstree_in(&root, 1);
        let from_7 = pstree_in(&root, 7);
        std::fs::remove_dir_all(root).unwrap();
        assert_eq!(from_1.unwrap(), "1 (a)\n  2 (b)\n    3 (c)\n");
        assert_eq!(from_7.unwrap(), "7 (self)\n");
    });
}

#[test]
fn names_with_spaces_and_parentheses_are_kept() {
    let root = fake_proc(
        "names",
        &[(1, "init", 0), (2, "my (odd) name", 1), (3, ") x", 2)],
    );
    let tree = pstree_in(&root, 1);
    std::fs::remove_dir_all(root).unwrap();
    assert_eq!(
        tree.unwrap(),
        "1 (init)\n  2 (my (odd) name)\n    3 () x)\n"
    );
}

#[test]
fn broken_entries_are_skipped_not_fatal() {
    // 3 does not parse and 4 has vanished (a folder without stat); both sit between 2 and
    // 5 in pid order, and 5 is still drawn.
    let root = fake_proc("broken", &[(1, "init", 0), (2, "ok", 1), (5, "after", 1)]);
    write_stat(&root, 3, "garbage without a name\n");
    std::fs::create_dir_all(root.join("self-not-a-pid")).unwrap();
    std::fs::create_dir_all(root.join("4")).unwrap(); // a folder without stat: vanished
    let tree = pstree_in(&root, 1);
    std::fs::remove_dir_all(root).unwrap();
    let tree = tree.unwrap();
    assert_eq!(tree, "1 (init)\n  2 (ok)\n  5 (after)\n");
}

#[test]
fn an_unreadable_root_is_an_error() {
    let root = fake_proc("noroot", &[(1, "init", 0)]);
    write_stat(&root, 3, "garbage without a name\n");
    let missing = pstree_in(&root, 99);
    let garbage = pstree_in(&root, 3);
    std::fs::remove_dir_all(root).unwrap();
    assert!(missing.is_err(), "a root that does not exist: {missing:?}");
    assert!(
        garbage.is_err(),
        "a root whose stat does not parse: {garbage:?}"
    );
}

#[test]
fn shows_a_real_child_of_this_process() {
    let me = std::process::id() as i32;
    let child = spawn(&Program::new("sleep", &["5"]).unwrap()).unwrap();
    let pid = child.pid();
    let tree = pstree_in(Path::new("/proc"), me);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL).unwrap();
    child.wait().unwrap();
    let tree = tree.unwrap();
    assert!(tree.starts_with(&format!("{me} (")), "{tree}");
    assert!(tree.contains(&format!("\n  {pid} (sleep)\n")), "{tree}");
}
