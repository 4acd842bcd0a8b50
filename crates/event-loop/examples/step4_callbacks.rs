//! Step 4: the same batch as step 3, downloaded by chains of callbacks on a loop that
//! knows only sockets, timers and the functions to call for them; step 3's loop on the
//! same batch, for comparison.
//!
//! ```text
//! cargo run -p event-loop --example step4_callbacks -- --docs 200 --concurrency 50 --latency-ms 20
//! ```
//!
//! Both loops sleep in epoll and fetch the same documents. Step 4 keeps each connection
//! open for the next document (keep-alive), so it opens `concurrency` connections where
//! step 3 opens one per document; its report also counts the callbacks the loop called.

use std::process::ExitCode;
use std::time::Duration;

use event_loop::step3_mio;
use event_loop::step4_callbacks::{Batch, download};
use sockets::server::{ServerConfig, start};

const USAGE: &str = "\
Usage: cargo run -p event-loop --example step4_callbacks -- [OPTIONS]

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
    println!("{docs} documents, {concurrency} at a time, {latency} ms per reply:");
    match step3_mio::download(&batch) {
        Ok(report) => println!("step 3, state machines: {report}"),
        Err(e) => {
            eprintln!("step 3's loop failed: {e}");
            return ExitCode::FAILURE;
        }
    }
    let report = match download(&batch) {
        Ok(report) => report,
        Err(e) => {
            eprintln!("step 4's loop failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("step 4, callbacks:      {report}");
    for (id, error) in report.failures.iter().take(5) {
        println!("  document {id}: {error}");
    }
    println!("server: {}", server.stop());
    if report.failed() > 0 {
        return ExitCode::FAILURE;
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
