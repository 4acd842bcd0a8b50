//! Every engine of the downloader against the RFC 9112 tables of lesson 3.
//!
//! The tables (`sockets/tests/rfc9112/mod.rs`) hold raw responses and what a user agent
//! must make of each; lesson 3's codec is checked against them there. Here each case is
//! served, byte for byte, by a tiny server that then closes the connection, and every
//! engine (sequential, threads, event loop, tokio, tokio-multi) downloads it once. They
//! share the codec, but not the code that reads the socket, ends the stream, keeps or
//! drops a connection and turns errors into a report, so each must still reach the same
//! verdict: the same document saved, or the same reason in the report. A refusal's
//! reason names the rule that refused it (`... (RFC 9112 §6.3 rule 5)`).
//!
//! The cases answering HEAD are left out: the downloader only sends GET.

mod support;

#[path = "../../sockets/tests/rfc9112/mod.rs"]
mod rfc9112;

use std::io::Write;

use async_download::collect::Failure;
use async_download::feed::Feed;
use async_download::{EngineKind, Report, Target, download_with};
use rfc9112::{Case, Expect};
use sockets::http::Method;
use sockets::url::Url;

use support::{TempDir, TinyServer, fast_options};

/// What a download of one case came to.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Verdict {
    /// The document was saved, with these bytes.
    Saved(Vec<u8>),
    /// It was reported failed, for this reason.
    Failed(String),
}

/// The cases the downloader can ask for: those answering a GET.
fn get_cases() -> Vec<(&'static str, &'static Case)> {
    rfc9112::every_case()
        .filter(|(_, case)| case.method == Method::Get)
        .map(|(rule, case)| (rule.section, case))
        .collect()
}

/// Downloads `url` once on `kind`: no retry, so that the verdict is the first
/// attempt's, and into a folder of its own, to read back what was saved.
fn verdict(kind: EngineKind, url: &str) -> Verdict {
    let out = TempDir::new("rfc9112");
    let options = async_download::Options {
        retries: 0,
        ..fast_options(1, Some(out.path()))
    };
    let target = Target::from_url(Url::parse(url).expect("a valid URL"));
    let name = target.name().to_string();
    let report: Report = download_with(kind, Feed::of_targets(std::iter::once(target)), options)
        .expect("the run completes");
    assert!(report.panics.is_empty(), "{kind:?} {url}: {report:?}");
    match report.failures.as_slice() {
        [] => {
            assert_eq!(report.ok, 1, "{kind:?} {url}: {report:?}");
            Verdict::Saved(std::fs::read(out.join(&name)).expect("the saved document"))
        }
        [Failure { reason, .. }] => Verdict::Failed(reason.clone()),
        more => panic!("{kind:?} {url}: one document, several failures: {more:?}"),
    }
}

/// Whether `verdict` is what the table says a user agent must make of `case`.
fn fits(case: &Case, verdict: &Verdict) -> bool {
    let status_or_body = |status: u16, body: &[u8]| match verdict {
        // The downloader keeps a 200's body and reports any other status.
        Verdict::Saved(saved) => status == 200 && saved == body,
        Verdict::Failed(reason) => status != 200 && *reason == format!("status {status}"),
    };
    match (case.expect, verdict) {
        (Expect::Response { status, body, .. } | Expect::UntilClose { status, body }, _) => {
            status_or_body(status, body)
        }
        (
            Expect::Refused { rule, .. } | Expect::RefusedAfterBody { rule, .. },
            Verdict::Failed(reason),
        ) => reason.starts_with("bad response: ") && reason.contains(rule),
        (Expect::Truncated { .. }, Verdict::Failed(reason)) => {
            reason.contains("the connection closed at byte")
        }
        (_, Verdict::Saved(_)) => false,
    }
}

#[test]
fn every_engine_gives_each_rfc9112_case_the_same_verdict_and_names_the_rule() {
    let cases = get_cases();
    let served: Vec<&'static [u8]> = cases.iter().map(|(_, case)| case.bytes).collect();
    // `/case/<i>` is answered with case i's bytes, then the close.
    let server = TinyServer::start(move |target, stream| {
        let bytes = target
            .strip_prefix("/case/")
            .and_then(|i| i.parse::<usize>().ok())
            .and_then(|i| served.get(i));
        if let Some(bytes) = bytes {
            let _ = stream.write_all(bytes);
        }
    });
    for (i, (section, case)) in cases.iter().enumerate() {
        let url = format!("http://{}/case/{i}", server.addr());
        let what = format!("{} ({section})", case.name);
        let verdicts: Vec<(EngineKind, Verdict)> = EngineKind::ALL
            .into_iter()
            .map(|kind| (kind, verdict(kind, &url)))
            .collect();
        let (first_kind, first) = &verdicts[0];
        for (kind, verdict) in &verdicts[1..] {
            assert_eq!(
                verdict, first,
                "{what}: {kind:?} and {first_kind:?} disagree"
            );
        }
        assert!(
            fits(case, first),
            "{what}: every engine says {first:?}, the table says {:?}",
            case.expect
        );
    }
    assert!(cases.len() >= 100, "only {} cases", cases.len());
}

/// The report of a refused response names the rule, whatever the engine: the two
/// examples the book gives, a Content-Length that is two numbers and a coding no
/// engine decodes.
#[test]
fn a_refused_response_is_reported_with_its_rule() {
    let server = TinyServer::start(|target, stream| {
        let bytes: &[u8] = match target {
            "/two-lengths" => b"HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nhello",
            _ => b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
        };
        let _ = stream.write_all(bytes);
    });
    for kind in EngineKind::ALL {
        let url = format!("http://{}/two-lengths", server.addr());
        assert_eq!(
            verdict(kind, &url),
            Verdict::Failed(
                "bad response: conflicting Content-Length at byte 36: 6 after 5 (RFC 9112 §6.3 rule 5)"
                    .to_string()
            ),
            "{kind:?}"
        );
        let url = format!("http://{}/gzip", server.addr());
        assert_eq!(
            verdict(kind, &url),
            Verdict::Failed(
                "bad response: unsupported transfer coding \"gzip\" at byte 36: only `chunked`, \
                 once and last, is decoded here (RFC 9112 §6.1)"
                    .to_string()
            ),
            "{kind:?}"
        );
    }
}
