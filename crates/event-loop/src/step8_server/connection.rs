//! One connection of the loop server, as an explicit state machine.
//!
//! Lesson 3's worker kept a connection's state in local variables and on its stack:
//! where it was in the request (the parser), which reply it was sending, how long it
//! had slept. A thread could afford that, because it belonged to one connection. Here
//! one thread serves them all, so everything a connection must remember between two
//! visits of the loop lives in a [`Connection`] in the loop's slab: the parser, the
//! replies not yet sent and how far each one got, when to resume a paused reply, when
//! the connection counts as idle. Each visit ([`Connection::drive`]) moves it forward
//! as far as the socket allows *without waiting*, and returns.
//!
//! The rules of a visit:
//!
//! - **Edge-triggered readiness is used up, not looked at.** mio reports a socket
//!   ready once, when it *becomes* ready. So a connection remembers `readable` and
//!   `writable` until a read or write says `WouldBlock`; until then, more bytes may be
//!   waiting and no new event will come for them.
//! - **Reply in request order, however many requests one read holds** (pipelining).
//! - **Back-pressure.** A client that sends requests and never reads the replies must
//!   not make the server queue gigabytes: past a few replies (or a megabyte) queued,
//!   the connection stops taking requests, keeps the bytes it has not parsed, and
//!   reads the socket again only once the queue has drained. Its kernel buffers then
//!   fill and the client's writes block: the slow side waits, not the server.
//! - **Bounded work per visit**, so that one busy connection cannot starve the others;
//!   a connection that still has work says [`Verdict::Again`] and the loop comes back.
//! - **Waits are deadlines, not sleeps**: an injected delay or a drip pause sets
//!   `resume_at`, and the loop's timer heap brings the connection back then.

use std::collections::VecDeque;
use std::io::{self, ErrorKind, Read, Write};
use std::net::Shutdown;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use sockets::corpus::{self, Action, FaultPlan, Reply};
use sockets::http::{Limits, Parsed, RequestParser};

use super::Counters;

/// Past this many replies waiting, a connection stops taking requests.
const MAX_QUEUED_REPLIES: usize = 32;
/// ... or past this many bytes waiting (one reply may be bigger: `/index?n=1000000`).
const MAX_QUEUED_BYTES: usize = 1 << 20;
/// How many times a visit goes round read-then-write before yielding to the others.
const ROUNDS: usize = 8;
/// Reads (and writes) per round: with a 64 KiB buffer, up to 1 MiB per round.
const IO_PER_ROUND: usize = 16;
/// After we close our side, how long we keep reading (and discarding) what the client
/// still sends; see [`Connection::begin_close`]. Lesson 3's server does the same.
pub(super) const LINGER: Duration = Duration::from_millis(500);

/// What a connection needs from the loop during a visit.
#[derive(Debug)]
pub(super) struct Context<'a> {
    pub now: Instant,
    pub faults: &'a FaultPlan,
    pub idle_timeout: Duration,
    pub stats: &'a Counters,
}

/// What the loop should do with a connection after a visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Wait for its next event or deadline.
    Keep,
    /// It used its share of this turn and still has work: visit it again soon.
    Again,
    /// It is over: deregister and drop it (which closes the socket).
    Close,
}

/// One reply on its way out.
#[derive(Debug)]
struct Outgoing {
    bytes: Vec<u8>,
    /// How many of `bytes` go out: all, or fewer for a truncated reply, none for a drop.
    end: usize,
    /// How many have gone out.
    sent: usize,
    /// The injected latency, waited once the reply reaches the front of the queue
    /// (then set to zero): like lesson 3's worker, which slept just before sending.
    delay: Duration,
    /// For a drip: the piece size and the pause between pieces.
    drip: Option<(usize, Duration)>,
    /// Where the piece being written ends (`end` unless dripping).
    piece_end: usize,
    /// Whether the connection closes once this reply is out.
    closes: bool,
}

