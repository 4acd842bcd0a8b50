//! Exercise `event-loop/task-by-hand`: a task of step 5's scheduler, written by hand.
//!
//! A [`Pinger`] connects to a server and plays a few rounds of "ping N" / "pong N", with
//! a pause between rounds. Written as a blocking function it would be ten lines: connect,
//! then a loop of write, read, sleep. As a task of the scheduler it cannot block: each
//! time it would wait (for the connection, for the reply, for the end of the pause) its
//! step *returns* what it waits for, a socket or an instant, and gives the thread back.
//! The next step starts from the top, so the task keeps its place in its own fields: the
//! [`Stage`] it is in, the round, the bytes sent and received so far. Compare with
//! `Download` in `event_loop::step5_scheduler::tasks`, which does the same for one HTTP
//! request; step 7's `async fn` lets the compiler write this enum from the `.await`s.

// In your copy the bodies are `todo!()` and ignore their arguments until you write them:
// no warnings for that.
#![allow(unused_variables, unused_mut, dead_code, unused_imports)]

use std::io::{self, ErrorKind};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use event_loop::step5_scheduler::{Ctx, Slot, SocketId, Step, Task};

/// Why a [`Pinger`] failed.
#[derive(Debug, thiserror::Error)]
pub enum PingError {
    #[error("cannot connect to {addr}: {source}")]
    Connect {
        addr: SocketAddr,
        #[source]
        source: io::Error,
    },
    #[error("round {round}: {doing}: {source}")]
    Io {
        round: u32,
        doing: &'static str,
        #[source]
        source: io::Error,
    },
    #[error("round {round}: the reply should be \"pong {round}\", it is {got:?}")]
    WrongReply { round: u32, got: String },
    #[error("round {round}: the server closed the connection before its reply")]
    Closed { round: u32 },
}

/// Where a [`Pinger`] is. Each stage that waits says for what, in [`Pinger::step`]'s
/// return value; the next step finds the stage where the last one left it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Nothing done yet: the first step connects.
    Start,
    /// The connect is under way: wait until the socket is writable, then ask
    /// [`Ctx::connected`].
    Connecting(SocketId),
    /// Sending `request` ("ping N\n"), `sent` bytes of it so far.
    Sending(SocketId),
    /// Reading the reply line ("pong N\n") into `reply`, which holds what came so far.
    Receiving(SocketId),
    /// Between two rounds: sleeping until `until`, then the next round.
    Pausing { socket: SocketId, until: Instant },
    /// Over: the result is in the slot.
    Finished,
}

/// What a stage function says to [`Pinger::step`]: go on at once (in the stage it set),
/// wait (return this `Step`), or the end, with the result.
#[derive(Debug)]
pub enum Flow {
    Continue,
    Wait(Step),
    End(Result<u32, PingError>),
}

/// How many moves (a read, a write, a change of stage) one step may make before it
/// yields: cooperative scheduling means a task gives the thread back by itself.
const MOVES_PER_STEP: usize = 32;

/// The longest reply line kept: "pong 4294967295" is 15 bytes.
const MAX_REPLY: usize = 64;

/// Plays `rounds` rounds of ping-pong with the server at `addr`, `pause` apart; puts
/// `Ok(rounds)`, or the first error, into its slot.
#[derive(Debug)]
pub struct Pinger {
    addr: SocketAddr,
    rounds: u32,
    pause: Duration,
    stage: Stage,
    /// The round being played, from 1 (0 before the first).
    round: u32,
    /// "ping {round}\n".
    request: Vec<u8>,
    sent: usize,
    /// The bytes of the reply that came so far.
    reply: Vec<u8>,
    buf: [u8; 64],
    result: Slot<Result<u32, PingError>>,
}

impl Pinger {
    /// A pinger of `addr`, and the slot where its result will be.
    pub fn new(
        addr: SocketAddr,
        rounds: u32,
        pause: Duration,
    ) -> (Pinger, Slot<Result<u32, PingError>>) {
        let result = Slot::new();
        let pinger = Pinger {
            addr,
            rounds,
            pause,
            stage: Stage::Start,
            round: 0,
            request: Vec::new(),
            sent: 0,
            reply: Vec::new(),
            buf: [0; 64],
            result: result.clone(),
        };
        (pinger, result)
    }

    /// Starts the connection (no round at all: done at once).
    fn start(&mut self, cx: &mut Ctx<'_>) -> Flow {
        if self.rounds == 0 {
            return Flow::End(Ok(0));
        }
        match cx.connect(self.addr) {
            Ok(socket) => {
                self.stage = Stage::Connecting(socket);
                Flow::Continue
            }
            Err(source) => Flow::End(Err(self.connect_error(source))),
        }
    }

    /// Begins round `round` on `socket`: the request to send, nothing sent, no reply yet.
    fn begin_round(&mut self, socket: SocketId, round: u32) {
        self.round = round;
        self.request = format!("ping {round}\n").into_bytes();
        self.sent = 0;
        self.reply.clear();
        self.stage = Stage::Sending(socket);
    }

    fn connect_error(&self, source: io::Error) -> PingError {
        PingError::Connect {
            addr: self.addr,
            source,
        }
    }

    fn io_error(&self, doing: &'static str, source: io::Error) -> PingError {
        PingError::Io {
            round: self.round,
            doing,
            source,
        }
    }

