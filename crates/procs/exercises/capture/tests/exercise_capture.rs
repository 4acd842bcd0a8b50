//! Graded tests for exercise `procs/capture`.
//!
//! A capture with a pipe end left open hangs instead of failing, so calls that could hang
//! run on a helper thread under a deadline ([`capture_within`]). Checks that change or
//! count per-process state (closed stdin and stdout, a signal handler, this process's
//! fds) run in a fresh process of their own ([`common::in_a_fresh_process`]).
//!
//! Every check names the call it made and the rule of the task it checks
//! ([`graded::scene`]), and a panic in `capture` is reported as one, with that call.

#[path = "../../../tests/common/mod.rs"]
mod common;

use std::fmt;

use graded::{Case, scene};
use nix::sys::signal::Signal;
use procs::Error;
use procs::spawn::Exit;
use procs_capture::{MAX_OUTPUT, capture};

/// The case of the call `capture(program, args)`, for the task's `rule`.
fn call(program: &str, args: &[&str], rule: &str) -> Case {
    scene(format!("capture({program:?}, {args:?})"), rule)
}

/// Calls `capture(program, args)` as the case [`call`] names, on a helper thread under
/// the deadline: a hang fails the case instead of hanging the grader, and a panic in
/// `capture` is reported as one. Returns the case, for the checks, and the answer.
#[track_caller]
fn capture_within(program: &str, args: &[&str], rule: &str) -> (Case, Answer) {
    let c = call(program, args, rule);
    let program = program.to_string();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let got = common::within(&c, HANGS, move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        capture(&program, &args)
    });
    (c, got)
}

/// Why `capture` would hang, said when it does.
const HANGS: &str = "is a copy of a pipe end still open, here or in the program, or does it \
                     wait for the program before reading?";

/// What `capture` returned.
type Answer = procs::Result<(Exit, Vec<u8>)>;

/// What the program wrote, as the failure messages show it: as text when it is short,
/// by its length and its start when it is long (16 MiB of zeros would help nobody).
#[derive(PartialEq)]
struct Output(Vec<u8>);

impl fmt::Debug for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bytes = &self.0;
        if bytes.len() <= 200 {
            write!(f, "{:?}", String::from_utf8_lossy(bytes))
        } else if bytes.iter().all(|&b| b == 0) {
            write!(f, "{} zero bytes", bytes.len())
        } else {
            let start = String::from_utf8_lossy(&bytes[..40]);
            write!(f, "{} bytes, starting {start:?}", bytes.len())
        }
    }
}

/// `capture`'s answer in the form the checks compare and show: the output as [`Output`],
/// an error as its message.
fn shown(got: Answer) -> Result<(Exit, Output), String> {
    got.map(|(exit, out)| (exit, Output(out)))
        .map_err(|e| e.to_string())
}

/// The answer `Ok((exit, output))`, in the form of [`shown`].
fn ok(exit: Exit, output: &[u8]) -> Result<(Exit, Output), String> {
    Ok((exit, Output(output.to_vec())))
}

/// `MAX_OUTPUT` (or another number of) zero bytes, as `head -c N /dev/zero` prints them.
fn zeros(n: usize) -> Vec<u8> {
    vec![0; n]
}

/// The pid a test's script wrote to `file` (the script is the test's, not the learner's).
fn pid_in(file: &std::path::Path) -> i32 {
    std::fs::read_to_string(file)
        .expect("the script wrote its pid")
        .trim()
        .parse()
        .expect("a pid")
}

/// The task's first rule, which most cases check.
const RETURNS: &str = "return its exit status and everything it wrote to stdout";

#[test]
fn captures_what_the_program_prints() {
    let (c, got) = capture_within("echo", &["hello", "world"], RETURNS);
    c.eq(shown(got), ok(Exit::Code(0), b"hello world\n"));
}

#[test]
fn reports_the_exit_code_with_the_output() {
    let (c, got) = capture_within("sh", &["-c", "printf partial; exit 4"], RETURNS);
    c.eq(shown(got), ok(Exit::Code(4), b"partial"));
}

#[test]
fn a_killed_program_is_reported_with_its_signal() {
    // SIGKILL, which no signal mask inherited from the grader can hold back.
    let (c, got) = capture_within(
        "sh",
        &["-c", "printf 'last words'; kill -KILL $$"],
        "a program killed by a signal is an Exit::Signal, with what it wrote",
    );
    c.eq(shown(got), ok(Exit::Signal(Signal::SIGKILL), b"last words"));
}

