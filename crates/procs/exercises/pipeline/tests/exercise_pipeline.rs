//! Graded tests for exercise `procs/pipeline`.
//!
//! A pipeline with a pipe end left open hangs instead of failing, so every call runs on
//! a helper thread and the test fails after a deadline instead of hanging the grader.
//! Checks that change or count per-process state (closed stdin and stdout, a signal
//! handler, SIGCHLD ignored, this process's fds and children) run in a fresh process of
//! their own ([`common::in_a_fresh_process`]).
// One test sets SIGCHLD to SIG_IGN (an unsafe call in nix), in a process of its own.
#![allow(unsafe_code)]

#[path = "../../../tests/common/mod.rs"]
mod common;

use std::path::Path;

use nix::sys::signal::{SigHandler, Signal, signal};
use procs::Error;
use procs::spawn::Exit;
use procs_pipeline::pipeline;

/// `pipeline(a, b)` on a helper thread, under the deadline.
fn run(a: &[&str], b: &[&str]) -> procs::Result<(Exit, Exit)> {
    run_measured(a, b).0
}

/// Like [`run`], with what the calling thread of `pipeline` spent while it ran.
fn run_measured(a: &[&str], b: &[&str]) -> (procs::Result<(Exit, Exit)>, common::Usage) {
    let owned = |command: &[&str]| command.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let (a, b) = (owned(a), owned(b));
    let what = format!(
        "`{} | {}` (is a copy of a pipe end still open in the parent or in a child?)",
        a.join(" "),
        b.join(" ")
    );
    common::within(common::DEADLINE, &what, move || {
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let b: Vec<&str> = b.iter().map(String::as_str).collect();
        common::usage_of(|| pipeline(&a, &b))
    })
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
fn more_than_a_pipe_holds_flows_through() {
    // 1 MiB + 1 byte: a must be able to write while b reads (a pipe holds 64 KiB).
    let exits = run(
        &["head", "-c", "1048577", "/dev/zero"],
        &["sh", "-c", "test \"$(wc -c)\" -eq 1048577"],
    )
    .unwrap();
    assert_eq!(
        exits,
        (Exit::Code(0), Exit::Code(0)),
        "b did not count 1048577 bytes"
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
fn b_sees_end_of_file_as_soon_as_a_closes_its_stdout() {
    // a closes its stdout, then waits until b has ended. b ends only at end-of-file, which
    // comes only when no copy of the write end is left: if the parent still holds one
    // (until a ends, say), each waits for the other. (a gives up after about 60 s, so
    // that a failed run leaves no process behind for long.)
    let done = common::scratch_file("pipeline-b-done");
    let a = format!(
        "echo hi; exec >&-; i=0; while ! test -e {} && test $i -lt 6000; do sleep 0.01; i=$((i+1)); done",
        done.display()
    );
    let b = format!("cat >/dev/null; touch {}", done.display());
    let exits = run(&["sh", "-c", &a], &["sh", "-c", &b]);
    assert_eq!(exits.unwrap(), (Exit::Code(0), Exit::Code(0)));
}

#[test]
fn a_writer_whose_reader_left_is_stopped_by_sigpipe() {
    // The writer has 16 MiB to write, 256 pipes full: it stops early only when the pipe
    // has no reader left, after the reader took one byte. If the parent still holds the
    // read end, the writer blocks on a full pipe and this never finishes. (Bounded, not
    // `yes`: a wrong solution that sends the writer's output to this test's own stdout
    // must not write to it without end.)
    let (a, b) = run(
        &["head", "-c", "16777216", "/dev/zero"],
        &["sh", "-c", "head -c 1 >/dev/null"],
    )
    .unwrap();
    assert_eq!(b, Exit::Code(0));
    assert_eq!(
        a,
        Exit::Signal(Signal::SIGPIPE),
        "the writer must die of SIGPIPE"
    );
}

#[test]
fn an_empty_or_missing_command_is_an_error() {
    assert!(matches!(run(&[], &["cat"]), Err(Error::Invalid { .. })));
    assert!(matches!(run(&["echo"], &[]), Err(Error::Invalid { .. })));
    let err = run(&["echo", "x"], &["no-such-program-for-pipeline"]).unwrap_err();
    assert!(matches!(err, Error::ProgramNotFound { .. }), "{err}");
}

#[test]
fn a_bad_second_command_starts_nothing() {
    common::in_a_fresh_process("a_bad_second_command_starts_nothing", || {
        // `a` would leave a file behind if it ran; and a started `a` that was not
        // waited for would still be a child of this process.
        let marker = common::scratch_file("pipeline-started");
        let touch = format!("touch {}", marker.display());
        let a = ["sh", "-c", touch.as_str()];
        let err = pipeline(&a, &[]).unwrap_err();
        assert!(matches!(err, Error::Invalid { .. }), "{err}");
        let err = pipeline(&a, &["no-such-program-for-pipeline"]).unwrap_err();
        assert!(matches!(err, Error::ProgramNotFound { .. }), "{err}");
        assert_eq!(common::my_children(), [], "a child was started");
        assert!(
            !marker.exists(),
            "a ran although b could not: resolve both before starting either"
        );
    });
}

#[test]
fn each_program_holds_only_its_own_end_of_the_pipe() {
    // Each side's shell has `find`, its child, write the list of the shell's fds ($$) to
    // a file (`-fprintf`: a shell redirection would move the shell's own fds around).
    // a must hold the pipe only as fd 1, b only as fd 0: both ends share one inode, so
    // any other fd on it is a copy that leaked.
    let a_file = common::scratch_file("pipeline-fds-a");
    let b_file = common::scratch_file("pipeline-fds-b");
    let list_fds = |file: &Path| {
        format!(
            "find /proc/$$/fd -mindepth 1 -fprintf {} '%f -> %l\n'",
            file.display()
        )
    };
    let a_script = format!("{}; echo hi", list_fds(&a_file));
    let b_script = format!("{}; cat >/dev/null", list_fds(&b_file));
    let exits = run(&["sh", "-c", &a_script], &["sh", "-c", &b_script]).unwrap();
    assert_eq!(exits, (Exit::Code(0), Exit::Code(0)));
    let read = |file: &Path| {
        let text = std::fs::read_to_string(file).unwrap();
        common::parse_fd_listing(&text)
    };
    let (a_fds, b_fds) = (read(&a_file), read(&b_file));
    assert!(
        a_fds.get(&1).is_some_and(|t| t.starts_with("pipe:")),
        "a's fd 1 is not a pipe: {a_fds:?}"
    );
    assert_eq!(a_fds.get(&1), b_fds.get(&0), "a's stdout is not b's stdin");
    assert_eq!(
        common::fds_sharing(&a_fds, 1),
        [1],
        "a holds the pipe on more fds than its stdout: {a_fds:?}"
    );
    assert_eq!(
        common::fds_sharing(&b_fds, 0),
        [0],
        "b holds the pipe on more fds than its stdin: {b_fds:?}"
    );
}

#[test]
fn waits_without_spinning() {
    // Half a second until a ends and b sees end-of-file: the calling thread should sleep
    // in waitpid meanwhile, not poll.
    let (exits, usage) = run_measured(&["sleep", "0.5"], &["cat"]);
    assert_eq!(exits.unwrap(), (Exit::Code(0), Exit::Code(0)));
    common::assert_waited_without_spinning(usage, "pipeline");
}

#[test]
fn a_signal_during_the_wait_is_not_an_error() {
    common::in_a_fresh_process("a_signal_during_the_wait_is_not_an_error", || {
        let (result, signals) = common::interrupted_by_signals(|| {
            pipeline(
                &["sh", "-c", "sleep 0.3; exit 3"],
                &["sh", "-c", "cat >/dev/null; sleep 0.3; exit 4"],
            )
        });
        assert!(
            signals > 10,
            "only {signals} signals arrived: the test did not work"
        );
        let exits = result.expect("EINTR means: wait again, not fail");
        assert_eq!(exits, (Exit::Code(3), Exit::Code(4)));
    });
}

#[test]
fn works_when_this_process_started_without_stdin_and_stdout() {
    common::in_a_fresh_process(
        "works_when_this_process_started_without_stdin_and_stdout",
        || {
            // With fds 0 and 1 free, pipe2 hands them out: the read end is fd 0 and the
            // write end fd 1, already where b's stdin and a's stdout go.
            nix::unistd::close(0).unwrap();
            nix::unistd::close(1).unwrap();
            let exits =
                pipeline(&["echo", "hi"], &["sh", "-c", "read x; test \"$x\" = hi"]).unwrap();
            assert_eq!(
                exits,
                (Exit::Code(0), Exit::Code(0)),
                "a's stdout or b's stdin was closed by exec (FD_CLOEXEC left on fd 0 or 1?)"
            );
        },
    );
}

#[test]
fn every_child_is_waited_for_even_when_a_wait_fails() {
    common::in_a_fresh_process("every_child_is_waited_for_even_when_a_wait_fails", || {
        // With SIGCHLD ignored, the kernel reaps children itself: waitpid blocks
        // until the child ends, then fails with ECHILD. The first wait fails; the
        // reader must still be waited for, not left running.
        // SAFETY: SIG_IGN installs no handler; this process is the test's own.
        unsafe { signal(Signal::SIGCHLD, SigHandler::SigIgn) }.unwrap();
        let result = pipeline(&["true"], &["sleep", "0.5"]);
        let running: Vec<(i32, char)> = common::my_children()
            .into_iter()
            .filter(|(_, state)| *state != 'Z')
            .collect();
        assert_eq!(
            running,
            [],
            "pipeline returned ({result:?}) while a child still ran"
        );
    });
}

#[test]
fn leaves_no_fd_open_and_no_child_on_success_or_error() {
    common::in_a_fresh_process("leaves_no_fd_open_and_no_child_on_success_or_error", || {
        let before = common::my_fds();
        pipeline(&["echo", "hi"], &["cat"]).unwrap();
        assert_eq!(common::my_fds(), before, "fds left open after a pipeline");
        assert_eq!(common::my_children(), [], "children left behind");
        assert!(pipeline(&["echo", "hi"], &["no-such-program-for-pipeline"]).is_err());
        assert!(pipeline(&[], &["cat"]).is_err());
        assert_eq!(common::my_fds(), before, "fds left open after an error");
        assert_eq!(common::my_children(), [], "children left behind");
    });
}