impl Outgoing {
    fn new(reply: Reply) -> Outgoing {
        let closes = reply.closes();
        let len = reply.bytes.len();
        let (end, drip) = match reply.action {
            Action::Send | Action::SendThenClose => (len, None),
            Action::Drop => (0, None),
            Action::Truncate { keep } => (keep.min(len), None),
            Action::Drip { piece, pause, .. } => (len, Some((piece.max(1), pause))),
        };
        Outgoing {
            bytes: reply.bytes,
            end,
            sent: 0,
            delay: reply.delay,
            drip,
            piece_end: drip.map_or(end, |(piece, _)| piece.min(end)),
            closes,
        }
    }
}

// ANCHOR: connection
/// A client connection and everything the loop must remember about it between visits.
#[derive(Debug)]
pub(super) struct Connection {
    /// A serial number, unique for the server's life: the slab reuses keys, so a timer
    /// entry names both (see the `timers` module).
    pub id: u64,
    pub stream: TcpStream,
    parser: RequestParser,
    /// Replies not completely sent, in the order of their requests.
    queue: VecDeque<Outgoing>,
    queued_bytes: usize,
    /// Bytes received but not parsed, kept while the queue was full. Empty (and without
    /// an allocation) nearly always.
    unparsed: Vec<u8>,
    /// No more requests are taken: a queued reply closes the connection (a fault, a
    /// `Connection: close`, a malformed request).
    no_more_requests: bool,
    /// The client has ended its side (a read returned 0).
    peer_closed: bool,
    /// Our side is closed; until this instant we read and discard what still comes.
    lingering: Option<Instant>,
    /// Nothing is sent before this instant: an injected delay or a drip pause.
    resume_at: Option<Instant>,
    /// The connection is closed for silence at this instant unless bytes move first.
    idle_deadline: Instant,
    /// The earliest entry this connection has in the loop's timer heap, and the one
    /// after it, if any (see `EventLoop::visit`).
    pub scheduled: Option<Instant>,
    pub later: Option<Instant>,
    /// Readiness reported by the kernel and not used up yet (no `WouldBlock` since).
    pub readable: bool,
    pub writable: bool,
    /// An event said the client closed its side (or the connection failed): reading
    /// on will reach the end of stream (or the error).
    pub hung_up: bool,
}
// ANCHOR_END: connection

impl Connection {
    pub fn new(id: u64, stream: TcpStream, limits: Limits, cx: &Context<'_>) -> Connection {
        Connection {
            id,
            stream,
            parser: RequestParser::new(limits),
            queue: VecDeque::new(),
            queued_bytes: 0,
            unparsed: Vec::new(),
            no_more_requests: false,
            peer_closed: false,
            lingering: None,
            resume_at: None,
            idle_deadline: procs::deadline::after(cx.now, cx.idle_timeout),
            scheduled: None,
            later: None,
            readable: false,
            writable: false,
            hung_up: false,
        }
    }

    /// When the loop must look at this connection even if its socket stays quiet.
    pub fn next_deadline(&self) -> Instant {
        if let Some(at) = self.lingering {
            return at;
        }
        // While we wait for our own timer the client is not being silent: the idle
        // clock only runs when the connection waits for the client.
        self.resume_at.unwrap_or(self.idle_deadline)
    }

    /// A deadline of this connection has come: close it if it was idle too long or has
    /// lingered long enough, else carry on (a delay or a pause has ended).
    pub fn on_deadline(&mut self, cx: &Context<'_>, buf: &mut [u8]) -> Verdict {
        let expired = match self.lingering {
            Some(at) => cx.now >= at,
            None => self.resume_at.is_none() && cx.now >= self.idle_deadline,
        };
        if expired {
            return Verdict::Close;
        }
        self.drive(cx, buf)
    }

