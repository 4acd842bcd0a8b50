//! The modes a program of this crate runs in when it starts itself again as a child
//! process: the corpus server (the downloader's `--corpus`, the race, the tour), one
//! run of the race (so that its peak memory and threads are its own), or one rung of the
//! ladder (so that its memory grows from a fresh start).
//!
//! Every binary that links this crate calls [`hidden_mode`] first: the child is the same
//! program, told by a hidden first argument which job it has. The mode has a module of
//! its own so that the command line, the race and the server each know only their part.

use std::process::ExitCode;

/// The mode this process was started in, run to its end; `None`: not a child mode,
/// the program goes on as usual.
pub fn hidden_mode() -> Option<ExitCode> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some(crate::server::SERVE_CORPUS) => Some(crate::server::serve_as_child(&args[1..])),
        Some(crate::race::RACE_ONE) => Some(crate::race::child_main(&args[1..])),
        Some(crate::ladder::LADDER_RUNG) => Some(crate::ladder::child_main(&args[1..])),
        _ => None,
    }
}
