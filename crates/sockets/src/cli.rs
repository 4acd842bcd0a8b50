//! The command-line pieces every tool of the course shares, from this lesson on (the
//! first with programs besides its tour): `wiki-server` and `wiki-load` here, lesson 4's
//! `loop-server`, lesson 5's `async-download` and its corpus server.
//!
//! The tools read their arguments with clap: each option is defined once, with its
//! default, and `--help`, the errors and the suggestions ("did you mean `--seed`?") come
//! from that one definition. They answer alike: `--help` prints the usage on stdout and
//! exits with 0; a usage error is a message on stderr and exit code 2, the convention for
//! "called wrongly" that lets a script tell it apart from the work itself failing (1).
//!
//! What is here is what clap does not know: how to read seconds (`0.5`), a fraction, a
//! list of faults; the flags both corpus servers take ([`ServerFlags`]), so that they are
//! called, and compared, alike; and the rest of a server's `main` once it listens.

use std::net::SocketAddr;
use std::time::Duration;

use crate::corpus::{FaultKind, FaultPlan, UnknownFault};

/// Why a flag's value was refused. clap prints it after the flag and the value.
#[derive(Debug, thiserror::Error)]
pub enum ValueError {
    #[error("not a number of seconds (fractions allowed: 0.5)")]
    NotSeconds,
    /// A zero timeout means "no timeout" to the socket API: refused rather than let it
    /// mean the opposite of what it says.
    #[error("must be more than 0 seconds")]
    ZeroSeconds,
    #[error("not a fraction from 0 to 1")]
    NotFraction,
    #[error(transparent)]
    Fault(#[from] UnknownFault),
}

/// Seconds, fractions allowed (`0.5`): for `--for`, `--timeout` and the like.
pub fn seconds(text: &str) -> Result<Duration, ValueError> {
    text.parse::<f64>()
        .ok()
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .ok_or(ValueError::NotSeconds)
}

/// Seconds, more than 0: for a timeout, where 0 would mean "wait forever".
pub fn positive_seconds(text: &str) -> Result<Duration, ValueError> {
    match seconds(text)? {
        d if d.is_zero() => Err(ValueError::ZeroSeconds),
        d => Ok(d),
    }
}

/// A fraction from 0 to 1, such as `--fault-rate 0.05`.
pub fn fraction(text: &str) -> Result<f64, ValueError> {
    match text.parse::<f64>() {
        Ok(rate) if (0.0..=1.0).contains(&rate) => Ok(rate),
        _ => Err(ValueError::NotFraction),
    }
}

/// The faults of `--faults`, comma-separated.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultList(pub Vec<FaultKind>);

/// `--faults drop,truncate`.
pub fn fault_list(text: &str) -> Result<FaultList, ValueError> {
    Ok(FaultList(FaultKind::parse_list(text)?))
}

// ANCHOR: server_flags
/// The flags every corpus server takes (`wiki-server` of this lesson, `loop-server` of
/// lesson 4, lesson 5's server): a server adds them to its own with
/// `#[command(flatten)]`. Each server has its own `--idle-timeout` (their defaults
/// differ) and its own measure of size (`--workers`, `--max-connections`).
#[derive(Debug, Clone, clap::Args)]
pub struct ServerFlags {
    /// Where to listen (port 0: any free port); a loopback address unless --allow-remote
    #[arg(long, value_name = "IP:PORT", default_value = "127.0.0.1:0")]
    pub addr: SocketAddr,
    /// Wait before every reply, in milliseconds
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub latency: u64,
    /// The fraction of article requests, 0 to 1, that meet a fault
    #[arg(long, value_name = "R", default_value = "0", value_parser = fraction)]
    pub fault_rate: f64,
    /// The faults to choose from, comma-separated:
    /// latency,drop,unavailable,truncate,chunked,close,drip [default: all]
    #[arg(long, value_name = "LIST", value_parser = fault_list)]
    pub faults: Option<FaultList>,
    /// Which article ids are unlucky
    #[arg(long, value_name = "S", default_value_t = 0)]
    pub seed: u64,
    /// Stop after SECONDS and print the counts [default: until killed]
    #[arg(long = "for", value_name = "SECONDS", value_parser = seconds)]
    pub serve_for: Option<Duration>,
    /// Allow an address other than loopback
    #[arg(long)]
    pub allow_remote: bool,
}
// ANCHOR_END: server_flags

/// The end of every corpus server's `--help`: where to start, and its exit codes.
pub const SERVER_AFTER_HELP: &str = "Try: curl -i http://ADDR/  (the routes and the per-request fault parameters)\n\n\
     Exit codes: 0 served, 1 could not listen, 2 called wrongly.";

/// Why a server refuses the flags it was given, beyond what each flag says alone.
#[derive(Debug, thiserror::Error)]
pub enum FlagsError {
    // The corpus has no authentication and does what any request asks: wait a minute,
    // hold a connection, send 14 MB. On this machine that is a test tool; on a network
    // interface, anyone who can reach it could tie it up.
    #[error(
        "{0} is not a loopback address: the corpus server is a test tool that does whatever \
         a request asks (long waits, big lists), so it listens on this machine only; add \
         --allow-remote if you really mean it"
    )]
    NotLoopback(SocketAddr),
}

