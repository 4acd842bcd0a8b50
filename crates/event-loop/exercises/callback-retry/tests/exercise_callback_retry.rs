//! Graded tests for exercise `event-loop/callback-retry`.
//!
//! Each test starts a scripted server on 127.0.0.1 (port 0) whose connections each play
//! a part in turn: one answers, one hangs up after the request, one stays silent. Or it
//! uses an address where nothing listens. `fetch_with_retry` runs on a callback loop of
//! its own, on a thread with a time limit (a fetch whose attempts have no timer waits for
//! a silent server forever): the test turns the loop until `done` is called, then checks
//! what `done` got, and what was still on the loop at that moment.
//!
//! Every check names the server's script, the document and the retry settings
//! ([`graded::scene`]), and the rule of the task it checks; a panic in the code under
//! test is reported as one, with that case.

#[path = "../../../tests/common/mod.rs"]
mod common;

use std::cell::RefCell;
use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use event_loop::step4_callbacks::{FetchError, Loop};
use event_loop_callback_retry::{Retry, fetch_with_retry};
use graded::{Case, scene};
use sockets::client::read_some;
use sockets::corpus::{FaultPlan, document_size, respond};
use sockets::http::{Limits, Parsed, Request, RequestParser};

/// What one connection of a scripted server does once it has read the request.
#[derive(Debug, Clone, Copy)]
enum Peer {
    /// Answers with the document.
    Answers,
    /// Closes the connection without a word.
    HangsUp,
    /// Never answers (it keeps the connection open until the client closes it).
    Silent,
}

impl Peer {
    fn words(self) -> &'static str {
        match self {
            Peer::Answers => "answers",
            Peer::HangsUp => "hangs up after the request",
            Peer::Silent => "never answers",
        }
    }
}

/// How long a scripted connection waits for the client at most: far beyond any test.
const HOLD: Duration = Duration::from_secs(30);

/// A server on 127.0.0.1 whose n-th connection plays `script[n]` (the last part for all
/// the connections after it); and the count of connections it accepted.
fn scripted(script: &[Peer]) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("the test's server binds 127.0.0.1");
    let addr = listener.local_addr().expect("the server's address");
    let accepted = Arc::new(AtomicUsize::new(0));
    let (script, count) = (script.to_vec(), accepted.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            // The read-modify-write alone numbers each connection once: Relaxed would do.
            let n = count.fetch_add(1, Ordering::SeqCst);
            let peer = script[n.min(script.len() - 1)];
            std::thread::spawn(move || play(stream, peer));
        }
    });
    (addr, accepted)
}

fn play(mut stream: TcpStream, peer: Peer) {
    let _ = stream.set_read_timeout(Some(HOLD));
    let _ = stream.set_write_timeout(Some(HOLD));
    // The whole request is read first: closing with unread bytes would reset the
    // connection instead of closing it.
    let Some(request) = read_request(&mut stream) else {
        return;
    };
    match peer {
        Peer::Answers => {
            let reply = respond(&request, &FaultPlan::none());
            if stream.write_all(&reply.bytes).is_ok() {
                hold(&mut stream);
            }
        }
        Peer::HangsUp => {}
        Peer::Silent => hold(&mut stream),
    }
}

fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut parser = RequestParser::new(Limits::default());
    let mut buf = [0u8; 4096];
    loop {
        let n = read_some(stream, &mut buf).ok()?;
        if n == 0 {
            return None;
        }
        if let Parsed::Done { message, .. } = parser.feed(&buf[..n]).ok()? {
            return Some(message);
        }
    }
}

/// Keeps the connection open until the client closes it.
fn hold(stream: &mut TcpStream) {
    let mut buf = [0u8; 1024];
    while matches!(read_some(stream, &mut buf), Ok(n) if n > 0) {}
}

/// "a server whose 1st connection hangs up after the request, and every later one
/// answers".
fn server_words(script: &[Peer]) -> String {
    let Some((last, first)) = script.split_last() else {
        return "a server".into();
    };
    if first.is_empty() {
        return format!("a server whose every connection {}", last.words());
    }
    let parts: Vec<String> = first
        .iter()
        .enumerate()
        .map(|(i, peer)| format!("{} {}", common::nth(i as u32 + 1), peer.words()))
        .collect();
    format!(
        "a server whose connections: {}, and every later one {}",
        parts.join(", "),
        last.words()
    )
}

