//! A shell running `find`, step by step: fork, exec in the child, wait in the parent.
//!
//! ```text
//! cargo run -p procs --example find -- . -name '*.toml'
//! ```
//!
//! Try a program that does not exist (`--example find -- --no-such-flag` still runs
//! `find`; change `PROGRAM` to `"fnid"` to see the error), or a `find` that fails
//! (`-- /no/such/dir`) to see its exit code come back through `wait`.

use std::process::ExitCode;

use procs::spawn::{Exit, Program, spawn};

const PROGRAM: &str = "find";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!(
            "Runs `find ARGS...` the way a shell does: fork, exec, wait.\n\n\
             Usage: cargo run -p procs --example find -- [FIND ARGS...]\n\
             Example: cargo run -p procs --example find -- . -name '*.toml'"
        );
        return ExitCode::SUCCESS;
    }
    match run(&args) {
        Ok(exit) if exit.success() => ExitCode::SUCCESS,
        Ok(_) => ExitCode::from(procs::exit::Exit::Failure),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(procs::exit::Exit::Usage)
        }
    }
}

fn run(args: &[String]) -> procs::Result<Exit> {
    let me = std::process::id();
    // ANCHOR: story
    // 1. Everything that allocates happens before the fork.
    let program = Program::new(PROGRAM, args)?;
    eprintln!(
        "[parent {me}] will run {} {}",
        program.path(),
        args.join(" ")
    );
    // 2. fork: now there are two of us; the child execs `find` at once.
    let child = spawn(&program)?;
    eprintln!(
        "[parent {me}] forked child {}; it is running find now",
        child.pid()
    );
    // 3. wait: sleep until the child ends, and collect how it ended.
    let pid = child.pid();
    let exit = child.wait()?;
    eprintln!("[parent {me}] child {pid} ended with {exit}");
    // ANCHOR_END: story
    Ok(exit)
}
