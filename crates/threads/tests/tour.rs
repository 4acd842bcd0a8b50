//! The tour binary keeps the part of the protocol that needs no experiment (see
//! `procs::tour::check_protocol`), and its hidden child mode for the limit experiment
//! works.

use std::path::Path;
use std::process::Command;

const BINARY: &str = env!("CARGO_BIN_EXE_threads");

#[test]
fn the_tour_keeps_the_protocol() {
    procs::tour::check_protocol(Path::new(BINARY), threads::claims::ALL).unwrap();
}

#[test]
fn the_limit_child_reports_a_refusal() {
    // 8 MiB of room fits a few 2 MiB stacks, not 50.
    let out = Command::new(BINARY)
        .args(["--demo-thread-limit", "50", "8388608"])
        .output()
        .expect("the tour binary runs");
    let text = String::from_utf8_lossy(&out.stdout);
    match threads::limit::LimitDemo::from_lines(&text) {
        Some(d) => assert!(d.started < 50 && d.error.is_some(), "{d:?}"),
        None => assert!(!out.status.success(), "no report and no failure: {text}"),
    }
}