/// What `done` got, in short: the attempts and the result.
#[derive(Debug, PartialEq, Eq)]
struct Got {
    attempts: u32,
    result: String,
}

/// What was still on the loop when `done` was called.
#[derive(Debug, PartialEq, Eq)]
struct Left {
    connections: usize,
    timers: usize,
}

const NOTHING: Left = Left {
    connections: 0,
    timers: 0,
};

fn short(result: &Result<usize, FetchError>) -> String {
    match result {
        Ok(len) => format!("Ok({len} bytes)"),
        Err(FetchError::Closed) => "Err(Closed)".into(),
        Err(FetchError::Timeout { .. }) => "Err(Timeout)".into(),
        Err(FetchError::Connect { .. }) => "Err(Connect)".into(),
        Err(other) => format!("Err({other:?})"),
    }
}

/// The document, as a successful fetch reports it.
fn document(id: u64) -> String {
    format!("Ok({} bytes)", document_size(id))
}

fn got(attempts: u32, result: impl Into<String>) -> Got {
    Got {
        attempts,
        result: result.into(),
    }
}

const SUSPECT: &str = "`done` was never called: does every attempt have a timer of its own, \
                       for retry.timeout? A silent server never answers, and the loop sleeps \
                       for as long as a callback waits for its socket";

/// Fetches document `id` from `addr` with the learner's `fetch_with_retry`, on a loop of
/// its own, turning the loop until `done` is called.
fn fetch(c: &Case, addr: SocketAddr, id: u64, retry: Retry) -> (Got, Left) {
    common::within_saying(c, 10, SUSPECT, move |c| {
        let mut lp = Loop::new().expect("the callback loop starts (epoll)");
        let seen: Rc<RefCell<Option<(Got, Left)>>> = Rc::default();
        let seen_by_done = seen.clone();
        c.run(|| {
            fetch_with_retry(&mut lp, addr, id, retry, move |lp, outcome| {
                let left = Left {
                    connections: lp.watched_sockets(),
                    timers: lp.pending_timers(),
                };
                let got = got(outcome.attempts, short(&outcome.result));
                *seen_by_done.borrow_mut() = Some((got, left));
            });
        });
        loop {
            if let Some(seen) = seen.take() {
                return seen;
            }
            let turned = c
                .run(|| lp.turn())
                .expect("the callback loop runs (epoll_wait)");
            if !turned {
                c.fail_with("`done` was never called, and nothing was left on the loop to call it");
            }
        }
    })
}

/// The timeout of the tests with a silent server and one that answers: each silent
/// connection costs that much, and an answer takes a small fraction of it, even on a
/// busy machine.
const SHORT: Duration = Duration::from_millis(500);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

const SUCCESS: &str = "a fetch that succeeds gives the body's length, and the attempts made, that \
                       one included";
const RETRY: &str = "a failed attempt is followed by another, up to `retries` more: at most \
                     retries + 1 attempts; after the last, its error";
const TIMEOUT: &str = "each attempt within retry.timeout: a silent server costs that attempt a \
                       timeout, then the next attempt starts";
const LAST: &str = "after the last attempt, the error of that attempt";
const LEFT: &str = "when done is called, nothing of the fetch is left on the loop: no \
                    connection, no timer";
const NEW: &str = "each attempt on a new connection (connections the server accepted)";

/// The scene of a test: the server, the document, the settings.
fn case(script: &str, id: u64, retry: Retry, rule: &str) -> Case {
    scene(
        format!(
            "{script}; document {id}, retries {}, timeout {:?}",
            retry.retries, retry.timeout
        ),
        rule,
    )
}

#[test]
fn an_answer_at_the_first_attempt() {
    let (addr, accepted) = scripted(&[Peer::Answers]);
    let retry = Retry {
        retries: 2,
        timeout: Duration::from_secs(5),
    };
    let c = case(&server_words(&[Peer::Answers]), 7, retry, SUCCESS);
    let (got_, left) = fetch(&c, addr, 7, retry);
    c.eq(got_, got(1, document(7)));
    c.rule(LEFT).eq(left, NOTHING);
    // Counted before the server answered; the answer came back through the kernel.
    c.rule(NEW).eq(accepted.load(Ordering::SeqCst), 1);
}

