//! Graded tests for exercise `procs/reap`.
//!
//! `reap_all` waits for *any* child of the process, so the tests in this file take
//! turns: two at once would reap each other's children (the fresh process a test starts
//! for itself is a child too). A `reap_all` that waits for the wrong child can hang, so
//! it runs on a helper thread under a deadline ([`reap_all_within`]).
//!
//! Every check names the children the test started and the rule of the task it checks
//! ([`graded::scene`]), and a panic in `reap_all` is reported as one, with those
//! children.

#[path = "../../../tests/common/mod.rs"]
mod common;

use std::sync::{Mutex, MutexGuard};

use graded::{Case, scene};
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
    let program = Program::new("sh", &["-c", script]).expect("prepare `sh`");
    spawn(&program).expect("start a child").pid().as_raw()
}

/// `reap_all`'s answer in the form the checks compare and show: the pids as plain
/// numbers, an error as its message.
type Shown = Result<Vec<(i32, Exit)>, String>;

fn shown(got: procs::Result<Vec<(Pid, Exit)>>) -> Shown {
    got.map(|reaped| reaped.iter().map(|(p, e)| (p.as_raw(), *e)).collect())
        .map_err(|e| e.to_string())
}

/// Why `reap_all` would hang, said when it does.
const HANGS: &str = "does it wait for one particular child, or go on waiting after ECHILD?";

/// `reap_all` for case `c`, on a helper thread under the deadline.
#[track_caller]
fn reap_all_within(c: &Case) -> Shown {
    shown(common::within(c, HANGS, reap_all))
}

/// Checks that no child of this process is left, running or a zombie.
#[track_caller]
fn no_child_left(c: &Case) {
    c.rule("no zombie is left behind (nor a child still running)")
        .eq(common::my_children(), vec![]);
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
    std::fs::write(&partial, format!("{middle}\n")).expect("write the scratch file");
    std::fs::rename(&partial, &middle_pid_file).expect("rename the scratch file");
    let c = scene(
        format!(
            "children {slow} (exits with 3 once {middle} is reaped), {fast} (exits with 1 \
             at once), {middle} (exits with 2 once {fast} is reaped)"
        ),
        "return each pid with how it ended, in the order they ended; each child is \
         reaped as soon as it ends, whatever its pid",
    );
    c.eq(
        reap_all_within(&c),
        Ok(vec![
            (fast, Exit::Code(1)),
            (middle, Exit::Code(2)),
            (slow, Exit::Code(3)),
        ]),
    );
    no_child_left(&c);
}

#[test]
fn a_killed_child_is_reported_with_its_signal() {
    let _turn = my_turn();
    // SIGKILL, which no signal mask inherited from the grader can hold back.
    let pid = start("kill -KILL $$");
    let c = scene(
        format!("child {pid}, which kills itself with SIGKILL"),
        "a child killed by a signal is an Exit::Signal",
    );
    c.eq(
        reap_all_within(&c),
        Ok(vec![(pid, Exit::Signal(Signal::SIGKILL))]),
    );
}

#[test]
fn with_no_children_returns_an_empty_list() {
    let _turn = my_turn();
    let c = scene("no children", "with no children the list is empty");
    c.eq(reap_all_within(&c), Ok(vec![]));
}

#[test]
fn reaps_many_children_each_once() {
    let _turn = my_turn();
    // Twenty children with twenty different codes, all ending at about the same time.
    let mut expected: Vec<(i32, Exit)> = (10..30)
        .map(|code| (start(&format!("exit {code}")), Exit::Code(code)))
        .collect();
    let c = scene(
        "twenty children that exit with the codes 10 to 29, all at about the same time",
        "each child is reaped once, with how it ended (both lists sorted by pid here)",
    );
    let got = reap_all_within(&c).map(|mut reaped| {
        reaped.sort_by_key(|(pid, _)| *pid);
        reaped
    });
    expected.sort_by_key(|(pid, _)| *pid);
    c.eq(got, Ok(expected));
    no_child_left(&c);
}

#[test]
fn waits_without_spinning() {
    let _turn = my_turn();
    // Half a second until the child ends: the calling thread should sleep in waitpid
    // meanwhile, not poll.
    let pid = start("sleep 0.5; exit 6");
    let c = scene(
        format!("child {pid}, which sleeps 0.5 s, then exits with 6"),
        "return each pid with how it ended",
    );
    let (got, usage) = common::within(&c, HANGS, || common::usage_of(reap_all));
    c.eq(shown(got), Ok(vec![(pid, Exit::Code(6))]));
    common::waited_without_spinning(&c, usage, "the child ran");
}

#[test]
fn a_signal_during_the_wait_is_not_an_error() {
    let _turn = my_turn();
    common::in_a_fresh_process("a_signal_during_the_wait_is_not_an_error", || {
        let first = start("sleep 0.3; exit 7");
        let second = start("sleep 0.6; exit 8");
        let c = scene(
            format!(
                "children {first} (exits with 7 after 0.3 s) and {second} (exits with 8 \
                 after 0.6 s), while signals arrive every 2 ms"
            ),
            "a signal that interrupts waitpid (EINTR) is not an error: wait again, until \
             every child is reaped",
        );
        let (got, signals) = common::interrupted_by_signals(|| c.run(reap_all));
        c.eq(
            shown(got),
            Ok(vec![(first, Exit::Code(7)), (second, Exit::Code(8))]),
        );
        if signals <= 10 {
            c.rule("(a check of the test) its signals reach reap_all, one every 2 ms")
                .fail_with(&format!(
                    "only {signals} signals arrived: the test did not work"
                ));
        }
    });
}
