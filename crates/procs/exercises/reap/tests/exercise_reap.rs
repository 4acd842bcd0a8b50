//! Graded tests for exercise `procs/reap`.
//!
//! `reap_all` waits for *any* child of the process, so the tests in this file take
//! turns: two at once would reap each other's children (the fresh process a test starts
//! for itself is a child too). A `reap_all` that waits for the wrong child can hang, so
//! it runs under a deadline ([`common::within`]).

#[path = "../../../tests/common/mod.rs"]
mod common;

use std::sync::{Mutex, MutexGuard};

use nix::sys::signal::Signal;
use nix::unistd::Pid;
use procs::spawn::{Exit, Program, spawn};
use procs_reap::reap_all;

static TURN: Mutex<()> = Mutex::new(());

fn my_turn() -> MutexGuard<'static, ()> {
    TURN.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Starts `sh -c script` as a child of this process and returns its pid.
fn start(script: &str) -> i32 {
    let program = Program::new("sh", &["-c", script]).unwrap();
    spawn(&program).unwrap().pid().as_raw()
}

/// `reap_all` under the deadline, with the pids as plain numbers.
fn reap_all_within() -> Vec<(i32, Exit)> {
    let reaped = common::within(common::DEADLINE, "reap_all", reap_all).unwrap();
    as_numbers(&reaped)
}

fn as_numbers(reaped: &[(Pid, Exit)]) -> Vec<(i32, Exit)> {
    reaped.iter().map(|(p, e)| (p.as_raw(), *e)).collect()
}

#[test]
fn reaps_every_child_in_the_order_they_end() {
    let _turn = my_turn();
    // The order of endings is forced, not left to timing: `kill -0` succeeds while its
    // target exists, zombie included, so `middle` ends only after `fast` has been
    // reaped, and `slow` only after `middle` has. `slow` is started first (the smallest
    // pid, usually), so waiting in pid order, or for one chosen child, hangs.
    let middle_pid_file = common::scratch_file("reap-middle-pid");
    let slow = start(&format!(
        "while ! test -s {0}; do sleep 0.01; done; m=$(cat {0}); \
         while kill -0 $m 2>/dev/null; do sleep 0.01; done; exit 3",
        middle_pid_file.display()
    ));
    let fast = start("exit 1");
    let middle = start(&format!(
        "while kill -0 {fast} 2>/dev/null; do sleep 0.01; done; exit 2"
    ));
    // Written whole, then renamed into place: `slow` never reads half a number.
    let partial = common::scratch_file("reap-middle-pid-partial");
    std::fs::write(&partial, format!("{middle}\n")).unwrap();
    std::fs::rename(&partial, &middle_pid_file).unwrap();
    let got = reap_all_within();
    assert_eq!(
        got,
        [
            (fast, Exit::Code(1)),
            (middle, Exit::Code(2)),
            (slow, Exit::Code(3))
        ]
    );
    assert_eq!(common::my_children(), [], "children left behind");
}

#[test]
fn a_killed_child_is_reported_with_its_signal() {
    let _turn = my_turn();
    // SIGKILL, which no signal mask inherited from the grader can hold back.
    let pid = start("kill -KILL $$");
    assert_eq!(reap_all_within(), [(pid, Exit::Signal(Signal::SIGKILL))]);
}

#[test]
fn with_no_children_returns_an_empty_list() {
    let _turn = my_turn();
    assert_eq!(reap_all_within(), []);
}

#[test]
fn reaps_many_children_each_once() {
    let _turn = my_turn();
    // Twenty children with twenty different codes, all ending at about the same time.
    let mut expected: Vec<(i32, Exit)> = (10..30)
        .map(|code| (start(&format!("exit {code}")), Exit::Code(code)))
        .collect();
    let mut got = reap_all_within();
    assert_eq!(got.len(), expected.len(), "{got:?}");
    got.sort_by_key(|(pid, _)| *pid);
    expected.sort_by_key(|(pid, _)| *pid);
    assert_eq!(got, expected);
    assert_eq!(common::my_children(), [], "children left behind");
}

#[test]
fn waits_without_spinning() {
    let _turn = my_turn();
    // Half a second until the child ends: the calling thread should sleep in waitpid
    // meanwhile, not poll.
    let pid = start("sleep 0.5; exit 6");
    let (reaped, usage) =
        common::within(common::DEADLINE, "reap_all", || common::usage_of(reap_all));
    assert_eq!(as_numbers(&reaped.unwrap()), [(pid, Exit::Code(6))]);
    common::assert_waited_without_spinning(usage, "reap_all");
}

#[test]
fn a_signal_during_the_wait_is_not_an_error() {
    let _turn = my_turn();
    common::in_a_fresh_process("a_signal_during_the_wait_is_not_an_error", || {
        let first = start("sleep 0.3; exit 7");
        let second = start("sleep 0.6; exit 8");
        let (result, signals) = common::interrupted_by_signals(reap_all);
        assert!(
            signals > 10,
            "only {signals} signals arrived: the test did not work"
        );
        let reaped = result.expect("EINTR means: wait again, not fail");
        assert_eq!(
            as_numbers(&reaped),
            [(first, Exit::Code(7)), (second, Exit::Code(8))],
            "a signal ended the wait before every child was reaped"
        );
    });
}
