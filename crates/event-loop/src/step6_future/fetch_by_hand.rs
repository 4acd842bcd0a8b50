//! One fetch written twice: as an `async fn`, and as the state machine the compiler makes
//! of it, written by hand.
//!
//! The fetch is step 5's download and step 7's exchange, for one document on a new
//! connection: connect, write `GET`, read until lesson 3's codec has a whole response,
//! check it. [`fetch`] says it in straight-line code with three `.await`s. [`FetchByHand`]
//! is what those `.await`s become: an `enum` with a state for each place where the
//! function can stop, each state holding what the rest of the function needs from there,
//! and a `poll` that runs from the current state until it must wait.
//!
//! ```text
//!  Start ─start_connect─► Connecting ─connected─► Writing ─all sent─► Reading ─response─► Done
//!                           │     ▲                 │   ▲               │   ▲
//!                           └─────┘                 └───┘               └───┘
//!                           Pending                 Pending             Pending, or more bytes
//! ```
//!
//! Neither has a time limit of its own: each is a future like any other, so step 7's
//! [`timeout`] wraps either one, as [`fetch_both`] does.

use std::future::Future;
use std::io::{self, ErrorKind};
use std::mem;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use sockets::http::{Limits, Method, Parsed, Response, ResponseParser};

use crate::step5_scheduler::fetch::{FetchError, check, end_of_stream, write_get};
use crate::step7_executor::{TcpStream, timeout};

/// Bytes asked for by each read: a document (at most 16 KiB) arrives in a few reads.
const READ_BUF: usize = 16 * 1024;

const WRITING: &str = "writing the request";
const READING: &str = "reading the response";

// ANCHOR: fetch_async
/// Fetches document `id` from the corpus server at `addr` on a new connection; returns
/// its body, checked against its checksum.
///
/// The compiler turns this function into a type of its own that implements `Future`: an
/// enum with one variant before the first poll (holding the arguments `addr` and `id`),
/// one for each `.await` where it can stop (holding every local still needed after that
/// point, and the future being awaited), and one after the return. Its `poll` is a loop
/// over a `match` on that enum, as [`FetchByHand`]'s is.
pub async fn fetch(addr: SocketAddr, id: u64) -> Result<Vec<u8>, FetchError> {
    // Stop 1 (Connecting): holds `addr`, `id`, and the future of `connect`.
    let mut stream = TcpStream::connect(addr)
        .await
        .map_err(|source| FetchError::Connect { addr, source })?;
    let mut request = Vec::new();
    write_get(addr, id, &mut request);
    // Stop 2 (Writing): holds `stream`, `request`, and the future of `write_all`, which
    // borrows both.
    stream
        .write_all(&request)
        .await
        .map_err(|e| io_error(WRITING, e))?;
    let mut parser = ResponseParser::new(Method::Get, Limits::default());
    let mut buf = vec![0; READ_BUF];
    loop {
        // Stop 3 (Reading): holds `id`, `stream`, `parser`, `buf`, `request` too (it is
        // dropped at the end of its scope, so it is kept until then), and the future of
        // `read`, which borrows `stream` and `buf`: references into the future itself.
        let n = stream
            .read(&mut buf)
            .await
            .map_err(|e| io_error(READING, e))?;
        if n == 0 {
            return end_of_stream(&mut parser).and_then(|response| verified(id, response));
        }
        if let Parsed::Done { message, .. } = parser.feed(&buf[..n])? {
            return verified(id, message);
        }
    }
}
// ANCHOR_END: fetch_async

// ANCHOR: state
/// Where a [`FetchByHand`] is, and what it holds there: what the rest of the fetch
/// needs, nothing more. The address and the id, which every state needs, are in
/// `FetchByHand` itself.
///
/// Like every enum, and like the compiler's own, it is as large as its largest state
/// (`Reading`, with the codec) plus a tag. Boxing the codec would make the others
/// smaller at the cost of an allocation per fetch; the compiler does not box, so
/// neither does this copy of what it makes.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
enum State {
    /// Made, not yet polled: a future does nothing until it is polled (and the socket
    /// can only be registered with a reactor from inside `block_on`).
    Start,
    /// The handshake is under way: the socket.
    Connecting { stream: TcpStream },
    /// The request, and how many of its bytes the kernel took so far.
    Writing {
        stream: TcpStream,
        request: Vec<u8>,
        written: usize,
    },
    /// The codec, fed by every read, and the buffer the reads land in.
    Reading {
        stream: TcpStream,
        parser: ResponseParser,
        buf: Vec<u8>,
    },
    /// Returned `Ready`.
    Done,
}
// ANCHOR_END: state

