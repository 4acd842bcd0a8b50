//! A bug never passes in silence: a panic during a run fails it, and the report says
//! where; and a user's number never makes one (`--timeout 1e19` once panicked in every
//! worker and exited 0 having saved nothing).

mod support;

use std::process::Command;
use std::time::Duration;

use async_download::feed::Feed;
use async_download::{EngineKind, download_with};
use sockets::corpus::FaultPlan;

use support::{TempDir, corpus_server, fast_options};

/// Targets of the corpus at `addr` that panic when the third is taken: a bug in the
/// code that hands out work, inside a worker.
fn panicking_targets(addr: std::net::SocketAddr) -> Feed {
    let mut n = 0;
    let lines = async_download::target::corpus(addr, 10).map(move |line| {
        n += 1;
        assert!(n != 3, "a bug in the input, on purpose");
        Ok(line)
    });
    Feed::new(Box::new(lines))
}

#[test]
fn a_panic_in_a_worker_is_reported_on_every_engine() {
    let server = corpus_server(FaultPlan::default());
    // The default hook would print each panic in the test's output: quiet it here, the
    // report is what is checked. (Tests share the hook; this file has no other test
    // that panics on purpose.)
    let quiet = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let reports: Vec<_> = EngineKind::ALL
        .iter()
        .map(|&kind| {
            (
                kind,
                download_with(
                    kind,
                    panicking_targets(server.addr()),
                    fast_options(4, None),
                ),
            )
        })
        .collect();
    std::panic::set_hook(quiet);
    for (kind, report) in reports {
        let report = report.expect("the run ends with a report");
        assert!(
            report
                .panics
                .iter()
                .any(|p| p.contains("a bug in the input, on purpose")),
            "{kind:?}: panics {:?}",
            report.panics
        );
        assert!(
            report
                .summary()
                .contains("error: a bug: the program panicked"),
            "{kind:?}: {}",
            report.summary()
        );
    }
}

#[test]
fn a_huge_timeout_is_a_long_wait_not_a_panic_on_every_engine() {
    let server = corpus_server(FaultPlan::default());
    for kind in EngineKind::ALL {
        let options = async_download::Options {
            timeout: Duration::from_secs_f64(1e19),
            connect_timeout: Duration::from_secs_f64(1e19),
            ..fast_options(4, None)
        };
        let report = download_with(
            kind,
            Feed::new(Box::new(
                async_download::target::corpus(server.addr(), 20).map(Ok),
            )),
            options,
        )
        .expect("the run ends with a report");
        assert_eq!(
            (report.ok, report.failed),
            (20, 0),
            "{kind:?}: {:?}",
            report.failures
        );
        assert!(report.panics.is_empty(), "{kind:?}: {:?}", report.panics);
    }
}

#[test]
fn the_tool_with_a_huge_timeout_saves_everything_and_exits_0() {
    let out = TempDir::new("huge-timeout");
    let run = Command::new(env!("CARGO_BIN_EXE_async-download"))
        .args([
            "--corpus",
            "20",
            "--engine",
            "threads",
            "--timeout",
            "1e19",
            "--quiet",
        ])
        .arg("--out")
        .arg(out.path())
        .output()
        .expect("the tool runs");
    assert!(
        run.status.success(),
        "{}: {}",
        run.status,
        String::from_utf8_lossy(&run.stderr)
    );
    let saved = std::fs::read_dir(out.path().join("corpus"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(saved, 20);
}
