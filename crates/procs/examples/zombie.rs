//! Leaves a zombie for you to look at, then reaps it.
//!
//! ```text
//! cargo run -p procs --example zombie -- 20
//! ```
//!
//! While it waits, in another terminal: `ps -o pid,ppid,stat,comm --ppid <parent pid>`
//! shows the child with state `Z` (`<defunct>`); `cat /proc/<child pid>/stat` too.

use std::process::ExitCode;
use std::time::Duration;

use procs::proc::read_stat;
use procs::spawn::{fork_and_exit, wait_for};

fn main() -> ExitCode {
    let arg = std::env::args().nth(1);
    if matches!(arg.as_deref(), Some("-h" | "--help")) {
        println!(
            "Usage: cargo run -p procs --example zombie -- [SECONDS (default 10, at most 600)]"
        );
        return ExitCode::SUCCESS;
    }
    let seconds: u64 = match arg.as_deref().map(str::parse).unwrap_or(Ok(10)) {
        Ok(s) if s <= 600 => s,
        _ => {
            eprintln!("error: SECONDS must be a whole number from 0 to 600");
            return ExitCode::from(procs::exit::Exit::Usage);
        }
    };
    match run(seconds) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(procs::exit::Exit::Failure)
        }
    }
}

fn run(seconds: u64) -> procs::Result<()> {
    let me = std::process::id();
    let child = fork_and_exit(0)?;
    std::thread::sleep(Duration::from_millis(50));
    let state = read_stat(child.as_raw())?.state;
    println!("parent {me}: child {child} has exited; its state is {state} (Z = zombie)");
    println!(
        "parent {me}: not waiting for {seconds} s. Look: ps -o pid,ppid,stat,comm --ppid {me}"
    );
    std::thread::sleep(Duration::from_secs(seconds));
    let exit = wait_for(child)?;
    println!("parent {me}: waited; child ended with {exit}; /proc/{child} is gone now");
    Ok(())
}