#[test]
fn captures_more_than_a_pipe_holds() {
    // A pipe buffers 64 KiB; 1 MiB only gets through if the parent reads while the
    // child writes (reading after waiting would deadlock).
    let (c, got) = capture_within(
        "head",
        &["-c", "1048577", "/dev/zero"],
        "read to end-of-file, then wait: all of it comes back, more than a pipe holds",
    );
    c.eq(shown(got), ok(Exit::Code(0), &zeros((1 << 20) + 1)));
}

#[test]
fn stderr_is_not_captured() {
    let (c, got) = capture_within(
        "sh",
        &["-c", "echo to-stderr >&2; echo to-stdout"],
        "everything it wrote to stdout, and only that: not stderr",
    );
    c.eq(shown(got), ok(Exit::Code(0), b"to-stdout\n"));
}

#[test]
fn a_missing_program_is_an_error_not_a_panic() {
    let (c, got) = capture_within(
        "no-such-program-for-capture",
        &[],
        "a missing program is an error (Error::ProgramNotFound), not a panic",
    );
    let holds = matches!(got, Err(Error::ProgramNotFound { .. }));
    c.check(holds, shown(got));
}

#[test]
fn output_of_exactly_max_output_bytes_is_kept() {
    let bytes = MAX_OUTPUT.to_string();
    let (c, got) = capture_within(
        "head",
        &["-c", &bytes, "/dev/zero"],
        "up to MAX_OUTPUT bytes come back: exactly MAX_OUTPUT is kept, all of it",
    );
    c.eq(shown(got), ok(Exit::Code(0), &zeros(MAX_OUTPUT)));
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
    let (c, got) = capture_within(
        "sh",
        &["-c", &script],
        "one byte more than MAX_OUTPUT is an Error::Invalid",
    );
    let holds = matches!(got, Err(Error::Invalid { .. }));
    c.check(holds, shown(got));
    let pid = pid_in(&pid_file);
    if common::is_my_child(pid) {
        c.rule("past the limit, still wait for the program: no zombie on the error path")
            .fail_with(&format!(
                "the program (pid {pid}) is still a child of this process (a zombie or \
                 running) after the error"
            ));
    }
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
    let (c, got) = capture_within(
        "sh",
        &["-c", &script],
        "more than MAX_OUTPUT bytes is an Error::Invalid: stop reading there (the program \
         then gets SIGPIPE) and still wait for it",
    );
    let holds = matches!(got, Err(Error::Invalid { .. }));
    c.check(holds, shown(got));
    let pid = pid_in(&pid_file);
    if done_file.exists() {
        c.rule("past MAX_OUTPUT, stop reading there (the program then gets SIGPIPE)")
            .fail_with(&format!(
                "the program wrote all {} bytes and went on to `touch`: reading went on \
                 past the limit",
                2 * MAX_OUTPUT
            ));
    }
    if common::is_my_child(pid) {
        c.rule("past the limit, still wait for the program: no zombie on the error path")
            .fail_with(&format!(
                "the program (pid {pid}) is still a child of this process (a zombie or \
                 running) after the error"
            ));
    }
}

#[test]
fn leaves_no_zombie() {
    let me = std::process::id() as i32;
    let (c, got) = capture_within("true", &[], RETURNS);
    c.eq(shown(got), ok(Exit::Code(0), b""));
    // Other tests run at the same time and may have a child between its exit and its
    // wait; only `true`, which no other test runs, must not be left as a zombie.
    let zombies = procs::zombie::zombies_of(me).expect("list this process's zombies");
    let left: Vec<_> = zombies.iter().filter(|z| z.comm == "true").collect();
    c.rule("no zombie is left behind")
        .check(left.is_empty(), left);
}

