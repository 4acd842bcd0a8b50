//! What the graded tests of this lesson share: a deadline against hangs, a way to see
//! that a thread is asleep (and not spinning), what a thread's wait cost it, a meeting
//! point that shows how many threads ran at the same time, and a way to run a test
//! alone in a process of its own, where counting the threads started means something.
//!
//! Every file in `tests/` is a crate of its own and includes this module with
//! `mod common;`. The helpers that check the learner's code (a deadline, "is it
//! asleep", "what did its wait cost") take the [`Case`] they check, so that their
//! failures, like every other graded check's, name the input, the task's rule and what
//! came back.

// Each test file compiles this whole module but calls only part of it: without this,
// every helper a file does not call would be a dead-code warning, an error under
// `-D warnings`.
#![allow(dead_code)]

use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::{Condvar, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use graded::Case;
use nix::sys::resource::{UsageWho, getrusage};

/// Runs `f` on a thread of its own and returns its result; fails `case` if `f` does not
/// finish within `secs`. Concurrency bugs (a lost wake-up, a result never sent) hang
/// rather than fail: this turns a hang into a failure with a message, and the grader's
/// own time limit never has to step in. `f` gets a copy of `case` for the checks it
/// makes on its thread.
///
/// A panic in `f` reaches the test unchanged: `f` holds the test's own checks, each of
/// which reports its case, and calls the learner's code through [`Case::run`].
#[track_caller]
pub fn within<T: Send + 'static>(
    case: &Case,
    secs: u64,
    f: impl FnOnce(Case) -> T + Send + 'static,
) -> T {
    let (tx, rx) = mpsc::channel();
    let copy = case.clone();
    let runner = std::thread::spawn(move || {
        let _ = tx.send(f(copy));
    });
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(v) => v,
        Err(mpsc::RecvTimeoutError::Timeout) => case.fail_with(&format!(
            "not done within {secs} s: a thread waits for something that never comes (a \
             lost wake-up? a result never sent?)"
        )),
        // The sender is gone without a value: `f` panicked. Its message is the failure.
        Err(mpsc::RecvTimeoutError::Disconnected) => match runner.join() {
            Err(payload) => std::panic::resume_unwind(payload),
            Ok(()) => case.fail_with("the test's thread ended without a result"),
        },
    }
}

/// Joins `handle`, a thread that runs the learner's code, within `secs`: fails `case` if
/// the thread is still running then (it waits for something that never comes), and
/// reports a panic of the thread as a panic of the learner's code on `case`.
#[track_caller]
pub fn join_within<T>(handle: JoinHandle<T>, secs: u64, case: &Case) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !handle.is_finished() {
        if Instant::now() >= deadline {
            case.fail_with(&format!(
                "still not returned {secs} s later: it waits for something that never \
                 comes (a lost wake-up?)"
            ));
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    handle
        .join()
        .unwrap_or_else(|payload| graded::rethrow(case, payload))
}

// ----- is that thread asleep? -----

/// The calling thread's id as the kernel knows it (its folder in `/proc/self/task/`).
pub fn thread_id() -> u32 {
    // `/proc/thread-self` links to `<pid>/task/<tid>`.
    let link = std::fs::read_link("/proc/thread-self").expect("/proc/thread-self");
    let tid = link.file_name().expect("a task id").to_string_lossy();
    tid.parse().expect("a numeric task id")
}

/// What [`wait_until_asleep`] saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// The thread sleeps in the kernel (state `S`): it waits for something.
    Asleep,
    /// The thread has ended.
    Exited,
}

/// The state letter of thread `tid` of this process (`R` running, `S` sleeping, ...),
/// or `None` once the thread has ended.
fn thread_state(tid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).ok()?;
    // `tid (name) S ...`: the name may hold spaces and parentheses; the state follows
    // the last `)`.
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.trim_start().chars().next()
}

