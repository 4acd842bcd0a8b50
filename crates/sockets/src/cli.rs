//! What the `wiki-server` and `wiki-load` commands share: how they read their arguments
//! and answer a wrong call.
//!
//! Each command parses its own flags by hand (a dozen flags do not need a library, and
//! the errors say which flag and which value were wrong); this module holds the parts
//! that are the same for both. They answer alike: `--help` prints the usage on stdout
//! and exits with 0; a usage error is one line on stderr, a hint to run `--help`, and
//! exit code 2, the convention for "called wrongly" that lets a script tell it apart
//! from the work itself failing (1).

use std::net::SocketAddr;
use std::process::ExitCode;

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
