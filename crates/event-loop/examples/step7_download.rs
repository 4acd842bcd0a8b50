//! Step 7: many documents, one thread, on the handmade executor.
//!
//! Starts lesson 3's corpus server (threads) on 127.0.0.1, then downloads documents with
//! `step7_executor::download`: `concurrency` async tasks, one keep-alive connection each,
//! every checksum verified.
//!
//! ```text
//! cargo run --release -p event-loop --example step7_download -- [documents] [concurrency]
//! ```
//!
//! Try a concurrency of 1, 8, 64, 512: where does it stop helping, and why (how many
//! cores does the server have to answer with)?

use std::process::ExitCode;

use event_loop::step7_executor::{block_on, download, idle_cost};
use sockets::server::{ServerConfig, start};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let documents: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let concurrency: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(64);

    let server = match start(ServerConfig::default()) {
        Ok(server) => server,
        Err(e) => {
            eprintln!("cannot start the corpus server: {e}");
            return ExitCode::FAILURE;
        }
    };
    let addr = server.addr();
    println!("corpus server on {addr}; {documents} documents, {concurrency} tasks");

    let report = match block_on(download(addr, (0..documents).collect(), concurrency)) {
        Ok(report) => report,
        Err(e) => {
            eprintln!("executor failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "{} ok, {} failed, {:.1} MB in {:.2} s over {} connections: {:.0} documents/s",
        report.ok,
        report.failed,
        report.bytes as f64 / 1e6,
        report.wall.as_secs_f64(),
        report.connections,
        report.docs_per_sec()
    );
    for (id, error) in report.failures.iter().take(5) {
        println!("  document {id}: {error}");
    }
    server.stop();

    match idle_cost(std::time::Duration::from_millis(200)) {
        Ok(cost) => println!(
            "block_on(sleep(200 ms)): {:.1} ms wall, {:.0} µs of CPU on this thread \
             ({:.3}% of a core), {} parks, {} epoll_wait calls",
            cost.wall.as_secs_f64() * 1e3,
            cost.thread_cpu * 1e6,
            cost.thread_share() * 100.0,
            cost.parks,
            cost.turns
        ),
        Err(e) => eprintln!("cannot measure the idle cost: {e}"),
    }
    if report.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
