//! Step 3: the downloads on mio (epoll), then what one loop turn costs, `poll(2)`
//! against epoll, as idle connections pile up.
//!
//! ```text
//! cargo run --release -p event-loop --example step3_mio -- --idle 100,1000,10000
//! ```
//!
//! The idle connections' far ends are held by a child process: this very program,
//! started again with a hidden argument (see `run_holder_if_asked`), because 10,000
//! connections need 10,000 descriptors on each side. Watch `poll`'s time grow with the
//! idle connections while epoll's stays put.

use std::process::ExitCode;
use std::time::Duration;

use event_loop::step3_mio::{Batch, download, run_holder_if_asked, turn_cost_with_child};
use sockets::server::{ServerConfig, start};

const USAGE: &str = "\
Usage: cargo run --release -p event-loop --example step3_mio -- [OPTIONS]

  --docs N          documents to download (default 200)
  --concurrency C   connections at once (default 50)
  --latency-ms L    the server's delay before each reply (default 20)
  --idle A,B,...    idle connections for the turn cost (default 100,1000,10000)
  --active K        descriptors ready in each turn (default 4)
  --turns T         timed turns per size (default 200)";

fn main() -> ExitCode {
    // First: if this process is the connection holder, be that and nothing else.
    if let Some(code) = run_holder_if_asked() {
        return code;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let numbers = (
        option(&args, "--docs", 200),
        option(&args, "--concurrency", 50),
        option(&args, "--latency-ms", 20),
        option(&args, "--active", 4),
        option(&args, "--turns", 200),
        list(&args, "--idle", &[100, 1000, 10_000]),
    );
    let (Some(docs), Some(concurrency), Some(latency), Some(active), Some(turns), Some(idle)) =
        numbers
    else {
        eprintln!("{USAGE}");
        return ExitCode::from(procs::exit::Exit::Usage);
    };
    let server = match start(ServerConfig::with_latency(Duration::from_millis(latency))) {
        Ok(server) => server,
        Err(e) => {
            eprintln!("cannot start the corpus server: {e}");
            return ExitCode::FAILURE;
        }
    };
    let batch = Batch {
        concurrency: usize::try_from(concurrency).unwrap_or(usize::MAX),
        ..Batch::new(server.addr(), 0..docs)
    };
    match download(&batch) {
        Ok(report) => println!("mio: {docs} documents ({latency} ms per reply): {report}"),
        Err(e) => {
            eprintln!("the loop failed: {e}");
            return ExitCode::FAILURE;
        }
    }
    server.stop();

    let active = usize::try_from(active).unwrap_or(usize::MAX);
    let turns = usize::try_from(turns).unwrap_or(usize::MAX);
    println!("one loop turn, {active} descriptors ready, median of {turns}:");
    println!(
        "{:>8} {:>12} {:>12} {:>8}",
        "idle", "poll(2)", "epoll", "ratio"
    );
    for &n in &idle {
        match turn_cost_with_child(n, active, turns) {
            Ok(cost) => println!(
                "{:>8} {:>9.1} µs {:>9.1} µs {:>7.0}x",
                n,
                cost.poll_ns() / 1e3,
                cost.epoll_ns() / 1e3,
                cost.ratio()
            ),
            Err(e) => {
                eprintln!("{n:>8} idle: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}

/// The number after `name`, or `default` if `name` is absent; `None` if it is not a number.
fn option(args: &[String], name: &str, default: u64) -> Option<u64> {
    match args.iter().position(|a| a == name) {
        None => Some(default),
        Some(i) => args.get(i + 1)?.parse().ok(),
    }
}

/// The comma-separated numbers after `name`, or `default`.
fn list(args: &[String], name: &str, default: &[usize]) -> Option<Vec<usize>> {
    match args.iter().position(|a| a == name) {
        None => Some(default.to_vec()),
        Some(i) => args
            .get(i + 1)?
            .split(',')
            .map(|n| n.trim().parse().ok())
            .collect(),
    }
}
