//! Graded tests for exercise `procs/pstree`.

use std::path::{Path, PathBuf};

use procs::exercises::pstree::pstree_in;
use procs::spawn::{Program, spawn};

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
    let tree = pstree_in(&root, 1).unwrap();
    assert_eq!(
        tree,
        "1 (init)\n  7 (cron)\n  30 (sshd)\n    31 (bash)\n      40 (vim)\n"
    );
    let sub = pstree_in(&root, 30).unwrap();
    assert_eq!(sub, "30 (sshd)\n  31 (bash)\n    40 (vim)\n");
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn names_with_spaces_and_parentheses_are_kept() {
    let root = fake_proc(
        "names",
        &[(1, "init", 0), (2, "my (odd) name", 1), (3, ") x", 2)],
    );
    let tree = pstree_in(&root, 1).unwrap();
    assert_eq!(tree, "1 (init)\n  2 (my (odd) name)\n    3 () x)\n");
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn broken_entries_are_skipped_not_fatal() {
    let root = fake_proc("broken", &[(1, "init", 0), (2, "ok", 1)]);
    write_stat(&root, 3, "garbage without a name\n");
    std::fs::create_dir_all(root.join("self-not-a-pid")).unwrap();
    std::fs::create_dir_all(root.join("4")).unwrap(); // a folder without stat: vanished
    let tree = pstree_in(&root, 1).unwrap();
    assert_eq!(tree, "1 (init)\n  2 (ok)\n");
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn an_unreadable_root_is_an_error() {
    let root = fake_proc("noroot", &[(1, "init", 0)]);
    assert!(pstree_in(&root, 99).is_err());
    std::fs::remove_dir_all(root).unwrap();
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
