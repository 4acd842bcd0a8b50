//! The tour of lesson 4: `cargo run --release -p event-loop [-- --quick] [-- --json]`.
//!
//! Stops waiting, step by step: the same downloads with a busy loop and with poll(2),
//! the cost of one loop turn with poll and with epoll as idle connections grow, the
//! waker-based executor downloading with `async fn` and sleeping without spinning, and
//! one thread holding ten thousand connections next to lesson 2's threads.

use std::process::ExitCode;
use std::time::Duration;

use event_loop::step2_poll::Batch;
use event_loop::step3_mio::{run_holder_if_asked, turn_cost_with_child};
use event_loop::step5_executor::{block_on, download, idle_cost};
use event_loop::step6_server::{self, C10kPlan, LoopServerConfig, run_c10k};
use event_loop::{step1_busy, step2_poll, step3_mio};
use procs::child_server::{ChildServer, announce_and_wait};
use procs::tour::{Claim, Figure, Tour, TourArgs, fmt_bytes};

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
}

impl Plan {
    fn new(quick: bool) -> Plan {
        if quick {
            Plan {
                idle: &[100, 1_000],
                turns: 100,
                c10k: 2_000,
                executor_docs: 2_000,
            }
        } else {
            Plan {
                idle: &[100, 1_000, 10_000],
                turns: 200,
                c10k: 10_000,
                executor_docs: 10_000,
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
    let plan = Plan::new(args.quick);
    let mut tour = Tour::start(
        "event-loop",
        "stop waiting: poll, epoll, an executor",
        args,
        4,
    );
    busy_vs_poll(&mut tour);
    turn_cost(&mut tour, &plan);
    executor(&mut tour, &plan);
    c10k(&mut tour, &plan);
    tour.finish()
}

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
                ..Batch::new(server.addr(), 0..50)
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
    tour.claim(Claim::ratio_at_least(
        "busy-burns",
        "the busy loop burns at least 10x the CPU of poll(2) for the same downloads",
        Figure::new("busy loop", busy.cpu.as_secs_f64() * 1e3, "ms"),
        Figure::new("poll(2)", poll.cpu.as_secs_f64() * 1e3, "ms"),
        10.0,
    ));
    let failed = busy.failed() + poll.failed() + mio.failed();
    tour.claim(Claim::check(
        "loops-complete",
        "all three loops deliver every document, verified",
        failed == 0 && busy.ok + poll.ok + mio.ok == 150,
        format!(
            "{} + {} + {} verified, {failed} failed",
            busy.ok, poll.ok, mio.ok
        ),
        vec![],
    ));
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
    let min_ratio = if *most >= 10_000 { 50.0 } else { 10.0 };
    tour.claim(Claim::ratio_at_least(
        "epoll-scales",
        format!(
            "with {most} idle connections, a poll(2) turn costs at least {min_ratio}x an epoll turn"
        ),
        Figure::new("poll(2)", large.poll_ns() / 1e3, "µs"),
        Figure::new("epoll", large.epoll_ns() / 1e3, "µs"),
        min_ratio,
    ));
    let grows = large.poll_ns() / small.poll_ns();
    let epoll_grows = large.epoll_ns() / small.epoll_ns();
    tour.claim(Claim::check(
        "poll-grows-epoll-not",
        format!("from {few} to {most} idle, poll's turn grows with them, epoll's does not"),
        grows >= 5.0 && epoll_grows <= 5.0,
        format!("poll(2) {grows:.1}x (at least 5x required), epoll {epoll_grows:.1}x (at most 5x allowed)"),
        vec![
            Figure::new("poll growth", grows, "x"),
            Figure::new("epoll growth", epoll_grows, "x"),
        ],
    ));
}

fn executor(tour: &mut Tour, plan: &Plan) {
    let result = tour.experiment(
        "executor",
        "Step 5: the waker-based executor",
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
    tour.claim(Claim::check(
        "no-busy-wait",
        "an executor waiting on a 200 ms sleep uses under 10% of a core",
        idle.thread_share() < 0.10,
        format!(
            "{:.2} ms of CPU in {:.0} ms: {:.2}% of a core",
            idle.thread_cpu * 1e3,
            idle.wall.as_secs_f64() * 1e3,
            idle.thread_share() * 100.0
        ),
        vec![Figure::new("share of a core", idle.thread_share(), "")],
    ));
    tour.claim(Claim::check(
        "executor-downloads",
        "the async download delivers every document, verified",
        report.failed == 0 && report.ok == plan.executor_docs,
        format!("{} verified, {} failed", report.ok, report.failed),
        vec![],
    ));
}

fn c10k(tour: &mut Tour, plan: &Plan) {
    let n = plan.c10k;
    let result = tour.experiment(
        "c10k",
        "Step 6: one thread, thousands of connections",
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
    tour.claim(Claim::check(
        "c10k-held",
        format!("one thread holds {n} connections at once and serves every document"),
        report.peak_open >= n && report.docs_failed == 0 && report.connect_failures == 0,
        format!(
            "{} open at once, {} documents verified, {} failed, {} connections refused",
            report.peak_open, report.docs_ok, report.docs_failed, report.connect_failures
        ),
        vec![],
    ));
    match report.server_bytes_per_connection() {
        Some(per_connection) => {
            tour.headline("RSS per connection (loop server)", per_connection, "bytes");
            tour.claim(Claim::ratio_at_least(
                "connection-lighter",
                "a connection in the loop costs at least 10x less resident memory than a thread",
                Figure::new("idle thread", thread.rss, "bytes"),
                Figure::new("connection", per_connection, "bytes"),
                10.0,
            ));
        }
        None => tour.claim(Claim::check(
            "connection-lighter",
            "a connection in the loop costs at least 10x less resident memory than a thread",
            false,
            format!(
                "the server's memory could not be read; thread RSS {}",
                fmt_bytes(thread.rss)
            ),
            vec![],
        )),
    }
}

/// Child: lesson 3's threaded corpus server with `latency_ms` of delay per reply.
fn serve_corpus(latency_ms: Option<&String>) -> ExitCode {
    let latency = latency_ms.and_then(|s| s.parse::<u64>().ok()).unwrap_or(0);
    sockets::server::serve_as_child(Duration::from_millis(latency))
}

/// Child: step 6's one-thread server, with as many descriptors as the system allows.
fn serve_loop() -> ExitCode {
    let _ = step3_mio::raise_fd_limit();
    let config = LoopServerConfig {
        // Opening ten thousand connections takes a moment; none must time out meanwhile.
        idle_timeout: Duration::from_secs(120),
        ..LoopServerConfig::default()
    };
    match step6_server::start(config) {
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