/// The fetch of [`fetch`], as a state machine written by hand.
#[derive(Debug)]
pub struct FetchByHand {
    addr: SocketAddr,
    id: u64,
    state: State,
}

impl FetchByHand {
    /// A fetch of document `id` from `addr`. Nothing happens until it is polled.
    pub fn new(addr: SocketAddr, id: u64) -> FetchByHand {
        FetchByHand {
            addr,
            id,
            state: State::Start,
        }
    }
}

/// What one move of the machine says.
enum Move {
    /// Go on at once from this state: it may have work ready (the request was taken,
    /// more bytes may be waiting).
    Next(State),
    /// Stay in this state: a poll method returned `Pending`, after leaving the task's
    /// waker with the reactor.
    Wait(State),
    /// The fetch is over.
    Finished(Result<Vec<u8>, FetchError>),
}

// ANCHOR: poll
impl Future for FetchByHand {
    type Output = Result<Vec<u8>, FetchError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // Nothing in a `FetchByHand` points into a `FetchByHand`: the stream, the request
        // and the buffer are owned values (the bytes on the heap). So it is `Unpin`, the
        // pin promises nothing here, and `get_mut` gives the plain `&mut`.
        let this = self.get_mut();
        // Each turn moves forward (a state, bytes written, bytes fed to the codec, whose
        // limits bound them), and each socket operation spends the task's budget, after
        // which it says `Pending`: the loop ends.
        loop {
            // A move takes the state by value, to move the stream into the next state;
            // `Done` stands in meanwhile, and stays if the fetch is over.
            let state = mem::replace(&mut this.state, State::Done);
            match this.step(state, cx) {
                Move::Next(next) => this.state = next,
                Move::Wait(same) => {
                    this.state = same;
                    // Only here, and only because a poll method just returned `Pending`:
                    // it tried the system call and saw `WouldBlock` (or the reactor knew
                    // it would), and left `cx.waker()` in the socket's slot. A `Pending`
                    // with no waker left anywhere would be a sleep that nobody ends.
                    return Poll::Pending;
                }
                Move::Finished(result) => return Poll::Ready(result),
            }
        }
    }
}
// ANCHOR_END: poll

impl FetchByHand {
    // ANCHOR: step_connect
    /// One move from `state`: what the code between two `.await`s of [`fetch`] does.
    fn step(&self, state: State, cx: &mut Context<'_>) -> Move {
        match state {
            State::Start => match TcpStream::start_connect(self.addr) {
                Ok(stream) => Move::Next(State::Connecting { stream }),
                Err(source) => Move::Finished(Err(self.connect_error(source))),
            },
            State::Connecting { stream } => match stream.poll_connect(cx) {
                Poll::Pending => Move::Wait(State::Connecting { stream }),
                Poll::Ready(Err(source)) => Move::Finished(Err(self.connect_error(source))),
                Poll::Ready(Ok(())) => {
                    let mut request = Vec::new();
                    write_get(self.addr, self.id, &mut request);
                    Move::Next(State::Writing {
                        stream,
                        request,
                        written: 0,
                    })
                }
            },
            // ANCHOR_END: step_connect
            // ANCHOR: step_write
            State::Writing {
                mut stream,
                request,
                written,
            } => {
                let rest = request.get(written..).unwrap_or_default();
                if rest.is_empty() {
                    return Move::Next(State::Reading {
                        stream,
                        parser: ResponseParser::new(Method::Get, Limits::default()),
                        buf: vec![0; READ_BUF],
                    });
                }
                match stream.poll_write(cx, rest) {
                    Poll::Pending => Move::Wait(State::Writing {
                        stream,
                        request,
                        written,
                    }),
                    Poll::Ready(Ok(0)) => {
                        Move::Finished(Err(io_error(WRITING, ErrorKind::WriteZero.into())))
                    }
                    Poll::Ready(Ok(n)) => Move::Next(State::Writing {
                        stream,
                        request,
                        written: written + n,
                    }),
                    Poll::Ready(Err(e)) => Move::Finished(Err(io_error(WRITING, e))),
                }
            }
            // ANCHOR_END: step_write
            // ANCHOR: step_read
            State::Reading {
                mut stream,
                mut parser,
                mut buf,
            } => match stream.poll_read(cx, &mut buf) {
                Poll::Pending => Move::Wait(State::Reading {
                    stream,
                    parser,
                    buf,
                }),
                Poll::Ready(Err(e)) => Move::Finished(Err(io_error(READING, e))),
                Poll::Ready(Ok(0)) => Move::Finished(
                    end_of_stream(&mut parser).and_then(|response| verified(self.id, response)),
                ),
                Poll::Ready(Ok(n)) => match parser.feed(&buf[..n]) {
                    Ok(Parsed::NeedMore) => Move::Next(State::Reading {
                        stream,
                        parser,
                        buf,
                    }),
                    Ok(Parsed::Done { message, .. }) => Move::Finished(verified(self.id, message)),
                    Err(error) => Move::Finished(Err(error.into())),
                },
            },
            // The compiler's version panics too ("`async fn` resumed after completion"):
            // a finished future has nothing left to give, and asking is the caller's bug.
            State::Done => panic!("a FetchByHand was polled after it returned Ready"),
        }
    }
    // ANCHOR_END: step_read

