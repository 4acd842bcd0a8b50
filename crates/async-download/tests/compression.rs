//! Compression, on every engine: `Accept-Encoding: gzip, deflate` sent (not with
//! `--no-compress`), gzip and deflate bodies saved decoded, the size limit applied to
//! the decoded bytes (a small gzip that inflates past it is refused), an unknown
//! coding a clear failure, and the corpus checksum checked on the document decoded.

mod support;

use std::io::Write;
use std::net::TcpStream;

use async_download::cli::Cli;
use async_download::feed::Feed;
use async_download::{EngineKind, Options, Target, download_with};
use flate2::Compression;
use flate2::write::{GzEncoder, ZlibEncoder};
use sockets::corpus::{CHECKSUM_HEADER, checksum};
use sockets::url::Url;

use support::{TempDir, TinyServer, fast_options};

const TEXT: &[u8] = b"a document that compresses well, well, well, well, well, well.\n";

fn text() -> Vec<u8> {
    TEXT.repeat(200)
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut e = ZlibEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn answer(stream: &mut TcpStream, headers: &[(&str, &str)], body: &[u8]) {
    let mut head = "HTTP/1.1 200 OK\r\n".to_string();
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
}

/// A server that encodes as its path says (it ignores `Accept-Encoding`, as some do).
fn server() -> TinyServer {
    TinyServer::start(|target, stream| match target {
        "/gzip" => answer(stream, &[("Content-Encoding", "gzip")], &gzip(&text())),
        "/deflate" => answer(stream, &[("Content-Encoding", "deflate")], &zlib(&text())),
        "/plain" => answer(stream, &[], &text()),
        "/bomb" => answer(
            stream,
            &[("Content-Encoding", "gzip")],
            &gzip(&vec![0; 4 << 20]),
        ),
        "/br" => answer(stream, &[("Content-Encoding", "br")], b"\x0b\x02\x80"),
        "/corrupt" => {
            let mut body = gzip(&text());
            body.truncate(body.len() / 2);
            answer(stream, &[("Content-Encoding", "gzip")], &body)
        }
        "/summed" => answer(
            stream,
            &[
                ("Content-Encoding", "gzip"),
                (CHECKSUM_HEADER, &checksum(&text())),
            ],
            &gzip(&text()),
        ),
        "/missummed" => answer(
            stream,
            &[
                ("Content-Encoding", "gzip"),
                (CHECKSUM_HEADER, &checksum(b"another document")),
            ],
            &gzip(&text()),
        ),
        _ => answer(stream, &[], b""),
    })
}

fn feed(server: &TinyServer, paths: &[&str]) -> Feed {
    let targets: Vec<Target> = paths
        .iter()
        .map(|p| Target::from_url(Url::parse(&format!("http://{}{p}", server.addr())).unwrap()))
        .collect();
    Feed::of_targets(targets.into_iter())
}

fn name(server: &TinyServer, path: &str) -> String {
    Target::from_url(Url::parse(&format!("http://{}{path}", server.addr())).unwrap())
        .name()
        .to_string()
}

#[test]
fn gzip_and_deflate_bodies_are_saved_decoded_on_every_engine() {
    for kind in EngineKind::ALL {
        let server = server();
        let out = TempDir::new("compressed");
        let paths = ["/gzip", "/deflate", "/plain", "/summed"];
        let report = download_with(
            kind,
            feed(&server, &paths),
            fast_options(2, Some(out.path())),
        )
        .expect("a run");
        assert_eq!((report.ok, report.failed), (4, 0), "{kind:?}: {report:?}");
        for path in paths {
            let saved = std::fs::read(out.join(&name(&server, path))).unwrap();
            assert!(saved == text(), "{kind:?}: {path} not saved decoded");
        }
        // The report counts the document's bytes, decoded.
        assert_eq!(report.bytes, 4 * text().len() as u64, "{kind:?}");
        let heads = server.heads();
        assert_eq!(heads.len(), 4, "{kind:?}");
        for head in heads {
            assert!(
                head.contains("\r\nAccept-Encoding: gzip, deflate\r\n"),
                "{kind:?}: {head:?}"
            );
        }
    }
}

#[test]
fn no_compress_sends_no_accept_encoding_on_every_engine() {
    for kind in EngineKind::ALL {
        let server = server();
        let options = Options {
            compress: false,
            ..fast_options(2, None)
        };
        let report =
            download_with(kind, feed(&server, &["/plain", "/gzip"]), options).expect("a run");
        // A server that compresses anyway is still understood.
        assert_eq!((report.ok, report.failed), (2, 0), "{kind:?}: {report:?}");
        for head in server.heads() {
            assert!(
                !head.to_ascii_lowercase().contains("accept-encoding"),
                "{kind:?}: {head:?}"
            );
        }
    }
}

#[test]
fn a_users_accept_encoding_replaces_the_downloaders() {
    let server = server();
    let options = Options {
        headers: vec![async_download::headers::Header::parse("Accept-Encoding: gzip").unwrap()],
        ..fast_options(2, None)
    };
    for kind in [EngineKind::Tokio, EngineKind::Threads] {
        let report = download_with(kind, feed(&server, &["/gzip"]), options.clone()).unwrap();
        assert_eq!(report.ok, 1, "{kind:?}");
    }
    for head in server.heads() {
        let lines: Vec<&str> = head
            .lines()
            .filter(|l| l.to_ascii_lowercase().starts_with("accept-encoding"))
            .collect();
        assert_eq!(lines, ["Accept-Encoding: gzip"], "{head:?}");
    }
}

#[test]
fn a_bomb_an_unknown_coding_and_a_corrupt_body_fail_with_their_reason_on_every_engine() {
    for kind in EngineKind::ALL {
        let server = server();
        let mut options = fast_options(2, None);
        options.retries = 1;
        // The bomb is some 4 KiB on the wire, 4 MiB decoded.
        options.limits.max_body_bytes = 1 << 20;
        let paths = ["/bomb", "/br", "/corrupt", "/missummed"];
        let report = download_with(kind, feed(&server, &paths), options).expect("a run");
        assert_eq!((report.ok, report.failed), (0, 4), "{kind:?}: {report:?}");
        let failure = |path: &str| {
            let url = format!("http://{}{path}", server.addr());
            report
                .failures
                .iter()
                .find(|f| f.url == url)
                .unwrap_or_else(|| panic!("{kind:?}: {url} in {:?}", report.failures))
                .clone()
        };
        let bomb = failure("/bomb");
        assert_eq!(
            bomb.reason, "the document decoded is over 1048576 bytes (--max-size)",
            "{kind:?}"
        );
        assert_eq!(bomb.attempts, 1, "{kind:?}: not retried");
        let br = failure("/br");
        assert!(
            br.reason
                .starts_with("Content-Encoding \"br\" cannot be decoded"),
            "{kind:?}: {}",
            br.reason
        );
        assert_eq!(br.attempts, 1, "{kind:?}: not retried");
        let corrupt = failure("/corrupt");
        assert!(
            corrupt.reason.starts_with("the gzip body is corrupt"),
            "{kind:?}: {}",
            corrupt.reason
        );
        assert_eq!(corrupt.attempts, 2, "{kind:?}: retried, as a checksum is");
        let missummed = failure("/missummed");
        assert!(
            missummed
                .reason
                .starts_with(&format!("checksum mismatch over {} bytes", text().len())),
            "{kind:?}: checked on the decoded bytes: {}",
            missummed.reason
        );
    }
}

#[test]
fn no_compress_is_an_option_and_compression_is_the_default() {
    let cli = Cli::parse_args(["async-download", "--urls", "x"]).unwrap();
    assert!(cli.options().compress);
    let cli = Cli::parse_args(["async-download", "--urls", "x", "--no-compress"]).unwrap();
    assert!(!cli.options().compress);
    let help = <Cli as clap::CommandFactory>::command()
        .render_long_help()
        .to_string();
    assert!(help.contains("--no-compress"), "{help}");
    assert!(help.contains("gzip, deflate"), "{help}");
}
