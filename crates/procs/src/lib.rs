//! Lesson 1: processes — fork, exec, wait, the process tree, and what a process costs.
//!
//! A program that wants to do many things at once can start more processes. This lesson
//! shows how (fork, exec, wait), what the kernel keeps about each process (/proc, the
//! tree, zombies), and, measured on your own machine, what one costs to create and why
//! the folk answer "fork copies all the memory" is not quite right.
//!
//! Modules, in the order the chapter explains them (the tour measures them in an order
//! that keeps its figures clean: spawn costs before any large memory is mapped):
//!
//! - [`measure`]: how to measure a cost at all (trials, medians, ratios). Every later
//!   lesson measures with it.
//! - [`proc`]: reading a process's description from /proc.
//! - [`tree`]: the chain of parents up to PID 1.
//! - [`spawn`]: fork + exec + wait done right.
//! - [`memory`]: what fork copies (page tables) and when (copy-on-write).
//! - [`cost`]: the cost of starting a process, three ways.
//! - [`zombie`]: an exited child nobody waited for.
//! - [`deadline`]: deadlines that cannot overflow, whatever wait is asked for.
//! - [`child_server`]: a server in a child process, for the later lessons' tours;
//!   [`session`]: a child in a session of its own, as a daemon runs, and why a
//!   benchmark's server wants one (the scheduler's autogroups).
//! - [`claim`]: claims that can fail: a decision over figures, and its wrong world;
//!   [`claims`]: this lesson's.
//! - [`host`]: the machine a tour ran on, and how busy it was.
//! - [`tour`]: the report format every lesson's tour uses; [`figure`]: a measured
//!   figure and how it is written, for the tours and the claims alike.
//! - Your tasks are not in this crate: each exercise is a package of its own, in
//!   `exercises/<name>/` (see `exercises/README.md`), that nothing depends on, so one
//!   that does not compile breaks nothing here.

#[cfg(not(target_os = "linux"))]
compile_error!(
    "this course measures processes through Linux's /proc and needs Linux: \
     use a Linux machine, a VM, or a container (see the README's platform notes)"
);

pub mod bounded;
pub mod child_server;
pub mod claim;
pub mod claims;
pub mod cost;
pub mod deadline;
pub mod error;
pub mod exit;
pub mod figure;
pub mod host;
pub mod idle;
pub mod limits;
pub mod measure;
pub mod memory;
pub mod proc;
pub mod session;
pub mod spawn;
pub mod tour;
pub mod tree;
pub mod zombie;

pub use error::{Error, Result};

/// Tests that fork and tests that look at this process's memory take turns: a child
/// forked by one test shares, copy-on-write, the pages another test is measuring, until
/// it execs or exits, and on a busy machine that can take a while.
#[cfg(test)]
pub(crate) fn test_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
