//! Step 6: the `loop-server` command: its descriptor limit, its address, its counts,
//! its usage errors.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sockets::corpus::document;
use sockets::http::{Limits, Method, Parsed, ResponseParser};

const SERVER: &str = env!("CARGO_BIN_EXE_loop-server");

#[test]
fn loop_server_raises_its_fd_limit_prints_its_address_serves_and_stops_by_itself() {
    let started = Instant::now();
    let mut server = Command::new(SERVER)
        .args(["--for", "1.5", "--latency", "1"])
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

    let mut stream = TcpStream::connect(&addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    write!(stream, "GET /wiki/3 HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
    let mut parser = ResponseParser::new(Method::Get, Limits::default());
    let mut buf = [0u8; 4096];
    let response = loop {
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0);
        if let Parsed::Done { message, .. } = parser.feed(&buf[..n]).unwrap() {
            break message;
        }
    };
    assert_eq!(response.body, document(3));
    drop(stream);

    let status = server.wait().unwrap();
    assert!(status.success());
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert!(rest.contains("1 connections"), "{rest}");
    assert!(rest.contains("1 requests"), "{rest}");
    assert!(started.elapsed() < Duration::from_secs(10));
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
        assert!(
            String::from_utf8_lossy(&output.stderr).starts_with("loop-server: "),
            "{args:?}"
        );
    }
    let help = Command::new(SERVER).arg("--help").output().unwrap();
    assert!(help.status.success());
    assert!(String::from_utf8_lossy(&help.stdout).contains("--max-connections"));
}
