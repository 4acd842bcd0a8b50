//! The `wiki-server` and `wiki-load` commands: their output, their usage errors.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SERVER: &str = env!("CARGO_BIN_EXE_wiki-server");
const LOAD: &str = env!("CARGO_BIN_EXE_wiki-load");

#[test]
fn wiki_server_prints_its_address_serves_and_stops_by_itself() {
    let started = Instant::now();
    let mut server = Command::new(SERVER)
        .args(["--for", "1.5", "--workers", "8"])
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
    let report = String::from_utf8_lossy(&load.stdout);
    assert!(load.status.success(), "{report}");
    assert!(report.contains("200 requests on 4 connections"), "{report}");
    assert!(report.contains("errors:     0"), "{report}");

    let status = server.wait().unwrap();
    assert!(status.success());
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert!(rest.contains("4 connections, 200 requests"), "{rest}");
    assert!(started.elapsed() < Duration::from_secs(10));
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
