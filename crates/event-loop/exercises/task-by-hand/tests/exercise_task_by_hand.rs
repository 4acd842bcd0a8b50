//! Graded tests for exercise `event-loop/task-by-hand`.
//!
//! Each test runs a `Pinger` on step 5's scheduler, on a thread of its own with a time
//! limit ([`run`]): a task that waits for something that never comes fails
//! the test instead of hanging it. Its server is the test's own, on 127.0.0.1: a thread
//! that reads each ping, notes when it came, and answers as the test's script says
//! (whole, in pieces with pauses, wrongly, or not at all). The task is wrapped in a
//! [`Watched`] task that notes how long each of its steps took and how many there were.
//!
//! Every check names the server's script and the rule of the task it checks
//! ([`graded::scene`]); a panic in the task is reported as one, with that script.

#[path = "../../../tests/common/mod.rs"]
mod common;

use std::cell::RefCell;
use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::rc::Rc;
use std::sync::mpsc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use event_loop::step5_scheduler::{Ctx, Scheduler, Step, Task};
use event_loop_task_by_hand::{PingError, Pinger};
use graded::{Case, scene};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// How long the test's server waits for anything (a connection, a line) before it gives
/// up: far beyond what a working task needs, so that only a stuck one reaches it.
const PATIENCE: Duration = Duration::from_secs(8);

/// What the test's server answers to one ping.
#[derive(Debug, Clone)]
enum Answer {
    /// These pieces, with `gap` between them.
    Pieces(Vec<&'static str>, Duration),
    /// Nothing: it closes the connection.
    Close,
    /// Nothing: it resets the connection (a close with SO_LINGER 0 sends RST), so the
    /// task's read fails with ConnectionReset instead of seeing the end of the stream.
    Reset,
}

/// The right answer to ping `round`, in one piece.
fn pong(round: u32) -> Answer {
    Answer::Pieces(vec![leak(format!("pong {round}\n"))], Duration::ZERO)
}

fn leak(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

/// What the test's server saw: each line it read and when, and when it began to write
/// the last piece of each answer.
#[derive(Debug, Default)]
struct Seen {
    pings: Vec<(String, Instant)>,
    answered: Vec<Instant>,
}

/// A server on 127.0.0.1 that accepts one connection and answers the `n`-th line it
/// reads with `script[n]`, after `delay`; after the script, it reads (and notes) lines
/// until the end of the stream.
fn server(script: Vec<Answer>, delay: Duration) -> (SocketAddr, JoinHandle<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("the listener's address");
    let thread = thread::spawn(move || {
        let mut seen = Seen::default();
        let Some(stream) = accept(&listener) else {
            return seen;
        };
        stream
            .set_read_timeout(Some(PATIENCE))
            .expect("a read timeout");
        let mut writer = stream.try_clone().expect("a second handle");
        let mut reader = BufReader::new(stream);
        let mut script = script.into_iter();
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return seen, // the end, or no line for PATIENCE
                Ok(_) => seen
                    .pings
                    .push((line.trim_end().to_string(), Instant::now())),
            }
            let Some(answer) = script.next() else {
                continue; // only noting what comes
            };
            thread::sleep(delay);
            match answer {
                Answer::Close => return seen,
                Answer::Reset => {
                    let stream = reader.into_inner();
                    socket2::SockRef::from(&stream)
                        .set_linger(Some(Duration::ZERO))
                        .expect("SO_LINGER 0");
                    drop(writer);
                    drop(stream);
                    return seen;
                }
                Answer::Pieces(pieces, gap) => {
                    for (i, piece) in pieces.iter().enumerate() {
                        if i > 0 {
                            thread::sleep(gap);
                        }
                        if i + 1 == pieces.len() {
                            // Noted before the write: the task cannot have read the
                            // answer earlier, whenever this thread runs again.
                            seen.answered.push(Instant::now());
                        }
                        if writer.write_all(piece.as_bytes()).is_err() {
                            return seen;
                        }
                    }
                }
            }
        }
    });
    (addr, thread)
}

