//! Many downloads at once: the bookkeeping that the loops of steps 1, 2 and 3 share.
//!
//! The three loops differ in one thing only, **how they wait** (they spin, they sleep in
//! `poll(2)`, they sleep in epoll). Everything else is here, once, so that the loops can
//! be read side by side and their figures compared fairly:
//!
//! - what to fetch: a [`Batch`] of corpus documents, at most `concurrency` at a time;
//! - the downloads in flight, in a [`Slab`]: the key of a download is the name the
//!   loop gives the kernel for its socket (a mio token in step 3);
//! - deadlines: every download has one, kept in a min-heap so that the next one to pass
//!   is known without looking at every download (the loop sleeps until then at most);
//! - judging each response (status 200, the corpus checksum) and counting: a
//!   [`Report`] with the wall time, the **CPU time of the loop's thread**, the loop
//!   turns, and the documents that arrived or did not, each failure with its reason.
//!
//! Why the thread's CPU time, not the process's: the tests and the tour run lesson 3's
//! server in the same process, and its threads' work is not the loop's.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt;
use std::io;
use std::net::{SocketAddr, TcpStream};
use std::ops::Range;
use std::time::{Duration, Instant};

use nix::sys::resource::{UsageWho, getrusage};
use sockets::corpus::{CHECKSUM_HEADER, verify};
use sockets::http::Response;

use super::machine::{Download, DownloadError, Progress, Stream};
use crate::slab::Slab;

/// Which documents to download, from where, how many at once, and how long to try.
#[derive(Debug, Clone)]
pub struct Batch {
    /// A corpus server (lesson 3's `/wiki/<id>` routes).
    pub addr: SocketAddr,
    /// The documents: `/wiki/<id>` for each id.
    pub ids: Range<u64>,
    /// At most this many connections at once. Default 100.
    pub concurrency: usize,
    /// Longest time for one document, connect to last byte. Default 10 s.
    pub timeout: Duration,
    /// Longest time for the whole batch; documents not started by then fail. Default 60 s.
    pub run_timeout: Duration,
    /// The loop's one read buffer, in bytes. Default 64 KiB. A small one (a few hundred
    /// bytes) makes every response take many reads: a test of reading until WouldBlock.
    pub read_buffer: usize,
}

impl Batch {
    /// Documents `ids` from `addr`, with the defaults above.
    pub fn new(addr: SocketAddr, ids: Range<u64>) -> Batch {
        Batch {
            addr,
            ids,
            concurrency: 100,
            timeout: Duration::from_secs(10),
            run_timeout: Duration::from_secs(60),
            read_buffer: 64 * 1024,
        }
    }

    /// How many documents the batch asks for.
    pub fn len(&self) -> usize {
        usize::try_from(self.ids.end.saturating_sub(self.ids.start)).unwrap_or(usize::MAX)
    }

    /// Whether it asks for none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What a loop did with a batch. `E` is how a document fails: steps 1 to 3 say it with
/// [`DownloadError`], step 4's callbacks with the fetch errors steps 5 and 7 share.
#[derive(Debug)]
pub struct Report<E = DownloadError> {
    /// From the start of the batch to its last document.
    pub wall: Duration,
    /// CPU time (user + kernel) of the thread that ran the loop, over the same span.
    pub cpu: Duration,
    /// Loop turns: passes over all sockets (step 1), or calls that waited (steps 2, 3).
    pub turns: u64,
    /// Documents that arrived whole: status 200 and a matching checksum.
    pub ok: usize,
    /// Body bytes of those documents.
    pub bytes: u64,
    /// The documents that did not arrive, by id, with the reason.
    pub failures: Vec<(u64, E)>,
}

impl<E> Report<E> {
    /// How many documents did not arrive.
    pub fn failed(&self) -> usize {
        self.failures.len()
    }

    /// CPU time over wall time: 1.0 is one core kept busy the whole time.
    pub fn cpu_share(&self) -> f64 {
        let wall = self.wall.as_secs_f64();
        if wall > 0.0 {
            self.cpu.as_secs_f64() / wall
        } else {
            f64::NAN
        }
    }
}

impl<E> fmt::Display for Report<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ok, {} failed, {:.1} KiB in {:.1} ms; loop thread CPU {:.1} ms ({:.0}% of a core); {} turns",
            self.ok,
            self.failed(),
            self.bytes as f64 / 1024.0,
            self.wall.as_secs_f64() * 1e3,
            self.cpu.as_secs_f64() * 1e3,
            self.cpu_share() * 100.0,
            self.turns
        )
    }
}