#[test]
fn the_program_holds_no_other_copy_of_the_pipe() {
    // The shell lists its own fds (`ls` runs as its child; $$ is the shell). Its fd 1 is
    // the pipe; any other fd on the same pipe (either end: both share one inode) is a
    // copy it inherited, which keeps end-of-file from ever coming while it or anything it
    // starts in the background runs.
    let (c, got) = capture_within(
        "sh",
        &["-c", "ls -l /proc/$$/fd"],
        "the program lists its own fds, and exits with 0",
    );
    let out = match got {
        Ok((Exit::Code(0), out)) => out,
        other => c.fail(shown(other)),
    };
    let fds = common::parse_fd_listing(&String::from_utf8_lossy(&out));
    let pipe = fds.get(&1).is_some_and(|t| t.starts_with("pipe:"));
    c.rule("the program's fd 1 is the pipe").check(pipe, &fds);
    c.rule("the program holds the pipe only as its fd 1: no other fd on it (either end)")
        .check(common::fds_sharing(&fds, 1) == [1], &fds);
}

#[test]
fn waits_without_spinning() {
    // Half a second of silence, then the output: the calling thread should sleep in
    // read() and waitpid() meanwhile, not poll.
    let args = ["-c", "sleep 0.5; echo late"];
    let c = call("sh", &args, RETURNS);
    let (got, usage) = common::within(&c, HANGS, move || common::usage_of(|| capture("sh", &args)));
    c.eq(shown(got), ok(Exit::Code(0), b"late\n"));
    common::waited_without_spinning(&c, usage, "the program was silent");
}

#[test]
fn a_signal_during_the_read_or_the_wait_is_not_an_error() {
    common::in_a_fresh_process(
        "a_signal_during_the_read_or_the_wait_is_not_an_error",
        || {
            // Silent for 0.3 s (the parent is in read), then output and end-of-file, then
            // 0.3 s more before exiting (the parent is in waitpid).
            let args = ["-c", "sleep 0.3; printf done; exec >&-; sleep 0.3; exit 3"];
            let c = call(
                "sh",
                &args,
                "a signal that interrupts read or waitpid (EINTR) is not an error: try \
                 again",
            );
            let (got, signals) = common::interrupted_by_signals(|| c.run(|| capture("sh", &args)));
            c.eq(shown(got), ok(Exit::Code(3), b"done"));
            if signals <= 10 {
                c.rule("(a check of the test) its signals reach capture, one every 2 ms")
                    .fail_with(&format!(
                        "only {signals} signals arrived: the test did not work"
                    ));
            }
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
            nix::unistd::close(0).expect("close this process's stdin");
            nix::unistd::close(1).expect("close this process's stdout");
            let args = ["still", "captured"];
            let c = scene(
                format!(
                    "capture(\"echo\", {args:?}) in a process started with fds 0 and 1 \
                     closed"
                ),
                "the program's fd 1 is the pipe also when pipe2 returns fd 1 itself \
                 (dup2(1, 1) then leaves O_CLOEXEC set, and exec closes it)",
            );
            let got = c.run(|| capture("echo", &args));
            c.eq(shown(got), ok(Exit::Code(0), b"still captured\n"));
        },
    );
}

#[test]
fn leaves_no_fd_open_and_no_child_on_success_or_error() {
    common::in_a_fresh_process("leaves_no_fd_open_and_no_child_on_success_or_error", || {
        let before = common::my_fds();
        let no_fd_left = "on every path, success or error, no fd of the pipe is left behind";

        let c = call("head", &["-c", "100", "/dev/zero"], RETURNS);
        let got = c.run(|| capture("head", &["-c", "100", "/dev/zero"]));
        c.eq(shown(got), ok(Exit::Code(0), &zeros(100)));
        c.rule(no_fd_left).eq(common::my_fds(), before.clone());

        let bytes = (MAX_OUTPUT + 1).to_string();
        let args = ["-c", bytes.as_str(), "/dev/zero"];
        let c = call("head", &args, "one byte more than MAX_OUTPUT is an error");
        let got = c.run(|| capture("head", &args));
        c.check(got.is_err(), shown(got));
        c.rule(no_fd_left).eq(common::my_fds(), before.clone());

        let c = call(
            "no-such-program-for-capture",
            &[],
            "a missing program is an error",
        );
        let got = c.run(|| capture("no-such-program-for-capture", &[]));
        c.check(got.is_err(), shown(got));
        c.rule(no_fd_left).eq(common::my_fds(), before.clone());

        scene(
            "captures of 100 bytes, of MAX_OUTPUT + 1 bytes and of a missing program",
            "on every path, success or error, no zombie is left behind",
        )
        .eq(common::my_children(), vec![]);
    });
}
