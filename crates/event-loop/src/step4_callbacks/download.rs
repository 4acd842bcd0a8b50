//! Step 3's batch, downloaded by callbacks: `concurrency` keep-alive connections, each a
//! chain that fetches documents one after another until none is left.
//!
//! ```text
//!  open_connection ──connect──► exchange ──send_request──► read_response ──► next_document
//!        ▲                         ▲                                             │
//!        │                         └──────────── keep-alive, ids left ───────────┤
//!        └──────────────────── error, timeout, or the server closes ─────────────┘
//! ```
//!
//! Every document has a timer, set when it starts (with the connect, for the first one
//! on a connection; with the request, for the next ones). Whichever comes first wins:
//! the response cancels the timer; the timer closes the connection, which drops the
//! callbacks that were waiting on it, so the chain stops where it was. Each way on, the
//! document is counted once (`Job::end`) and the chain goes on to the next document,
//! on the same connection or a new one: an error costs one document, never the run.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use super::callback_loop::{Loop, LoopStats, TimerId};
use super::chain::{Conn, close, connect, read_response, send_request};
use crate::step2_poll::{Batch, RunError, thread_cpu_time};
use crate::step5_scheduler::fetch::{FetchError, check};

/// What a callback download did with a batch: step 3's report (with step 4's errors),
/// and the callbacks and the connections counted too. It reads as step 3's does
/// (`report.ok`, `report.failed()`), the two counts added.
#[derive(Debug)]
pub struct Report {
    /// Wall and CPU time, loop turns (calls to `epoll_wait`), documents and bytes, and
    /// the failures by id.
    pub run: crate::step2_poll::Report<FetchError>,
    /// Callbacks the loop called, for sockets and timers.
    pub callbacks: u64,
    /// TCP connections opened: one per chain, plus one after each closed connection.
    pub connections: u64,
}

impl std::ops::Deref for Report {
    type Target = crate::step2_poll::Report<FetchError>;

    fn deref(&self) -> &Self::Target {
        &self.run
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}, {} callbacks, {} connections",
            self.run, self.callbacks, self.connections
        )
    }
}

// ANCHOR: download
/// Downloads the batch in this thread, by callbacks on a [`Loop`]: documents `ids`
/// from `addr`, on `concurrency` keep-alive connections, each document within
/// `timeout` (connect to last byte), none started after `run_timeout`.
pub fn download(batch: &Batch) -> Result<Report, RunError> {
    if batch.concurrency == 0 {
        return Err(RunError::Invalid(
            "concurrency 0 would never start a download",
        ));
    }
    let cpu_at_start = thread_cpu_time()?;
    let mut lp = Loop::new()?;
    let job = Job::new(batch);
    for _ in 0..batch.concurrency.min(batch.len()) {
        open_connection(&mut lp, job.clone());
    }
    // Each chain ends when no document is left for it: then nothing is registered.
    lp.run()?;
    let cpu = thread_cpu_time()?.saturating_sub(cpu_at_start);
    Ok(job.report(cpu, lp.stats()))
}
// ANCHOR_END: download

// ANCHOR: chain_open
/// A chain begins: a new connection, for the next document.
fn open_connection(lp: &mut Loop, job: Job) {
    let Some(id) = job.next_id() else {
        return; // nothing left: this chain ends here
    };
    job.count_connection();
    let conn = connect(lp, job.addr(), job.read_buffer(), {
        let job = job.clone();
        move |lp, connected| match connected {
            Ok(conn) => exchange(lp, conn, id, job),
            Err(error) => {
                job.end(lp, id, Err(error));
                open_connection(lp, job);
            }
        }
    });
    job.start_clock(lp, id, &conn);
}
// ANCHOR_END: chain_open

// ANCHOR: chain_exchange
/// Document `id` on an open connection: the request, then the response.
fn exchange(lp: &mut Loop, conn: Conn, id: u64, job: Job) {
    send_request(lp, conn, id, move |lp, sent| match sent {
        Err(error) => {
            job.end(lp, id, Err(error));
            open_connection(lp, job);
        }
        Ok(conn) => read_response(lp, conn, move |lp, received| match received {
            Err(error) => {
                job.end(lp, id, Err(error));
                open_connection(lp, job);
            }
            Ok((conn, response)) => {
                job.end(lp, id, check(id, &response));
                next_document(lp, conn, response.keep_alive, job);
            }
        }),
    });
}