/// The one connection, or `None` after [`PATIENCE`] (a bounded loop of short looks).
fn accept(listener: &TcpListener) -> Option<TcpStream> {
    listener
        .set_nonblocking(true)
        .expect("a non-blocking listener");
    let start = Instant::now();
    while start.elapsed() < PATIENCE {
        match listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(false).expect("a blocking stream");
                return Some(stream);
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => thread::sleep(ms(5)),
            Err(_) => return None,
        }
    }
    None
}

/// The task under test, wrapped: each step's duration is noted.
struct Watched {
    task: Pinger,
    steps: Rc<RefCell<Vec<Duration>>>,
}

impl Task for Watched {
    fn step(&mut self, cx: &mut Ctx<'_>) -> Step {
        let start = Instant::now();
        let step = self.task.step(cx);
        self.steps.borrow_mut().push(start.elapsed());
        step
    }
}

/// What a run of a pinger gave: its result (`None` if it put none in its slot) and the
/// duration of each of its steps.
struct Run {
    result: Option<Result<u32, PingError>>,
    steps: Vec<Duration>,
}

/// How long a run may take: far beyond what any test needs (a second or less).
const LIMIT: Duration = Duration::from_secs(10);

/// Runs `Pinger::new(addr, rounds, pause)` alone on a scheduler, on a thread of its own:
/// a task that never ends (it waits for what never comes, or is stepped over and over)
/// fails `c` after [`LIMIT`] instead of hanging the test.
fn run(c: &Case, addr: SocketAddr, rounds: u32, pause: Duration) -> Run {
    let (tx, rx) = mpsc::channel();
    let copy = c.clone();
    let runner = thread::spawn(move || {
        let _ = tx.send(run_here(&copy, addr, rounds, pause));
    });
    match rx.recv_timeout(LIMIT) {
        Ok(run) => run,
        Err(mpsc::RecvTimeoutError::Timeout) => c.fail_with(&format!(
            "the scheduler was still running after {LIMIT:?}: the task never ended (does it \
             wait for something that never comes, or is it stepped over and over?)"
        )),
        // Its panic was reported there, with the case: end the test with it.
        Err(mpsc::RecvTimeoutError::Disconnected) => match runner.join() {
            Err(payload) => std::panic::resume_unwind(payload),
            Ok(()) => unreachable!("the runner sends its result before it ends"),
        },
    }
}

/// The run itself, on this thread.
fn run_here(c: &Case, addr: SocketAddr, rounds: u32, pause: Duration) -> Run {
    let mut scheduler = Scheduler::new().expect("the scheduler starts (epoll)");
    let (task, slot) = Pinger::new(addr, rounds, pause);
    let steps = Rc::new(RefCell::new(Vec::new()));
    scheduler.spawn(Watched {
        task,
        steps: steps.clone(),
    });
    c.run(|| scheduler.run())
        .expect("the scheduler runs (epoll_wait)");
    let steps = steps.borrow().clone();
    Run {
        result: slot.take(),
        steps,
    }
}

/// The pings the server read, in order.
fn pings(seen: &Seen) -> Vec<String> {
    seen.pings.iter().map(|(line, _)| line.clone()).collect()
}

fn server_saw(c: &Case, server: JoinHandle<Seen>) -> Seen {
    match server.join() {
        Ok(seen) => seen,
        Err(payload) => graded::rethrow(c, payload),
    }
}

#[test]
fn rounds_are_played_in_order_with_a_pause_between() {
    let c = scene(
        "Pinger::new(server, 3 rounds, pause 120 ms); the server answers each ping at once \
         with the right pong",
        "ping N, read \"pong N\", sleep the pause before the next round; Ok(rounds) at the \
         end",
    );
    let (addr, server) = server(vec![pong(1), pong(2), pong(3)], Duration::ZERO);
    let run = run(&c, addr, 3, ms(120));
    let seen = server_saw(&c, server);
    c.check(matches!(run.result, Some(Ok(3))), &run.result);
    c.rule(
        "send \"ping N\\n\" for rounds 1 to 3, in order, and nothing more (lines the server read)",
    )
    .eq(
        pings(&seen),
        vec!["ping 1".to_string(), "ping 2".into(), "ping 3".into()],
    );
    // Timers never fire early: whatever the machine's load, each ping comes at least
    // the pause after the pong before it.
    for round in 1..seen.pings.len().min(seen.answered.len() + 1) {
        let after = seen.pings[round].1 - seen.answered[round - 1];
        if after < ms(120) {
            c.rule("sleep the pause (120 ms) between a round's reply and the next ping")
                .fail_with(&format!(
                    "ping {} came {after:?} after pong {round}",
                    round + 1
                ));
        }
    }
}

