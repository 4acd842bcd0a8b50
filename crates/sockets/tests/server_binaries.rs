//! The `wiki-server` and `wiki-load` commands: their output, their usage errors.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

const SERVER: &str = env!("CARGO_BIN_EXE_wiki-server");
const LOAD: &str = env!("CARGO_BIN_EXE_wiki-load");

/// How long the server serves (`--for`, in seconds) on the first try. The load takes
/// a fraction of a second; should a busy machine make it take longer than the window,
/// the server may have stopped in the middle of it, which says nothing about either
/// command: the run is made again with a window no machine can miss (the test then
/// takes that long, but does not fail for it).
const WINDOWS: [f64; 2] = [1.5, 30.0];

#[test]
fn wiki_server_prints_its_address_serves_and_stops_by_itself() {
    for window in WINDOWS {
        if load_for(window) {
            return;
        }
    }
    panic!("the load took longer than {} s", WINDOWS[1]);
}

/// Runs `wiki-server --for window` and a bounded `wiki-load` against it; `false` when
/// the load was not over within the window (nothing is judged then).
fn load_for(window: f64) -> bool {
    // Before the server starts: its window ends after `started + window`.
    let started = Instant::now();
    let window_text = window.to_string();
    let mut server = Command::new(SERVER)
        .args(["--for", &window_text, "--workers", "8"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(server.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("{line:?}"))
        .to_string();
    assert!(addr.starts_with("127.0.0.1:"), "{addr}");

    // A bounded load through the other command, against it.
    let load = Command::new(LOAD)
        .args(["--addr", &addr, "--connections", "4", "--requests", "200"])
        .output()
        .unwrap();
    let in_time = started.elapsed() < Duration::from_secs_f64(window);
    // Whatever happened, the server stops by itself at the end of its window.
    let status = wait_at_most(&mut server, Duration::from_secs_f64(window + 20.0));
    if !in_time {
        return false;
    }
    let report = String::from_utf8_lossy(&load.stdout);
    assert!(load.status.success(), "{report}");
    assert!(report.contains("200 requests on 4 connections"), "{report}");
    assert!(report.contains("errors:     0"), "{report}");

    assert!(status.success());
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert!(rest.contains("4 connections, 200 requests"), "{rest}");
    true
}

/// Waits for `child` to exit; kills it and fails the test if it runs past `limit` (a
/// server that does not stop by itself would otherwise hang the test).
fn wait_at_most(child: &mut Child, limit: Duration) -> ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the server did not stop by itself within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn usage_errors_exit_with_2_and_say_what_is_wrong() {
    let cases: [(&str, &[&str], &str); 6] = [
        (SERVER, &["--addr", "0.0.0.0:0"], "loopback"),
        (SERVER, &["--workers", "none"], "--workers"),
        (SERVER, &["--faults", "drop,explode"], "explode"),
        (SERVER, &["--fault-rate", "1.5"], "--fault-rate"),
        (SERVER, &["--frobnicate"], "--frobnicate"),
        (LOAD, &["--connections", "8"], "--addr"),
    ];
    for (program, args, says) in cases {
        let output = Command::new(program).args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
    for program in [SERVER, LOAD] {
        let help = Command::new(program).arg("--help").output().unwrap();
        assert!(help.status.success());
        assert!(String::from_utf8_lossy(&help.stdout).contains("Usage:"));
    }
}
