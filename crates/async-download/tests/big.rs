//! Big documents with `--out`, on the tokio engines: written to disk as they come (a
//! document over the memory limit is saved whole), and resumed where they stopped.
//! A download cut off, in the same run or by a run that ended, asks for the rest with
//! `Range` and `If-Range`; a `206` completes the part file, a `200` (a server that does
//! not do ranges, or a document that changed) starts it over, and a `416` completes it
//! when the part is whole already. Nothing here is timed.

mod support;

use std::io::Write;
use std::net::TcpStream;
use std::path::Path;

use async_download::feed::Feed;
use async_download::part::{PART_PREFIX, SPILL_AFTER};
use async_download::{EngineKind, Options, Report, Target, download_with};
use sockets::url::Url;

use support::{TempDir, TinyServer, fast_options};

const ENGINES: [EngineKind; 2] = [EngineKind::Tokio, EngineKind::TokioMulti];

/// A document of 3 MiB whose every byte says where it is.
fn document() -> Vec<u8> {
    (0..3 * SPILL_AFTER).map(|i| (i % 251) as u8).collect()
}

/// Where the first answer cuts the document off.
const CUT: usize = 2 * SPILL_AFTER + 12_345;

/// A head line's value in `head`, by name (any case).
fn header<'h>(head: &'h str, name: &str) -> Option<&'h str> {
    head.lines().find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

fn send(stream: &mut TcpStream, head: String, body: &[u8]) {
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
}

/// How the server answers a request that asks for a range.
#[derive(Clone, Copy, Debug)]
enum Ranges {
    /// `206` with the rest, if `If-Range` names the document's ETag.
    Honoured,
    /// `200` with the whole document: no ranges here.
    Ignored,
    /// `416`, naming the document's length.
    NotSatisfiable,
}

/// Serves `document()` with `ETag: "v1"`: the first plain GET is cut off at [`CUT`]
/// (the connection closes), later ones are whole; a ranged GET is answered as `ranges`
/// says.
fn server(ranges: Ranges) -> TinyServer {
    let doc = document();
    let cut_done = std::sync::atomic::AtomicBool::new(false);
    TinyServer::start_with_heads(move |_target, head, stream| {
        let total = doc.len();
        match (header(head, "Range"), ranges) {
            (Some(range), Ranges::Honoured) if header(head, "If-Range") == Some("\"v1\"") => {
                let from: usize = range
                    .strip_prefix("bytes=")
                    .and_then(|r| r.strip_suffix('-'))
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0);
                let rest = &doc[from.min(total)..];
                send(
                    stream,
                    format!(
                        "HTTP/1.1 206 Partial Content\r\nETag: \"v1\"\r\nContent-Range: bytes {from}-{}/{total}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        total - 1,
                        rest.len()
                    ),
                    rest,
                );
            }
            (Some(_), Ranges::NotSatisfiable) => send(
                stream,
                format!(
                    "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{total}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                ),
                &[],
            ),
            _ => {
                let whole = format!(
                    "HTTP/1.1 200 OK\r\nETag: \"v1\"\r\nContent-Length: {total}\r\nConnection: close\r\n\r\n"
                );
                // The swap alone picks the first connection: Relaxed would do; SeqCst is simplest.
                if !cut_done.swap(true, std::sync::atomic::Ordering::SeqCst) {
                    send(stream, whole, &doc[..CUT]);
                } else {
                    send(stream, whole, &doc);
                }
            }
        }
    })
}

fn run(kind: EngineKind, server: &TinyServer, out: &Path, options: Options) -> (Report, String) {
    let url = Url::parse(&format!("http://{}/big.bin", server.addr())).unwrap();
    let target = Target::from_url(url);
    let name = target.name().to_string();
    let options = Options {
        out: Some(out.to_path_buf()),
        ..options
    };
    let report =
        download_with(kind, Feed::of_targets(std::iter::once(target)), options).expect("a run");
    (report, name)
}

/// The part files left in `out`'s host folder.
fn parts_left(out: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(out).unwrap().flatten() {
        if entry.file_type().unwrap().is_dir() {
            for file in std::fs::read_dir(entry.path()).unwrap().flatten() {
                let name = file.file_name().to_string_lossy().to_string();
                if name.starts_with(PART_PREFIX) {
                    found.push(name);
                }
            }
        }
    }
    found
}

