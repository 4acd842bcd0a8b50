//! Graded tests for exercise `procs/pipeline`.
//!
//! A pipeline with a pipe end left open hangs instead of failing, so every call runs on
//! a helper thread and the test fails after a deadline instead of hanging the grader.

use std::sync::mpsc;
use std::time::Duration;

use procs::Error;
use procs::exercises::pipeline::pipeline;
use procs::spawn::Exit;

fn run(a: &'static [&'static str], b: &'static [&'static str]) -> procs::Result<(Exit, Exit)> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(pipeline(a, b));
    });
    match rx.recv_timeout(Duration::from_secs(10)) {
        Ok(result) => result,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!(
            "`{} | {}` did not finish in 10 s: is a copy of a pipe end still open \
             in the parent or in one of the children?",
            a.join(" "),
            b.join(" ")
        ),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("pipeline panicked"),
    }
}

#[test]
fn data_flows_from_a_to_b() {
    let exits = run(&["echo", "hi"], &["sh", "-c", "read x; test \"$x\" = hi"]).unwrap();
    assert_eq!(
        exits,
        (Exit::Code(0), Exit::Code(0)),
        "b did not read `hi` from a"
    );
}

#[test]
fn both_exit_codes_come_back_in_order() {
    let exits = run(
        &["sh", "-c", "exit 3"],
        &["sh", "-c", "cat >/dev/null; exit 5"],
    )
    .unwrap();
    assert_eq!(exits, (Exit::Code(3), Exit::Code(5)));
}

#[test]
fn the_reader_sees_end_of_file() {
    // `cat` ends only at end-of-file: every write end must be closed.
    let exits = run(&["true"], &["cat"]).unwrap();
    assert_eq!(exits, (Exit::Code(0), Exit::Code(0)));
}

#[test]
fn a_writer_whose_reader_left_is_stopped() {
    // `yes` writes forever; it stops only when the pipe has no reader left. If the parent
    // still holds the read end, this never finishes.
    let (a, b) = run(&["yes"], &["sh", "-c", "head -n 1 >/dev/null"]).unwrap();
    assert_eq!(b, Exit::Code(0));
    assert_ne!(a, Exit::Code(0), "yes cannot have ended normally");
}

#[test]
fn an_empty_or_missing_command_starts_nothing() {
    assert!(matches!(run(&[], &["cat"]), Err(Error::Invalid { .. })));
    assert!(matches!(run(&["echo"], &[]), Err(Error::Invalid { .. })));
    let err = run(&["echo", "x"], &["no-such-program-for-pipeline"]).unwrap_err();
    assert!(matches!(err, Error::ProgramNotFound { .. }), "{err}");
}
