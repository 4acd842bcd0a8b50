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

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use event_loop::step6_server::{self, LoopServerConfig};
use sockets::corpus::{FaultKind, FaultPlan};

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
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match Options::parse(&args) {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("loop-server: {message}\n\nRun `loop-server --help` for the options.");
            return ExitCode::from(2);
        }
    };
    // Every connection is a descriptor, and the soft limit is often 1024. Raising it to
    // the hard limit needs no privilege; past that, connections beyond the limit wait
    // (the loop pauses accepting) instead of failing.
    match step6_server::raise_fd_limit() {
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
    println!("listening on http://{}", server.addr());
    // stdout is line-buffered only on a terminal; through a pipe, the line would sit in
    // the buffer and a script waiting for the address would wait forever.
    let _ = std::io::stdout().flush();
    match options.serve_for {
        Some(duration) => {
            std::thread::sleep(duration);
            println!("{}", server.stop());
        }
        // Serve until killed: the loop's thread does everything.
        None => loop {
            std::thread::park();
        },
    }
    ExitCode::SUCCESS
}

struct Options {
    config: LoopServerConfig,
    serve_for: Option<Duration>,
}

impl Options {
    /// The options, `None` for `--help`, or the message of a usage error.
    fn parse(args: &[String]) -> Result<Option<Options>, String> {
        let mut config = LoopServerConfig::default();
        let mut faults = FaultPlan::none();
        let mut serve_for = None;
        let mut allow_remote = false;
        let mut args = args.iter();
        while let Some(flag) = args.next() {
            // Every flag but two takes a value: take it here, with one error message.
            let mut value = |what: &str| {
                args.next()
                    .map(String::as_str)
                    .ok_or_else(|| format!("{flag} needs a value ({what})"))
            };
            match flag.as_str() {
                "-h" | "--help" => return Ok(None),
                "--allow-remote" => allow_remote = true,
                "--addr" => {
                    let text = value("an address such as 127.0.0.1:8080")?;
                    config.addr = text
                        .parse()
                        .map_err(|_| format!("--addr: `{text}` is not an IP:PORT address"))?;
                }
                "--max-connections" => {
                    config.max_connections = number(flag, value("a number")?)?;
                    if config.max_connections == 0 {
                        return Err("--max-connections: must be at least 1".into());
                    }
                }
                "--latency" => {
                    faults.latency = Duration::from_millis(number(flag, value("milliseconds")?)?)
                }
                "--fault-rate" => {
                    let text = value("a fraction from 0 to 1")?;
                    faults.rate = match text.parse::<f64>() {
                        Ok(rate) if (0.0..=1.0).contains(&rate) => rate,
                        _ => return Err(format!("--fault-rate: `{text}` is not between 0 and 1")),
                    };
                }
                "--faults" => {
                    let text = value("a list such as drop,truncate")?;
                    faults.kinds =
                        FaultKind::parse_list(text).map_err(|e| format!("--faults: {e}"))?;
                }
                "--seed" => faults.seed = number(flag, value("a number")?)?,
                "--idle-timeout" => {
                    config.idle_timeout = seconds(flag, value("seconds")?)?;
                    if config.idle_timeout.is_zero() {
                        return Err("--idle-timeout: must be more than 0".into());
                    }
                }
                "--for" => serve_for = Some(seconds(flag, value("seconds")?)?),
                other => return Err(format!("unknown option `{other}`")),
            }
        }
        // The corpus has no authentication and does what any request asks: wait a
        // minute, hold a connection, send 14 MB. On this machine that is a test tool;
        // on a network interface, anyone who can reach it could tie it up.
        if !config.addr.ip().is_loopback() && !allow_remote {
            return Err(format!(
                "{} is not a loopback address: the corpus server is a test tool that \
                 does whatever a request asks (long waits, big lists), so it listens on \
                 this machine only; add --allow-remote if you really mean it",
                config.addr
            ));
        }
        config.faults = faults;
        Ok(Some(Options { config, serve_for }))
    }
}

fn number<T: std::str::FromStr>(flag: &str, text: &str) -> Result<T, String> {
    text.parse()
        .map_err(|_| format!("{flag}: `{text}` is not a whole number in range"))
}

/// Seconds, fractions allowed (`0.5`).
fn seconds(flag: &str, text: &str) -> Result<Duration, String> {
    text.parse::<f64>()
        .ok()
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .ok_or_else(|| format!("{flag}: `{text}` is not a number of seconds"))
}
