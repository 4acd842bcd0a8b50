//! Graded tests for exercise `procs/capture`.
//!
//! A capture with a pipe end left open hangs instead of failing, so calls that could hang
//! run under a deadline ([`common::within`]). Checks that change or count per-process
//! state (closed stdin and stdout, a signal handler, this process's fds) run in a fresh
//! process of their own ([`common::in_a_fresh_process`]).

#[path = "../../../tests/common/mod.rs"]
mod common;

use nix::sys::signal::Signal;
use procs::Error;
use procs::spawn::Exit;
use procs_capture::{MAX_OUTPUT, capture};

/// `capture` under the deadline: a hang fails the test instead of the grader.
fn capture_within(program: &'static str, args: Vec<String>) -> procs::Result<(Exit, Vec<u8>)> {
    let what = format!("capture({program:?}, {args:?})");
    common::within(common::DEADLINE, &what, move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        capture(program, &args)
    })
}

/// `sh -c script` as the arguments of `capture_within`.
fn sh(script: &str) -> Vec<String> {
    vec!["-c".to_string(), script.to_string()]
}

#[test]
fn captures_what_the_program_prints() {
    let (exit, out) = capture("echo", &["hello", "world"]).unwrap();
    assert_eq!(exit, Exit::Code(0));
    assert_eq!(String::from_utf8_lossy(&out), "hello world\n");
}

#[test]
fn reports_the_exit_code_with_the_output() {
    let (exit, out) = capture("sh", &["-c", "printf partial; exit 4"]).unwrap();
    assert_eq!(exit, Exit::Code(4));
    assert_eq!(out, b"partial");
}

#[test]
fn a_killed_program_is_reported_with_its_signal() {
    // SIGKILL, which no signal mask inherited from the grader can hold back.
    let (exit, out) = capture_within("sh", sh("printf 'last words'; kill -KILL $$")).unwrap();
    assert_eq!(exit, Exit::Signal(Signal::SIGKILL));
    assert_eq!(out, b"last words");
}

#[test]
fn captures_more_than_a_pipe_holds() {
    // A pipe buffers 64 KiB; 1 MiB only gets through if the parent reads while the
    // child writes (reading after waiting would deadlock).
    let args = vec!["-c".into(), "1048577".into(), "/dev/zero".into()];
    let (exit, out) = capture_within("head", args).unwrap();
    assert_eq!(exit, Exit::Code(0));
    assert_eq!(out.len(), (1 << 20) + 1);
}

#[test]
fn stderr_is_not_captured() {
    let (_, out) = capture("sh", &["-c", "echo to-stderr >&2; echo to-stdout"]).unwrap();
    assert_eq!(String::from_utf8_lossy(&out), "to-stdout\n");
}

#[test]
fn a_missing_program_is_an_error_not_a_panic() {
    let err = capture("no-such-program-for-capture", &[]).unwrap_err();
    assert!(matches!(err, Error::ProgramNotFound { .. }), "{err}");
}

#[test]
fn output_of_exactly_max_output_bytes_is_kept() {
    let args = vec!["-c".into(), MAX_OUTPUT.to_string(), "/dev/zero".into()];
    let (exit, out) = capture_within("head", args).unwrap();
    assert_eq!(exit, Exit::Code(0));
    assert_eq!(
        out.len(),
        MAX_OUTPUT,
        "all {MAX_OUTPUT} bytes, not one fewer"
    );
}

#[test]
fn one_byte_more_than_max_output_is_an_error_and_the_program_is_reaped() {
    let pid_file = common::scratch_file("capture-one-past");
    // The shell writes its pid, then becomes `head` (same pid) with `exec`.
    let script = format!(
        "echo $$ > {}; exec head -c {} /dev/zero",
        pid_file.display(),
        MAX_OUTPUT + 1
    );
    let err = capture_within("sh", sh(&script)).unwrap_err();
    assert!(matches!(err, Error::Invalid { .. }), "{err}");
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(
        !common::is_my_child(pid),
        "the program is still a child of this process (a zombie or running) after the error"
    );
}

#[test]
fn a_program_that_keeps_printing_is_stopped_at_the_limit() {
    // 32 MiB, twice the limit. Reading stops past MAX_OUTPUT and the read end is closed,
    // so `head` dies of SIGPIPE with half its output unwritten, and `&&` does not run
    // `touch`. Reading everything first and checking the size afterwards lets it finish.
    let pid_file = common::scratch_file("capture-stopped-pid");
    let done_file = common::scratch_file("capture-stopped-done");
    let script = format!(
        "echo $$ > {}; head -c {} /dev/zero && touch {}",
        pid_file.display(),
        2 * MAX_OUTPUT,
        done_file.display()
    );
    let err = capture_within("sh", sh(&script)).unwrap_err();
    assert!(matches!(err, Error::Invalid { .. }), "{err}");
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let finished = done_file.exists();
    assert!(
        !finished,
        "the program wrote all {} bytes: reading went on past the limit",
        2 * MAX_OUTPUT
    );
    assert!(
        !common::is_my_child(pid),
        "the program is still a child of this process (a zombie or running) after the error"
    );
}

