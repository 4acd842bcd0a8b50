//! Graded tests for exercise `procs/pstree`.
//!
//! Each test draws a hand-made folder shaped like /proc, whose pids, names and folder
//! order are chosen so that a wrong order (by name, by pid as text, breadth first) cannot
//! give the right drawing by accident. A loop in the parents would make a solution
//! without a guard recurse or grow its output without end: that test runs in a fresh
//! process with its memory capped.
//!
//! Every check names the root it drew and the entries of the folder, and the rule of the
//! task it checks ([`graded::scene`]); a panic in `pstree_in` is reported as one, with
//! that input.

#[path = "../../../tests/common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};

use graded::{Case, scene};
use procs::spawn::{Program, spawn};
use procs_pstree::pstree_in;

/// A folder shaped like /proc, removed when this value is dropped (even when the test
/// fails).
struct FakeProc {
    dir: PathBuf,
    /// What the folder holds, in words, for the failure messages.
    entries: String,
}

impl Drop for FakeProc {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A folder shaped like /proc: `<pid>/stat` for each (pid, name, parent).
fn fake_proc(name: &str, entries: &[(i32, &str, i32)]) -> FakeProc {
    let dir = std::env::temp_dir().join(format!("pstree-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("make the fake /proc");
    for (pid, comm, ppid) in entries {
        write_stat(
            &dir,
            *pid,
            &format!("{pid} ({comm}) S {ppid} 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 0 0 0\n"),
        );
    }
    FakeProc {
        dir,
        entries: format!("entries (pid, name, parent) {entries:?}"),
    }
}

fn write_stat(root: &Path, pid: i32, line: &str) {
    let dir = root.join(pid.to_string());
    std::fs::create_dir_all(&dir).expect("make an entry of the fake /proc");
    std::fs::write(dir.join("stat"), line).expect("write an entry of the fake /proc");
}

/// The input of drawing `root` from the folder `fake`, in words.
fn input(fake: &FakeProc, root: i32) -> String {
    format!("root {root}; {}", fake.entries)
}

/// The case of drawing `root` from the folder `fake`, for the task's `rule`.
fn drawing(fake: &FakeProc, root: i32, rule: &str) -> Case {
    scene(input(fake, root), rule)
}

/// `pstree_in(fake, root)` for case `c`: a panic in it is reported with the case; the
/// answer comes back in the form the checks compare and show (an error as its message).
#[track_caller]
fn draw(c: &Case, fake: &FakeProc, root: i32) -> Result<String, String> {
    c.run(|| pstree_in(&fake.dir, root))
        .map_err(|e| e.to_string())
}

/// Draws `root` from the folder `fake` and checks the drawing against `expected`.
#[track_caller]
fn draws(fake: &FakeProc, root: i32, rule: &str, expected: &str) {
    let c = drawing(fake, root, rule);
    c.eq(draw(&c, fake, root), Ok(expected.to_string()));
}

#[test]
fn draws_a_small_tree_in_pid_order() {
    let fake = fake_proc(
        "small",
        &[
            (1, "init", 0),
            (30, "sshd", 1),
            (7, "cron", 1),
            (31, "bash", 30),
            (40, "vim", 31),
        ],
    );
    let rule = "\"pid (name)\" per line, two spaces per level below the root, children in \
                pid order";
    draws(
        &fake,
        1,
        rule,
        "1 (init)\n  7 (cron)\n  30 (sshd)\n    31 (bash)\n      40 (vim)\n",
    );
    draws(&fake, 30, rule, "30 (sshd)\n  31 (bash)\n    40 (vim)\n");
}

#[test]
fn children_are_in_numeric_pid_order() {
    // By pid: 9, 10, 20, 100. By name: 10, 20, 100, 9. By pid as text: 10, 100, 20, 9.
    // The folders are made in none of these orders.
    let fake = fake_proc(
        "order",
        &[
            (1, "init", 0),
            (20, "bb", 1),
            (100, "mm", 1),
            (9, "zz", 1),
            (10, "aa", 1),
        ],
    );
    draws(
        &fake,
        1,
        "children in increasing numeric pid order (not by name, not as text)",
        "1 (init)\n  9 (zz)\n  10 (aa)\n  20 (bb)\n  100 (mm)\n",
    );
}

#[test]
fn each_subtree_is_drawn_before_the_next_sibling() {
    // Depth first: 2's whole subtree (5, then 6 under it) comes before 2's sibling 3.
    let fake = fake_proc(
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
    draws(
        &fake,
        1,
        "each child's whole subtree drawn before its next sibling (depth first)",
        "1 (init)\n  2 (a)\n    5 (d)\n      6 (e)\n  3 (b)\n    4 (c)\n",
    );
}

#[test]
fn a_root_without_children_is_one_line() {
    let fake = fake_proc("leaf", &[(1, "init", 0), (2, "lonely", 1), (3, "other", 1)]);
    draws(
        &fake,
        2,
        "the processes under the root, the root included: here the root alone",
        "2 (lonely)\n",
    );
}

#[test]
fn a_loop_in_the_parents_draws_each_process_once() {
    common::in_a_fresh_process("a_loop_in_the_parents_draws_each_process_once", || {
        // A solution that follows the loop forever recurses until its stack overflows,
        // or grows its output until memory runs out: cap memory at 1 GiB so that it fails
        // fast instead of slowing the machine down.
        let cap = 1 << 30;
        nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_AS, cap, cap)
            .expect("cap this process's memory");
        // 1 is its own ancestor through 3 -> 2 -> 1; 7 is its own parent.
        let fake = fake_proc(
            "loop",
            &[(1, "a", 3), (2, "b", 1), (3, "c", 2), (7, "self", 7)],
        );
        let rule = "each process is drawn once, even when the parents form a loop";
        for (root, expected) in [(1, "1 (a)\n  2 (b)\n    3 (c)\n"), (7, "7 (self)\n")] {
            // Either way that solution kills this process without a panic, so no check
            // can report it: say beforehand what is tried, and the report of this
            // process's death shows it.
            eprintln!(
                "drawing now (if this process dies, it died on this input):\n\
                 input:    {}\nthe task: {rule}",
                input(&fake, root)
            );
            draws(&fake, root, rule, expected);
        }
    });
}

#[test]
fn names_with_spaces_and_parentheses_are_kept() {
    let fake = fake_proc(
        "names",
        &[(1, "init", 0), (2, "my (odd) name", 1), (3, ") x", 2)],
    );
    draws(
        &fake,
        1,
        "\"pid (name)\" per line, the name as it is, spaces and parentheses included",
        "1 (init)\n  2 (my (odd) name)\n    3 () x)\n",
    );
}

#[test]
fn broken_entries_are_skipped_not_fatal() {
    // 3 does not parse and 4 has vanished (a folder without stat); both sit between 2 and
    // 5 in pid order, and 5 is still drawn.
    let mut fake = fake_proc("broken", &[(1, "init", 0), (2, "ok", 1), (5, "after", 1)]);
    write_stat(&fake.dir, 3, "garbage without a name\n");
    std::fs::create_dir_all(fake.dir.join("self-not-a-pid")).expect("make a folder");
    std::fs::create_dir_all(fake.dir.join("4")).expect("make a folder"); // vanished
    fake.entries += ", 3 whose stat does not parse, 4 without a stat (vanished), \
                     and a folder `self-not-a-pid`";
    draws(
        &fake,
        1,
        "entries that vanish or do not parse are skipped",
        "1 (init)\n  2 (ok)\n  5 (after)\n",
    );
}

#[test]
fn an_unreadable_root_is_an_error() {
    let mut fake = fake_proc("noroot", &[(1, "init", 0)]);
    write_stat(&fake.dir, 3, "garbage without a name\n");
    fake.entries += ", and 3 whose stat does not parse";
    for (root, rule) in [
        (99, "a root that cannot be read (here: missing) is an error"),
        (
            3,
            "a root that cannot be read (here: its stat does not parse) is an error",
        ),
    ] {
        let c = drawing(&fake, root, rule);
        let got = draw(&c, &fake, root);
        c.check(got.is_err(), got);
    }
}

#[test]
fn shows_a_real_child_of_this_process() {
    let me = std::process::id() as i32;
    let child =
        spawn(&Program::new("sleep", &["5"]).expect("prepare `sleep`")).expect("start `sleep 5`");
    let pid = child.pid();
    let c = scene(
        format!("root {me} (this test) in /proc; its child {pid} runs `sleep 5`"),
        "draw the processes under the root, from /proc",
    );
    let got = c.run(|| pstree_in(Path::new("/proc"), me));
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL).expect("kill `sleep`");
    child.wait().expect("wait for `sleep`");
    let tree = match got {
        Ok(tree) => tree,
        Err(e) => c.fail(Err::<String, _>(e.to_string())),
    };
    c.rule("the first line is the root, \"pid (name)\"")
        .check(tree.starts_with(&format!("{me} (")), &tree);
    c.rule("the child is drawn one level below the root, as \"pid (name)\"")
        .check(tree.contains(&format!("\n  {pid} (sleep)\n")), &tree);
}
