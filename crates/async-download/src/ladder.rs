//! The ladder: what one *waiting* unit of concurrency costs in memory, from a process
//! down to a hand-made state machine, measured in one run.
//!
//! The course began with the claim that processes are so heavy that memory runs out.
//! Each lesson since has offered a lighter way to wait for the network; this module
//! puts them side by side, each waiting the way it would in a downloader:
//!
//! - a **process** blocked on a pipe (lesson 1, [`procs::idle`]): its own pages and the
//!   kernel's memory for it (page tables, kernel stack, kernel objects);
//! - a **thread** parked at a gate (lesson 2, [`threads::idle`]): its stack's resident
//!   pages and the kernel's memory for it;
//! - a **hand-made state machine** (lesson 4's [`Download`]) that has sent its request
//!   and waits for the response: its struct, its request, its parser;
//! - a **tokio task** awaiting a channel: the task's header and its future, on the heap.
//!
//! The last two are measured as the growth of resident memory with many of them alive
//! (the kernel keeps no per-unit memory for them), each in a fresh child process
//! ([`measure_in_child`]): in a process that has run anything before, the allocator
//! reuses memory it already has, and the resident size would not grow at all. Each
//! waiting download
//! also has a socket, whatever waits on it; that is the same on every rung, so it is
//! left out, and the state machines' sockets are not counted in their figure either
//! (socket buffers are the kernel's, not in the RSS).

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use event_loop::step2_poll::{Download, Progress, Want};

/// How long the state machines may take to send their requests (to a listener on this
/// machine: milliseconds), before the experiment gives up.
const SETTLE_WITHIN: Duration = Duration::from_secs(20);

