//! Two tasks written by hand: a sleeper, and the download of one document.
//!
//! A task keeps its place in its own fields, because `step` returns each time it must
//! wait and starts from the top the next time. The download's place is a `Stage`:
//!
//! ```text
//!   Start ──connect()──► Connecting ──connected──► Sending ──request sent──► Receiving ──► Finished
//!                          │   ▲                     │  ▲                     │  ▲
//!                    Writable(s)│              Writable(s)│              Readable(s)│
//!                          └───┘ (not yet)           └──┘ (WouldBlock)        └──┘ (WouldBlock)
//! ```
//!
//! Each arrow back is a `return Step::...`: the task gives the thread back, and the
//! scheduler runs it again when the socket is ready. Compare with step 7's `async fn`,
//! where the compiler builds this enum from the `.await` points.

use std::cell::RefCell;
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use sockets::http::{Limits, Method, Parsed, ResponseParser};

use super::fetch::{FetchError, check, end_of_stream, write_get};
use super::scheduler::{Ctx, Scheduler, SchedulerError, SocketId, Step, Task, TaskId};

/// Where a task leaves its result: tasks return nothing (a `Step`), so a task that
/// computes something writes it into a slot that the spawner keeps a clone of. (Step 7's
/// `JoinHandle<T>` is this slot, made part of the machinery.)
#[derive(Debug)]
pub struct Slot<T>(Rc<RefCell<Option<T>>>);

impl<T> Slot<T> {
    pub fn new() -> Slot<T> {
        Slot(Rc::new(RefCell::new(None)))
    }

    pub fn put(&self, value: T) {
        *self.0.borrow_mut() = Some(value);
    }

    /// The value, if the task has put it there.
    pub fn take(&self) -> Option<T> {
        self.0.borrow_mut().take()
    }
}

impl<T> Clone for Slot<T> {
    fn clone(&self) -> Slot<T> {
        Slot(self.0.clone())
    }
}

impl<T> Default for Slot<T> {
    fn default() -> Slot<T> {
        Slot::new()
    }
}

// ANCHOR: sleeper
/// Sleeps `naps` times for `nap` each, then writes its label into a shared log.
#[derive(Debug)]
pub struct Sleeper {
    label: u64,
    nap: Duration,
    naps: u32,
    log: Slot<Vec<u64>>,
}

impl Sleeper {
    /// A sleeper that logs `label` into `log` when it has slept `naps` times `nap`.
    pub fn new(label: u64, nap: Duration, naps: u32, log: &Slot<Vec<u64>>) -> Sleeper {
        Sleeper {
            label,
            nap,
            naps,
            log: log.clone(),
        }
    }
}

impl Task for Sleeper {
    fn step(&mut self, _cx: &mut Ctx<'_>) -> Step {
        if self.naps == 0 {
            let mut log = self.log.0.borrow_mut();
            log.get_or_insert_with(Vec::new).push(self.label);
            return Step::Done;
        }
        self.naps -= 1;
        Step::sleep(self.nap)
    }
}
// ANCHOR_END: sleeper

/// How many moves (a read, a write, a change of stage) one step of a download may
/// make before it yields: a fast connection must not keep the thread from the others.
/// Cooperative scheduling means each task gives the thread back by itself.
const MOVES_PER_STEP: usize = 32;

// ANCHOR: stage
/// Where a download is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Start,
    Connecting(SocketId),
    Sending(SocketId),
    Receiving(SocketId),
    Finished,
}
// ANCHOR_END: stage

impl Stage {
    fn doing(self) -> &'static str {
        match self {
            Stage::Start | Stage::Connecting(_) => "connecting",
            Stage::Sending(_) => "sending the request",
            Stage::Receiving(_) | Stage::Finished => "receiving the response",
        }
    }
}

/// What a stage function says: go on with the next move, wait, or the end.
enum Flow {
    Continue,
    Wait(Step),
    End(Result<usize, FetchError>),
}

// ANCHOR: download
/// Downloads document `id` on a new connection: a hand-written state machine driving
/// lesson 3's codec. The result (the body's length, or why it failed) goes to a [`Slot`].
#[derive(Debug)]
pub struct Download {
    addr: SocketAddr,
    id: u64,
    time_limit: Duration,
    deadline: Option<Instant>,
    stage: Stage,
    request: Vec<u8>,
    sent: usize,
    parser: ResponseParser,
    buf: Vec<u8>,
    result: Slot<Result<usize, FetchError>>,
}

impl Download {
    /// A download of document `id` from `addr`, which fails if it takes more than
    /// `time_limit` in all; and the slot where its result will be.
    pub fn new(
        addr: SocketAddr,
        id: u64,
        time_limit: Duration,
    ) -> (Download, Slot<Result<usize, FetchError>>) {
        let result = Slot::new();
        let download = Download {
            addr,
            id,
            time_limit,
            deadline: None,
            stage: Stage::Start,
            request: Vec::new(),
            sent: 0,
            parser: ResponseParser::new(Method::Get, Limits::default()),
            buf: vec![0; 16 * 1024],
            result: result.clone(),
        };
        (download, result)
    }