/// After a response: the next document on the same connection, if the server keeps
/// it open; on a new one if not.
fn next_document(lp: &mut Loop, conn: Conn, keep_alive: bool, job: Job) {
    if !keep_alive {
        close(lp, &conn);
        return open_connection(lp, job);
    }
    let Some(id) = job.next_id() else {
        return close(lp, &conn);
    };
    job.start_clock(lp, id, &conn);
    exchange(lp, conn, id, job);
}
// ANCHOR_END: chain_exchange

/// What the chains of one download share: the documents left, each document's timer,
/// and the counts. A handle: clones share it.
#[derive(Clone)]
struct Job(Rc<RefCell<Tally>>);

struct Tally {
    addr: SocketAddr,
    read_buffer: usize,
    timeout: Duration,
    run_timeout: Duration,
    run_deadline: Instant,
    start: Instant,
    /// The next document to start, and the end of the range.
    next: u64,
    end: u64,
    /// The timer of each document in flight.
    clocks: HashMap<u64, TimerId>,
    connections: u64,
    ok: usize,
    bytes: u64,
    failures: Vec<(u64, FetchError)>,
}

impl Job {
    fn new(batch: &Batch) -> Job {
        let start = Instant::now();
        Job(Rc::new(RefCell::new(Tally {
            addr: batch.addr,
            read_buffer: batch.read_buffer,
            timeout: batch.timeout,
            run_timeout: batch.run_timeout,
            run_deadline: procs::deadline::after(start, batch.run_timeout),
            start,
            next: batch.ids.start,
            end: batch.ids.end,
            clocks: HashMap::new(),
            connections: 0,
            ok: 0,
            bytes: 0,
            failures: Vec::new(),
        })))
    }

    fn addr(&self) -> SocketAddr {
        self.0.borrow().addr
    }

    fn read_buffer(&self) -> usize {
        self.0.borrow().read_buffer
    }

    fn count_connection(&self) {
        self.0.borrow_mut().connections += 1;
    }

    /// The next document to fetch; `None` when none is left, or when the run's time is
    /// up (the rest are counted as failures by the report).
    fn next_id(&self) -> Option<u64> {
        let mut t = self.0.borrow_mut();
        if t.next >= t.end || Instant::now() >= t.run_deadline {
            return None;
        }
        t.next += 1;
        Some(t.next - 1)
    }

    // ANCHOR: clock_start
    /// Sets document `id`'s timer, on `conn`: if it fires first, the connection is
    /// closed (its waiting callbacks with it), the document fails, and a new connection
    /// takes the next one.
    fn start_clock(&self, lp: &mut Loop, id: u64, conn: &Conn) {
        let (timeout, deadline) = {
            let t = self.0.borrow();
            let deadline = procs::deadline::from_now(t.timeout).min(t.run_deadline);
            (t.timeout, deadline)
        };
        let timer = lp.call_at(deadline, {
            let (job, conn) = (self.clone(), conn.clone());
            move |lp| {
                let doing = conn.doing();
                close(lp, &conn);
                job.end(
                    lp,
                    id,
                    Err(FetchError::Timeout {
                        doing,
                        after: timeout,
                    }),
                );
                open_connection(lp, job);
            }
        });
        self.0.borrow_mut().clocks.insert(id, timer);
    }
    // ANCHOR_END: clock_start

    // ANCHOR: clock_end
    /// Document `id` is over: its timer is cancelled (if it is not the one calling) and
    /// its result counted.
    fn end(&self, lp: &mut Loop, id: u64, result: Result<usize, FetchError>) {
        let mut t = self.0.borrow_mut();
        if let Some(timer) = t.clocks.remove(&id) {
            lp.cancel(timer);
        }
        match result {
            Ok(len) => {
                t.ok += 1;
                t.bytes += len as u64;
            }
            Err(error) => t.failures.push((id, error)),
        }
    }
    // ANCHOR_END: clock_end

    /// The counts, once the loop has run out of callbacks. Documents never started (the
    /// run's time was up) count as timed out.
    fn report(&self, cpu: Duration, stats: LoopStats) -> Report {
        let mut t = self.0.borrow_mut();
        let after = t.run_timeout;
        for id in t.next..t.end {
            let doing = "waiting for a connection";
            t.failures.push((id, FetchError::Timeout { doing, after }));
        }
        Report {
            run: crate::step2_poll::Report {
                wall: t.start.elapsed(),
                cpu,
                turns: stats.turns,
                ok: t.ok,
                bytes: t.bytes,
                failures: std::mem::take(&mut t.failures),
            },
            callbacks: stats.callbacks,
            connections: t.connections,
        }
    }
}