#[test]
fn leaves_no_zombie() {
    let me = std::process::id() as i32;
    capture("true", &[]).unwrap();
    // Other tests run at the same time and may have a child between its exit and its
    // wait; only `true`, which no other test runs, must not be left as a zombie.
    let zombies = procs::zombie::zombies_of(me).unwrap();
    assert!(
        zombies.iter().all(|z| z.comm != "true"),
        "zombies left: {zombies:?}"
    );
}

#[test]
fn the_program_holds_no_other_copy_of_the_pipe() {
    // The shell lists its own fds (`ls` runs as its child; $$ is the shell). Its fd 1 is
    // the pipe; any other fd on the same pipe (either end: both share one inode) is a
    // copy it inherited, which keeps end-of-file from ever coming while it or anything it
    // starts in the background runs.
    let (exit, out) = capture_within("sh", sh("ls -l /proc/$$/fd")).unwrap();
    assert_eq!(exit, Exit::Code(0));
    let fds = common::parse_fd_listing(&String::from_utf8_lossy(&out));
    assert!(
        fds.get(&1).is_some_and(|t| t.starts_with("pipe:")),
        "fd 1 of the program is not a pipe: {fds:?}"
    );
    assert_eq!(
        common::fds_sharing(&fds, 1),
        [1],
        "the program holds the pipe on more fds than its stdout: {fds:?}"
    );
}

#[test]
fn waits_without_spinning() {
    // Half a second of silence, then the output: the calling thread should sleep in
    // read() and waitpid() meanwhile, not poll.
    let ((exit, out), usage) =
        common::usage_of(|| capture("sh", &["-c", "sleep 0.5; echo late"]).unwrap());
    assert_eq!((exit, out.as_slice()), (Exit::Code(0), &b"late\n"[..]));
    common::assert_waited_without_spinning(usage, "capture");
}

#[test]
fn a_signal_during_the_read_or_the_wait_is_not_an_error() {
    common::in_a_fresh_process(
        "a_signal_during_the_read_or_the_wait_is_not_an_error",
        || {
            // Silent for 0.3 s (the parent is in read), then output and end-of-file, then
            // 0.3 s more before exiting (the parent is in waitpid).
            let script = "sleep 0.3; printf done; exec >&-; sleep 0.3; exit 3";
            let (result, signals) =
                common::interrupted_by_signals(|| capture("sh", &["-c", script]));
            assert!(
                signals > 10,
                "only {signals} signals arrived: the test did not work"
            );
            let (exit, out) = result.expect("EINTR means: try again, not fail");
            assert_eq!(exit, Exit::Code(3));
            assert_eq!(out, b"done");
        },
    );
}

#[test]
fn works_when_this_process_started_without_stdin_and_stdout() {
    common::in_a_fresh_process(
        "works_when_this_process_started_without_stdin_and_stdout",
        || {
            // With fds 0 and 1 free, pipe2 hands them out: the read end is fd 0 and the
            // write end fd 1, already where the program's stdout goes.
            nix::unistd::close(0).unwrap();
            nix::unistd::close(1).unwrap();
            let (exit, out) = capture("echo", &["still", "captured"]).unwrap();
            assert_eq!(
                (exit, String::from_utf8_lossy(&out).as_ref()),
                (Exit::Code(0), "still captured\n"),
                "the program's stdout was closed by exec (FD_CLOEXEC left on fd 1?)"
            );
        },
    );
}

#[test]
fn leaves_no_fd_open_and_no_child_on_success_or_error() {
    common::in_a_fresh_process("leaves_no_fd_open_and_no_child_on_success_or_error", || {
        let before = common::my_fds();
        let head = |bytes: usize| {
            let bytes = bytes.to_string();
            capture("head", &["-c", &bytes, "/dev/zero"])
        };
        head(100).unwrap();
        assert_eq!(common::my_fds(), before, "fds left open after a capture");
        assert!(head(MAX_OUTPUT + 1).is_err());
        assert_eq!(
            common::my_fds(),
            before,
            "fds left open after too much output"
        );
        assert!(capture("no-such-program-for-capture", &[]).is_err());
        assert_eq!(
            common::my_fds(),
            before,
            "fds left open after a missing program"
        );
        assert_eq!(common::my_children(), [], "children left behind");
    });
}