/// Waits until thread `tid` of this process sleeps in the kernel or has ended, and says
/// which. A thread that blocks on a `Condvar` or a channel sleeps; one that spins
/// (re-checking in a loop, `yield_now`) stays runnable: after `secs`, `case` fails and
/// says so.
///
/// Call it when the only place the thread can sleep is the wait under test, e.g. right
/// after the thread reported its id and called the blocking method.
#[track_caller]
pub fn wait_until_asleep(tid: u32, secs: u64, case: &Case) -> Seen {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        match thread_state(tid) {
            Some('S') => return Seen::Asleep,
            // Zombie or dead: the thread has returned from everything.
            None | Some('Z' | 'X') => return Seen::Exited,
            Some(_) => {}
        }
        if Instant::now() >= deadline {
            case.fail_with(&format!(
                "never asleep in {secs} s: it stays runnable, so it spins (re-checks in a \
                 loop) instead of sleeping until it is woken"
            ));
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Spawns a thread that reports its id, then runs `f`; returns the thread and its id.
/// With `wait_until_asleep(tid, ..)` the test then sees `f` block.
pub fn spawn_watched<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> (JoinHandle<T>, u32) {
    let (tx, rx) = mpsc::channel();
    let handle = std::thread::spawn(move || {
        tx.send(thread_id()).expect("the test waits for the id");
        f()
    });
    let tid = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("a new thread reports its id");
    (handle, tid)
}

// ----- what waiting cost -----

/// What a thread spent on a stretch of its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    /// CPU time, user and kernel.
    pub cpu: Duration,
    /// Voluntary context switches: how many times the thread went to sleep. A waiter
    /// woken only when there is something to do sleeps a few times; one that polls
    /// every millisecond sleeps hundreds of times a second.
    pub sleeps: i64,
}

fn usage_now() -> Usage {
    let usage = getrusage(UsageWho::RUSAGE_THREAD).expect("getrusage(RUSAGE_THREAD)");
    let micros = |t: nix::sys::time::TimeVal| {
        Duration::from_secs(t.tv_sec() as u64) + Duration::from_micros(t.tv_usec() as u64)
    };
    Usage {
        cpu: micros(usage.user_time()) + micros(usage.system_time()),
        sleeps: usage.voluntary_context_switches(),
    }
}

/// Runs `f` on the calling thread and returns its result with what it cost that
/// thread (CPU time and sleeps), measured with `getrusage(RUSAGE_THREAD)`: other
/// threads' work does not count.
pub fn measured<T>(f: impl FnOnce() -> T) -> (T, Usage) {
    let before = usage_now();
    let value = f();
    let after = usage_now();
    let usage = Usage {
        cpu: after.cpu.saturating_sub(before.cpu),
        sleeps: after.sleeps - before.sleeps,
    };
    (value, usage)
}

/// How long a test leaves a blocked thread waiting before it lets it go on: long enough
/// that a thread polling every few milliseconds shows in its count of sleeps.
pub const WAIT: Duration = Duration::from_millis(500);

/// Most CPU time a thread may use while it waits [`WAIT`] (a sleeping waiter uses well
/// under a millisecond). On a busy machine a spinning thread may get little CPU, so
/// spinning is caught first by [`wait_until_asleep`]: a spinner is never asleep.
pub const WAIT_CPU: Duration = Duration::from_millis(50);

/// Most times a thread may go to sleep while it waits once: a few for the Condvar, the
/// mutex or the channel, not one per millisecond of waiting.
pub const WAIT_SLEEPS: i64 = 15;

/// Fails `case` if a wait cost more than a sleeping waiter's.
#[track_caller]
pub fn assert_slept(usage: Usage, case: &Case) {
    if usage.cpu >= WAIT_CPU {
        case.fail_with(&format!(
            "{:?} of CPU used during one wait of about {WAIT:?}: it spins instead of \
             sleeping until it is notified",
            usage.cpu
        ));
    }
    if usage.sleeps >= WAIT_SLEEPS {
        case.fail_with(&format!(
            "went to sleep {} times during one wait of about {WAIT:?}: it polls (sleeps a \
             little and looks again) instead of sleeping until it is notified",
            usage.sleeps
        ));
    }
}

// ----- how many at once -----

/// A meeting point that shows how many threads were inside at the same time.
///
/// Each caller of [`Meeting::attend`] counts as inside until it returns, and waits there
/// until `want` callers have been inside at once; from then on nobody waits. So when the
/// code under test runs `want` calls at the same time, they all meet and go on at
/// once; when it runs them one after another, the first waits until the `patience`
/// (counted from `new`) is over, and [`Meeting::most`] says how few met.
#[derive(Debug)]
pub struct Meeting {
    want: usize,
    give_up_at: Instant,
    state: Mutex<Attendance>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct Attendance {
    inside: usize,
    most: usize,
}

impl Meeting {
    pub fn new(want: usize, patience: Duration) -> Meeting {
        Meeting {
            want,
            give_up_at: Instant::now() + patience,
            state: Mutex::new(Attendance::default()),
            changed: Condvar::new(),
        }
    }

    /// Enters, waits until `want` callers have been inside at once (or the patience is
    /// over), leaves.
    pub fn attend(&self) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.inside += 1;
        state.most = state.most.max(state.inside);
        self.changed.notify_all();
        while state.most < self.want {
            let Some(left) = self.give_up_at.checked_duration_since(Instant::now()) else {
                break;
            };
            state = self
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        state.inside -= 1;
    }

    /// The most callers that were inside at the same time.
    pub fn most(&self) -> usize {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).most
    }
}

// ----- alone in a process -----

/// Set in the environment of the child process that [`rerun_alone`] starts.
const ALONE: &str = "THREADS_GRADED_TEST_ALONE";

/// Whether this process is the child that [`rerun_alone`] started: the test then does
/// its measurement and prints it, instead of starting a child.
pub fn running_alone() -> bool {
    std::env::var_os(ALONE).is_some()
}

/// Runs test `name` of this test binary again, alone, in a child process, and returns
/// what it printed on stdout. Fails the test if the child fails or takes more than
/// `secs` (it is then killed and reaped). Under `cargo test`, tests share a process and
/// start threads at the same time; alone, every thread started is the test's own.
pub fn rerun_alone(name: &str, secs: u64) -> String {
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut child = Command::new(exe)
        .args(["--exact", name, "--nocapture", "--test-threads", "1"])
        .env(ALONE, "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the test binary again");
    let mut stdout = child.stdout.take().expect("a pipe");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let deadline = Instant::now() + Duration::from_secs(secs);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{name}, run alone in a child process, did not finish within {secs} s");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let text = reader.join().expect("the reader thread");
    assert!(
        status.success(),
        "{name}, run alone in a child process, failed ({status}):\n{text}"
    );
    text
}

/// How many threads this process has started so far (`std` numbers every thread it
/// starts, in order: the number of a new thread tells how many came before it).
pub fn threads_started() -> u64 {
    let id = std::thread::spawn(|| std::thread::current().id())
        .join()
        .expect("an empty thread");
    // `ThreadId(17)`: the number is only shown by Debug (`as_u64` is unstable).
    let text = format!("{id:?}");
    text.trim_start_matches("ThreadId(")
        .trim_end_matches(')')
        .parse()
        .expect("ThreadId(N)")
}
