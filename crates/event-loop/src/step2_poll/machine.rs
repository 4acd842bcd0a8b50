//! One download as a state machine that never waits.
//!
//! In lesson 3 a download was straight-line code: connect, write the request, read until
//! the response is complete. Each line blocked its thread until it was done, and the
//! thread's stack remembered where the download was. One thread for a thousand
//! downloads cannot block on any of them, so every socket here is *non-blocking*: a call
//! does at once what it can, or fails with `WouldBlock` ("not now, try later"). The
//! download must then remember by itself where it was. That memory is its **state**:
//!
//! ```text
//!              writable, no error          request sent        response complete
//! Connecting ─────────────────────► Writing ─────────────► Reading ─────────────────► Done(Ok)
//!     │                                │                      │
//!     └── refused, reset, bad bytes, end of stream too early ─┴─────────────────────► Done(Err)
//! ```
//!
//! [`Download::advance`] moves as far as it can without waiting and returns what it
//! waits for next: [`Want::Read`] or [`Want::Write`]. It is never told *why* it is
//! called. It tries, and `WouldBlock` only means "not yet", so a call at the wrong time
//! is harmless. That makes the one machine correct under every loop of this lesson:
//!
//! - step 1 calls it again and again, ready or not (the busy loop);
//! - step 2 calls it when `poll(2)` says its socket is ready (level-triggered: the
//!   kernel says so as long as it stays ready);
//! - step 3 calls it when epoll says its socket *became* ready (edge-triggered: said
//!   once per change, so the machine must go on until `WouldBlock`, or bytes that are
//!   already there would never be announced again — and it does).
//!
//! The HTTP is lesson 3's sans-IO codec, unchanged: [`write_request`] makes the bytes,
//! [`ResponseParser::feed`] takes whatever arrived.
//!
//! ## A non-blocking connect, done right
//!
//! `connect` on a non-blocking socket does not wait for the handshake: it fails with
//! `EINPROGRESS` ("started"), and the socket becomes **writable** when the handshake ends
//! — *whether it succeeded or not*. So "writable" is not "connected". The machine then
//! asks the socket for its pending error (`SO_ERROR`, [`Socket::take_error`]): an
//! error means the connect failed (refused, unreachable, timed out in the kernel). No
//! error and a peer address means connected. No error and no peer address means the
//! wake-up came early: keep waiting for writable.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use socket2::{Domain, Protocol, SockRef, Socket, Type};
use sockets::http::{
    HttpError, Limits, Method, Parsed, RequestHead, Response, ResponseParser, write_request,
};

/// The `User-Agent` of this lesson's downloads.
pub const USER_AGENT: &str = concat!("course-event-loop/", env!("CARGO_PKG_VERSION"));

/// A non-blocking TCP stream a download can run on: std's `TcpStream` (steps 1 and 2,
/// watched by `poll(2)`) or mio's (step 3, registered with epoll). Both are a socket
/// descriptor that reads and writes; the socket's error and peer address come from the
/// descriptor itself (socket2's [`SockRef`]).
pub trait Stream: Read + Write + AsFd + From<OwnedFd> {}

impl<S: Read + Write + AsFd + From<OwnedFd>> Stream for S {}

/// What a download waits for before it can go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// Bytes to read (or the end of the stream).
    Read,
    /// Room in the send buffer; while connecting, the end of the handshake.
    Write,
}

/// What [`Download::advance`] reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// It cannot go on before its socket is ready for this.
    Wait(Want),
    /// It is over, well or badly: [`Download::into_result`] tells which.
    Done,
}

/// Why a download failed, and where.
#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    #[error("cannot connect to {addr}: {source}")]
    Connect {
        addr: SocketAddr,
        #[source]
        source: io::Error,
    },
    #[error("{doing} {addr} failed: {source}")]
    Io {
        addr: SocketAddr,
        doing: &'static str,
        #[source]
        source: io::Error,
    },
    #[error("{addr} closed the connection before sending any response")]
    Closed { addr: SocketAddr },
    #[error("bad response from {addr}: {source}")]
    Http {
        addr: SocketAddr,
        #[source]
        source: HttpError,
    },
    #[error("no answer from {addr} in time: still {doing} after {waited:?}")]
    Timeout {
        addr: SocketAddr,
        doing: &'static str,
        waited: Duration,
    },
    #[error("{target} from {addr}: status {status}, expected 200")]
    Status {
        addr: SocketAddr,
        target: String,
        status: u16,
    },
    #[error("{target} from {addr}: {problem}")]
    Corrupt {
        addr: SocketAddr,
        target: String,
        problem: &'static str,
    },
    #[error("{target} was never started: the run's deadline came first")]
    NotStarted { target: String },
}