#[test]
fn a_hang_up_is_followed_by_an_attempt_on_a_new_connection() {
    let script = [Peer::HangsUp, Peer::Answers];
    let (addr, accepted) = scripted(&script);
    let retry = Retry {
        retries: 3,
        timeout: Duration::from_secs(5),
    };
    let c = case(&server_words(&script), 1234, retry, RETRY);
    let (got_, left) = fetch(&c, addr, 1234, retry);
    c.rule(SUCCESS).eq(got_, got(2, document(1234)));
    c.rule(LEFT).eq(left, NOTHING);
    // See the first read of `accepted` above.
    c.rule(NEW).eq(accepted.load(Ordering::SeqCst), 2);
}

#[test]
fn at_most_retries_plus_one_attempts() {
    for retries in [0, 1, 3] {
        let script = [Peer::HangsUp];
        let (addr, accepted) = scripted(&script);
        let retry = Retry {
            retries,
            timeout: Duration::from_secs(5),
        };
        let c = case(&server_words(&script), 3, retry, RETRY);
        let (got_, left) = fetch(&c, addr, 3, retry);
        c.eq(got_, got(retries + 1, "Err(Closed)"));
        c.rule(LEFT).eq(left, NOTHING);
        // See the first read of `accepted` above.
        c.rule(NEW)
            .eq(accepted.load(Ordering::SeqCst), retries as usize + 1);
    }
}

#[test]
fn a_silent_attempt_is_given_up_at_its_timeout() {
    let script = [Peer::Silent, Peer::Answers];
    let (addr, _) = scripted(&script);
    let retry = Retry {
        retries: 1,
        timeout: SHORT,
    };
    let c = case(&server_words(&script), 42, retry, TIMEOUT);
    let (got_, left) = fetch(&c, addr, 42, retry);
    c.eq(got_, got(2, document(42)));
    // The silent attempt's connection too: its timer must close it.
    c.rule(LEFT).eq(left, NOTHING);
}

#[test]
fn each_attempt_has_a_timeout_of_its_own() {
    let script = [Peer::Silent, Peer::Silent, Peer::Answers];
    let (addr, _) = scripted(&script);
    let retry = Retry {
        retries: 2,
        timeout: SHORT,
    };
    let c = case(&server_words(&script), 5, retry, TIMEOUT);
    let (got_, left) = fetch(&c, addr, 5, retry);
    c.eq(got_, got(3, document(5)));
    c.rule(LEFT).eq(left, NOTHING);
}

#[test]
fn the_error_is_the_last_attempts() {
    let retry = Retry {
        retries: 1,
        timeout: SHORT,
    };
    for (script, last) in [
        ([Peer::HangsUp, Peer::Silent], "Err(Timeout)"),
        ([Peer::Silent, Peer::HangsUp], "Err(Closed)"),
    ] {
        let (addr, _) = scripted(&script);
        let c = case(&server_words(&script), 9, retry, LAST);
        let (got_, left) = fetch(&c, addr, 9, retry);
        c.eq(got_, got(2, last));
        c.rule(LEFT).eq(left, NOTHING);
    }
}

#[test]
fn a_timeout_at_the_last_attempt_ends_the_fetch() {
    let script = [Peer::Silent];
    let (addr, _) = scripted(&script);
    let retry = Retry {
        retries: 0,
        timeout: ms(100),
    };
    let c = case(&server_words(&script), 11, retry, TIMEOUT);
    let (got_, left) = fetch(&c, addr, 11, retry);
    c.rule(LAST).eq(got_, got(1, "Err(Timeout)"));
    c.rule(LEFT).eq(left, NOTHING);
}

#[test]
fn a_refused_connection_is_tried_again() {
    let addr = common::closed_port();
    let retry = Retry {
        retries: 2,
        timeout: Duration::from_secs(5),
    };
    let c = case("an address where nothing listens", 1, retry, RETRY);
    let (got_, left) = fetch(&c, addr, 1, retry);
    c.eq(got_, got(3, "Err(Connect)"));
    c.rule(LEFT).eq(left, NOTHING);
}