    fn connect_error(&self, source: io::Error) -> FetchError {
        FetchError::Connect {
            addr: self.addr,
            source,
        }
    }
}

/// The body of `response`, once it is checked as document `id`.
fn verified(id: u64, response: Response) -> Result<Vec<u8>, FetchError> {
    check(id, &response)?;
    Ok(response.body)
}

fn io_error(doing: &'static str, source: io::Error) -> FetchError {
    FetchError::Io { doing, source }
}

/// What the two fetches gave for the same documents.
#[derive(Debug, Default)]
pub struct Agreement {
    /// Documents asked for.
    pub asked: u64,
    /// Documents both fetches returned, checked, with the same bytes.
    pub same: u64,
    /// Body bytes [`FetchByHand`] returned, over every document it fetched.
    pub bytes_by_hand: u64,
    /// Body bytes [`fetch`] returned, over every document it fetched.
    pub bytes_async: u64,
    /// Documents that both fetches returned, but with different bodies.
    pub differ: Vec<u64>,
    /// Each failed fetch: the document, which fetch ("by hand" or "async fn"), and why.
    pub failures: Vec<(u64, &'static str, FetchError)>,
}

impl Agreement {
    fn record(
        &mut self,
        id: u64,
        by_hand: Result<Vec<u8>, FetchError>,
        by_async: Result<Vec<u8>, FetchError>,
    ) {
        let bytes = |result: &Result<Vec<u8>, FetchError>| result.as_ref().map_or(0, Vec::len);
        self.bytes_by_hand += bytes(&by_hand) as u64;
        self.bytes_async += bytes(&by_async) as u64;
        match (by_hand, by_async) {
            (Ok(a), Ok(b)) if a == b => self.same += 1,
            (Ok(_), Ok(_)) => self.differ.push(id),
            (by_hand, by_async) => {
                for (which, result) in [("by hand", by_hand), ("async fn", by_async)] {
                    if let Err(error) = result {
                        self.failures.push((id, which, error));
                    }
                }
            }
        }
    }
}

// ANCHOR: fetch_both
/// Fetches each of `ids` from `addr` twice, by hand and with the `async fn`, each fetch
/// within `limit`, and compares what they returned. One document at a time: this is a
/// comparison, not a race.
pub async fn fetch_both(addr: SocketAddr, ids: &[u64], limit: Duration) -> Agreement {
    let mut agreement = Agreement {
        asked: ids.len() as u64,
        ..Agreement::default()
    };
    for &id in ids {
        let by_hand = within(limit, FetchByHand::new(addr, id)).await;
        let by_async = within(limit, fetch(addr, id)).await;
        agreement.record(id, by_hand, by_async);
    }
    agreement
}
// ANCHOR_END: fetch_both

/// `fetch` within `limit`: step 7's `timeout` takes the hand-written future as it takes
/// the compiler's.
async fn within(
    limit: Duration,
    fetch: impl Future<Output = Result<Vec<u8>, FetchError>>,
) -> Result<Vec<u8>, FetchError> {
    timeout(limit, fetch)
        .await
        .unwrap_or(Err(FetchError::Timeout {
            doing: "fetching",
            after: limit,
        }))
}