impl ServerFlags {
    /// The faults the flags ask for.
    pub fn faults(&self) -> FaultPlan {
        FaultPlan {
            latency: Duration::from_millis(self.latency),
            rate: self.fault_rate,
            kinds: self
                .faults
                .clone()
                .map_or_else(|| FaultKind::ALL.to_vec(), |list| list.0),
            seed: self.seed,
        }
    }

    /// The checks that concern the flags together: a loopback address unless
    /// `--allow-remote`.
    pub fn check(&self) -> Result<(), FlagsError> {
        if !self.addr.ip().is_loopback() && !self.allow_remote {
            return Err(FlagsError::NotLoopback(self.addr));
        }
        Ok(())
    }
}

/// The rest of a corpus server's `main` once it listens: prints `listening on
/// http://ADDR` (flushed: through a pipe stdout is not line-buffered, and a script
/// waiting for the address would wait forever), then serves until killed, or for
/// `serve_for` and then prints what `stop` returns (the server's counts).
pub fn announce_and_serve<S: std::fmt::Display>(
    addr: SocketAddr,
    serve_for: Option<Duration>,
    stop: impl FnOnce() -> S,
) {
    use std::io::Write as _;
    println!("listening on http://{addr}");
    let _ = std::io::stdout().flush();
    match serve_for {
        Some(duration) => {
            std::thread::sleep(duration);
            println!("{}", stop());
        }
        // Serve until killed: the server's own threads do everything.
        None => loop {
            std::thread::park();
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Server {
        #[command(flatten)]
        flags: ServerFlags,
    }

    fn parse(args: &[&str]) -> Result<ServerFlags, clap::Error> {
        Server::try_parse_from(std::iter::once("server").chain(args.iter().copied()))
            .map(|s| s.flags)
    }

    #[test]
    fn values_are_read_and_checked() {
        assert_eq!(seconds("0.5").unwrap(), Duration::from_millis(500));
        assert!(matches!(seconds("soon"), Err(ValueError::NotSeconds)));
        assert!(matches!(seconds("-1"), Err(ValueError::NotSeconds)));
        assert!(matches!(
            positive_seconds("0"),
            Err(ValueError::ZeroSeconds)
        ));
        assert_eq!(fraction("1").unwrap(), 1.0);
        assert!(fraction("1.5").is_err() && fraction("NaN").is_err());
        assert!(fault_list("drop,nonsense").is_err());
    }

    #[test]
    fn the_flags_make_a_fault_plan() {
        let flags = parse(&["--latency", "5", "--fault-rate", "0.25", "--faults", "drop"]).unwrap();
        let plan = flags.faults();
        assert_eq!(plan.latency, Duration::from_millis(5));
        assert_eq!((plan.rate, plan.kinds), (0.25, vec![FaultKind::Drop]));
        let plain = parse(&[]).unwrap();
        assert_eq!(plain.faults().kinds, FaultKind::ALL.to_vec());
        assert!(plain.addr.ip().is_loopback() && plain.check().is_ok());
    }

    #[test]
    fn a_remote_address_needs_allow_remote() {
        let flags = parse(&["--addr", "0.0.0.0:0"]).unwrap();
        assert!(
            flags
                .check()
                .unwrap_err()
                .to_string()
                .contains("--allow-remote")
        );
        let flags = parse(&["--addr", "0.0.0.0:0", "--allow-remote"]).unwrap();
        assert!(flags.check().is_ok());
    }

    #[test]
    fn a_wrong_value_is_a_usage_error_that_names_the_flag() {
        for args in [
            &["--fault-rate", "2"][..],
            &["--faults", "x"],
            &["--for", "x"],
        ] {
            let e = parse(args).unwrap_err();
            assert_eq!(e.exit_code(), 2);
            assert!(e.to_string().contains(args[0]), "{e}");
        }
    }
}
