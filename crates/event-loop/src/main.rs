//! The tour of lesson 4: `cargo run --release -p event-loop [-- --quick] [-- --json]`.
//!
//! Stops waiting, step by step: the same downloads with a busy loop and with poll(2),
//! the cost of one loop turn with poll and with epoll as idle connections grow, a
//! Future written by hand next to the async fn and the sizes of futures, the waker-based
//! executor downloading with `async fn` and sleeping without spinning, and one thread
//! holding ten thousand connections next to lesson 2's threads.

use std::process::ExitCode;
use std::time::Duration;

use event_loop::claims;
use event_loop::step2_poll::Batch;
use event_loop::step3_mio::{run_holder_if_asked, turn_cost_with_child};
use event_loop::step6_future::{fetch_both, future_sizes};
use event_loop::step7_executor::{block_on, download, idle_cost};
use event_loop::step8_server::{self, C10kPlan, LoopServerConfig, run_c10k};
use event_loop::{step1_busy, step2_poll, step3_mio};
use procs::child_server::{ChildServer, announce_and_wait};
use procs::tour::{Inputs, Tour, TourArgs};

const ABOUT: &str = "Lesson 4 tour: a busy loop against poll(2), poll against epoll, a \
                     waker-based executor, and ten thousand connections on one thread.";

/// Hidden arguments: the tour's binary started again as a server.
const SERVE_CORPUS: &str = "--serve-corpus";
const SERVE_LOOP: &str = "--serve-loop";

/// How long a child server may live at most, should its parent never close its stdin.
const CHILD_LIFETIME: Duration = Duration::from_secs(600);

struct Plan {
    idle: &'static [usize],
    turns: usize,
    c10k: usize,
    executor_docs: u64,
    future_docs: u64,
}

impl Plan {
    fn new(quick: bool) -> Plan {
        if quick {
            Plan {
                idle: &[100, 1_000],
                turns: 100,
                c10k: 2_000,
                executor_docs: 2_000,
                future_docs: 200,
            }
        } else {
            Plan {
                idle: &[100, 1_000, 10_000],
                turns: 200,
                c10k: 10_000,
                executor_docs: 10_000,
                future_docs: 1_000,
            }
        }
    }
}

fn main() -> ExitCode {
    // The holder of step 3's idle connections is this binary too.
    if let Some(code) = run_holder_if_asked() {
        return code;
    }
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some(SERVE_CORPUS) => return serve_corpus(args.get(2)),
        Some(SERVE_LOOP) => return serve_loop(),
        _ => {}
    }
    let args = TourArgs::from_env(ABOUT);
    if args.falsify {
        return procs::tour::falsify("event-loop", claims::ALL, &args);
    }
    let plan = Plan::new(args.quick);
    let mut tour = Tour::start(
        "event-loop",
        "stop waiting: poll, epoll, an executor",
        args,
        5,
    );
    busy_vs_poll(&mut tour);
    turn_cost(&mut tour, &plan);
    future_by_hand(&mut tour, &plan);
    executor(&mut tour, &plan);
    c10k(&mut tour, &plan);
    tour.finish(claims::ALL)
}

/// Documents each of the three loops of step 1 to 3 downloads.
const DOCS_PER_LOOP: usize = 50;