    /// The connect under way: once connected, round 1 begins. Not connected yet: wait
    /// until the socket is writable. A failed connect is a [`PingError::Connect`].
    fn connecting(&mut self, cx: &mut Ctx<'_>, socket: SocketId) -> Flow {
        // BEGIN SOLUTION
        match cx.connected(socket) {
            Ok(true) => {
                self.begin_round(socket, 1);
                Flow::Continue
            }
            Ok(false) => Flow::Wait(Step::writable(socket)),
            // The error was taken from the socket (SO_ERROR): asking again would say
            // "not connected yet" and wait for an event that will never come.
            Err(source) => Flow::End(Err(self.connect_error(source))),
        }
        // END SOLUTION
    }

    /// Sends what is left of the request (a write may take only part of it); once all
    /// is sent, the reply is awaited. No room in the socket: wait until writable.
    fn sending(&mut self, cx: &mut Ctx<'_>, socket: SocketId) -> Flow {
        // BEGIN SOLUTION
        let rest = self.request.get(self.sent..).unwrap_or_default();
        if rest.is_empty() {
            self.stage = Stage::Receiving(socket);
            return Flow::Continue;
        }
        match cx.write(socket, rest) {
            Ok(0) => Flow::End(Err(
                self.io_error("sending the ping", ErrorKind::WriteZero.into())
            )),
            Ok(n) => {
                self.sent += n;
                Flow::Continue
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => Flow::Wait(Step::writable(socket)),
            Err(e) if e.kind() == ErrorKind::Interrupted => Flow::Continue,
            Err(e) => Flow::End(Err(self.io_error("sending the ping", e))),
        }
        // END SOLUTION
    }

    /// Reads what came of the reply (it may come in pieces, over several steps) until
    /// its newline; then it must be "pong N" for this round N. After the last round the
    /// result is `Ok(rounds)` at once (no pause follows the last round); after another,
    /// the pause begins. Nothing to read yet: wait until readable. The end of the stream
    /// first is [`PingError::Closed`]; more than [`MAX_REPLY`] bytes without a newline is
    /// [`PingError::WrongReply`] with what came (a server that never ends its line must
    /// not grow the buffer forever).
    fn receiving(&mut self, cx: &mut Ctx<'_>, socket: SocketId) -> Flow {
        // BEGIN SOLUTION
        let n = match cx.read(socket, &mut self.buf) {
            Ok(0) => return Flow::End(Err(PingError::Closed { round: self.round })),
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                return Flow::Wait(Step::readable(socket));
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => return Flow::Continue,
            Err(e) => return Flow::End(Err(self.io_error("receiving the pong", e))),
        };
        // Kept in a field: the rest of the line may come in a later step.
        self.reply.extend_from_slice(&self.buf[..n]);
        let Some(end) = self.reply.iter().position(|&b| b == b'\n') else {
            if self.reply.len() > MAX_REPLY {
                // A server that never ends its line must not grow this buffer forever.
                let got = String::from_utf8_lossy(&self.reply).into_owned();
                return Flow::End(Err(PingError::WrongReply {
                    round: self.round,
                    got,
                }));
            }
            return Flow::Continue;
        };
        let line = String::from_utf8_lossy(&self.reply[..end]).into_owned();
        if line != format!("pong {}", self.round) {
            return Flow::End(Err(PingError::WrongReply {
                round: self.round,
                got: line,
            }));
        }
        if self.round == self.rounds {
            return Flow::End(Ok(self.rounds));
        }
        self.stage = Stage::Pausing {
            socket,
            until: procs::deadline::from_now(self.pause),
        };
        Flow::Continue
        // END SOLUTION
    }

    /// The pause between rounds: before `until`, sleep until then (the scheduler wakes
    /// the task at that instant); from `until` on, the next round begins.
    fn pausing(&mut self, socket: SocketId, until: Instant) -> Flow {
        // BEGIN SOLUTION
        if Instant::now() < until {
            // The end of the pause is kept in the stage: a step that comes early sleeps
            // until the same instant, not a whole pause more.
            return Flow::Wait(Step::Sleep(until));
        }
        self.begin_round(socket, self.round + 1);
        Flow::Continue
        // END SOLUTION
    }
}

impl Task for Pinger {
    /// Moves through the stages until one must wait (its `Step` is returned) or the end
    /// (the result goes into the slot: `Done`). The scheduler closes the socket when the
    /// task ends.
    fn step(&mut self, cx: &mut Ctx<'_>) -> Step {
        for _ in 0..MOVES_PER_STEP {
            let flow = match self.stage {
                Stage::Start => self.start(cx),
                Stage::Connecting(socket) => self.connecting(cx, socket),
                Stage::Sending(socket) => self.sending(cx, socket),
                Stage::Receiving(socket) => self.receiving(cx, socket),
                Stage::Pausing { socket, until } => self.pausing(socket, until),
                Stage::Finished => return Step::Done,
            };
            match flow {
                Flow::Continue => {}
                Flow::Wait(step) => return step,
                Flow::End(result) => {
                    self.stage = Stage::Finished;
                    self.result.put(result);
                    return Step::Done;
                }
            }
        }
        Step::Yield
    }
}
