//! `cargo xtask bench`: lesson 5's race, run in release mode; `bench --peers`: the
//! course's engines and server against nginx, wrk and aiohttp.
//!
//! The race itself lives in the lesson (`async-download --race`), where a learner can
//! read and run it; this verb only builds it the way it must be measured (release),
//! runs it, and writes its table and chart into `target/bench/`. The book's own race
//! is the one of the recorded run (`cargo xtask book --record`), so that its chart and
//! its claims come from the same run.
//!
//! The comparison with outside peers is tooling, not a lesson: it lives in its own
//! package, `xtask/peers`, which links lesson 5 and which no lesson depends on.

use std::path::Path;
use std::process::{Command, ExitCode};

use crate::cli::{Exit, RunOptions};
use crate::workspace;

/// Where the race's table and chart go, relative to the workspace root.
const OUT_DIR: &str = "target/bench";

pub fn main(options: &RunOptions, peers: bool) -> ExitCode {
    let root = workspace::root();
    if peers {
        let mut args = Vec::new();
        if options.quick {
            args.push("--quick".to_string());
        }
        if let Some(json) = &options.json {
            args.extend(["--json".to_string(), path(json)]);
        }
        eprintln!(
            "cargo xtask bench --peers: the engines and the server against nginx, wrk, aiohttp"
        );
        return run_release(&root, ("peers", "peers"), &args);
    }
    let out = root.join(OUT_DIR);
    if let Err(e) = std::fs::create_dir_all(&out) {
        eprintln!("error: cannot create {}: {e}", out.display());
        return Exit::Failed.into();
    }
    let mut race = vec![
        "--race".to_string(),
        "--svg".to_string(),
        path(&out.join("race.svg")),
        "--markdown".to_string(),
        path(&out.join("race.md")),
    ];
    if options.quick {
        race.push("--quick".to_string());
    }
    if let Some(json) = &options.json {
        race.extend(["--json".to_string(), path(json)]);
    }
    eprintln!("cargo xtask bench: the race");
    run_release(&root, ("async-download", "async-download"), &race)
}

fn path(p: &Path) -> String {
    p.display().to_string()
}

/// `cargo run --release -p PACKAGE --bin BIN -- ARGS`, output shown as it comes; its
/// exit code is passed on (the programs document theirs), or 1 when cargo cannot run.
fn run_release(root: &Path, (package, bin): (&str, &str), args: &[String]) -> ExitCode {
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(root)
        .args(["run", "--release", "-p", package, "--bin", bin, "--"])
        .args(args)
        .status();
    match status {
        Ok(status) => match status.code() {
            Some(0) => ExitCode::SUCCESS,
            Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
            None => {
                eprintln!("error: {package} was stopped by a signal ({status})");
                Exit::Failed.into()
            }
        },
        Err(e) => {
            eprintln!("error: cannot run cargo: {e}");
            Exit::Failed.into()
        }
    }
}
