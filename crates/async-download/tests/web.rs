//! Redirects and compression through the command, as a user meets them: one URL that
//! redirects to a gzip document, saved with `-o` as the document itself, the final URL
//! in the JSON report; `--max-redirects 0` and `--no-compress` from the command line.

mod support;

use std::io::Write;
use std::process::{Command, Output};

use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::Value;

use support::{TempDir, TinyServer};

const TOOL: &str = env!("CARGO_BIN_EXE_async-download");

const DOCUMENT: &[u8] = b"the document, the document, the document, the document\n";

fn server() -> TinyServer {
    TinyServer::start(|target, stream| {
        let (head, body): (String, Vec<u8>) = match target {
            "/old" => (
                "HTTP/1.1 301 Moved Permanently\r\nLocation: /new.txt\r\nContent-Length: 0\r\n"
                    .to_string(),
                Vec::new(),
            ),
            "/new.txt" => {
                let mut e = GzEncoder::new(Vec::new(), Compression::default());
                e.write_all(DOCUMENT).unwrap();
                let body = e.finish().unwrap();
                (
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n",
                        body.len()
                    ),
                    body,
                )
            }
            _ => (
                "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n".to_string(),
                Vec::new(),
            ),
        };
        let _ = stream.write_all(format!("{head}Connection: close\r\n\r\n").as_bytes());
        let _ = stream.write_all(&body);
    })
}

/// Runs the tool; every run here ends within its own `--timeout`.
fn run(args: &[&str]) -> Output {
    Command::new(TOOL)
        .args(args)
        .args([
            "--timeout",
            "10",
            "--connect-timeout",
            "5",
            "--retries",
            "1",
        ])
        .output()
        .expect("the tool runs")
}

#[test]
fn one_url_that_redirects_to_a_gzip_document_is_saved_decoded_under_o() {
    let server = server();
    let dir = TempDir::new("web-o");
    let file = dir.join("saved.txt");
    let url = format!("http://{}/old", server.addr());
    let output = run(&[&url, "-o", file.to_str().unwrap(), "--json", "-", "-q"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(std::fs::read(&file).unwrap(), DOCUMENT);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["redirected"][0]["url"], Value::from(url.as_str()));
    assert_eq!(
        report["redirected"][0]["landed"],
        Value::from(format!("http://{}/new.txt", server.addr()))
    );
    assert_eq!(report["bytes"], Value::from(DOCUMENT.len()));
    for head in server.heads() {
        assert!(
            head.contains("\r\nAccept-Encoding: gzip, deflate\r\n"),
            "{head:?}"
        );
    }
}

#[test]
fn max_redirects_0_and_no_compress_from_the_command_line() {
    let server = server();
    let url = format!("http://{}/old", server.addr());
    let output = run(&[&url, "--max-redirects", "0"]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("more than 0 redirects (--max-redirects)"),
        "{stderr}"
    );
    let url = format!("http://{}/new.txt", server.addr());
    let output = run(&[&url, "--no-compress", "-o", "-"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    // The server compresses anyway: the document is still what is written.
    assert_eq!(output.stdout, DOCUMENT);
    let heads = server.heads();
    let last = heads.last().unwrap();
    assert!(!last.contains("Accept-Encoding"), "{last:?}");
}
