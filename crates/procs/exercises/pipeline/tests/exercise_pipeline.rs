//! Graded tests for exercise `procs/pipeline`.
//!
//! A pipeline with a pipe end left open hangs instead of failing, so every call runs on
//! a helper thread and the test fails after a deadline instead of hanging the grader
//! ([`run`]). Checks that change or count per-process state (closed stdin and stdout, a
//! signal handler, SIGCHLD ignored, this process's fds and children) run in a fresh
//! process of their own ([`common::in_a_fresh_process`]).
//!
//! Every check names the call it made and the rule of the task it checks
//! ([`graded::scene`]), and a panic in `pipeline` is reported as one, with that call.
// One test sets SIGCHLD to SIG_IGN (an unsafe call in nix), in a process of its own.
#![allow(unsafe_code)]

#[path = "../../../tests/common/mod.rs"]
mod common;

use std::path::Path;

use graded::{Case, scene};
use nix::sys::signal::{SigHandler, Signal, signal};
use procs::Error;
use procs::spawn::Exit;
use procs_pipeline::pipeline;

/// What `pipeline` returned.
type Answer = procs::Result<(Exit, Exit)>;

/// The case of the call `pipeline(a, b)`, for the task's `rule`.
fn call(a: &[&str], b: &[&str], rule: &str) -> Case {
    scene(format!("pipeline({a:?}, {b:?})"), rule)
}

/// `pipeline`'s answer in the form the checks compare and show: an error as its message.
fn shown(got: Answer) -> Result<(Exit, Exit), String> {
    got.map_err(|e| e.to_string())
}

/// Both programs exited with 0, in the form of [`shown`].
const BOTH_OK: Result<(Exit, Exit), String> = Ok((Exit::Code(0), Exit::Code(0)));

/// Calls `pipeline(a, b)` as the case [`call`] names, on a helper thread under the
/// deadline. Returns the case, for the checks, and the answer.
#[track_caller]
fn run(a: &[&str], b: &[&str], rule: &str) -> (Case, Answer) {
    let c = call(a, b, rule);
    let (got, _) = run_measured(&c, a, b);
    (c, got)
}

/// `pipeline(a, b)` for case `c`, on a helper thread under the deadline, with what that
/// thread spent while `pipeline` ran. A hang or a panic in `pipeline` fails the case.
#[track_caller]
fn run_measured(c: &Case, a: &[&str], b: &[&str]) -> (Answer, common::Usage) {
    let owned = |command: &[&str]| command.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let (a, b) = (owned(a), owned(b));
    // Measured on the helper thread itself: the thread that runs `pipeline` is the one
    // that must sleep while the children run.
    common::within(
        c,
        "is a copy of a pipe end still open in the parent or in a child?",
        move || {
            let a: Vec<&str> = a.iter().map(String::as_str).collect();
            let b: Vec<&str> = b.iter().map(String::as_str).collect();
            common::usage_of(|| pipeline(&a, &b))
        },
    )
}

#[test]
fn data_flows_from_a_to_b() {
    let (c, got) = run(
        &["echo", "hi"],
        &["sh", "-c", "read x; test \"$x\" = hi"],
        "a's stdout goes into b's stdin: b reads `hi` and exits with 0",
    );
    c.eq(shown(got), BOTH_OK);
}

#[test]
fn more_than_a_pipe_holds_flows_through() {
    // 1 MiB + 1 byte: a must be able to write while b reads (a pipe holds 64 KiB).
    let (c, got) = run(
        &["head", "-c", "1048577", "/dev/zero"],
        &["sh", "-c", "test \"$(wc -c)\" -eq 1048577"],
        "a's stdout goes into b's stdin, more than a pipe holds: b counts 1048577 bytes",
    );
    c.eq(shown(got), BOTH_OK);
}

#[test]
fn both_exit_codes_come_back_in_order() {
    let (c, got) = run(
        &["sh", "-c", "exit 3"],
        &["sh", "-c", "cat >/dev/null; exit 5"],
        "return both exit statuses, a's first",
    );
    c.eq(shown(got), Ok((Exit::Code(3), Exit::Code(5))));
}

#[test]
fn the_reader_sees_end_of_file() {
    // `cat` ends only at end-of-file: every write end must be closed.
    let (c, got) = run(
        &["true"],
        &["cat"],
        "no copy of the write end is left but a's: b (cat) sees end-of-file when a ends",
    );
    c.eq(shown(got), BOTH_OK);
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
    let c = scene(
        "a: `echo hi`, then it closes its stdout and waits until b has ended; \
         b: `cat >/dev/null`, then it ends",
        "no copy of the write end but a's fd 1, neither in a nor in this process once \
         both are started: b sees end-of-file as soon as a closes its stdout",
    );
    let (got, _) = run_measured(&c, &["sh", "-c", &a], &["sh", "-c", &b]);
    c.eq(shown(got), BOTH_OK);
}