#[test]
fn a_document_over_the_memory_limit_is_written_as_it_comes() {
    let doc: &'static [u8] = Box::leak(document().into_boxed_slice());
    let server = TinyServer::start(support::always_ok(doc));
    for kind in ENGINES {
        let out = TempDir::new("big-spill");
        // Held in memory, the document would be refused at 1.5 MiB.
        let mut options = fast_options(1, None);
        options.limits.max_body_bytes = SPILL_AFTER + SPILL_AFTER / 2;
        let (report, name) = run(kind, &server, out.path(), options);
        assert_eq!((report.ok, report.failed), (1, 0), "{kind:?}: {report:?}");
        assert_eq!(std::fs::read(out.join(&name)).unwrap(), doc, "{kind:?}");
        assert_eq!(
            support::journal_names(out.path()),
            std::slice::from_ref(&name),
            "{kind:?}"
        );
        assert!(
            parts_left(out.path()).is_empty(),
            "{kind:?}: {:?}",
            parts_left(out.path())
        );
        assert_eq!(report.bytes, doc.len() as u64, "{kind:?}");
    }
    // Without --out there is no disk to write to: the memory limit holds.
    let mut options = fast_options(1, None);
    options.limits.max_body_bytes = SPILL_AFTER + SPILL_AFTER / 2;
    let url = Url::parse(&format!("http://{}/big.bin", server.addr())).unwrap();
    let report = download_with(
        EngineKind::Tokio,
        Feed::of_targets(std::iter::once(Target::from_url(url))),
        Options {
            retries: 0,
            ..options
        },
    )
    .expect("a run");
    assert_eq!((report.ok, report.failed), (0, 1), "{report:?}");
}

#[test]
fn an_explicit_max_size_still_limits_what_goes_to_disk() {
    let server = server(Ranges::Honoured);
    let out = TempDir::new("big-limit");
    let options = Options {
        retries: 0,
        max_spilled: Some(2 * SPILL_AFTER),
        ..fast_options(1, None)
    };
    // The cut first answer (2 MiB and a bit) is already over the limit.
    let (report, _) = run(EngineKind::Tokio, &server, out.path(), options);
    assert_eq!((report.ok, report.failed), (0, 1), "{report:?}");
    let reason = &report.failures[0].reason;
    assert!(reason.contains("too large"), "{reason}");
}

/// Fetches the document from a server answering ranges as `ranges` says, whose first
/// answer is cut off: it must be whole after one retry, with no part file left. Returns
/// the server, to read the requests it got.
fn cut_then_whole(kind: EngineKind, ranges: Ranges, test: &str) -> TinyServer {
    let server = server(ranges);
    let out = TempDir::new(test);
    let (report, name) = run(kind, &server, out.path(), fast_options(1, None));
    let case = format!("{kind:?}, {ranges:?}");
    assert_eq!(
        (report.ok, report.failed, report.retried),
        (1, 0, 1),
        "{case}: {report:?}"
    );
    // The whole document once: not the cut part with the whole after it.
    assert_eq!(
        std::fs::read(out.join(&name)).unwrap(),
        document(),
        "{case}"
    );
    assert!(parts_left(out.path()).is_empty(), "{case}");
    server
}

#[test]
fn a_cut_download_resumes_with_range_and_if_range_in_the_same_run() {
    for kind in ENGINES {
        let server = cut_then_whole(kind, Ranges::Honoured, "big-resume");
        let heads = server.heads();
        assert_eq!(heads.len(), 2, "{kind:?}: {heads:?}");
        assert_eq!(header(&heads[0], "Range"), None, "{kind:?}");
        assert_eq!(
            header(&heads[1], "Range"),
            Some(format!("bytes={CUT}-").as_str()),
            "{kind:?}"
        );
        assert_eq!(header(&heads[1], "If-Range"), Some("\"v1\""), "{kind:?}");
        assert_eq!(
            header(&heads[1], "Accept-Encoding"),
            Some("identity"),
            "{kind:?}"
        );
    }
}

