//! Helpers shared by the lesson's graded tests.
//!
//! The graded tests run two ways: one test per process (`cargo xtask grade`), and all the
//! tests of a file as threads of one process (`cargo test`). Some checks need a process
//! to themselves: counting this process's open fds, closing its stdin and stdout,
//! installing a signal handler, ignoring SIGCHLD. [`in_a_fresh_process`] runs such a
//! test again as a new process of this same test binary, alone, so that what it changes
//! cannot touch the other tests, and what they do cannot blur what it measures.
//!
//! The others are small tools: a deadline against hangs ([`within`]), the CPU time and
//! wakeups of a waiting thread ([`usage_of`]), signals that interrupt a blocking call
//! ([`interrupted_by_signals`]), and what /proc says about this process's children and
//! fds.
// Each test file uses only some of these helpers.
#![allow(dead_code)]
// Signal handlers are the point of `interrupted_by_signals`; its block says why it is sound.
#![allow(unsafe_code)]

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use graded::Case;
use nix::sys::pthread::{pthread_kill, pthread_self};
use nix::sys::resource::{UsageWho, getrusage};
use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};

/// Set in the fresh process to the name of the test it runs.
const FRESH_PROCESS: &str = "PROCS_GRADED_TEST_IN_A_FRESH_PROCESS";

/// A generous deadline against hangs: a busy CI machine never needs it, a pipe end left
/// open or a lost child hits it.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// Runs `body` alone in a new process: this test binary again, told to run only the test
/// `test_name` (which must be the name of the calling test). In that process `body` may
/// change per-process state (fds, signal handlers) freely. The calling test fails if
/// `body` panics there, or has not finished within [`DEADLINE`].
pub fn in_a_fresh_process(test_name: &str, body: impl FnOnce()) {
    if std::env::var(FRESH_PROCESS).as_deref() == Ok(test_name) {
        // Written straight to fd 2 (not through the test harness, which may hold it back)
        // so that the parent knows the right test ran.
        let _ = std::io::stderr().write_all(format!("fresh process: {test_name}\n").as_bytes());
        body();
        return;
    }
    let exe = std::env::current_exe().expect("the path of this test binary");
    let mut child = Command::new(exe)
        .args([test_name, "--exact", "--nocapture", "--test-threads=1"])
        .env(FRESH_PROCESS, test_name)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start this test binary again");
    // Read stderr on a thread: a child that fills the pipe would block forever.
    let mut stderr = child.stderr.take().expect("piped stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        let _ = tx.send(text);
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the fresh process") {
            break status;
        }
        if started.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`{test_name}` did not finish in {DEADLINE:?} in its own process: a hang");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    // A program the test started may still hold stderr open: do not wait for it forever.
    let stderr = rx.recv_timeout(Duration::from_secs(2)).unwrap_or_default();
    assert!(
        stderr.contains(&format!("fresh process: {test_name}\n")),
        "the test `{test_name}` did not run in the fresh process (is the name right?):\n{stderr}"
    );
    if !status.success() {
        // What the test said there comes first (its graded check's message: input, rule,
        // what came back); the marker line is only for the check above.
        let said = stderr.replace(&format!("fresh process: {test_name}\n"), "");
        panic!(
            "{}\n(the test ran in a process of its own, which ended with {status})",
            said.trim()
        );
    }
}

/// True inside the process that [`in_a_fresh_process`] started.
pub fn in_the_fresh_process() -> bool {
    std::env::var_os(FRESH_PROCESS).is_some()
}

/// Runs `f` (a call of the learner's function) for case `c` on a helper thread, under
/// [`DEADLINE`], and returns its result. A panic in `f` fails the case as the learner's
/// ([`Case::run`]); a hang fails it with `hangs`, the likely reasons (the test goes on
/// while the helper thread stays blocked: the process ends with the test).
#[track_caller]
pub fn within<T: Send + 'static>(
    c: &Case,
    hangs: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = mpsc::channel();
    let case = c.clone();
    let worker = std::thread::spawn(move || {
        let _ = tx.send(case.run(f));
    });
    match rx.recv_timeout(DEADLINE) {
        Ok(value) => value,
        Err(mpsc::RecvTimeoutError::Timeout) => {
            c.fail_with(&format!("no answer after {DEADLINE:?}: it hangs ({hangs})"))
        }
        // `case.run` failed the case (a panic in the learner's code): pass its report on.
        Err(mpsc::RecvTimeoutError::Disconnected) => match worker.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => c.fail_with("it ended without an answer"),
        },
    }
}

