//! Step 2: the same downloads, sleeping in `poll(2)`, next to step 1's busy loop.
//!
//! ```text
//! cargo run -p event-loop --example step2_poll -- --docs 200 --concurrency 50 --latency-ms 20
//! ```
//!
//! Starts lesson 3's corpus server in this process (with an injected latency per reply),
//! downloads the same documents twice, with the busy loop of step 1 and with the
//! `poll(2)` loop, and prints both reports and the ratio of their CPU times. Same
//! documents, about the same wall time; the difference is what the thread did while it
//! waited.

use std::process::ExitCode;
use std::time::Duration;

use event_loop::step2_poll::{Batch, Report, RunError};
use event_loop::{step1_busy, step2_poll};
use sockets::server::{ServerConfig, start};

const USAGE: &str = "\
Usage: cargo run -p event-loop --example step2_poll -- [OPTIONS]

  --docs N          documents to download (default 200)
  --concurrency C   connections at once (default 50)
  --latency-ms L    the server's delay before each reply (default 20)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let (Some(docs), Some(concurrency), Some(latency)) = (
        option(&args, "--docs", 200),
        option(&args, "--concurrency", 50),
        option(&args, "--latency-ms", 20),
    ) else {
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
    println!(
        "{docs} documents from {} ({latency} ms per reply), {} at a time",
        server.addr(),
        batch.concurrency
    );
    let run = |name: &str, loop_fn: fn(&Batch) -> Result<Report, RunError>| {
        let report = loop_fn(&batch);
        match &report {
            Ok(report) => println!("{name:>10}: {report}"),
            Err(e) => eprintln!("{name:>10}: the loop failed: {e}"),
        }
        report.ok()
    };
    let busy = run("busy loop", step1_busy::download);
    let polled = run("poll(2)", step2_poll::download);
    let (Some(busy), Some(polled)) = (busy, polled) else {
        return ExitCode::FAILURE;
    };
    let ratio = busy.cpu.as_secs_f64() / polled.cpu.as_secs_f64().max(1e-6);
    println!("the busy loop used {ratio:.1}x the CPU time of the poll(2) loop");
    ExitCode::SUCCESS
}

/// The number after `name`, or `default` if `name` is absent; `None` if it is not a number.
fn option(args: &[String], name: &str, default: u64) -> Option<u64> {
    match args.iter().position(|a| a == name) {
        None => Some(default),
        Some(i) => args.get(i + 1)?.parse().ok(),
    }
}
