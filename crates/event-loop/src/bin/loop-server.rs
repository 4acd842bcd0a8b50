//! `loop-server`: the offline Wikipedia served from one thread and an event loop.
//!
//! ```text
//! cargo run --release -p event-loop --bin loop-server -- --addr 127.0.0.1:8080
//! curl -i http://127.0.0.1:8080/wiki/7
//! cargo run --release -p sockets --bin wiki-load -- --addr 127.0.0.1:8080 --connections 64
//! ```
//!
//! The same corpus, flags and output as lesson 3's `wiki-server`, so that the two can
//! be compared side by side; `--max-connections` replaces `--workers`, since there are
//! no workers. It first raises its descriptor limit (every connection is one) from the
//! soft limit to the hard one and says so, then prints `listening on http://ADDR` and
//! flushes, so a script reading the line sees it at once. It serves until killed, or
//! for `--for SECONDS` and then prints its counts.

use std::process::ExitCode;
use std::time::Duration;

use clap::{CommandFactory, Parser};
use event_loop::step8_server::{self, LoopServerConfig};
use sockets::cli::{self, ServerFlags};

/// The offline Wikipedia of lesson 3, served from one thread with an event loop.
#[derive(Debug, Parser)]
#[command(
    name = "loop-server",
    version,
    after_help = cli::SERVER_AFTER_HELP
)]
struct Options {
    #[command(flatten)]
    flags: ServerFlags,
    /// The most connections held at once (the descriptor limit, printed at start,
    /// usually binds first)
    #[arg(long, value_name = "N", default_value_t = 100_000,
          value_parser = clap::value_parser!(u32).range(1..))]
    max_connections: u32,
    /// Close a connection silent for this many seconds
    #[arg(long, value_name = "S", default_value = "10", value_parser = cli::positive_seconds)]
    idle_timeout: Duration,
}

fn main() -> ExitCode {
    let options = Options::parse();
    if let Err(e) = options.flags.check() {
        Options::command()
            .error(clap::error::ErrorKind::ValueValidation, e)
            .exit();
    }
    let config = LoopServerConfig {
        addr: options.flags.addr,
        faults: options.flags.faults(),
        idle_timeout: options.idle_timeout,
        max_connections: options.max_connections as usize,
        ..LoopServerConfig::default()
    };
    // Every connection is a descriptor, and the soft limit is often 1024. Raising it to
    // the hard limit needs no privilege; past that, connections beyond the limit wait
    // (the loop pauses accepting) instead of failing.
    match event_loop::fd_limit::raise_fd_limit() {
        Ok(limit) if limit.before < limit.soft => println!(
            "file descriptors: limit raised from {} to {} (the hard limit)",
            limit.before, limit.soft
        ),
        Ok(limit) => println!(
            "file descriptors: limit {} (hard limit {})",
            limit.soft, limit.hard
        ),
        Err(e) => eprintln!("loop-server: cannot raise the descriptor limit: {e}"),
    }
    let addr = config.addr;
    let server = match step8_server::start(config) {
        Ok(server) => server,
        Err(e) => {
            eprintln!("loop-server: cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    cli::announce_and_serve(server.addr(), options.flags.serve_for, || server.stop());
    ExitCode::SUCCESS
}
