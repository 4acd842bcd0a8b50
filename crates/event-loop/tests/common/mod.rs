//! What the graded tests of this lesson share.
#![allow(dead_code)] // each test file compiles this module on its own and uses a part

use std::cell::Cell;
use std::future::Future;
use std::net::{SocketAddr, TcpListener};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use graded::Case;
use sockets::corpus::document_size;
use sockets::server::{ServerConfig, ServerHandle, start};

/// Runs `body` (the learner's code under test) on a thread of its own, with a copy of
/// `case` for the checks it makes there, and returns what it returns: code that never
/// answers (a loop, or a wake-up that never comes: Pending returned without a registered
/// waker) fails `case` after `secs` instead of hanging the test. A check that fails in
/// there fails the test as it is: its message was already printed, with its case.
#[track_caller]
pub fn within<T: Send + 'static>(
    case: &Case,
    secs: u64,
    body: impl FnOnce(Case) -> T + Send + 'static,
) -> T {
    let (tx, rx) = mpsc::channel();
    let copy = case.clone();
    let thread = std::thread::spawn(move || {
        let _ = tx.send(body(copy));
    });
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(value) => value,
        Err(mpsc::RecvTimeoutError::Timeout) => case.fail_with(&format!(
            "no answer after {secs} s (is a future waiting for a wake-up that never comes?)"
        )),
        Err(mpsc::RecvTimeoutError::Disconnected) => match thread.join() {
            // resume_unwind: the panic is not printed again.
            Err(payload) => std::panic::resume_unwind(payload),
            Ok(()) => unreachable!("the thread sends its result before it ends"),
        },
    }
}

/// [`within`], for code that is not a future: when it does not answer in `secs`, the
/// failure says `suspect` (what to look at) instead of suspecting a lost wake-up.
#[track_caller]
pub fn within_saying<T: Send + 'static>(
    case: &Case,
    secs: u64,
    suspect: &str,
    body: impl FnOnce(Case) -> T + Send + 'static,
) -> T {
    let (tx, rx) = mpsc::channel();
    let copy = case.clone();
    let thread = std::thread::spawn(move || {
        let _ = tx.send(body(copy));
    });
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(value) => value,
        Err(mpsc::RecvTimeoutError::Timeout) => {
            case.fail_with(&format!("no answer after {secs} s ({suspect})"))
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => match thread.join() {
            // resume_unwind: the panic is not printed again.
            Err(payload) => std::panic::resume_unwind(payload),
            Ok(()) => unreachable!("the thread sends its result before it ends"),
        },
    }
}

// What the step tests share (the exercise tests above use `within` only).

/// The time limit of a step test run with [`bounded`]: far beyond what any of them
/// needs, so that only a hang reaches it.
pub const LIMIT: Duration = Duration::from_secs(20);

/// Runs `body` on a thread; fails if it takes longer than `limit` (instead of hanging).
/// Unlike [`within`], its message suspects no future: the scheduler of step 5 has none.
pub fn bounded<T: Send + 'static>(limit: Duration, body: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(body());
    });
    match rx.recv_timeout(limit) {
        Ok(value) => value,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("the test did not finish in {limit:?}"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("the test panicked (see above)"),
    }
}

pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Lesson 3's corpus server on 127.0.0.1 (a port the system picks), waiting
/// `latency_ms` before every reply.
pub fn server(latency_ms: u64) -> ServerHandle {
    start(ServerConfig::with_latency(Duration::from_millis(
        latency_ms,
    )))
    .expect("the corpus server starts on 127.0.0.1")
}

/// An address where nothing listens: a port that was just free.
pub fn closed_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

/// The bytes of the documents `ids`, as a verified download counts them.
pub fn sizes(ids: std::ops::Range<u64>) -> u64 {
    ids.map(|id| document_size(id) as u64).sum::<u64>()
}

// What the exercise tests share to watch a future at every poll: futures that follow a
// script, and a context to poll by hand (pinned, by reference, so the future stays alive
// and can be looked at between polls).

/// What the test sees of a [`Scripted`] future: how often it was polled, and whether it
/// was dropped.
#[derive(Debug, Default)]
pub struct Probe {
    polls: Cell<u32>,
    dropped: Cell<bool>,
}

impl Probe {
    pub fn polls(&self) -> u32 {
        self.polls.get()
    }

    pub fn dropped(&self) -> bool {
        self.dropped.get()
    }
}

/// Ready at `ready_at` in [`scripted`]: never.
pub const NEVER: u32 = u32::MAX;

/// A future that is `Pending` until its `ready_at`-th poll, then `Ready` with its value.
/// Polled again after that, it panics: polling a finished future is a bug. Its `Pending`
/// wakes nobody: it is made to be polled by hand ([`Hand`]), not by an executor.
#[derive(Debug)]
pub struct Scripted<T> {
    ready_at: u32,
    value: Option<T>,
    probe: Rc<Probe>,
}