/// Why a loop could not run at all (as opposed to a document that failed).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{what} failed: {source}")]
    Sys {
        what: &'static str,
        #[source]
        source: io::Error,
    },
    #[error("invalid batch: {0}")]
    Invalid(&'static str),
}

/// CPU time (user + kernel) this thread has used so far: `getrusage(RUSAGE_THREAD)`.
pub fn thread_cpu_time() -> Result<Duration, RunError> {
    let usage = getrusage(UsageWho::RUSAGE_THREAD).map_err(|errno| RunError::Sys {
        what: "getrusage(RUSAGE_THREAD)",
        source: errno.into(),
    })?;
    let micros = |t: nix::sys::time::TimeVal| {
        let us = t.tv_sec() as i128 * 1_000_000 + t.tv_usec() as i128;
        Duration::from_micros(u64::try_from(us).unwrap_or(0))
    };
    Ok(micros(usage.user_time()) + micros(usage.system_time()))
}

/// The downloads of one batch in flight, and the counts so far; on std's `TcpStream`
/// (steps 1 and 2) or mio's (step 3).
#[derive(Debug)]
pub struct Flight<S = TcpStream> {
    batch: Batch,
    host: String,
    /// The next document to start.
    next: u64,
    /// The downloads in flight, each with its document id.
    downloads: Slab<(u64, Download<S>)>,
    /// (deadline, document id, key), the earliest on top. Entries of downloads that
    /// ended early stay until they reach the top, and are skipped then: the id tells a
    /// stale entry from a new download that got the same (reused) key.
    deadlines: BinaryHeap<Reverse<(Instant, u64, usize)>>,
    start: Instant,
    run_deadline: Instant,
    cpu_at_start: Duration,
    turns: u64,
    ok: usize,
    bytes: u64,
    failures: Vec<(u64, DownloadError)>,
}

impl<S: Stream> Flight<S> {
    /// Starts the clocks (wall and this thread's CPU); nothing is connected yet.
    pub fn new(batch: &Batch) -> Result<Flight<S>, RunError> {
        if batch.concurrency == 0 {
            return Err(RunError::Invalid(
                "concurrency 0 would never start a download",
            ));
        }
        let start = Instant::now();
        Ok(Flight {
            host: batch.addr.to_string(),
            next: batch.ids.start,
            downloads: Slab::with_capacity(batch.concurrency.min(65_536)),
            deadlines: BinaryHeap::new(),
            run_deadline: start + batch.run_timeout,
            cpu_at_start: thread_cpu_time()?,
            start,
            turns: 0,
            ok: 0,
            bytes: 0,
            failures: Vec::new(),
            batch: batch.clone(),
        })
    }

    /// Starts downloads until `concurrency` are in flight (or none is left to start, or
    /// the run's deadline has passed); pushes the new downloads' keys to `started`.
    pub fn start_more(&mut self, started: &mut Vec<usize>) {
        let now = Instant::now();
        while self.downloads.len() < self.batch.concurrency
            && self.next < self.batch.ids.end
            && now < self.run_deadline
        {
            let id = self.next;
            self.next += 1;
            let target = format!("/wiki/{id}");
            let deadline = procs::deadline::after(now, self.batch.timeout).min(self.run_deadline);
            match Download::start(self.batch.addr, &self.host, &target, now, deadline) {
                Ok(download) => {
                    let key = self.downloads.insert((id, download));
                    self.deadlines.push(Reverse((deadline, id, key)));
                    started.push(key);
                }
                Err(error) => self.failures.push((id, error)),
            }
        }
    }

    /// Whether every document has arrived or failed (or the rest can no longer start).
    pub fn is_finished(&self) -> bool {
        self.downloads.is_empty()
            && (self.next >= self.batch.ids.end || Instant::now() >= self.run_deadline)
    }

    /// How many downloads are in flight.
    pub fn in_flight(&self) -> usize {
        self.downloads.len()
    }