    /// Moves the connection forward as far as its socket allows, without waiting.
    /// `buf` is the loop's one read buffer, lent for the visit: no connection owns
    /// one, which keeps an idle connection small (see the C10K measurement).
    pub fn drive(&mut self, cx: &Context<'_>, buf: &mut [u8]) -> Verdict {
        for _ in 0..ROUNDS {
            if self.lingering.is_some() {
                return self.discard_input(buf);
            }
            // Writing first: a reply that waited for room goes out before new requests
            // add to the queue.
            let wrote = match self.send(cx) {
                Ok(wrote) => wrote,
                // The client is gone (reset, broken pipe): nothing more to do.
                Err(_) => return Verdict::Close,
            };
            if self.lingering.is_some() {
                continue; // a reply closed the connection: go lingering
            }
            let took = match self.receive(cx, buf) {
                Ok(took) => took,
                Err(_) => return Verdict::Close,
            };
            // The client has said all it will say, and everything has been answered.
            if self.peer_closed && self.queue.is_empty() && self.unparsed.is_empty() {
                return Verdict::Close;
            }
            if !wrote && !took {
                return Verdict::Keep;
            }
        }
        Verdict::Again
    }

    /// Whether another reply may be queued.
    fn has_room(&self) -> bool {
        self.queue.len() < MAX_QUEUED_REPLIES && self.queued_bytes < MAX_QUEUED_BYTES
    }

