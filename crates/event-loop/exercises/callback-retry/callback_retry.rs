//! Exercise `event-loop/callback-retry`: a timeout and a retry, added to a chain of
//! callbacks.
//!
//! Step 4's [`fetch_one`] fetches one document through the callback loop: connect, send
//! the request, read the response, each link a callback that starts the next. It tries
//! once, and it waits as long as the server takes. Here you give it a time limit and
//! more tries, the way callback code does it: a timer races the chain (whichever ends
//! first stops the other), and the callback that sees a failure starts the next attempt
//! itself. Nothing can wait for the attempt to end and then decide, as a loop would: the
//! decision must be taken in each place where an attempt can end.
//!
//! The state of the fetch lives in a [`Fetch`] that the callbacks share
//! (`Rc<RefCell<..>>`): the attempts so far, and the connection and timer of the
//! attempt in flight, so that each of the two racers can find the other.

// In your copy the body is `todo!()` and ignores its arguments until you write it:
// no warnings for that.
#![allow(unused_variables, unused_mut, unused_imports, dead_code)]

use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use event_loop::step4_callbacks::{Conn, FetchError, Loop, TimerId, close, fetch_one};

/// How many times to try, and how long each try may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// Attempts after the first, should it fail: at most `retries + 1` in all.
    pub retries: u32,
    /// How long one attempt may take, from its connect to the last byte of the response.
    pub timeout: Duration,
}

/// How a fetch ended.
#[derive(Debug)]
pub struct Outcome {
    /// The body's length (status 200, checksum verified), or the error of the last
    /// attempt.
    pub result: Result<usize, FetchError>,
    /// The attempts made, the last one included.
    pub attempts: u32,
}

/// Fetches document `id` from `addr` through the loop `lp`, each attempt on a new
/// connection ([`fetch_one`]) and within `retry.timeout`; a failed or timed-out attempt
/// is followed by another, up to `retry.retries` more. `done` is called once, with the
/// outcome, when nothing of this fetch is left on the loop: no connection, no timer.
/// Returns at once: the loop's callbacks do the rest while it runs.
pub fn fetch_with_retry(
    lp: &mut Loop,
    addr: SocketAddr,
    id: u64,
    retry: Retry,
    done: impl FnOnce(&mut Loop, Outcome) + 'static,
) {
    let fetch = Rc::new(RefCell::new(Fetch {
        addr,
        id,
        retry,
        attempts: 0,
        conn: None,
        timer: None,
        done: Some(Box::new(done)),
    }));
    attempt(lp, fetch);
}

/// What the callbacks of one fetch share.
struct Fetch {
    addr: SocketAddr,
    id: u64,
    retry: Retry,
    /// Attempts started so far.
    attempts: u32,
    /// The connection of the attempt in flight, for its timer to close.
    conn: Option<Conn>,
    /// The timer of the attempt in flight, for its chain to cancel.
    timer: Option<TimerId>,
    /// Whom to tell, once.
    done: Option<Done>,
}

/// The caller's `done`.
type Done = Box<dyn FnOnce(&mut Loop, Outcome)>;

/// The handle the callbacks hold.
type Shared = Rc<RefCell<Fetch>>;

/// Tells `done` how the fetch ended (once: later calls do nothing).
fn report(lp: &mut Loop, fetch: &Shared, result: Result<usize, FetchError>) {
    let (done, attempts) = {
        let mut f = fetch.borrow_mut();
        (f.done.take(), f.attempts)
    };
    if let Some(done) = done {
        done(lp, Outcome { result, attempts });
    }
}

/// Starts the next attempt: counts it, starts [`fetch_one`] on a new connection and a
/// timer of `retry.timeout`, and keeps both in `fetch`. Whichever ends first stops the
/// other: the chain's result cancels the timer, the timer closes the connection (which
/// stops the chain; its error is a [`FetchError::Timeout`]). Then, if the attempt failed
/// and fewer than `retries + 1` attempts were made, the next attempt starts; otherwise
/// [`report`] gives the result, and nothing of the fetch is left on the loop.
///
/// `fetch_one` never calls its callback before it returns, so `fetch` holds the
/// connection and the timer before either racer can run.
fn attempt(lp: &mut Loop, fetch: Shared) {
    // BEGIN SOLUTION
    /// An attempt is over, with `result`: another one, or the end.
    fn over(lp: &mut Loop, fetch: Shared, result: Result<usize, FetchError>) {
        let again = {
            let f = fetch.borrow();
            result.is_err() && f.attempts <= f.retry.retries
        };
        if again {
            attempt(lp, fetch);
        } else {
            report(lp, &fetch, result);
        }
    }

    let (addr, id, timeout) = {
        let mut f = fetch.borrow_mut();
        f.attempts += 1;
        (f.addr, f.id, f.retry.timeout)
    };
    let conn = fetch_one(lp, addr, id, {
        let fetch = fetch.clone();
        move |lp, result| {
            // The chain has closed its connection; its timer goes too.
            let timer = {
                let mut f = fetch.borrow_mut();
                f.conn = None;
                f.timer.take()
            };
            if let Some(timer) = timer {
                lp.cancel(timer);
            }
            over(lp, fetch, result);
        }
    });
    let timer = lp.call_later(timeout, {
        let fetch = fetch.clone();
        move |lp| {
            // Too late: closing the connection drops the chain's callbacks.
            let conn = {
                let mut f = fetch.borrow_mut();
                f.timer = None;
                f.conn.take()
            };
            let doing = conn.as_ref().map_or("connecting", Conn::doing);
            if let Some(conn) = conn {
                close(lp, &conn);
            }
            let error = FetchError::Timeout {
                doing,
                after: timeout,
            };
            over(lp, fetch, Err(error));
        }
    });
    let mut f = fetch.borrow_mut();
    f.conn = Some(conn);
    f.timer = Some(timer);
    // END SOLUTION
}
