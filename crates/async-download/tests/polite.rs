//! `--per-host`: never more attempts in flight to one host than its limit, and a host's
//! share opened gradually — two at first, one more with each answer.
//!
//! The server below knows the rule: it holds each request until as many are in flight
//! as the client should have by then (`min(limit, 2 + answered, left)`), so it sees the
//! client's whole share at once, and it notes any request beyond that share. Nothing is
//! timed: a client that sends fewer than its share would leave the requests waiting,
//! and a guard (far longer than any run) ends the wait and fails the test.

mod support;

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use async_download::feed::Feed;
use async_download::{EngineKind, Options, Target, download_with};
use sockets::url::Url;

use support::{TinyServer, fast_options};

#[derive(Debug, Default)]
struct Seen {
    in_flight: usize,
    answered: usize,
    most: usize,
    /// Requests that arrived beyond the share the client should have had.
    beyond_share: Vec<String>,
    guard_fired: bool,
}

const GUARD: Duration = Duration::from_secs(20);

/// What a client with a ramp to `limit` should have in flight after `answered`
/// answers, of `total` requests.
fn ramp(limit: usize, answered: usize, total: usize) -> usize {
    limit.min(2 + answered).min(total - answered)
}

/// A server that holds each request until `share(answered)` are in flight.
fn ramp_server(
    share: impl Fn(usize) -> usize + Send + Sync + 'static,
) -> (TinyServer, Arc<(Mutex<Seen>, Condvar)>) {
    let state = Arc::new((Mutex::new(Seen::default()), Condvar::new()));
    let server = TinyServer::start({
        let state = state.clone();
        move |target, stream| {
            let (lock, changed) = &*state;
            let mut seen = lock.lock().unwrap();
            seen.in_flight += 1;
            seen.most = seen.most.max(seen.in_flight);
            if seen.in_flight > share(seen.answered) {
                let note = format!(
                    "{target}: {} in flight after {}",
                    seen.in_flight, seen.answered
                );
                seen.beyond_share.push(note);
            }
            changed.notify_all();
            let (mut seen, waited) = changed
                .wait_timeout_while(seen, GUARD, |s| s.in_flight < share(s.answered))
                .unwrap();
            seen.guard_fired |= waited.timed_out();
            // Counted out before the answer is written: the client cannot have read it
            // (and given its permit back) while the server still counts it.
            seen.in_flight -= 1;
            seen.answered += 1;
            changed.notify_all();
            drop(seen);
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        }
    });
    (server, state)
}

fn run(kind: EngineKind, server: &TinyServer, total: usize, options: Options) {
    let targets: Vec<Target> = (0..total)
        .map(|i| Target::from_url(Url::parse(&format!("http://{}/{i}", server.addr())).unwrap()))
        .collect();
    let report =
        download_with(kind, Feed::of_targets(targets.into_iter()), options).expect("a run");
    assert_eq!((report.ok, report.failed), (total as u64, 0), "{kind:?}");
}

#[test]
fn no_engine_has_more_than_its_share_of_a_host_in_flight_and_the_share_grows_with_answers() {
    let (limit, total) = (4, 30);
    for kind in [
        EngineKind::Threads,
        EngineKind::EventLoop,
        EngineKind::Tokio,
        EngineKind::TokioMulti,
    ] {
        let (server, state) = ramp_server(move |answered| ramp(limit, answered, total));
        let options = Options {
            per_host: Some(limit),
            ..fast_options(16, None)
        };
        run(kind, &server, total, options);
        let seen = state.0.lock().unwrap();
        assert!(
            seen.beyond_share.is_empty(),
            "{kind:?}: {:?}",
            seen.beyond_share
        );
        assert!(
            !seen.guard_fired,
            "{kind:?}: the client sent less than its share"
        );
        assert_eq!(seen.most, limit, "{kind:?}");
        assert_eq!(seen.answered, total, "{kind:?}");
    }
}

#[test]
fn without_a_limit_every_worker_may_start_at_once() {
    // The library's default (and --corpus's): no per-host limit, so 8 workers have 8
    // requests in flight from the start.
    // The server holds every request until all 8 are in flight.
    let total = 8;
    let (server, state) = ramp_server(move |answered| total - answered);
    let options = fast_options(total, None);
    assert_eq!(options.per_host, None);
    run(EngineKind::Tokio, &server, total, options);
    let seen = state.0.lock().unwrap();
    assert!(!seen.guard_fired, "{seen:?}");
    assert_eq!(seen.most, total);
}

#[test]
fn the_command_limits_a_host_to_6_by_default_but_not_the_course_s_own_server() {
    use async_download::cli::{Cli, DEFAULT_PER_HOST};
    let per_host = |args: &[&str]| {
        let mut all = vec!["async-download"];
        all.extend_from_slice(args);
        Cli::parse_args(all).expect("good usage").options().per_host
    };
    assert_eq!(DEFAULT_PER_HOST, 6);
    assert_eq!(per_host(&["--urls", "list.txt"]), Some(6));
    assert_eq!(per_host(&["http://h/x"]), Some(6));
    assert_eq!(per_host(&["--urls", "-", "--per-host", "2"]), Some(2));
    assert_eq!(per_host(&["--corpus", "10"]), None);
    assert_eq!(per_host(&["--corpus", "10", "--per-host", "3"]), Some(3));
    let zero = Cli::parse_args(["async-download", "--urls", "f", "--per-host", "0"]);
    assert!(zero.is_err(), "0 is refused");
}