fn busy_vs_poll(tour: &mut Tour) {
    let result = tour.experiment(
        "busy-vs-poll",
        "Step 1 and 2: spinning on WouldBlock, or sleeping in poll(2)",
        "Five downloads at a time from a server that takes 20 ms to answer, in one thread. \
         The busy loop tries every socket over and over; poll(2) sleeps until one is ready. \
         Both finish in about the same wall time; the busy loop burns a core meanwhile.",
        |exp| {
            let server = ChildServer::start(&[SERVE_CORPUS, "20"])?;
            let batch = Batch {
                concurrency: 5,
                ..Batch::new(server.addr(), 0..DOCS_PER_LOOP as u64)
            };
            let busy = step1_busy::download(&batch)?;
            let poll = step2_poll::download(&batch)?;
            let mio = step3_mio::download(&batch)?;
            server.stop();
            for (name, r) in [
                ("busy loop", &busy),
                ("poll(2)", &poll),
                ("mio (epoll)", &mio),
            ] {
                exp.figure(format!("{name}: CPU time"), r.cpu.as_secs_f64() * 1e3, "ms");
                exp.figure(
                    format!("{name}: wall time"),
                    r.wall.as_secs_f64() * 1e3,
                    "ms",
                );
                exp.figure(format!("{name}: loop turns"), r.turns as f64, "");
                exp.note(format!("{name}: {r}"));
            }
            Ok::<_, Box<dyn std::error::Error>>((busy, poll, mio))
        },
    );
    let Some((busy, poll, mio)) = result else {
        return;
    };
    tour.judge(
        &claims::BUSY_BURNS,
        Inputs::new()
            .with("busy loop", busy.cpu.as_secs_f64() * 1e3, "ms")
            .with("poll(2)", poll.cpu.as_secs_f64() * 1e3, "ms"),
    );
    let failed = busy.failed() + poll.failed() + mio.failed();
    tour.judge(
        &claims::LOOPS_COMPLETE,
        Inputs::new()
            .with("documents asked for", (3 * DOCS_PER_LOOP) as f64, "")
            .with(
                "documents verified",
                (busy.ok + poll.ok + mio.ok) as f64,
                "",
            )
            .with("documents failed", failed as f64, ""),
    );
}

fn turn_cost(tour: &mut Tour, plan: &Plan) {
    let result = tour.experiment(
        "turn-cost",
        "Step 3: one loop turn with poll(2) and with epoll, as idle connections grow",
        "Idle connections (held open by a child process) plus 4 active ones. poll(2) hands \
         the kernel the whole list on every call, and the kernel checks every descriptor; \
         epoll keeps the interest list in the kernel and returns only the ready ones.",
        |exp| {
            let mut costs = Vec::new();
            for &idle in plan.idle {
                let cost = turn_cost_with_child(idle, 4, plan.turns)?;
                exp.figure(format!("poll(2), {idle} idle"), cost.poll_ns() / 1e3, "µs");
                exp.figure(format!("epoll, {idle} idle"), cost.epoll_ns() / 1e3, "µs");
                costs.push((idle, cost));
            }
            Ok::<_, Box<dyn std::error::Error>>(costs)
        },
    );
    let Some(costs) = result else { return };
    let (Some((few, small)), Some((most, large))) = (costs.first(), costs.last()) else {
        return;
    };
    tour.headline(
        &format!("poll/epoll turn at {most} idle"),
        large.ratio(),
        "x",
    );
    tour.judge(
        &claims::EPOLL_SCALES,
        Inputs::new()
            .with("idle connections", *most as f64, "")
            .with("poll(2) turn", large.poll_ns() / 1e3, "µs")
            .with("epoll turn", large.epoll_ns() / 1e3, "µs"),
    );
    tour.judge(
        &claims::POLL_GROWS_EPOLL_NOT,
        Inputs::new()
            .with("idle connections, fewest", *few as f64, "")
            .with("idle connections, most", *most as f64, "")
            .with("poll growth", large.poll_ns() / small.poll_ns(), "x")
            .with("epoll growth", large.epoll_ns() / small.epoll_ns(), "x"),
    );
}

/// The time limit of each fetch of step 6's comparison.
const FETCH_LIMIT: Duration = Duration::from_secs(5);