/// What one thread spent while it ran something: CPU time and voluntary context switches
/// (each is one time the thread went to sleep in the kernel and was woken again).
#[derive(Debug, Clone, Copy)]
pub struct Usage {
    pub cpu: Duration,
    pub wakeups: i64,
}

fn thread_usage() -> Usage {
    let usage = getrusage(UsageWho::RUSAGE_THREAD).expect("getrusage(RUSAGE_THREAD)");
    let micros = |t: nix::sys::time::TimeVal| t.tv_sec() as u64 * 1_000_000 + t.tv_usec() as u64;
    Usage {
        cpu: Duration::from_micros(micros(usage.user_time()) + micros(usage.system_time())),
        wakeups: usage.voluntary_context_switches(),
    }
}

/// Runs `f` on the calling thread and returns what the thread spent on it. A call that
/// waits by blocking spends almost no CPU and a handful of wakeups however long it waits;
/// a call that spins burns CPU, and one that polls with short sleeps wakes up hundreds of
/// times a second.
pub fn usage_of<T>(f: impl FnOnce() -> T) -> (T, Usage) {
    let before = thread_usage();
    let value = f();
    let after = thread_usage();
    let usage = Usage {
        cpu: after.cpu.saturating_sub(before.cpu),
        wakeups: after.wakeups - before.wakeups,
    };
    (value, usage)
}

/// Most CPU time a call may burn while it waits about half a second for a child: blocking
/// costs well under 1 ms; spinning costs most of the wait.
pub const WAITING_CPU: Duration = Duration::from_millis(60);
/// Most wakeups a waiting call may have: a blocking wait has a few; polling every few
/// milliseconds has a hundred or more in half a second.
pub const WAITING_WAKEUPS: i64 = 20;

/// Fails case `c` unless `usage` is that of a thread that blocked while it waited;
/// `while_` says what it waited for ("the child ran").
#[track_caller]
pub fn waited_without_spinning(c: &Case, usage: Usage, while_: &str) {
    let c = c.rule("waiting blocks, it does not poll");
    if usage.cpu >= WAITING_CPU {
        c.fail_with(&format!(
            "{:?} of CPU burned while {while_} (less than {WAITING_CPU:?} expected): it \
             spins instead of blocking",
            usage.cpu
        ));
    }
    if usage.wakeups > WAITING_WAKEUPS {
        c.fail_with(&format!(
            "{} wakeups while {while_} (at most {WAITING_WAKEUPS} expected): it polls \
             instead of blocking",
            usage.wakeups
        ));
    }
}

static INTERRUPTIONS: AtomicUsize = AtomicUsize::new(0);

extern "C" fn count_interruption(_signal: nix::libc::c_int) {
    // An atomic add is async-signal-safe.
    // Relaxed: a count; the handler runs on the thread that reads it.
    INTERRUPTIONS.fetch_add(1, Ordering::Relaxed);
}

/// Runs `f` on the calling thread while another thread sends it SIGUSR1 every 2 ms. The
/// handler is installed *without* SA_RESTART, so every blocking call the signal lands in
/// (read, waitpid) fails with EINTR. Returns `f`'s result and how many signals arrived.
///
/// Changes this process's signal handling for good: call it only in a fresh process.
pub fn interrupted_by_signals<T>(f: impl FnOnce() -> T) -> (T, usize) {
    assert!(
        in_the_fresh_process(),
        "interrupted_by_signals changes the whole process: use it in in_a_fresh_process"
    );
    let action = SigAction::new(
        SigHandler::Handler(count_interruption),
        SaFlags::empty(), // no SA_RESTART: interrupted calls return EINTR
        SigSet::empty(),
    );
    // SAFETY: the handler only does an atomic add, which is async-signal-safe; this runs
    // in a process of its own, so no other test's signal handling is replaced.
    unsafe { sigaction(Signal::SIGUSR1, &action) }.expect("install the SIGUSR1 handler");
    // A signal mask is inherited from whatever started this process: make sure SIGUSR1
    // is not held back in this thread.
    SigSet::from(Signal::SIGUSR1)
        .thread_unblock()
        .expect("unblock SIGUSR1");
    let target = pthread_self();
    let stop = Arc::new(AtomicBool::new(false));
    let sender = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            // Relaxed: a stop flag that publishes no data; the sender is joined after the store.
            while !stop.load(Ordering::Relaxed) {
                let _ = pthread_kill(target, Signal::SIGUSR1);
                std::thread::sleep(Duration::from_millis(2));
            }
        })
    };
    // Relaxed: the handler runs on this thread (the signals target it), so its count is exact.
    let before = INTERRUPTIONS.load(Ordering::Relaxed);
    let value = f();
    stop.store(true, Ordering::Relaxed);
    sender.join().expect("the signal sender");
    (value, INTERRUPTIONS.load(Ordering::Relaxed) - before)
}

