//! Graded tests for exercise `procs/capture`.

use procs::Error;
use procs::exercises::capture::capture;
use procs::spawn::Exit;

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
fn captures_more_than_a_pipe_holds() {
    // A pipe buffers 64 KiB; 1 MiB only gets through if the parent reads while the
    // child writes (reading after waiting would deadlock).
    let (exit, out) = capture("head", &["-c", "1048576", "/dev/zero"]).unwrap();
    assert_eq!(exit, Exit::Code(0));
    assert_eq!(out.len(), 1 << 20);
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