/// Why a rung could not be measured.
#[derive(Debug, thiserror::Error)]
pub enum LadderError {
    #[error("cannot read this process's memory: {0}")]
    Proc(#[from] procs::Error),
    #[error("cannot set up the experiment: {0}")]
    Io(#[from] std::io::Error),
    #[error("a state machine could not start: {0}")]
    Download(String),
    #[error("only {ready} of {asked} state machines were waiting for a response within {} s", SETTLE_WITHIN.as_secs())]
    NotSettled { ready: usize, asked: usize },
    #[error("the child that measured {rung} failed: {why}")]
    Child { rung: &'static str, why: String },
}

/// The hidden first argument of the child that measures one rung.
pub const LADDER_RUNG: &str = "--ladder-rung";

/// The rungs measured in a child of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rung {
    TokioTask,
    StateMachine,
}

impl Rung {
    fn name(self) -> &'static str {
        match self {
            Rung::TokioTask => "tokio-task",
            Rung::StateMachine => "state-machine",
        }
    }
}

/// How long a child may take to measure its rung.
const CHILD_LIMIT: Duration = Duration::from_secs(60);

/// Bytes per waiting unit of `rung`, `n` of them, measured in a fresh child process
/// (this program again, with [`LADDER_RUNG`]).
pub fn measure_in_child(rung: Rung, n: usize) -> Result<f64, LadderError> {
    let failed = |why: String| LadderError::Child {
        rung: rung.name(),
        why,
    };
    let me = std::env::current_exe()?;
    let mut command = Command::new(me);
    command.args([LADDER_RUNG, rung.name(), &n.to_string()]);
    let out = procs::bounded::output_within(command, CHILD_LIMIT, 1024)
        .map_err(|e| failed(e.to_string()))?;
    if !out.status.success() {
        return Err(failed(format!("it ended with {}", out.status)));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    text.trim()
        .parse()
        .map_err(|_| failed(format!("it printed {:?}, not a number", text.trim())))
}

/// The child's side: measures the rung its arguments name and prints bytes per unit.
pub fn child_main(args: &[String]) -> ExitCode {
    let rung = match args.first().map(String::as_str) {
        Some("tokio-task") => Some(Rung::TokioTask),
        Some("state-machine") => Some(Rung::StateMachine),
        _ => None,
    };
    let n = args
        .get(1)
        .and_then(|n| n.parse::<usize>().ok())
        .filter(|&n| n > 0);
    let (Some(rung), Some(n)) = (rung, n) else {
        eprintln!("{LADDER_RUNG} tokio-task|state-machine N: bad arguments {args:?}");
        return ExitCode::from(procs::exit::Exit::Usage);
    };
    let measured = match rung {
        Rung::TokioTask => waiting_tasks(n),
        Rung::StateMachine => waiting_state_machines(n),
    };
    match measured {
        Ok(bytes) => {
            println!("{bytes}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

/// Resident memory of this process now, in bytes.
fn rss() -> Result<u64, LadderError> {
    Ok(procs::proc::self_status()?.vm_rss)
}

// ANCHOR: tokio_tasks
/// Bytes per tokio task that waits on a channel: `n` tasks spawned on a one-thread
/// runtime, each polled once (so its future has reached the `.await` and holds there),
/// measured while all wait.
pub fn waiting_tasks(n: usize) -> Result<f64, LadderError> {
    let runtime = tokio::runtime::Builder::new_current_thread().build()?;
    runtime.block_on(async {
        let started = Arc::new(AtomicUsize::new(0));
        let mut senders = Vec::with_capacity(n);
        let before = rss()?;
        let mut tasks = Vec::with_capacity(n);
        for _ in 0..n {
            let (tx, rx) = tokio::sync::oneshot::channel::<()>();
            senders.push(tx);
            let started = started.clone();
            tasks.push(tokio::spawn(async move {
                // Relaxed: a count; every task runs on this one thread anyway.
                started.fetch_add(1, Ordering::Relaxed);
                let _ = rx.await;
            }));
        }
        // One thread runs them all: yielding lets each run up to its `.await`.
        // Relaxed: the count is all that is read, on the thread that runs the tasks.
        while started.load(Ordering::Relaxed) < n {
            tokio::task::yield_now().await;
        }
        let during = rss()?;
        drop(senders); // every receiver sees the channel closed, and its task ends
        for task in tasks {
            let _ = task.await;
        }
        Ok(during.saturating_sub(before) as f64 / n as f64)
    })
}
// ANCHOR_END: tokio_tasks

// ANCHOR: state_machines
/// Bytes per lesson-4 state machine that has sent its request and waits for the
/// response: `n` of them, connected to a listener on this machine that accepts and
/// never answers.
pub fn waiting_state_machines(n: usize) -> Result<f64, LadderError> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    // The server side: accepts every connection and holds it, answering nothing.
    let acceptor = std::thread::spawn(move || -> Vec<TcpStream> {
        let mut held = Vec::with_capacity(n);
        while held.len() < n {
            match listener.accept() {
                Ok((stream, _)) => held.push(stream),
                Err(_) => break,
            }
        }
        held
    });
    let before = rss()?;
    let machines = start_and_settle(addr, n);
    let during = rss()?;
    let machines = machines?;
    drop(machines);
    // Every machine connected, so the acceptor has taken all n and ended.
    let _held = acceptor.join();
    Ok(during.saturating_sub(before) as f64 / n as f64)
}

/// Starts `n` downloads and advances each until it waits to read the response.
fn start_and_settle(addr: SocketAddr, n: usize) -> Result<Vec<Download>, LadderError> {
    let now = Instant::now();
    let deadline = procs::deadline::after(now, SETTLE_WITHIN);
    let mut machines = Vec::with_capacity(n);
    for i in 0..n {
        let target = format!("/doc/{i}");
        let machine = Download::start(addr, "127.0.0.1", &target, now, deadline)
            .map_err(|e| LadderError::Download(e.to_string()))?;
        machines.push(machine);
    }
    // Connecting and writing take a moment: sweep until all wait to read. The scratch
    // buffer is the loop's, shared, as in lesson 4.
    let mut buf = [0u8; 4096];
    loop {
        let mut ready = 0;
        for m in &mut machines {
            match m.advance(&mut buf) {
                Progress::Wait(Want::Read) => ready += 1,
                Progress::Wait(Want::Write) => {}
                Progress::Done => return Err(LadderError::Download(m.doing().to_string())),
            }
        }
        if ready == n {
            return Ok(machines);
        }
        if Instant::now() >= deadline {
            return Err(LadderError::NotSettled { ready, asked: n });
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}
// ANCHOR_END: state_machines

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_waiting_task_and_a_waiting_machine_cost_bytes_not_pages() {
        let task = waiting_tasks(2_000).unwrap();
        assert!(task > 0.0 && task < 16_384.0, "{task} bytes per task");
        let machine = waiting_state_machines(200).unwrap();
        assert!(machine < 65_536.0, "{machine} bytes per machine");
    }
}
