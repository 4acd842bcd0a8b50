//! Every descriptor the lesson opens closes on exec: a program that another thread of
//! the same process starts meanwhile inherits none of them.
//!
//! One thread runs the fork experiments (each makes a pipe, forks, reads, waits) over
//! and over; another starts `sleep` again and again and lists the descriptors the new
//! program holds, from /proc, while it runs. A pipe made without `O_CLOEXEC` would show
//! up in `sleep` as soon as a start falls inside one of the experiment's windows, and
//! a reader waiting for that pipe's end-of-file would wait as long as `sleep` lives.

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};

use procs::memory::{Region, child_changes_a_copy, child_write_faults, sharing_after_fork};

/// The pipes and sockets a process holds besides stdin, stdout and stderr, as
/// "fd N -> pipe:[inode]". (A program's own files, which `sleep` opens as it starts,
/// are regular files; what it can inherit from the experiments is a pipe.)
fn pipes_and_sockets(pid: &str) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return Vec::new(); // already gone
    };
    entries
        .flatten()
        .filter_map(|e| {
            let n: u32 = e.file_name().to_str()?.parse().ok()?;
            let target = std::fs::read_link(e.path()).ok()?.display().to_string();
            let shared = target.starts_with("pipe:") || target.starts_with("socket:");
            (n > 2 && shared).then(|| format!("fd {n} -> {target}"))
        })
        .collect()
}

#[test]
fn a_program_started_during_the_experiments_inherits_no_descriptor() {
    // Whatever this test process was itself started with (its parent's descriptors,
    // say) is not the lesson's doing.
    let before: Vec<String> = pipes_and_sockets("self");
    let stop = AtomicBool::new(false);
    let inherited = std::thread::scope(|s| {
        s.spawn(|| {
            let mut region = Region::new(64 * 4096).expect("a small region");
            region.touch_all();
            // Relaxed: a stop flag that publishes no data; the scope joins the thread after the store.
            while !stop.load(Ordering::Relaxed) {
                child_changes_a_copy(41).expect("fork copies");
                child_write_faults(&mut region, 4).expect("copy-on-write faults");
                sharing_after_fork(&region).expect("smaps after fork");
            }
        });
        let mut inherited = Vec::new();
        for _ in 0..300 {
            let mut child = Command::new("sleep")
                .arg("5")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("sleep starts");
            // Once exec has happened, /proc/<pid>/exe is sleep; before, the listing
            // would be the fork's copy of our own table.
            while std::fs::read_link(format!("/proc/{}/exe", child.id()))
                .is_ok_and(|exe| !exe.to_string_lossy().contains("sleep"))
            {
                std::thread::yield_now();
            }
            let held = pipes_and_sockets(&child.id().to_string());
            inherited.extend(held.into_iter().filter(|fd| !before.contains(fd)));
            let _ = child.kill();
            let _ = child.wait();
        }
        // Relaxed: see the load above; the thread stops within one more round.
        stop.store(true, Ordering::Relaxed);
        inherited
    });
    assert!(
        inherited.is_empty(),
        "programs started meanwhile inherited: {inherited:?}"
    );
}