/// A [`Scripted`] future, and the probe to watch it with.
pub fn scripted<T>(ready_at: u32, value: T) -> (Scripted<T>, Rc<Probe>) {
    let probe = Rc::new(Probe::default());
    let future = Scripted {
        ready_at,
        value: Some(value),
        probe: probe.clone(),
    };
    (future, probe)
}

impl<T: Unpin> Future for Scripted<T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<T> {
        let this = self.get_mut();
        let polls = this.probe.polls.get() + 1;
        this.probe.polls.set(polls);
        assert!(
            this.value.is_some(),
            "a future was polled again after it returned Ready (poll {polls})"
        );
        if polls >= this.ready_at {
            Poll::Ready(this.value.take().expect("checked above"))
        } else {
            Poll::Pending
        }
    }
}

impl<T> Drop for Scripted<T> {
    fn drop(&mut self) {
        self.probe.dropped.set(true);
    }
}

/// A context to poll futures by hand, whose waker counts the wakes it receives.
#[derive(Debug)]
pub struct Hand {
    wakes: Arc<WakeCount>,
    waker: Waker,
}

#[derive(Debug, Default)]
struct WakeCount(AtomicUsize);

impl Wake for WakeCount {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // A count: only its atomicity matters (Relaxed would do); SeqCst is simplest.
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

impl Default for Hand {
    fn default() -> Hand {
        let wakes = Arc::new(WakeCount::default());
        let waker = Waker::from(wakes.clone());
        Hand { wakes, waker }
    }
}

impl Hand {
    /// Polls `future` once, with this hand's waker.
    pub fn poll<F: Future + ?Sized>(&self, future: Pin<&mut F>) -> Poll<F::Output> {
        future.poll(&mut Context::from_waker(&self.waker))
    }

    /// How many times the waker was woken so far.
    pub fn wakes(&self) -> usize {
        // A count: see `wake_by_ref`.
        self.wakes.0.load(Ordering::SeqCst)
    }
}

// What the exercise tests that poll by hand share.

/// A future polled by hand, as a graded test does: pinned in a box, so that it stays
/// alive between polls and the test can look at its futures in between. It counts its
/// polls, and each case it makes names the futures (`words`) and the poll.
pub struct ByHand<F: Future> {
    /// What is polled, "the Select" or "the JoinAll".
    what: &'static str,
    words: String,
    /// The rule a panic during a poll breaks, when there is one to name (the scripted
    /// futures panic when they are polled after they were ready).
    panics_break: Option<&'static str>,
    hand: Hand,
    future: Pin<Box<F>>,
    polls: u32,
}

impl<F: Future> ByHand<F>
where
    F::Output: std::fmt::Debug + PartialEq,
{
    pub fn new(what: &'static str, words: impl Into<String>, future: F) -> Self {
        ByHand {
            what,
            words: words.into(),
            panics_break: None,
            hand: Hand::default(),
            future: Box::pin(future),
            polls: 0,
        }
    }

    /// Names the rule a panic during a poll breaks.
    pub fn panics_break(mut self, rule: &'static str) -> Self {
        self.panics_break = Some(rule);
        self
    }

    /// Polls once more and checks the answer against `expected`, for the task's `rule`.
    #[track_caller]
    pub fn poll_is(&mut self, rule: &str, expected: Poll<F::Output>) {
        self.polls += 1;
        let c = graded::scene(
            format!("{}; poll {} of {}", self.words, self.polls, self.what),
            rule,
        );
        let during = match self.panics_break {
            Some(broken) => c.rule(broken),
            None => c.clone(),
        };
        let got = during.run(|| self.hand.poll(self.future.as_mut()));
        c.eq(got, expected);
    }

    /// A case for what the test sees after the last poll, for the task's `rule`.
    pub fn after(&self, rule: &str) -> Case {
        graded::scene(
            format!("{}; after poll {} of {}", self.words, self.polls, self.what),
            rule,
        )
    }

    /// How many times the future under test woke its task so far.
    pub fn wakes(&self) -> usize {
        self.hand.wakes()
    }
}

/// "1st", "2nd", "3rd", "4th": when a scripted future is ready.
pub fn nth(n: u32) -> String {
    match n {
        1 => "1st".into(),
        2 => "2nd".into(),
        3 => "3rd".into(),
        _ => format!("{n}th"),
    }
}

/// Runs `future` on an executor of the lesson's own (on this thread); returns its output
/// and how many times the executor polled. A panic in the learner's code is reported
/// with `c`.
#[track_caller]
pub fn on_the_executor<F: Future>(c: &Case, future: F) -> (F::Output, u64) {
    let executor = event_loop::step7_executor::Executor::new()
        .expect("the lesson's executor starts (epoll, eventfd)");
    let output = c
        .run(|| executor.block_on(future))
        .expect("the lesson's executor runs (epoll_wait)");
    (output, executor.stats().polls)
}
