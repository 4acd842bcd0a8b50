//! What the `wiki-server` and `wiki-load` commands (and lesson 4's `loop-server`)
//! share: how they read their arguments and answer a wrong call.
//!
//! Each command parses its own flags by hand (a dozen flags do not need a library, and
//! the errors say which flag and which value were wrong); this module holds the parts
//! that are the same for all. They answer alike: `--help` prints the usage on stdout
//! and exits with 0; a usage error is one line on stderr, a hint to run `--help`, and
//! exit code 2, the convention for "called wrongly" that lets a script tell it apart
//! from the work itself failing (1). The two servers also share their flags
//! ([`ServerFlags`]), so that they are called alike and can be compared side by side.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use crate::corpus::{FaultKind, FaultPlan};

/// The options `parse` makes of this process's arguments (the program's name left
/// out), or, when the command should stop at once, the code to exit with: after
/// printing `usage` (`parse` returned `None`, for `--help`), or after printing the
/// usage error `parse` returned.
///
/// ```no_run
/// # use std::process::ExitCode;
/// # fn parse(args: &[String]) -> Result<Option<u16>, String> { Ok(Some(0)) }
/// fn main() -> ExitCode {
///     let port = match sockets::cli::options("my-tool", "Usage: my-tool", parse) {
///         Ok(port) => port,
///         Err(exit) => return exit,
///     };
///     // ... the work ...
///     ExitCode::SUCCESS
/// }
/// ```
pub fn options<T>(
    program: &str,
    usage: &str,
    parse: impl FnOnce(&[String]) -> Result<Option<T>, String>,
) -> Result<T, ExitCode> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match parse(&args) {
        Ok(Some(options)) => Ok(options),
        Ok(None) => {
            println!("{usage}");
            Err(ExitCode::SUCCESS)
        }
        Err(message) => {
            eprintln!("{program}: {message}\n\nRun `{program} --help` for the options.");
            Err(ExitCode::from(2))
        }
    }
}

/// The value of an address flag such as `--addr`: `IP:PORT`, a socket address (not a
/// host name).
pub fn addr(flag: &str, text: &str) -> Result<SocketAddr, String> {
    text.parse()
        .map_err(|_| format!("{flag}: `{text}` is not an IP:PORT address"))
}

/// The arguments still to read, from which a flag takes its value.
#[derive(Debug)]
pub struct Args<'a>(std::slice::Iter<'a, String>);

impl<'a> Args<'a> {
    /// The value that follows `flag`, or a usage error saying `what` it should be.
    pub fn value(&mut self, flag: &str, what: &str) -> Result<&'a str, String> {
        self.0
            .next()
            .map(String::as_str)
            .ok_or_else(|| format!("{flag} needs a value ({what})"))
    }
}

/// The flags every corpus server takes (`wiki-server` of this lesson, `loop-server` of
/// lesson 4), so that the two are called, and compared, alike:
/// `--addr --latency --fault-rate --faults --seed --idle-timeout --for --allow-remote`
/// and `-h`/`--help`.
#[derive(Debug, Clone)]
pub struct ServerFlags {
    /// `--addr`: where to listen (a loopback address unless `--allow-remote`).
    pub addr: SocketAddr,
    /// `--latency`, `--fault-rate`, `--faults`, `--seed`: what to inject.
    pub faults: FaultPlan,
    /// `--idle-timeout`: never zero.
    pub idle_timeout: Duration,
    /// `--for`: serve this long, then stop and print the counts; `None`: until killed.
    pub serve_for: Option<Duration>,
}

impl ServerFlags {
    /// Reads `args` (the program's name left out), starting from `defaults`: the
    /// shared flags here, any other flag by `own`, which returns `Ok(false)` for a flag
    /// it does not know either, and takes its value with [`Args::value`]. `None` for
    /// `--help`; `Err` is a usage error's message.
    pub fn parse(
        args: &[String],
        defaults: ServerFlags,
        mut own: impl FnMut(&str, &mut Args<'_>) -> Result<bool, String>,
    ) -> Result<Option<ServerFlags>, String> {
        let mut flags = defaults;
        let mut allow_remote = false;
        let mut args = Args(args.iter());
        while let Some(flag) = args.0.next() {
            let flag = flag.as_str();
            match flag {
                "-h" | "--help" => return Ok(None),
                "--allow-remote" => allow_remote = true,
                "--addr" => {
                    flags.addr = addr(flag, args.value(flag, "an address such as 127.0.0.1:8080")?)?
                }
                "--latency" => {
                    flags.faults.latency =
                        Duration::from_millis(number(flag, args.value(flag, "milliseconds")?)?)
                }
                "--fault-rate" => {
                    let text = args.value(flag, "a fraction from 0 to 1")?;
                    flags.faults.rate = match text.parse::<f64>() {
                        Ok(rate) if (0.0..=1.0).contains(&rate) => rate,
                        _ => return Err(format!("--fault-rate: `{text}` is not between 0 and 1")),
                    };
                }
                "--faults" => {
                    let text = args.value(flag, "a list such as drop,truncate")?;
                    flags.faults.kinds =
                        FaultKind::parse_list(text).map_err(|e| format!("--faults: {e}"))?;
                }
                "--seed" => flags.faults.seed = number(flag, args.value(flag, "a number")?)?,
                "--idle-timeout" => {
                    flags.idle_timeout = seconds(flag, args.value(flag, "seconds")?)?;
                    if flags.idle_timeout.is_zero() {
                        // A zero timeout means "no timeout" to the socket API: refuse it
                        // rather than let it mean the opposite of what it says.
                        return Err("--idle-timeout: must be more than 0".into());
                    }
                }
                "--for" => flags.serve_for = Some(seconds(flag, args.value(flag, "seconds")?)?),
                other => {
                    if !own(other, &mut args)? {
                        return Err(format!("unknown option `{other}`"));
                    }
                }
            }
        }
        // The corpus has no authentication and does what any request asks: wait a
        // minute, hold a connection, send 14 MB. On this machine that is a test tool;
        // on a network interface, anyone who can reach it could tie it up.
        if !flags.addr.ip().is_loopback() && !allow_remote {
            return Err(format!(
                "{} is not a loopback address: the corpus server is a test tool that \
                 does whatever a request asks (long waits, big lists), so it listens on \
                 this machine only; add --allow-remote if you really mean it",
                flags.addr
            ));
        }
        Ok(Some(flags))
    }
}

/// The value of a flag that takes a whole number, such as `--seed`.
pub fn number<T: std::str::FromStr>(flag: &str, text: &str) -> Result<T, String> {
    text.parse()
        .map_err(|_| format!("{flag}: `{text}` is not a whole number in range"))
}

/// The value of a flag that takes seconds, fractions allowed (`0.5`).
pub fn seconds(flag: &str, text: &str) -> Result<Duration, String> {
    text.parse::<f64>()
        .ok()
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .ok_or_else(|| format!("{flag}: `{text}` is not a number of seconds"))
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
