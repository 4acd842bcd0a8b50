//! The exit codes of the course's programs, one meaning each, the convention of command-
//! line tools: a script can tell "it ran and found a problem" from "it was called
//! wrongly". The tours and examples of every lesson use these; a tool with more to say
//! (the downloader's 3 and 130, xtask) has an enum of its own that starts with these.

use std::process::ExitCode;

/// How a program of the course ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// It did what it was asked, and everything held.
    Success = 0,
    /// It ran, and something failed: a claim, an experiment, the command it ran.
    Failure = 1,
    /// It was called wrongly: an unknown flag, a missing or bad value. Nothing ran.
    Usage = 2,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit as u8)
    }
}
