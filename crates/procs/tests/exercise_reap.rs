//! Graded tests for exercise `procs/reap`.
//!
//! `reap_all` waits for *any* child of the process, so the tests in this file take
//! turns: two at once would reap each other's children.

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use procs::exercises::reap::reap_all;
use procs::spawn::{Exit, Program, spawn};

static TURN: Mutex<()> = Mutex::new(());

fn my_turn() -> MutexGuard<'static, ()> {
    TURN.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn start(script: &str) -> i32 {
    let program = Program::new("sh", &["-c", script]).unwrap();
    spawn(&program).unwrap().pid().as_raw()
}

#[test]
fn reaps_every_child_in_the_order_they_end() {
    let _turn = my_turn();
    let slow = start("sleep 0.6; exit 3");
    let fast = start("exit 1");
    let middle = start("sleep 0.3; exit 2");
    let reaped = reap_all().unwrap();
    let got: Vec<(i32, Exit)> = reaped.iter().map(|(p, e)| (p.as_raw(), *e)).collect();
    assert_eq!(
        got,
        [
            (fast, Exit::Code(1)),
            (middle, Exit::Code(2)),
            (slow, Exit::Code(3))
        ]
    );
    let me = std::process::id() as i32;
    assert!(procs::zombie::zombies_of(me).unwrap().is_empty());
}

#[test]
fn a_killed_child_is_reported_with_its_signal() {
    let _turn = my_turn();
    let pid = start("kill -TERM $$");
    let reaped = reap_all().unwrap();
    assert_eq!(reaped.len(), 1);
    assert_eq!(reaped[0].0.as_raw(), pid);
    assert_eq!(reaped[0].1, Exit::Signal(Signal::SIGTERM));
}

#[test]
fn with_no_children_returns_at_once_and_empty() {
    let _turn = my_turn();
    let start = Instant::now();
    assert!(reap_all().unwrap().is_empty());
    assert!(start.elapsed() < Duration::from_secs(2));
}
