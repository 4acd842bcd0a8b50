//! `wiki-server`: the offline Wikipedia, served with threads, from the command line.
//!
//! ```text
//! cargo run --release -p sockets --bin wiki-server -- --addr 127.0.0.1:8080
//! curl -i http://127.0.0.1:8080/wiki/7
//! ```
//!
//! It prints `listening on http://ADDR` (then flushes, so a script reading the line sees
//! it at once) and serves until killed, or for `--for SECONDS` and then prints its
//! counts. The arguments are parsed by hand: a dozen flags do not need a library, and
//! the errors say which flag and which value were wrong. The flags it shares with
//! lesson 4's `loop-server` are read by `sockets::cli::ServerFlags`.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use sockets::cli;
use sockets::corpus::FaultPlan;
use sockets::server::{self, ServerConfig};

const USAGE: &str = "\
wiki-server: the offline Wikipedia of lesson 3, served with a thread pool.

Usage: wiki-server [OPTIONS]

Options:
  --addr ADDR          where to listen (default 127.0.0.1:0: any free port)
  --workers N          pool workers = the most connections served at once (default 1024)
  --latency MS         wait before every reply, in milliseconds (default 0)
  --fault-rate R       the fraction of article requests, 0 to 1, that meet a fault (default 0)
  --faults LIST        the faults to choose from, comma-separated (default all):
                       latency,drop,unavailable,truncate,chunked,close,drip
  --seed S             which article ids are unlucky (default 0)
  --idle-timeout S     close a connection silent for S seconds (default 10)
  --for SECONDS        stop after SECONDS and print the counts (default: until killed)
  --allow-remote       allow an address other than loopback
  -h, --help           this text

Try: curl -i http://ADDR/  (the routes and the per-request fault parameters)";

fn main() -> ExitCode {
    let options = match cli::options("wiki-server", USAGE, Options::parse) {
        Ok(options) => options,
        Err(exit) => return exit,
    };
    let server = match server::start(options.config) {
        Ok(server) => server,
        Err(e) => {
            eprintln!("wiki-server: cannot listen on {}: {e}", options.addr);
            return ExitCode::FAILURE;
        }
    };
    cli::announce_and_serve(server.addr(), options.serve_for, || server.stop());
    ExitCode::SUCCESS
}

struct Options {
    addr: SocketAddr,
    config: ServerConfig,
    serve_for: Option<Duration>,
}

impl Options {
    /// The options, `None` for `--help`, or the message of a usage error.
    fn parse(args: &[String]) -> Result<Option<Options>, String> {
        let defaults = ServerConfig::default();
        let mut workers = defaults.workers;
        let shared = cli::ServerFlags {
            addr: defaults.addr,
            faults: FaultPlan::none(),
            idle_timeout: defaults.idle_timeout,
            serve_for: None,
        };
        // The flags both corpus servers take are read in `cli`; only `--workers` is
        // this server's own.
        let own = |flag: &str, args: &mut cli::Args<'_>| match flag {
            "--workers" => {
                workers = cli::number(flag, args.value(flag, "a number")?)?;
                if workers == 0 {
                    return Err("--workers: the pool needs at least one worker".into());
                }
                Ok(true)
            }
            _ => Ok(false),
        };
        let Some(flags) = cli::ServerFlags::parse(args, shared, own)? else {
            return Ok(None);
        };
        Ok(Some(Options {
            addr: flags.addr,
            config: ServerConfig {
                addr: flags.addr,
                workers,
                faults: flags.faults,
                idle_timeout: flags.idle_timeout,
                ..defaults
            },
            serve_for: flags.serve_for,
        }))
    }
}