fn future_by_hand(tour: &mut Tour, plan: &Plan) {
    let result = tour.experiment(
        "future-by-hand",
        "Step 6: a Future by hand, next to the async fn",
        "One fetch written twice, as an async fn and as the enum the compiler makes of it, \
         both polled by step 7's executor, one document at a time: they bring the same \
         documents, byte for byte. Then the sizes of the course's futures: whatever lives \
         across an .await is a field of the future.",
        |exp| {
            let server = ChildServer::start(&[SERVE_CORPUS, "0"])?;
            let ids: Vec<u64> = (0..plan.future_docs).collect();
            let agreement = block_on(fetch_both(server.addr(), &ids, FETCH_LIMIT))?;
            server.stop();
            exp.figure("documents the same from both", agreement.same as f64, "");
            exp.figure(
                "body bytes, hand-written Future",
                agreement.bytes_by_hand as f64,
                "",
            );
            exp.figure("body bytes, async fn", agreement.bytes_async as f64, "");
            if !agreement.differ.is_empty() {
                exp.note(format!("documents that differ: {:?}", agreement.differ));
            }
            for (id, which, error) in agreement.failures.iter().take(5) {
                exp.note(format!("document {id}, {which}: {error}"));
            }
            let sizes = future_sizes();
            for (name, size) in [
                ("size of the fetch by hand", sizes.fetch_by_hand),
                ("size of the async fn fetch", sizes.fetch_async),
                ("size of step 7's download", sizes.download),
                ("array held across .await", sizes.array_across_await),
                ("array dropped before .await", sizes.array_before_await),
                ("Vec held across .await", sizes.vec_across_await),
            ] {
                exp.figure(name, size as f64, "B");
            }
            Ok::<_, Box<dyn std::error::Error>>((agreement, sizes))
        },
    );
    let Some((agreement, sizes)) = result else {
        return;
    };
    tour.judge(
        &claims::HAND_EQUALS_ASYNC,
        Inputs::new()
            .with("documents asked for", agreement.asked as f64, "")
            .with("documents the same from both", agreement.same as f64, "")
            .with("fetches failed", agreement.failures.len() as f64, "")
            .with(
                "body bytes, hand-written Future",
                agreement.bytes_by_hand as f64,
                "",
            )
            .with("body bytes, async fn", agreement.bytes_async as f64, ""),
    );
    tour.judge(
        &claims::BUFFER_IN_FUTURE,
        Inputs::new()
            .with(
                "array held across .await",
                sizes.array_across_await as f64,
                "B",
            )
            .with(
                "array dropped before .await",
                sizes.array_before_await as f64,
                "B",
            )
            .with("Vec held across .await", sizes.vec_across_await as f64, "B"),
    );
}

fn executor(tour: &mut Tour, plan: &Plan) {
    let result = tour.experiment(
        "executor",
        "Step 7: the waker-based executor",
        "An async fn downloads documents with 64 tasks on one thread, each task one \
         keep-alive connection; lesson 3's codec runs unchanged inside. Then the executor \
         waits on a 200 ms sleep: with nothing ready it sleeps in epoll until the timer's \
         deadline, and uses almost no CPU.",
        |exp| {
            let server = ChildServer::start(&[SERVE_CORPUS, "0"])?;
            let addr = server.addr();
            let ids: Vec<u64> = (0..plan.executor_docs).collect();
            let report = block_on(download(addr, ids, 64))?;
            server.stop();
            exp.figure(
                "documents/s, 64 tasks on one thread",
                report.docs_per_sec(),
                "docs/s",
            );
            exp.note(format!("{report:?}"));
            let idle = idle_cost(Duration::from_millis(200))?;
            exp.figure("CPU used while waiting 200 ms", idle.thread_cpu * 1e3, "ms");
            exp.figure(
                "share of a core while waiting",
                idle.thread_share() * 100.0,
                "%",
            );
            Ok::<_, Box<dyn std::error::Error>>((report, idle))
        },
    );
    let Some((report, idle)) = result else { return };
    tour.headline(
        "executor docs/s (64 tasks)",
        report.docs_per_sec(),
        "docs/s",
    );
    tour.judge(
        &claims::NO_BUSY_WAIT,
        Inputs::new().with("share of a core while waiting", idle.thread_share(), ""),
    );
    tour.judge(
        &claims::EXECUTOR_DOWNLOADS,
        Inputs::new()
            .with("documents asked for", plan.executor_docs as f64, "")
            .with("documents verified", report.ok as f64, "")
            .with("documents failed", report.failed as f64, ""),
    );
}

