//! `wiki-server`: the offline Wikipedia, served with threads, from the command line.
//!
//! ```text
//! cargo run --release -p sockets --bin wiki-server -- --addr 127.0.0.1:8080
//! curl -i http://127.0.0.1:8080/wiki/7
//! ```
//!
//! It prints `listening on http://ADDR` (then flushes, so a script reading the line sees
//! it at once) and serves until killed, or for `--for SECONDS` and then prints its
//! counts. The flags it shares with lesson 4's `loop-server` are
//! `sockets::cli::ServerFlags`, so that the two are called alike.

use std::process::ExitCode;
use std::time::Duration;

use clap::{CommandFactory, Parser};
use sockets::cli::{self, ServerFlags};
use sockets::server::{self, ServerConfig};

/// The offline Wikipedia of lesson 3, served with a thread pool.
#[derive(Debug, Parser)]
#[command(
    name = "wiki-server",
    version,
    after_help = cli::SERVER_AFTER_HELP
)]
struct Options {
    #[command(flatten)]
    flags: ServerFlags,
    /// Pool workers = the most connections served at once
    #[arg(long, value_name = "N", default_value_t = 1024,
          value_parser = clap::value_parser!(u32).range(1..))]
    workers: u32,
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
    let addr = options.flags.addr;
    let config = ServerConfig {
        addr,
        workers: options.workers as usize,
        faults: options.flags.faults(),
        idle_timeout: options.idle_timeout,
        ..ServerConfig::default()
    };
    let server = match server::start(config) {
        Ok(server) => server,
        Err(e) => {
            eprintln!("wiki-server: cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    cli::announce_and_serve(server.addr(), options.flags.serve_for, || server.stop());
    ExitCode::SUCCESS
}
