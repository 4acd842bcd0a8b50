//! `cargo xtask bench`: lesson 5's race, run in release mode, and the peers.
//!
//! The race itself lives in the lesson (`async-download --race`), where a learner can
//! read and run it; this verb only builds it the way it must be measured (release),
//! runs it, and writes its table and chart into `target/bench/`. The book's own race
//! is the one of the recorded run (`cargo xtask book --record`), so that its chart and
//! its claims come from the same run.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use crate::cli::RunOptions;
use crate::workspace;

/// Where the race's table and chart go, relative to the workspace root.
const OUT_DIR: &str = "target/bench";

pub fn main(options: &RunOptions) -> ExitCode {
    let root = workspace::root();
    let out = root.join(OUT_DIR);
    if let Err(e) = std::fs::create_dir_all(&out) {
        eprintln!("error: cannot create {}: {e}", out.display());
        return ExitCode::FAILURE;
    }
    let mut race = vec![
        "--race".to_string(),
        "--svg".to_string(),
        path(&out.join("race.svg")),
        "--markdown".to_string(),
        path(&out.join("race.md")),
    ];
    let mut peers = vec!["--peers".to_string()];
    if options.quick {
        race.push("--quick".to_string());
        peers.push("--quick".to_string());
    }
    if let Some(json) = &options.json {
        race.extend(["--json".to_string(), path(json)]);
    }
    for (what, args) in [("the race", race), ("the peers", peers)] {
        eprintln!("cargo xtask bench: {what}");
        if !run_release(&root, &args) {
            eprintln!("error: {what} failed (see above)");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}

fn path(p: &Path) -> String {
    p.display().to_string()
}

/// `cargo run --release -p async-download --bin async-download -- ARGS`, output shown
/// as it comes.
fn run_release(root: &PathBuf, args: &[String]) -> bool {
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(root)
        .args([
            "run",
            "--release",
            "-p",
            "async-download",
            "--bin",
            "async-download",
            "--",
        ])
        .args(args)
        .status();
    match status {
        Ok(status) => status.success(),
        Err(e) => {
            eprintln!("error: cannot run cargo: {e}");
            false
        }
    }
}
