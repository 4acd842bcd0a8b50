//! `cargo xtask list` and `cargo xtask hint`.

use std::process::ExitCode;

pub fn list() -> ExitCode {
    eprintln!("error: `list` is not written yet");
    ExitCode::FAILURE
}

pub fn hint(_id: &str) -> ExitCode {
    eprintln!("error: `hint` is not written yet");
    ExitCode::FAILURE
}
