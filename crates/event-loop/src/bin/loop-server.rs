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

use event_loop::step6_server::{self, LoopServerConfig};
use sockets::cli;
use sockets::corpus::FaultPlan;

const USAGE: &str = "\
loop-server: the offline Wikipedia of lesson 3, served from one thread with an event loop.

Usage: loop-server [OPTIONS]

Options:
  --addr ADDR            where to listen (default 127.0.0.1:0: any free port)
  --max-connections N    the most connections held at once (default 100000; the
                         descriptor limit, printed at start, usually binds first)
  --latency MS           wait before every reply, in milliseconds (default 0)
  --fault-rate R         the fraction of article requests, 0 to 1, that meet a fault (default 0)
  --faults LIST          the faults to choose from, comma-separated (default all):
                         latency,drop,unavailable,truncate,chunked,close,drip
  --seed S               which article ids are unlucky (default 0)
  --idle-timeout S       close a connection silent for S seconds (default 10)
  --for SECONDS          stop after SECONDS and print the counts (default: until killed)
  --allow-remote         allow an address other than loopback
  -h, --help             this text

Try: curl -i http://ADDR/  (the routes and the per-request fault parameters)";

fn main() -> ExitCode {
    let options = match cli::options("loop-server", USAGE, Options::parse) {
        Ok(options) => options,
        Err(exit) => return exit,
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
    let addr = options.config.addr;
    let server = match step6_server::start(options.config) {
        Ok(server) => server,
        Err(e) => {
            eprintln!("loop-server: cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    cli::announce_and_serve(server.addr(), options.serve_for, || server.stop());
    ExitCode::SUCCESS
}

struct Options {
    config: LoopServerConfig,
    serve_for: Option<Duration>,
}

impl Options {
    /// The options, `None` for `--help`, or the message of a usage error.
    fn parse(args: &[String]) -> Result<Option<Options>, String> {
        let defaults = LoopServerConfig::default();
        let mut max_connections = defaults.max_connections;
        let shared = cli::ServerFlags {
            addr: defaults.addr,
            faults: FaultPlan::none(),
            idle_timeout: defaults.idle_timeout,
            serve_for: None,
        };
        // The flags it shares with `wiki-server` are read in `sockets::cli`, so the two
        // are called alike; only `--max-connections` is this server's own.
        let own = |flag: &str, args: &mut cli::Args<'_>| match flag {
            "--max-connections" => {
                max_connections = cli::number(flag, args.value(flag, "a number")?)?;
                if max_connections == 0 {
                    return Err("--max-connections: must be at least 1".into());
                }
                Ok(true)
            }
            _ => Ok(false),
        };
        let Some(flags) = cli::ServerFlags::parse(args, shared, own)? else {
            return Ok(None);
        };
        Ok(Some(Options {
            config: LoopServerConfig {
                addr: flags.addr,
                faults: flags.faults,
                idle_timeout: flags.idle_timeout,
                max_connections,
                ..defaults
            },
            serve_for: flags.serve_for,
        }))
    }
}