/// One GET over one non-blocking TCP connection, advanced by whoever drives it.
#[derive(Debug)]
pub struct Download<S = TcpStream> {
    stream: S,
    addr: SocketAddr,
    /// The whole request, made once; `Writing` says how much of it the kernel took.
    request: Vec<u8>,
    state: State,
    started: Instant,
    deadline: Instant,
}

#[derive(Debug)]
enum State {
    Connecting,
    Writing {
        written: usize,
    },
    /// Boxed: the parser carries the response being built (head, headers, body so far),
    /// and the other states should not all pay for its size.
    Reading {
        parser: Box<ResponseParser>,
    },
    Done(Result<Response, DownloadError>),
}

impl<S: Stream> Download<S> {
    /// Starts connecting to `addr` to `GET target` (with `Host: host`), and returns at
    /// once: nothing is sent yet. Fails only if the socket cannot even be made (no file
    /// descriptor left) or the kernel refuses the connect outright. `started` is the
    /// instant its time is counted from (the one `deadline` was computed from, so that a
    /// download given up at its deadline reports having waited its whole time limit).
    pub fn start(
        addr: SocketAddr,
        host: &str,
        target: &str,
        started: Instant,
        deadline: Instant,
    ) -> Result<Download<S>, DownloadError> {
        let stream =
            start_connect(addr).map_err(|source| DownloadError::Connect { addr, source })?;
        // std's stream or mio's: the same descriptor, handed over.
        let stream = S::from(OwnedFd::from(stream));
        let mut request = Vec::with_capacity(128);
        write_request(
            &RequestHead {
                method: Method::Get,
                host,
                target,
                // One document per connection: the server may close after answering,
                // and the loop does not have to track which connections are reusable.
                keep_alive: false,
                user_agent: USER_AGENT,
            },
            &mut request,
        );
        Ok(Download {
            stream,
            addr,
            request,
            state: State::Connecting,
            started,
            deadline,
        })
    }

    // ANCHOR: advance_send
    /// Goes as far as it can without waiting. `buf` is scratch space for reading: one
    /// buffer for the whole loop, not one per connection, since a connection's bytes go
    /// straight to its parser.
    pub fn advance(&mut self, buf: &mut [u8]) -> Progress {
        loop {
            match &mut self.state {
                State::Connecting => match connect_finished(&SockRef::from(&self.stream)) {
                    Ok(true) => self.state = State::Writing { written: 0 },
                    Ok(false) => return Progress::Wait(Want::Write),
                    Err(source) => {
                        let addr = self.addr;
                        self.state = State::Done(Err(DownloadError::Connect { addr, source }));
                    }
                },
                State::Writing { written } => {
                    match write_until_blocked(&mut self.stream, &self.request, written) {
                        Ok(true) => {
                            let parser = ResponseParser::new(Method::Get, Limits::default());
                            self.state = State::Reading {
                                parser: Box::new(parser),
                            };
                        }
                        Ok(false) => return Progress::Wait(Want::Write),
                        Err(source) => {
                            self.state = State::Done(Err(DownloadError::Io {
                                addr: self.addr,
                                doing: "sending the request to",
                                source,
                            }));
                        }
                    }
                }
                // ANCHOR_END: advance_send
                // ANCHOR: advance_receive
                State::Reading { parser } => {
                    match read_until_blocked(&mut self.stream, self.addr, parser, buf) {
                        Ok(None) => return Progress::Wait(Want::Read),
                        Ok(Some(response)) => self.state = State::Done(Ok(response)),
                        Err(error) => self.state = State::Done(Err(error)),
                    }
                }
                State::Done(_) => return Progress::Done,
            }
        }
    }
    // ANCHOR_END: advance_receive

    /// What it waits for now; `None` once done.
    pub fn wants(&self) -> Option<Want> {
        match self.state {
            State::Connecting | State::Writing { .. } => Some(Want::Write),
            State::Reading { .. } => Some(Want::Read),
            State::Done(_) => None,
        }
    }

    /// Whether it is over (call [`into_result`](Self::into_result)).
    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Done(_))
    }

    /// What it is doing, in words, for messages.
    pub fn doing(&self) -> &'static str {
        match self.state {
            State::Connecting => "connecting",
            State::Writing { .. } => "sending the request",
            State::Reading { .. } => "reading the response",
            State::Done(_) => "done",
        }
    }

    /// When it must be over; the loop enforces it ([`into_result`](Self::into_result)
    /// of an unfinished download is a timeout).
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// The server's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The socket, e.g. to put it in a `poll(2)` list.
    pub fn stream(&self) -> &S {
        &self.stream
    }

    /// The socket, mutably, e.g. to register it with mio.
    pub fn stream_mut(&mut self) -> &mut S {
        &mut self.stream
    }

    /// The response or the error; for a download that is not done (its deadline passed,
    /// the loop gave up on it) a [`DownloadError::Timeout`] saying where it was stuck.
    /// Dropping the download closes its socket.
    pub fn into_result(self) -> Result<Response, DownloadError> {
        let doing = self.doing();
        match self.state {
            State::Done(result) => result,
            _ => Err(DownloadError::Timeout {
                addr: self.addr,
                doing,
                waited: self.started.elapsed(),
            }),
        }
    }
}