/// The processes whose parent is this process, as (pid, state letter), read from /proc.
/// Zombies (`Z`) included; a process that is already gone (`X`) is not.
pub fn my_children() -> Vec<(i32, char)> {
    let me = std::process::id() as i32;
    let proc = Path::new("/proc");
    procs::proc::pids_in(proc)
        .expect("list /proc")
        .into_iter()
        .filter_map(|pid| procs::proc::read_stat_in(proc, pid).ok())
        .filter(|stat| stat.ppid == me && stat.state != 'X')
        .map(|stat| (stat.pid, stat.state))
        .collect()
}

/// True while `pid` is a child of this process, running or a zombie: false once it has
/// been reaped.
pub fn is_my_child(pid: i32) -> bool {
    my_children().iter().any(|(child, _)| *child == pid)
}

/// This process's open fds and what each refers to (`pipe:[123]`, a path, ...).
pub fn my_fds() -> BTreeMap<i32, String> {
    fds_of("self")
}

/// The open fds of `/proc/<who>/fd` (`who` is a pid or `self`).
pub fn fds_of(who: &str) -> BTreeMap<i32, String> {
    let dir = PathBuf::from("/proc").join(who).join("fd");
    let mut fds = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).expect("list the fds") {
        let entry = entry.expect("an fd entry");
        let Some(fd) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
            continue;
        };
        // An fd closed meanwhile is not open any more: skip it.
        if let Ok(target) = std::fs::read_link(entry.path()) {
            fds.insert(fd, target.to_string_lossy().into_owned());
        }
    }
    // The fd read_dir itself held while listing (it shows as `/proc/<pid>/fd`) is not
    // one of the process's own.
    let listed = std::fs::canonicalize(&dir).unwrap_or(dir);
    fds.retain(|_, target| Path::new(target) != listed);
    fds
}

/// Parses a listing of fds into fd -> target: lines that end `<fd> -> <target>`, as
/// `ls -l /proc/<pid>/fd` prints them.
pub fn parse_fd_listing(listing: &str) -> BTreeMap<i32, String> {
    listing
        .lines()
        .filter_map(|line| {
            let (left, target) = line.split_once(" -> ")?;
            let fd = left.split_whitespace().last()?.parse().ok()?;
            Some((fd, target.trim().to_string()))
        })
        .collect()
}

/// The fds of `fds` that refer to the same object as fd `fd` (e.g. both ends of its
/// pipe: they share one `pipe:[inode]`), `fd` included.
pub fn fds_sharing(fds: &BTreeMap<i32, String>, fd: i32) -> Vec<i32> {
    let Some(target) = fds.get(&fd) else {
        return Vec::new();
    };
    fds.iter()
        .filter(|(_, t)| *t == target)
        .map(|(n, _)| *n)
        .collect()
}

/// The path of a scratch file no other test uses (named for the test and this process),
/// removed when this value is dropped, even when the test fails.
#[derive(Debug)]
pub struct ScratchFile(PathBuf);

impl std::ops::Deref for ScratchFile {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for ScratchFile {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A [`ScratchFile`] for the test `name`; removed first, in case an earlier run left it.
pub fn scratch_file(name: &str) -> ScratchFile {
    let path = std::env::temp_dir().join(format!("procs-graded-{name}-{}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    ScratchFile(path)
}