#[test]
fn a_writer_whose_reader_left_is_stopped_by_sigpipe() {
    // The writer has 16 MiB to write, 256 pipes full: it stops early only when the pipe
    // has no reader left, after the reader took one byte. If the parent still holds the
    // read end, the writer blocks on a full pipe and this never finishes. (Bounded, not
    // `yes`: a wrong solution that sends the writer's output to this test's own stdout
    // must not write to it without end.)
    let (c, got) = run(
        &["head", "-c", "16777216", "/dev/zero"],
        &["sh", "-c", "head -c 1 >/dev/null"],
        "a writer whose reader has ended dies of SIGPIPE, as in a shell \
         (no copy of the read end is left but b's)",
    );
    c.eq(
        shown(got),
        Ok((Exit::Signal(Signal::SIGPIPE), Exit::Code(0))),
    );
}

#[test]
fn an_empty_or_missing_command_is_an_error() {
    let empty = "an empty command is an error (Error::Invalid)";
    let (c, got) = run(&[], &["cat"], empty);
    let holds = matches!(got, Err(Error::Invalid { .. }));
    c.check(holds, shown(got));
    let (c, got) = run(&["echo"], &[], empty);
    let holds = matches!(got, Err(Error::Invalid { .. }));
    c.check(holds, shown(got));
    let (c, got) = run(
        &["echo", "x"],
        &["no-such-program-for-pipeline"],
        "a missing program is an error (Error::ProgramNotFound)",
    );
    let holds = matches!(got, Err(Error::ProgramNotFound { .. }));
    c.check(holds, shown(got));
}

