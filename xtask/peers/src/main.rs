//! `peers`: lesson 5's downloader and server side by side with real peers — wrk and
//! Python's aiohttp as clients, nginx as the server — all measured in one run. Run it
//! with `cargo xtask bench --peers` (it builds this in release mode), or
//! `cargo run --release -p peers -- [--quick] [--json FILE]`.
//!
//! The race of lesson 5 pits the course's engines against each other: it says which of
//! them is fastest, not whether any of them is fast. That needs outsiders people already
//! trust: nginx as the server, wrk (a load generator written in C for exactly this) as
//! the client to beat, and aiohttp as what a Python programmer would write. The targets:
//!
//! - nginx with 2 workers serving 100,000 documents of 2 to 8 KB, 100 connections: the
//!   tokio engine fetches at least [`plan::CLIENT_VS_WRK`] times as many documents per
//!   second as wrk, and [`plan::CLIENT_VS_AIOHTTP`] times as many as aiohttp (100 at
//!   once, one `ClientSession`);
//! - on the same server, the event-loop engine fetches at least
//!   [`plan::EVENT_LOOP_VS_TOKIO`] times the tokio engine's documents per second, and
//!   tokio-multi at least [`plan::MULTI_VS_TOKIO`] times;
//! - a minimal client written here, the floor (`floor`), is measured in the same run:
//!   the tokio engine fetches at least [`plan::ENGINE_VS_FLOOR`] times its documents per
//!   second, and the engines spend on each document at most 1 / [`plan::CPU_VS_FLOOR`]
//!   times its CPU time (the client's own, from this process's rusage);
//! - the write protocol of `--out` alone (`write_floor`: a temporary file, the body
//!   written, a rename into place, a journal line) is measured on the same documents,
//!   to a tmpfs, and so is the tokio engine with `--out`: what `--out` adds to the
//!   engine's CPU time per document is at most 1 / [`plan::OUT_VS_WRITE_FLOOR`] times
//!   the protocol's own;
//! - under the same wrk load, the tokio corpus server answers at least
//!   [`plan::SERVER_VS_NGINX`] times the requests per second of nginx with 1 worker.
//!
//! Rules, so that the figures mean something. Every figure is measured in this run and
//! every ratio is computed from them, never typed in: a busy machine slows both sides, so
//! a ratio holds where an absolute figure would not. The sides take turns, round after
//! round, and the median of the rounds is kept, so a slow moment hurts one sample and not
//! one side; a target that lies within the ratios the rounds give one by one is too close
//! to call, never met nor missed. Each client fetches the same documents from the same
//! server over the same number of connections. The servers run each in a session of
//! its own, as daemons do (`procs::session`): where the kernel schedules sessions as
//! groups (autogroup), a server in this program's session would share one group with
//! the clients, and a client's thread count would buy it a share of the server's CPU.
//!
//! The tools are not part of the course (CI never runs this): a comparison whose tool is
//! missing says "skipped" and why; a missed target is a finding, not an error. Only a
//! tool that is there and fails to run makes the command fail.
//!
//! This is tooling, not a lesson: no lesson crate depends on it, and the downloader's
//! `--help` does not mention it. The pieces, one job a file:
//!
//! - `plan`: what is measured, the rows and the targets;
//! - `run`: the run itself, in order; `board`: the rows as they fill up;
//! - `tools`: finding nginx, wrk and aiohttp; `clients`: running wrk, aiohttp and the
//!   engines; `floor`: the minimal client; `write_floor`: the write protocol alone, the
//!   floor of `--out`; `nginx`: nginx as a child process, stopped
//!   with its workers on every path;
//! - `workdir`: the temporary folder of documents and scripts (the scripts are real
//!   files in `scripts/`); `report`: the result, as JSON and as Markdown;
//! - `interrupt`: Ctrl-C stops after the step in hand, so that nothing is left behind.

mod board;
mod clients;
mod error;
mod floor;
mod interrupt;
mod nginx;
mod plan;
mod report;
mod run;
mod running;
mod tools;
mod workdir;
mod write_floor;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