    fn start(&mut self, cx: &mut Ctx<'_>) -> Flow {
        match cx.connect(self.addr) {
            Ok(socket) => {
                self.stage = Stage::Connecting(socket);
                Flow::Continue
            }
            Err(source) => Flow::End(Err(self.connect_error(source))),
        }
    }

    fn connecting(&mut self, cx: &mut Ctx<'_>, socket: SocketId) -> Flow {
        match cx.connected(socket) {
            Ok(true) => {
                write_get(self.addr, self.id, &mut self.request);
                self.stage = Stage::Sending(socket);
                Flow::Continue
            }
            Ok(false) => Flow::Wait(Step::writable(socket)),
            Err(source) => Flow::End(Err(self.connect_error(source))),
        }
    }

    fn sending(&mut self, cx: &mut Ctx<'_>, socket: SocketId) -> Flow {
        let rest = self.request.get(self.sent..).unwrap_or_default();
        if rest.is_empty() {
            self.stage = Stage::Receiving(socket);
            return Flow::Continue;
        }
        match cx.write(socket, rest) {
            Ok(0) => Flow::End(Err(io_error(
                "sending the request",
                ErrorKind::WriteZero.into(),
            ))),
            Ok(n) => {
                self.sent += n;
                Flow::Continue
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => Flow::Wait(Step::writable(socket)),
            Err(e) if e.kind() == ErrorKind::Interrupted => Flow::Continue,
            Err(e) => Flow::End(Err(io_error("sending the request", e))),
        }
    }

    // ANCHOR: receiving
    fn receiving(&mut self, cx: &mut Ctx<'_>, socket: SocketId) -> Flow {
        let n = match cx.read(socket, &mut self.buf) {
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                return Flow::Wait(Step::readable(socket));
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => return Flow::Continue,
            Err(e) => return Flow::End(Err(io_error("receiving the response", e))),
        };
        if n == 0 {
            let id = self.id;
            return Flow::End(end_of_stream(&mut self.parser).and_then(|r| check(id, &r)));
        }
        match self.parser.feed(&self.buf[..n]) {
            Ok(Parsed::NeedMore) => Flow::Continue,
            Ok(Parsed::Done { message, .. }) => Flow::End(check(self.id, &message)),
            Err(error) => Flow::End(Err(error.into())),
        }
    }
    // ANCHOR_END: receiving

    fn connect_error(&self, source: std::io::Error) -> FetchError {
        FetchError::Connect {
            addr: self.addr,
            source,
        }
    }
}

// ANCHOR: download_step
impl Task for Download {
    fn step(&mut self, cx: &mut Ctx<'_>) -> Step {
        let deadline = *self
            .deadline
            .get_or_insert_with(|| procs::deadline::from_now(self.time_limit));
        if cx.timed_out() {
            let error = FetchError::Timeout {
                doing: self.stage.doing(),
                after: self.time_limit,
            };
            return self.end(Err(error));
        }
        for _ in 0..MOVES_PER_STEP {
            let flow = match self.stage {
                Stage::Start => self.start(cx),
                Stage::Connecting(socket) => self.connecting(cx, socket),
                Stage::Sending(socket) => self.sending(cx, socket),
                Stage::Receiving(socket) => self.receiving(cx, socket),
                Stage::Finished => return Step::Done,
            };
            match flow {
                Flow::Continue => {}
                // Every wait carries the deadline: a server that never answers costs a
                // time limit, not a task stuck forever.
                Flow::Wait(step) => return step.until(deadline),
                Flow::End(result) => return self.end(result),
            }
        }
        Step::Yield
    }
}
// ANCHOR_END: download_step
// ANCHOR_END: download

impl Download {
    /// Puts the result in the slot. The socket is closed by the scheduler when the
    /// task ends.
    fn end(&mut self, result: Result<usize, FetchError>) -> Step {
        self.stage = Stage::Finished;
        self.result.put(result);
        Step::Done
    }
}

fn io_error(doing: &'static str, source: std::io::Error) -> FetchError {
    FetchError::Io { doing, source }
}

/// Downloads documents `ids` from `addr`, one task (and connection) per document, all
/// at once, each within `time_limit`. Returns each document's result, in order.
pub fn fetch_all(
    addr: SocketAddr,
    ids: &[u64],
    time_limit: Duration,
) -> Result<Vec<Result<usize, FetchError>>, SchedulerError> {
    let mut scheduler = Scheduler::new()?;
    let slots: Vec<(TaskId, Slot<_>)> = ids
        .iter()
        .map(|&id| {
            let (task, slot) = Download::new(addr, id, time_limit);
            (scheduler.spawn(task), slot)
        })
        .collect();
    scheduler.run()?;
    Ok(slots
        .into_iter()
        .map(|(task, slot)| {
            slot.take().unwrap_or_else(|| {
                Err(FetchError::Io {
                    doing: "running the task",
                    source: std::io::Error::other(format!("{task} ended without a result")),
                })
            })
        })
        .collect())
}