#[test]
fn a_bad_second_command_starts_nothing() {
    common::in_a_fresh_process("a_bad_second_command_starts_nothing", || {
        // `a` would leave a file behind if it ran; and a started `a` that was not
        // waited for would still be a child of this process.
        let marker = common::scratch_file("pipeline-started");
        let touch = format!("touch {}", marker.display());
        let a = ["sh", "-c", touch.as_str()];
        let bad_commands: [(&[&str], &str); 2] = [
            (&[], "an empty command is an error (Error::Invalid)"),
            (
                &["no-such-program-for-pipeline"],
                "a missing program is an error (Error::ProgramNotFound)",
            ),
        ];
        for (b, rule) in bad_commands {
            let c = call(&a, b, rule);
            let got = c.run(|| pipeline(&a, b));
            // Each with its own error: empty is Invalid, a missing program is not found.
            let holds = match b {
                [] => matches!(got, Err(Error::Invalid { .. })),
                _ => matches!(got, Err(Error::ProgramNotFound { .. })),
            };
            c.check(holds, shown(got));
            let starts_nothing = c.rule(
                "a bad or empty command starts nothing: resolve both programs before \
                 starting either",
            );
            starts_nothing.eq(common::my_children(), vec![]);
            if marker.exists() {
                starts_nothing.fail_with("a ran: it left its file behind");
            }
        }
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
    let (c, got) = run(
        &["sh", "-c", &a_script],
        &["sh", "-c", &b_script],
        "each program lists its own fds, and both exit with 0",
    );
    c.eq(shown(got), BOTH_OK);
    let read = |file: &Path| {
        let text = std::fs::read_to_string(file).expect("the list of fds a program wrote");
        common::parse_fd_listing(&text)
    };
    let (a_fds, b_fds) = (read(&a_file), read(&b_file));
    let a_pipe = a_fds.get(&1).is_some_and(|t| t.starts_with("pipe:"));
    c.rule("a's fd 1 is the pipe").check(a_pipe, &a_fds);
    c.rule("a's stdout goes into b's stdin: a's fd 1 and b's fd 0 are one pipe")
        .eq(b_fds.get(&0), a_fds.get(&1));
    c.rule("a holds the pipe only as its fd 1: no other fd on it (either end)")
        .check(common::fds_sharing(&a_fds, 1) == [1], &a_fds);
    c.rule("b holds the pipe only as its fd 0: no other fd on it (either end)")
        .check(common::fds_sharing(&b_fds, 0) == [0], &b_fds);
}

#[test]
fn waits_without_spinning() {
    // Half a second until a ends and b sees end-of-file: the calling thread should sleep
    // in waitpid meanwhile, not poll.
    let (a, b) = (["sleep", "0.5"], ["cat"]);
    let c = call(&a, &b, "return both exit statuses");
    let (got, usage) = run_measured(&c, &a, &b);
    c.eq(shown(got), BOTH_OK);
    common::waited_without_spinning(&c, usage, "the children ran");
}

#[test]
fn a_signal_during_the_wait_is_not_an_error() {
    common::in_a_fresh_process("a_signal_during_the_wait_is_not_an_error", || {
        let a = ["sh", "-c", "sleep 0.3; exit 3"];
        let b = ["sh", "-c", "cat >/dev/null; sleep 0.3; exit 4"];
        let c = call(
            &a,
            &b,
            "a signal that interrupts waitpid (EINTR) is not an error: wait again",
        );
        let (got, signals) = common::interrupted_by_signals(|| c.run(|| pipeline(&a, &b)));
        c.eq(shown(got), Ok((Exit::Code(3), Exit::Code(4))));
        if signals <= 10 {
            c.rule("(a check of the test) its signals reach pipeline, one every 2 ms")
                .fail_with(&format!(
                    "only {signals} signals arrived: the test did not work"
                ));
        }
    });
}

#[test]
fn works_when_this_process_started_without_stdin_and_stdout() {
    common::in_a_fresh_process(
        "works_when_this_process_started_without_stdin_and_stdout",
        || {
            // With fds 0 and 1 free, pipe2 hands them out: the read end is fd 0 and the
            // write end fd 1, already where b's stdin and a's stdout go.
            nix::unistd::close(0).expect("close this process's stdin");
            nix::unistd::close(1).expect("close this process's stdout");
            let (a, b) = (["echo", "hi"], ["sh", "-c", "read x; test \"$x\" = hi"]);
            let c = scene(
                format!("pipeline({a:?}, {b:?}) in a process started with fds 0 and 1 closed"),
                "a's stdout goes into b's stdin also when pipe2 returns fds 0 and 1 \
                 (dup2 onto the same fd then leaves O_CLOEXEC set, and exec closes it)",
            );
            let got = c.run(|| pipeline(&a, &b));
            c.eq(shown(got), BOTH_OK);
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
        unsafe { signal(Signal::SIGCHLD, SigHandler::SigIgn) }.expect("ignore SIGCHLD");
        let (a, b) = (["true"], ["sleep", "0.5"]);
        let c = scene(
            format!("pipeline({a:?}, {b:?}) with SIGCHLD ignored, so that every wait fails"),
            "every child started is waited for before returning, even when a wait fails",
        );
        let got = c.run(|| pipeline(&a, &b));
        let running: Vec<(i32, char)> = common::my_children()
            .into_iter()
            .filter(|(_, state)| *state != 'Z')
            .collect();
        if !running.is_empty() {
            c.fail_with(&format!(
                "it returned {:?} while a child still ran (pid, state): {running:?}",
                shown(got)
            ));
        }
    });
}

#[test]
fn leaves_no_fd_open_and_no_child_on_success_or_error() {
    common::in_a_fresh_process("leaves_no_fd_open_and_no_child_on_success_or_error", || {
        let before = common::my_fds();
        let no_fd_left = "no fd of the pipe is left open in this process";
        let no_child_left = "every child started is waited for before returning";

        let (a, b) = (["echo", "hi"], ["cat"]);
        let c = call(&a, &b, "return both exit statuses");
        let got = c.run(|| pipeline(&a, &b));
        c.eq(shown(got), BOTH_OK);
        c.rule(no_fd_left).eq(common::my_fds(), before.clone());
        c.rule(no_child_left).eq(common::my_children(), vec![]);

        let (a, b) = (["echo", "hi"], ["no-such-program-for-pipeline"]);
        let c = call(&a, &b, "a missing program is an error");
        let got = c.run(|| pipeline(&a, &b));
        c.check(got.is_err(), shown(got));
        c.rule(no_fd_left).eq(common::my_fds(), before.clone());
        c.rule(no_child_left).eq(common::my_children(), vec![]);

        let (a, b): ([&str; 0], _) = ([], ["cat"]);
        let c = call(&a, &b, "an empty command is an error");
        let got = c.run(|| pipeline(&a, &b));
        c.check(got.is_err(), shown(got));
        c.rule(no_fd_left).eq(common::my_fds(), before.clone());
        c.rule(no_child_left).eq(common::my_children(), vec![]);
    });
}
