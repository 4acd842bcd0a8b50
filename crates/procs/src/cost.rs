//! What does it cost to start a process? Three ways, measured side by side.
//!
//! - `std::process::Command`: what a Rust program normally uses. It does the same
//!   fork-and-exec (on Linux through `posix_spawn` or `clone(CLONE_VM|CLONE_VFORK)`,
//!   which skip copying the page tables) plus pipes and error reporting.
//! - fork + exec + wait by hand ([`crate::spawn`]), running `/bin/true`, a program that
//!   does nothing: the cost is all in creating the process and loading the program.
//! - fork + `_exit` + wait: no new program at all, only the copy of this process.
//!
//! The difference between the last two is the price of `exec`: mapping a new program,
//! its dynamic loader and its libraries.

use crate::error::Result;
use crate::measure::{Stats, time_trials};
use crate::spawn::{Program, fork_and_exit, spawn, wait_for};

/// The three spawn costs, each a median of repeated trials, measured in one run.
#[derive(Debug, Clone, Copy)]
pub struct SpawnCosts {
    pub command: Stats,
    pub fork_exec: Stats,
    pub fork_only: Stats,
}

// ANCHOR: spawn_costs
/// Measures the three ways of starting a process, `trials` times each, after a warm-up.
/// They are interleaved by blocks so a burst of noise on the machine hits all three.
pub fn spawn_costs(program: &str, trials: usize) -> Result<SpawnCosts> {
    let prepared = Program::new(program, &[] as &[&str])?;
    let path = prepared.path().to_string();
    let blocks = 5.min(trials.max(1));
    let per_block = trials.div_ceil(blocks);
    let (mut command, mut fork_exec, mut fork_only) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..blocks {
        let by_command = time_trials(2, per_block, || {
            let status = std::process::Command::new(&path).status();
            status.map(drop).map_err(|e| crate::Error::Invalid {
                what: "Command",
                reason: format!("cannot run {path}: {e}"),
            })
        })?;
        let by_hand = time_trials(2, per_block, || spawn(&prepared)?.wait().map(drop))?;
        let no_exec = time_trials(2, per_block, || wait_for(fork_and_exit(0)?).map(drop))?;
        command.push(by_command.median);
        fork_exec.push(by_hand.median);
        fork_only.push(no_exec.median);
    }
    // The median of the blocks' medians: one slow block does not move it.
    let summary = |v: Vec<f64>| Stats::from_samples(v).expect("at least one block ran");
    Ok(SpawnCosts {
        command: summary(command),
        fork_exec: summary(fork_exec),
        fork_only: summary(fork_only),
    })
}
// ANCHOR_END: spawn_costs

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_adds_to_the_cost_of_fork() {
        let c = spawn_costs("true", 10).unwrap();
        assert!(c.fork_only.median > 0.0);
        // Loading a program costs more than not loading one; a 1.0x margin keeps this
        // true on any machine, the tour checks a real ratio.
        assert!(c.fork_exec.median > c.fork_only.median, "{c:?}");
    }
}