#[test]
fn no_pause_follows_the_last_round() {
    let c = scene(
        "Pinger::new(server, 1 round, pause 5 s); the server answers the ping at once with \
         \"pong 1\"",
        "after the last round the result is Ok(rounds) at once: the pause is between rounds, \
         none follows the last",
    );
    let (addr, server) = server(vec![pong(1)], Duration::ZERO);
    let run = run(&c, addr, 1, ms(5000));
    let ended = Instant::now();
    let seen = server_saw(&c, server);
    c.check(matches!(run.result, Some(Ok(1))), &run.result);
    // Timers never fire early: a task that sleeps the pause after its last pong ends at
    // least 5 s after it, however fast the machine; a right one ends in milliseconds.
    if let Some(&pong) = seen.answered.last() {
        let after = ended.saturating_duration_since(pong);
        if after >= ms(5000) {
            c.fail_with(&format!(
                "the task ended {after:?} after the last pong: it slept a pause after the \
                 last round"
            ));
        }
    }
}

#[test]
fn a_reply_line_that_never_ends_is_a_wrong_reply() {
    // Two pieces of 50 bytes, 40 ms apart: the reply grows from 50 to 100 bytes, past
    // the limit without ever being 64 bytes long.
    let half = "x".repeat(50);
    let c = scene(
        format!(
            "Pinger::new(server, 2 rounds, pause 10 ms); the server answers ping 1 with \
             two pieces of 50 bytes, 40 ms apart, and no newline ({half:?} twice), then waits"
        ),
        "more than MAX_REPLY (64) bytes without a newline is WrongReply { round, got: what \
         came }, at once: the buffer must not grow forever",
    );
    let (addr, server) = server(
        vec![Answer::Pieces(
            vec![leak(half.clone()), leak(half.clone())],
            ms(40),
        )],
        Duration::ZERO,
    );
    let run = run(&c, addr, 2, ms(10));
    let seen = server_saw(&c, server);
    let right = matches!(
        &run.result,
        Some(Err(PingError::WrongReply { round: 1, got })) if got.starts_with("xxxx")
    );
    c.check(right, &run.result);
    c.rule("the first error ends the task: no ping after it (lines the server read)")
        .eq(pings(&seen), vec!["ping 1".to_string()]);
}

#[test]
fn a_reply_in_pieces_is_read_whole() {
    let c = scene(
        "Pinger::new(server, 2 rounds, pause 10 ms); the server answers each ping in three \
         pieces, 40 ms apart: \"po\", \"ng\", \" N\\n\"",
        "read the reply line until its newline, however many reads (and steps) it takes",
    );
    let pieces = |round: u32| Answer::Pieces(vec!["po", "ng", leak(format!(" {round}\n"))], ms(40));
    let (addr, server) = server(vec![pieces(1), pieces(2)], Duration::ZERO);
    let run = run(&c, addr, 2, ms(10));
    server_saw(&c, server);
    c.check(matches!(run.result, Some(Ok(2))), &run.result);
}

#[test]
fn a_wrong_reply_ends_the_task_with_an_error() {
    let c = scene(
        "Pinger::new(server, 3 rounds, pause 10 ms); the server answers ping 1 with \
         \"pong 1\", ping 2 with \"pong 7\"",
        "the reply must be \"pong N\" for this round N: another reply ends the task with \
         WrongReply { round, got }",
    );
    // A third pong for a task that takes the wrong one: it then ends, and says so.
    let (addr, server) = server(vec![pong(1), pong(7), pong(3)], Duration::ZERO);
    let run = run(&c, addr, 3, ms(10));
    let seen = server_saw(&c, server);
    let right = matches!(
        &run.result,
        Some(Err(PingError::WrongReply { round: 2, got })) if got == "pong 7"
    );
    c.check(right, &run.result);
    c.rule("the first error ends the task: no ping after it (lines the server read)")
        .eq(pings(&seen), vec!["ping 1".to_string(), "ping 2".into()]);
}