fn c10k(tour: &mut Tour, plan: &Plan) {
    let n = plan.c10k;
    let result = tour.experiment(
        "c10k",
        "Step 8: one thread, thousands of connections",
        "The corpus served by one thread on mio, in a child process (each end of a \
         connection is a file descriptor: both ends in one process would need twice as \
         many). One client thread opens the connections, all at once, and downloads on \
         each. The server's resident memory per open connection is set beside lesson 2's \
         resident memory per idle thread, measured in this run.",
        |exp| {
            let thread = threads::idle::idle_threads(1_000, None)?;
            exp.figure(
                "RSS per idle thread (lesson 2, 1,000 threads)",
                thread.rss,
                "bytes",
            );
            exp.figure(
                "kernel stack per thread (not in RSS)",
                thread.kernel_stack,
                "bytes",
            );
            let server = ChildServer::start(&[SERVE_LOOP])?;
            let plan = C10kPlan {
                server_pid: Some(server.pid()),
                ..C10kPlan::new(server.addr(), n, 2, Duration::from_secs(120))
            };
            let report = run_c10k(&plan);
            server.stop();
            let report = report?;
            exp.figure("connections open at once", report.peak_open as f64, "");
            exp.figure("documents verified", report.docs_ok as f64, "");
            exp.figure("documents failed", report.docs_failed as f64, "");
            exp.figure("wall time", report.wall.as_secs_f64(), "s");
            if let Some(per) = report.server_bytes_per_connection() {
                exp.figure("server RSS per open connection", per, "bytes");
            }
            exp.note(format!("descriptor limit: {}", report.fd_limit));
            Ok::<_, Box<dyn std::error::Error>>((thread, report))
        },
    );
    let Some((thread, report)) = result else {
        return;
    };
    tour.judge(
        &claims::C10K_HELD,
        Inputs::new()
            .with("connections asked for", n as f64, "")
            .with("connections open at once", report.peak_open as f64, "")
            .with("documents failed", report.docs_failed as f64, "")
            .with("connections refused", report.connect_failures as f64, ""),
    );
    // A server whose memory could not be read weighs NaN: the claim fails, and says so.
    let per_connection = report.server_bytes_per_connection().unwrap_or(f64::NAN);
    if per_connection.is_finite() {
        tour.headline("RSS per connection (loop server)", per_connection, "bytes");
    }
    tour.judge(
        &claims::CONNECTION_LIGHTER,
        Inputs::new().with("idle thread", thread.rss, "bytes").with(
            "connection",
            per_connection,
            "bytes",
        ),
    );
}

/// Child: lesson 3's threaded corpus server with `latency_ms` of delay per reply.
fn serve_corpus(latency_ms: Option<&String>) -> ExitCode {
    let latency = latency_ms.and_then(|s| s.parse::<u64>().ok()).unwrap_or(0);
    sockets::server::serve_as_child(Duration::from_millis(latency))
}

/// Child: step 8's one-thread server, with as many descriptors as the system allows.
fn serve_loop() -> ExitCode {
    let _ = event_loop::fd_limit::raise_fd_limit();
    let config = LoopServerConfig {
        // Opening ten thousand connections takes a moment; none must time out meanwhile.
        idle_timeout: Duration::from_secs(120),
        ..LoopServerConfig::default()
    };
    match step8_server::start(config) {
        Ok(server) => {
            announce_and_wait(server.addr(), CHILD_LIFETIME);
            server.stop();
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: cannot start the loop server: {e}");
            ExitCode::FAILURE
        }
    }
}