#[test]
fn a_part_left_by_an_earlier_run_is_resumed_by_the_next() {
    let server = server(Ranges::Honoured);
    let out = TempDir::new("big-next-run");
    let once = Options {
        retries: 0,
        ..fast_options(1, None)
    };
    let (report, name) = run(EngineKind::Tokio, &server, out.path(), once.clone());
    assert_eq!(report.failed, 1, "{report:?}");
    assert_eq!(
        parts_left(out.path()).len(),
        2,
        "the part and its validator stay"
    );
    let (report, _) = run(EngineKind::TokioMulti, &server, out.path(), once);
    assert_eq!((report.ok, report.failed), (1, 0), "{report:?}");
    assert_eq!(
        report.bytes,
        (document().len() - CUT) as u64,
        "only the rest is counted"
    );
    assert_eq!(std::fs::read(out.join(&name)).unwrap(), document());
    let heads = server.heads();
    assert_eq!(
        header(&heads[1], "Range"),
        Some(format!("bytes={CUT}-").as_str())
    );
}

#[test]
fn a_server_that_ignores_the_range_restarts_the_file_cleanly() {
    for kind in ENGINES {
        let server = cut_then_whole(kind, Ranges::Ignored, "big-ignored");
        assert!(header(&server.heads()[1], "Range").is_some(), "{kind:?}");
    }
}

#[test]
fn a_416_completes_a_whole_part_and_throws_away_one_that_is_not() {
    let server = server(Ranges::NotSatisfiable);
    let out = TempDir::new("big-416");
    let url = Url::parse(&format!("http://{}/big.bin", server.addr())).unwrap();
    let name = Target::from_url(url).name().to_string();
    let (folder, file) = name.rsplit_once('/').unwrap();
    std::fs::create_dir_all(out.join(folder)).unwrap();
    let part = out.join(&format!("{folder}/{PART_PREFIX}{file}"));
    let id = out.join(&format!("{folder}/{PART_PREFIX}{file}.id"));
    // The whole document in the part, as a run killed right after its last write
    // leaves it: the 416 says so, and it is moved into place.
    std::fs::write(&part, document()).unwrap();
    std::fs::write(&id, "\"v1\"\n").unwrap();
    let (report, _) = run(
        EngineKind::Tokio,
        &server,
        out.path(),
        fast_options(1, None),
    );
    assert_eq!(
        (report.ok, report.failed, report.retried),
        (1, 0, 0),
        "{report:?}"
    );
    assert_eq!(std::fs::read(out.join(&name)).unwrap(), document());
    assert!(parts_left(out.path()).is_empty());

    // A part of another length: thrown away, and the document fetched from the start
    // (the server's first whole answer is cut, the next one whole).
    let out = TempDir::new("big-416-short");
    std::fs::create_dir_all(out.join(folder)).unwrap();
    std::fs::write(
        out.join(&format!("{folder}/{PART_PREFIX}{file}")),
        &document()[..1000],
    )
    .unwrap();
    std::fs::write(
        out.join(&format!("{folder}/{PART_PREFIX}{file}.id")),
        "\"v1\"\n",
    )
    .unwrap();
    let (report, _) = run(
        EngineKind::Tokio,
        &server,
        out.path(),
        fast_options(1, None),
    );
    assert_eq!((report.ok, report.failed), (1, 0), "{report:?}");
    assert_eq!(std::fs::read(out.join(&name)).unwrap(), document());
}

#[test]
fn a_single_url_saved_with_o_file_is_written_as_it_comes_and_resumed() {
    let server = server(Ranges::Honoured);
    let dir = TempDir::new("big-o-file");
    let file = dir.join("big.bin");
    let url = format!("http://{}/big.bin", server.addr());
    let download = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_async-download"))
            .args([
                url.as_str(),
                "-o",
                file.to_str().unwrap(),
                "--retries",
                "0",
                "--quiet",
            ])
            .output()
            .expect("the program runs")
    };
    let first = download();
    assert_eq!(first.status.code(), Some(1), "the cut one: {first:?}");
    assert!(!file.exists(), "no file before it is whole");
    assert!(
        dir.join(&format!("{PART_PREFIX}big.bin")).exists(),
        "the part stays beside it"
    );
    let second = download();
    assert_eq!(second.status.code(), Some(0), "{second:?}");
    assert_eq!(std::fs::read(&file).unwrap(), document());
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(left, ["big.bin"], "nothing but the file is left");
    assert_eq!(
        header(&server.heads()[1], "Range"),
        Some(format!("bytes={CUT}-").as_str())
    );
}
