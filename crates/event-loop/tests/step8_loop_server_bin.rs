//! Step 8: the `loop-server` command: its descriptor limit, its address, its counts,
//! its usage errors.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use sockets::client::read_some;
use sockets::corpus::document;
use sockets::http::{Limits, Method, Parsed, ResponseParser};

const SERVER: &str = env!("CARGO_BIN_EXE_loop-server");

/// How long the server serves (`--for`, in seconds) on the first try. The exchange
/// takes milliseconds; should a busy machine make it take longer than the window, the
/// server may have stopped in the middle of it, which says nothing about the server:
/// the run is made again with a window no machine can miss (the test then takes that
/// long, but does not fail for it).
const WINDOWS: [f64; 2] = [1.5, 30.0];

#[test]
fn loop_server_raises_its_fd_limit_prints_its_address_serves_and_stops_by_itself() {
    for window in WINDOWS {
        if serve_one_request_for(window) {
            return;
        }
    }
    panic!("one request took longer than {} s", WINDOWS[1]);
}

/// Runs `loop-server --for window` and sends it one request; `false` when the request
/// was not over within the window (nothing is judged then).
fn serve_one_request_for(window: f64) -> bool {
    // Before the server starts: its window ends after `started + window`.
    let started = Instant::now();
    let window_text = window.to_string();
    let mut server = Command::new(SERVER)
        .args(["--for", &window_text, "--latency", "1"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(server.stdout.take().unwrap());
    let mut limit = String::new();
    stdout.read_line(&mut limit).unwrap();
    assert!(limit.starts_with("file descriptors: limit"), "{limit:?}");
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("{line:?}"))
        .to_string();
    assert!(addr.starts_with("127.0.0.1:"), "{addr}");

    let response = get_document_3(&addr);
    let in_time = started.elapsed() < Duration::from_secs_f64(window);
    // Whatever happened, the server stops by itself at the end of its window.
    let status = wait_at_most(&mut server, Duration::from_secs_f64(window + 20.0));
    if !in_time {
        return false;
    }
    let response = response.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(response.body, document(3));
    assert!(status.success());
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert!(rest.contains("1 connections"), "{rest}");
    assert!(rest.contains("1 requests"), "{rest}");
    true
}

/// `GET /wiki/3` on a new connection, and its response.
fn get_document_3(addr: &str) -> Result<sockets::http::Response, String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    write!(stream, "GET /wiki/3 HTTP/1.1\r\nHost: t\r\n\r\n").map_err(|e| format!("write: {e}"))?;
    let mut parser = ResponseParser::new(Method::Get, Limits::default());
    let mut buf = [0u8; 4096];
    loop {
        let n = read_some(&mut stream, &mut buf).map_err(|e| format!("read: {e}"))?;
        if n == 0 {
            return Err("closed before a whole response".into());
        }
        if let Parsed::Done { message, .. } = parser.feed(&buf[..n]).map_err(|e| e.to_string())? {
            return Ok(message);
        }
    }
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
fn loop_server_refuses_a_non_loopback_address_and_bad_flags() {
    let output = Command::new(SERVER)
        .args(["--addr", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(message.contains("not a loopback address"), "{message}");
    assert!(message.contains("--allow-remote"), "{message}");

    for args in [
        &["--max-connections", "0"][..],
        &["--fault-rate", "2"],
        &["--faults", "drop,nonsense"],
        &["--idle-timeout", "0"],
        &["--latency"],
        &["--bogus"],
    ] {
        let output = Command::new(SERVER).args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        // A usage error names the flag it is about (clap's format: `error: ...`).
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
        assert!(stderr.contains(args[0]), "{args:?}: {stderr}");
    }
    let help = Command::new(SERVER).arg("--help").output().unwrap();
    assert!(help.status.success());
    assert!(String::from_utf8_lossy(&help.stdout).contains("--max-connections"));
}
