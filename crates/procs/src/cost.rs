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
use crate::measure::{Stats, Usage, time_trials};
use crate::spawn::{Program, fork_and_exit, spawn, wait_for};

/// What one way of starting a process costs, seen two ways.
#[derive(Debug, Clone)]
pub struct Cost {
    /// Wall-clock time per spawn (start, run, wait), median over blocks of trials.
    pub wall: Stats,
    /// CPU time per spawn, parent and child together, in seconds (median over blocks).
    /// Unlike wall time it does not include waiting for a free core, so it stays put on
    /// a busy machine: it is what the spawn *costs* the machine.
    pub cpu: f64,
    /// The CPU time per spawn of each block of trials: a claim compares these, so a
    /// difference inside their spread is too close to call.
    pub cpu_rounds: Vec<f64>,
}

/// The three spawn costs, measured in one run.
#[derive(Debug, Clone)]
pub struct SpawnCosts {
    pub command: Cost,
    pub fork_exec: Cost,
    pub fork_only: Cost,
}

// ANCHOR: spawn_costs
/// Measures the three ways of starting a process, `trials` times each, side by side.
pub fn spawn_costs(program: &str, trials: usize) -> Result<SpawnCosts> {
    let prepared = Program::new(program, &[] as &[&str])?;
    let path = prepared.path().to_string();
    let mut by_command = || {
        let status = std::process::Command::new(&path).status();
        status.map(drop).map_err(|e| crate::Error::Invalid {
            what: "Command",
            reason: format!("cannot run {path}: {e}"),
        })
    };
    let mut by_hand = || spawn(&prepared)?.wait().map(drop);
    let mut fork_only = || wait_for(fork_and_exit(0)?).map(drop);
    let costs = compare_costs(trials, &mut [&mut by_command, &mut by_hand, &mut fork_only])?;
    let mut costs = costs.into_iter();
    let mut next = || {
        costs.next().ok_or(crate::Error::Invalid {
            what: "spawn costs",
            reason: "fewer costs than operations".into(),
        })
    };
    Ok(SpawnCosts {
        command: next()?,
        fork_exec: next()?,
        fork_only: next()?,
    })
}
// ANCHOR_END: spawn_costs

// ANCHOR: compare_costs
/// Measures several operations side by side, `trials` times each, and returns one
/// [`Cost`] per operation, in order. The operations take turns in blocks, so a burst of
/// noise on the machine hits all of them alike; each figure is the median of the blocks.
/// Later lessons compare their own costs (a thread, a task) with a process's this way.
pub fn compare_costs(
    trials: usize,
    ops: &mut [&mut dyn FnMut() -> Result<()>],
) -> Result<Vec<Cost>> {
    let blocks = 5.min(trials.max(1));
    let per_block = trials.div_ceil(blocks);
    let mut figures: Vec<Vec<(f64, f64)>> = vec![Vec::new(); ops.len()];
    for _ in 0..blocks {
        for (op, figures) in ops.iter_mut().zip(&mut figures) {
            figures.push(block(per_block, op)?);
        }
    }
    figures.into_iter().map(summarize).collect()
}
// ANCHOR_END: compare_costs

/// One block of trials: the median wall time, and the CPU time per run that this
/// process and its (waited-for) children used during the block.
fn block(trials: usize, op: &mut dyn FnMut() -> Result<()>) -> Result<(f64, f64)> {
    const WARMUP: usize = 2;
    let (me, children) = (Usage::of_self()?, Usage::of_children()?);
    let wall = time_trials(WARMUP, trials, op)?;
    let cpu = Usage::of_self()?.since(&me).cpu() + Usage::of_children()?.since(&children).cpu();
    Ok((wall.median, cpu / (WARMUP + trials) as f64))
}

/// The median of the blocks' figures: one slow block does not move it.
fn summarize(blocks: Vec<(f64, f64)>) -> Result<Cost> {
    let (walls, cpus): (Vec<f64>, Vec<f64>) = blocks.into_iter().unzip();
    let no_blocks = || crate::Error::Invalid {
        what: "trial count",
        reason: "at least one block of trials is needed".into(),
    };
    Ok(Cost {
        wall: Stats::from_samples(walls).ok_or_else(no_blocks)?,
        cpu: Stats::from_samples(cpus.clone())
            .ok_or_else(no_blocks)?
            .median,
        cpu_rounds: cpus,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    use nix::unistd::Pid;

    /// The minor page faults of a child that has exited, read from `/proc/<pid>/stat`
    /// while it is a zombie (the kernel keeps its counts until it is reaped); then reaps
    /// it.
    fn faults_of_exited_child(pid: Pid) -> u64 {
        // Guards against a hang: the children below exit at once.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let stat = crate::proc::read_stat(pid.as_raw()).unwrap();
            if stat.state == 'Z' {
                wait_for(pid).unwrap();
                return stat.minflt;
            }
            assert!(Instant::now() < deadline, "pid {pid} did not exit");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn exec_adds_to_the_cost_of_fork() {
        // Forking: the memory tests must not see our children share their pages.
        let _turn = crate::test_lock();
        // The measurement runs, and gives each way its figures, block by block.
        let c = spawn_costs("true", 10).unwrap();
        for cost in [&c.command, &c.fork_exec, &c.fork_only] {
            assert!(cost.wall.median > 0.0 && cost.cpu > 0.0, "{c:?}");
            assert_eq!(cost.cpu_rounds.len(), 5, "{c:?}");
        }
        // What exec adds, counted instead of timed: times are the tour's business (it
        // calls a difference too close to call when the machine is noisy; a test cannot,
        // and a busy machine can make a bare fork slower than a fork and exec). Loading
        // a program takes page faults that a bare fork does not: the program's pages,
        // its loader's, its libraries'. The kernel counts them for the child alone, and
        // how busy the machine is does not change them.
        let program = Program::new("true", &[] as &[&str]).unwrap();
        let exec = faults_of_exited_child(spawn(&program).unwrap().pid());
        let fork = faults_of_exited_child(fork_and_exit(0).unwrap());
        assert!(exec > fork, "exec: {exec} page faults; fork alone: {fork}");
    }
}