impl<S: AsFd> AsFd for Download<S> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.stream.as_fd()
    }
}

// ANCHOR: start_connect
/// A TCP socket that has *started* to connect to `addr`, without waiting for the
/// handshake. It is non-blocking from the start, so `connect` returns at once.
pub fn start_connect(addr: SocketAddr) -> io::Result<TcpStream> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_nonblocking(true)?;
    // The request is small and sent whole: do not let Nagle's algorithm hold it back.
    socket.set_tcp_nodelay(true)?;
    match socket.connect(&addr.into()) {
        // On loopback the handshake may even be over before `connect` returns.
        Ok(()) => {}
        Err(e) if connect_in_progress(&e) => {}
        Err(e) => return Err(e),
    }
    Ok(socket.into())
}

/// `EINPROGRESS`: the handshake has begun and will end later. `EINTR`: a signal came
/// during `connect`; the handshake goes on anyway (connect(2)), and ends the same way.
fn connect_in_progress(e: &io::Error) -> bool {
    e.raw_os_error()
        .is_some_and(|code| code == Errno::EINPROGRESS as i32 || code == Errno::EINTR as i32)
}

/// After a writable wake-up: `Ok(true)` if connected, `Ok(false)` if still connecting
/// (the wake-up was early), `Err` with the reason if the connect failed.
fn connect_finished(socket: &Socket) -> io::Result<bool> {
    // SO_ERROR: the handshake's failure, if any (reading it clears it).
    if let Some(error) = socket.take_error()? {
        return Err(error);
    }
    match socket.peer_addr() {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == ErrorKind::NotConnected => Ok(false),
        Err(e) => Err(e),
    }
}
// ANCHOR_END: start_connect

/// Writes until all of `bytes` is sent (`Ok(true)`) or the send buffer is full
/// (`Ok(false)`); `written` keeps the count across calls.
fn write_until_blocked(
    out: &mut impl Write,
    bytes: &[u8],
    written: &mut usize,
) -> io::Result<bool> {
    while let Some(rest) = bytes.get(*written..).filter(|rest| !rest.is_empty()) {
        match out.write(rest) {
            Ok(0) => return Err(ErrorKind::WriteZero.into()),
            Ok(n) => *written += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(false),
            // A signal interrupted the call before it did anything: just try again.
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

// ANCHOR: read_until_blocked
/// Reads and parses until the response is complete (`Some`) or nothing more is there
/// yet (`None`). It never stops at a full buffer with bytes still waiting: under an
/// edge-triggered epoll those bytes would not be announced again.
fn read_until_blocked(
    input: &mut impl Read,
    addr: SocketAddr,
    parser: &mut ResponseParser,
    buf: &mut [u8],
) -> Result<Option<Response>, DownloadError> {
    // A read into an empty buffer returns 0, which looks like the end of the stream.
    let mut fallback = [0u8; 1024];
    let buf = if buf.is_empty() {
        &mut fallback[..]
    } else {
        buf
    };
    loop {
        let n = match input.read(buf) {
            Ok(0) => return end_of_stream(parser, addr).map(Some),
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(None),
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(source) => {
                return Err(DownloadError::Io {
                    addr,
                    doing: "reading the response from",
                    source,
                });
            }
        };
        match parser.feed(&buf[..n]) {
            Ok(Parsed::NeedMore) => {}
            // Bytes after the response (`used < n`) would belong to a next response we
            // did not ask for: they are dropped with the connection.
            Ok(Parsed::Done { message, .. }) => return Ok(Some(message)),
            Err(source) => return Err(DownloadError::Http { addr, source }),
        }
    }
}
// ANCHOR_END: read_until_blocked

/// The server closed: a body delimited by the close ends here; anything else is cut off.
fn end_of_stream(parser: &mut ResponseParser, addr: SocketAddr) -> Result<Response, DownloadError> {
    match parser.finish() {
        Ok(Some(response)) => Ok(response),
        Ok(None) => Err(DownloadError::Closed { addr }),
        Err(source) => Err(DownloadError::Http { addr, source }),
    }
}