// ANCHOR: exit
/// The command's exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Exit {
    /// It ran: every target is reported, met, missed, too close to call or skipped (a
    /// missed target is a finding, not an error).
    Ran = 0,
    /// Called wrongly (clap's code for a usage error).
    #[allow(dead_code)] // Returned by clap itself; listed to document the code.
    Usage = 2,
    /// A tool that is installed failed to run, or the run could not be prepared.
    Failed = 3,
    /// Interrupted by Ctrl-C.
    Interrupted = 130,
}
// ANCHOR_END: exit

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit as u8)
    }
}

/// Lesson 5's tokio engines and corpus server against nginx, wrk and Python's aiohttp,
/// measured in one run.
///
/// On nginx (2 workers) serving 100,000 documents of 2-8 KB (--quick: 10,000), the tokio
/// engines against wrk and aiohttp at 100 connections, and the tokio corpus server
/// against nginx (1 worker) under wrk; prints the figures and each target met, missed or
/// too close to call.
/// A comparison whose tool is not installed is skipped (apt-get install nginx wrk; pip
/// install aiohttp).
#[derive(Debug, Parser)]
#[command(
    name = "peers",
    version,
    after_help = "Exit codes: 0 ran (targets met, missed, too close to call or skipped), 2 \
                  bad usage, 3 an installed tool failed, 130 Ctrl-C."
)]
struct Cli {
    /// 10,000 documents, one round of 2-second wrk runs: a check that everything runs
    #[arg(long)]
    quick: bool,
    /// Also write the figures as JSON to FILE (or stdout with -)
    #[arg(long, value_name = "FILE|-")]
    json: Option<PathBuf>,
    /// Measure each side N times, in turns (1 to 15): more rounds, a firmer median and
    /// a truer range of what the machine's noise does [default: 3; with --quick, 1]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=15))]
    rounds: Option<u16>,
    /// Start nginx and the corpus server in this command's session, not each in a
    /// session of its own as a daemon runs: with the kernel's autogroup on, they then
    /// share one scheduling group with the clients, thread by thread
    #[arg(long)]
    servers_in_our_session: bool,
}

fn main() -> ExitCode {
    // The corpus server runs as this program again, in a child process.
    if let Some(exit) = async_download::child_mode::hidden_mode() {
        return exit;
    }
    let cli = Cli::parse();
    let mut plan = if cli.quick {
        plan::PeerPlan::quick()
    } else {
        plan::PeerPlan::full()
    };
    if let Some(rounds) = cli.rounds {
        plan.rounds = usize::from(rounds);
    }
    plan.servers_in_own_session = !cli.servers_in_our_session;
    let peers = match run::run(&plan, |line| eprintln!("{line}")) {
        Ok(peers) => peers,
        Err(e) => {
            eprintln!("peers: {e}");
            let interrupted = matches!(e, error::PeersError::Interrupted);
            return if interrupted {
                Exit::Interrupted
            } else {
                Exit::Failed
            }
            .into();
        }
    };
    println!("{}", report::markdown(&peers));
    if let Some(path) = &cli.json {
        let written = serde_json::to_string_pretty(&peers)
            .map_err(std::io::Error::other)
            .and_then(|text| {
                if path.as_os_str() == "-" {
                    println!("{text}");
                    Ok(())
                } else {
                    std::fs::write(path, text + "\n")
                }
            });
        if let Err(e) = written {
            eprintln!("peers: cannot write {}: {e}", path.display());
            return Exit::Failed.into();
        }
    }
    if peers.failed() {
        Exit::Failed.into()
    } else {
        Exit::Ran.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_reaches_the_benchmark() {
        let cli = Cli::try_parse_from(["peers", "--quick", "--json", "out.json"]).unwrap();
        assert!(cli.quick);
        assert_eq!(cli.json, Some(PathBuf::from("out.json")));
        assert_eq!(cli.rounds, None);
        assert!(!cli.servers_in_our_session);
        let cli = Cli::try_parse_from(["peers", "--servers-in-our-session"]).unwrap();
        assert!(cli.servers_in_our_session);
        let cli = Cli::try_parse_from(["peers", "--rounds", "7"]).unwrap();
        assert_eq!(cli.rounds, Some(7));
        for bad in ["0", "16", "many"] {
            assert!(
                Cli::try_parse_from(["peers", "--rounds", bad]).is_err(),
                "{bad}"
            );
        }
        assert!(Cli::try_parse_from(["peers", "--json"]).is_err());
        assert!(Cli::try_parse_from(["peers", "--svg", "x"]).is_err());
    }
}