    /// Takes requests: first the bytes kept back, then the socket's, until the socket
    /// has no more, the queue is full, or no more requests are wanted. Whether anything
    /// happened.
    fn receive(&mut self, cx: &Context<'_>, buf: &mut [u8]) -> io::Result<bool> {
        let mut progressed = false;
        if !self.unparsed.is_empty() && self.has_room() {
            let kept = std::mem::take(&mut self.unparsed);
            self.take_requests(&kept, cx);
            progressed = true;
        }
        for _ in 0..IO_PER_ROUND {
            let wanted = !self.no_more_requests
                && !self.peer_closed
                && self.unparsed.is_empty()
                && self.has_room();
            if !self.readable || !wanted {
                break;
            }
            match self.stream.read(buf) {
                Ok(0) => {
                    // End of stream: the client will send nothing more. A request cut
                    // off in the middle is not answered (as in lesson 3); the replies
                    // already queued still go out (a client may half-close after
                    // sending its requests, as `printf ... | nc` does).
                    self.peer_closed = true;
                    self.readable = false;
                    progressed = true;
                }
                Ok(n) => {
                    self.idle_deadline = procs::deadline::after(cx.now, cx.idle_timeout);
                    // A read that did not fill the buffer emptied the socket: asking
                    // again would only hear WouldBlock. Bytes that arrive later bring
                    // a new edge, so we may treat the readiness as used up now and
                    // save a system call per request (tokio does the same). Except
                    // when the client has already hung up: its end of stream came
                    // with the bytes just read, and no new edge will announce it.
                    if n < buf.len() && !self.hung_up {
                        self.readable = false;
                    }
                    self.take_requests(buf.get(..n).unwrap_or_default(), cx);
                    progressed = true;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    self.readable = false;
                    break;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(progressed)
    }

    /// Parses every complete request in `input` and queues its reply, in order, as
    /// lesson 3's worker does; keeps what the full queue cannot take.
    fn take_requests(&mut self, mut input: &[u8], cx: &Context<'_>) {
        while !input.is_empty() && !self.no_more_requests {
            if !self.has_room() {
                self.unparsed.extend_from_slice(input);
                return;
            }
            match self.parser.feed(input) {
                Ok(Parsed::NeedMore) => return,
                Ok(Parsed::Done { message, used }) => {
                    // The parser is ready for the next request by itself.
                    input = input.get(used..).unwrap_or_default();
                    self.queue_reply(corpus::respond(&message, cx.faults), cx.stats);
                }
                // Once the stream is malformed, where the next request would start is
                // unknown: answer with the error and close (the reply says close).
                Err(error) => self.queue_reply(corpus::error_reply(&error), cx.stats),
            }
        }
    }

    fn queue_reply(&mut self, reply: Reply, stats: &Counters) {
        Counters::add(&stats.requests, 1);
        if reply.fault.is_some() {
            Counters::add(&stats.faults, 1);
        }
        if reply.closes() {
            // What the client sent after this request will not be answered.
            self.no_more_requests = true;
            self.unparsed = Vec::new();
        }
        self.queued_bytes += reply.bytes.len();
        self.queue.push_back(Outgoing::new(reply));
    }

    /// Sends what the queue holds, as each reply's plan says, until the socket is full,
    /// a wait begins, or the queue is empty. Whether anything happened.
    fn send(&mut self, cx: &Context<'_>) -> io::Result<bool> {
        let mut progressed = false;
        for _ in 0..IO_PER_ROUND * 2 {
            match self.resume_at {
                Some(at) if at > cx.now => break, // still waiting: the timer will call
                Some(_) => {
                    // The wait was ours, not the client's: its idle time starts anew.
                    self.resume_at = None;
                    self.idle_deadline = procs::deadline::after(cx.now, cx.idle_timeout);
                }
                None => {}
            }
            let Some(front) = self.queue.front_mut() else {
                break;
            };
            if !front.delay.is_zero() {
                self.resume_at = Some(procs::deadline::after(
                    cx.now,
                    std::mem::take(&mut front.delay),
                ));
                break;
            }
            if front.sent < front.piece_end {
                if !self.writable {
                    break;
                }
                let piece = front
                    .bytes
                    .get(front.sent..front.piece_end)
                    .unwrap_or_default();
                match self.stream.write(piece) {
                    Ok(0) => return Err(ErrorKind::WriteZero.into()),
                    Ok(n) => {
                        // A short write filled the send buffer: the next one would
                        // block. Same reasoning as for a short read.
                        if n < piece.len() {
                            self.writable = false;
                        }
                        front.sent += n;
                        Counters::add(&cx.stats.bytes_sent, n as u64);
                        self.idle_deadline = procs::deadline::after(cx.now, cx.idle_timeout);
                        progressed = true;
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        // The kernel's send buffer is full: the rest waits for the
                        // next writable event.
                        self.writable = false;
                        break;
                    }
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
                continue;
            }
            if let (true, Some((piece, pause))) = (front.sent < front.end, front.drip) {
                // A drip piece is out: the next one after a pause.
                front.piece_end = front.piece_end.saturating_add(piece).min(front.end);
                self.resume_at = Some(procs::deadline::after(cx.now, pause));
                break;
            }
            // The whole reply (or all of it the plan allows) is out.
            if let Some(done) = self.queue.pop_front() {
                self.queued_bytes -= done.bytes.len();
                progressed = true;
                if done.closes {
                    self.begin_close(cx.now);
                    break;
                }
            }
        }
        Ok(progressed)
    }

    /// Closes our side so that the client reads everything we sent, then end-of-file.
    ///
    /// Closing a socket whose receive buffer still holds unread bytes (a pipelined
    /// request we will not answer, the rest of a malformed one) makes the kernel send a
    /// reset instead of a normal end, and the client's kernel then throws away the
    /// reply it has not read yet. So: end our direction (`shutdown(Write)` sends the FIN
    /// after the data), then read and discard until the client closes too, for at most
    /// [`LINGER`]. Lesson 3's worker did this with a blocking loop; here it is a state
    /// (`lingering`) and a deadline.
    fn begin_close(&mut self, now: Instant) {
        self.queue.clear();
        self.queued_bytes = 0;
        self.unparsed = Vec::new();
        self.no_more_requests = true;
        self.resume_at = None;
        // An error means the connection is already gone; the linger read will see it.
        let _ = self.stream.shutdown(Shutdown::Write);
        self.lingering = Some(now + LINGER);
    }

    /// While lingering: reads and throws away until the client's end of stream.
    fn discard_input(&mut self, buf: &mut [u8]) -> Verdict {
        if self.peer_closed {
            return Verdict::Close;
        }
        for _ in 0..IO_PER_ROUND {
            if !self.readable {
                return Verdict::Keep;
            }
            match self.stream.read(buf) {
                Ok(0) => return Verdict::Close,
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => self.readable = false,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return Verdict::Close,
            }
        }
        if self.readable {
            Verdict::Again
        } else {
            Verdict::Keep
        }
    }
}