#[test]
fn the_end_of_the_stream_before_a_reply_is_an_error() {
    let c = scene(
        "Pinger::new(server, 3 rounds, pause 10 ms); the server answers ping 1, then reads \
         ping 2 and closes the connection",
        "the end of the stream before the reply ends the task with Closed { round }",
    );
    let (addr, server) = server(vec![pong(1), Answer::Close], Duration::ZERO);
    let run = run(&c, addr, 3, ms(10));
    server_saw(&c, server);
    c.check(
        matches!(run.result, Some(Err(PingError::Closed { round: 2 }))),
        &run.result,
    );
}

#[test]
fn a_reset_connection_is_an_io_error() {
    let c = scene(
        "Pinger::new(server, 3 rounds, pause 10 ms); the server answers ping 1, then reads \
         ping 2 and resets the connection (RST)",
        "an I/O error ends the task with Io { round, .. }: a failed read is neither the end \
         of the stream nor a reason to wait again",
    );
    let (addr, server) = server(vec![pong(1), Answer::Reset], Duration::ZERO);
    let run = run(&c, addr, 3, ms(10));
    server_saw(&c, server);
    c.check(
        matches!(run.result, Some(Err(PingError::Io { round: 2, .. }))),
        &run.result,
    );
}

#[test]
fn a_refused_connection_is_a_connect_error() {
    let addr = common::closed_port();
    let c = scene(
        format!("Pinger::new({addr}, 2 rounds, pause 10 ms); nothing listens at {addr}"),
        "a failed connect ends the task with PingError::Connect",
    );
    let run = run(&c, addr, 2, ms(10));
    c.check(
        matches!(run.result, Some(Err(PingError::Connect { .. }))),
        &run.result,
    );
}

#[test]
fn while_it_waits_it_is_not_stepped() {
    let c = scene(
        "Pinger::new(server, 2 rounds, pause 200 ms); the server answers each ping after \
         200 ms",
        "while nothing can happen, the task waits for its socket or its timer: the \
         scheduler does not step it (steps of the task: 20 at most, about 5 are needed)",
    );
    let (addr, server) = server(vec![pong(1), pong(2)], ms(200));
    let run = run(&c, addr, 2, ms(200));
    server_saw(&c, server);
    c.rule("ping, pong, pause: Ok(rounds) at the end")
        .check(matches!(run.result, Some(Ok(2))), &run.result);
    // Connect, reply 1, end of the pause, reply 2: about 5 steps. A task that yields
    // instead of waiting is stepped at every turn of the loop, thousands of times.
    let steps = run.steps.len();
    if steps > 20 {
        c.fail_with(&format!(
            "the task was stepped {steps} times in these 600 ms"
        ));
    }
}

#[test]
fn no_step_blocks_the_thread() {
    let c = scene(
        "Pinger::new(server, 3 rounds, pause 400 ms); the server answers each ping at once",
        "a step never blocks: the pause is a Sleep the step returns, not a sleep inside \
         the step (no step may last 200 ms)",
    );
    let (addr, server) = server(vec![pong(1), pong(2), pong(3)], Duration::ZERO);
    let run = run(&c, addr, 3, ms(400));
    server_saw(&c, server);
    c.rule("ping, pong, pause: Ok(rounds) at the end")
        .check(matches!(run.result, Some(Ok(3))), &run.result);
    // A step that does not block takes microseconds; one that sleeps the pause takes
    // 400 ms at least (a sleep never ends early).
    if let Some(longest) = run.steps.iter().max() {
        if *longest >= ms(200) {
            c.fail_with(&format!("a step lasted {longest:?}"));
        }
    }
}
