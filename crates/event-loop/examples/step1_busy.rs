//! Step 1: many downloads in one thread, by a loop that never sleeps.
//!
//! ```text
//! cargo run -p event-loop --example step1_busy -- --docs 200 --concurrency 50 --latency-ms 20
//! ```
//!
//! Starts lesson 3's corpus server in this process (with an injected latency per reply,
//! so that there is waiting to do), downloads the documents with the busy loop, and
//! prints what it cost. Watch the loop thread's CPU time: about its wall time. Watch the
//! turns: how many times it asked every socket "anything for me?".

use std::process::ExitCode;
use std::time::Duration;

use event_loop::step1_busy::{Batch, download};
use sockets::server::{ServerConfig, start};

const USAGE: &str = "\
Usage: cargo run -p event-loop --example step1_busy -- [OPTIONS]

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
        "busy loop: {docs} documents from {} ({latency} ms per reply), {} at a time",
        server.addr(),
        batch.concurrency
    );
    match download(&batch) {
        Ok(report) => {
            println!("{report}");
            for (id, error) in report.failures.iter().take(5) {
                println!("  document {id}: {error}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("the loop failed: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The number after `name`, or `default` if `name` is absent; `None` if it is not a number.
fn option(args: &[String], name: &str, default: u64) -> Option<u64> {
    match args.iter().position(|a| a == name) {
        None => Some(default),
        Some(i) => args.get(i + 1)?.parse().ok(),
    }
}