    /// The download under `key`, if it is in flight.
    pub fn get(&self, key: usize) -> Option<&Download<S>> {
        self.downloads.get(key).map(|(_, d)| d)
    }

    /// The download under `key`, mutably, if it is in flight.
    pub fn get_mut(&mut self, key: usize) -> Option<&mut Download<S>> {
        self.downloads.get_mut(key).map(|(_, d)| d)
    }

    /// The downloads in flight with their keys.
    pub fn iter(&self) -> impl Iterator<Item = (usize, &Download<S>)> + '_ {
        self.downloads.iter().map(|(key, (_, d))| (key, d))
    }

    /// Replaces the contents of `keys` with the keys in flight (to walk them while
    /// removing the finished ones).
    pub fn keys_into(&self, keys: &mut Vec<usize>) {
        keys.clear();
        keys.extend(self.downloads.keys());
    }

    /// Advances the download under `key`; `None` if there is none (an event for a
    /// download that already ended, or for a source that is not a download).
    pub fn advance(&mut self, key: usize, buf: &mut [u8]) -> Option<Progress> {
        let (_, download) = self.downloads.get_mut(key)?;
        Some(download.advance(buf))
    }

    /// Takes the download under `key` out of the flight and counts its result (a
    /// download that is not done counts as timed out). Dropping it closes its socket.
    pub fn finish(&mut self, key: usize) {
        let Some((id, download)) = self.downloads.remove(key) else {
            return;
        };
        let addr = download.addr();
        match judge(addr, id, download.into_result()) {
            Ok(bytes) => {
                self.ok += 1;
                self.bytes += bytes;
            }
            Err(error) => self.failures.push((id, error)),
        }
    }

    /// The key of a download in flight whose deadline is `now` or earlier, if any.
    /// Call it until `None`, finishing each.
    pub fn next_expired(&mut self, now: Instant) -> Option<usize> {
        while let Some(&Reverse((deadline, id, key))) = self.deadlines.peek() {
            if deadline > now {
                return None;
            }
            self.deadlines.pop();
            if self.is_live(id, key) {
                return Some(key);
            }
        }
        None
    }

    /// The earliest deadline of the downloads in flight: the longest the loop may sleep.
    pub fn next_deadline(&mut self) -> Option<Instant> {
        while let Some(&Reverse((deadline, id, key))) = self.deadlines.peek() {
            if self.is_live(id, key) {
                return Some(deadline);
            }
            self.deadlines.pop();
        }
        None
    }

    /// Whether a heap entry is still about the download it was pushed for.
    fn is_live(&self, id: u64, key: usize) -> bool {
        self.downloads.get(key).is_some_and(|(live, _)| *live == id)
    }

    /// Counts one turn of the loop.
    pub fn count_turn(&mut self) {
        self.turns += 1;
    }

    /// Stops the clocks. Downloads still in flight count as timed out, documents never
    /// started as [`DownloadError::NotStarted`].
    pub fn report(mut self) -> Result<Report, RunError> {
        let keys: Vec<usize> = self.downloads.keys().collect();
        for key in keys {
            self.finish(key);
        }
        for id in self.next..self.batch.ids.end {
            let target = format!("/wiki/{id}");
            self.failures
                .push((id, DownloadError::NotStarted { target }));
        }
        Ok(Report {
            wall: self.start.elapsed(),
            cpu: thread_cpu_time()?.saturating_sub(self.cpu_at_start),
            turns: self.turns,
            ok: self.ok,
            bytes: self.bytes,
            failures: self.failures,
        })
    }
}

/// A response is a document only with status 200 and a body that matches its checksum.
fn judge(
    addr: SocketAddr,
    id: u64,
    result: Result<Response, DownloadError>,
) -> Result<u64, DownloadError> {
    let response = result?;
    let corrupt = |problem| DownloadError::Corrupt {
        addr,
        target: format!("/wiki/{id}"),
        problem,
    };
    if response.status != 200 {
        return Err(DownloadError::Status {
            addr,
            target: format!("/wiki/{id}"),
            status: response.status,
        });
    }
    let Some(sum) = response.headers.get(CHECKSUM_HEADER) else {
        return Err(corrupt("no checksum header"));
    };
    if !verify(&response.body, sum) {
        return Err(corrupt("the body does not match its checksum"));
    }
    Ok(response.body.len() as u64)
}
