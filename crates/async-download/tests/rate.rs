//! `--rate`: a limit on the bytes read per second, all connections together. A time is
//! checked from below only (a pause never ends early, so a busy machine cannot fail
//! it): three documents of 400,000 bytes at 2,000,000 bytes a second take at least
//! 0.6 s, less what the limit lets through without a wait (the burst, and each
//! connection's last read, which no later read waits for), where they would take
//! milliseconds without it. Engines that cannot limit the rate refuse the flag.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_download::cli::Cli;
use async_download::feed::Feed;
use async_download::rate::{BURST, Rate};
use async_download::{EngineKind, Options, Target, download_with};
use sockets::url::Url;

use support::{TinyServer, always_ok, fast_options};

const DOCUMENT: usize = 400_000;
const RATE: u64 = 2_000_000;

/// The most one read takes: the thread's read buffer.
const ONE_READ: usize = 64 * 1024;

#[test]
fn documents_arrive_no_faster_than_the_rate_on_the_tokio_engines() {
    let body: &'static [u8] = Box::leak(vec![b'r'; DOCUMENT].into_boxed_slice());
    let server = TinyServer::start(always_ok(body));
    for kind in [EngineKind::Tokio, EngineKind::TokioMulti] {
        let urls: Vec<Target> = (0..3)
            .map(|i| {
                let url = Url::parse(&format!("http://{}/{i}", server.addr())).unwrap();
                Target::from_url(url)
            })
            .collect();
        let options = Options {
            rate: Some(Arc::new(Rate::new(RATE))),
            ..fast_options(3, None)
        };
        let started = Instant::now();
        let report =
            download_with(kind, Feed::of_targets(urls.into_iter()), options).expect("a run");
        let took = started.elapsed();
        assert_eq!((report.ok, report.failed), (3, 0), "{kind:?}: {report:?}");
        assert_eq!(report.bytes, 3 * DOCUMENT as u64, "{kind:?}");
        // A reader waits before it reads until the clock has caught up with what was
        // read: 1,200,000 bytes at 2,000,000 a second is 0.6 s, less the burst saved up
        // at the start and the last read of each of the three connections.
        let unpaid = (3 * ONE_READ) as f64 / RATE as f64;
        let least = Duration::from_secs_f64((3 * DOCUMENT) as f64 / RATE as f64 - unpaid) - BURST;
        assert!(
            took >= least,
            "{kind:?}: {took:?}, faster than the rate allows ({least:?})"
        );
    }
}

#[test]
fn the_rate_reads_as_curl_writes_it_and_other_engines_refuse_it() {
    let cli = Cli::parse_args(["async-download", "http://127.0.0.1:1/", "--rate", "200K"]).unwrap();
    let rate = cli.options().rate.expect("a limit");
    assert_eq!(rate.bytes_per_sec(), 200 * 1024);
    assert!(
        Cli::parse_args(["async-download", "http://127.0.0.1:1/"])
            .unwrap()
            .options()
            .rate
            .is_none()
    );
    for bad in ["0", "fast", "1.5M"] {
        let error = Cli::parse_args(["async-download", "http://127.0.0.1:1/", "--rate", bad]);
        assert!(error.is_err(), "{bad}");
    }
    for engine in ["sequential", "threads", "event-loop"] {
        let error = Cli::parse_args([
            "async-download",
            "http://127.0.0.1:1/",
            "--engine",
            engine,
            "--rate",
            "1M",
        ])
        .unwrap_err()
        .to_string();
        assert!(
            error.contains("only the tokio engines limit the rate"),
            "{engine}: {error}"
        );
    }
}
