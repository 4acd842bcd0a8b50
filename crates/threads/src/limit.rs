//! How many threads can this machine run, and what stops it?
//!
//! Several limits apply, and the lowest wins:
//!
//! - `vm.max_map_count` (default 65,530): mappings per process. Each thread adds a few
//!   (its stack, the stack's guard page, Rust's signal stack and its guard), so this is
//!   often the first limit a program with many threads meets — not the process count.
//! - `kernel.threads-max` and `kernel.pid_max`: threads and ids for the whole machine
//!   (a thread takes a pid too).
//! - `pids.max` of the control group (containers, systemd services).
//! - `RLIMIT_NPROC`: processes and threads per user (not enforced for root).
//! - Memory: every stack reserves address space (`RLIMIT_AS`, overcommit settings).
//!
//! Past the limit, `std::thread::Builder::spawn` returns an error (and
//! `std::thread::spawn` panics with it). Worse, a thread whose stack was created but
//! whose signal stack cannot be mapped aborts the whole process. So the tour does not
//! hit the real limit: it *computes* it from these settings, and shows the failure in a
//! child process whose address space it limits, where a crash hurts nobody.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use nix::sys::resource::{Resource, setrlimit};
use procs::limits::{TaskLimits, read_number};

use crate::error::{Error, Result};
use crate::gate::Gate;

/// The settings that bound the number of threads, as read from the kernel: the ones
/// every task meets (lesson 1's [`TaskLimits`]) and the one only threads meet.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    pub max_map_count: Option<u64>,
    pub tasks: TaskLimits,
    /// Mappings this process has now.
    pub maps_in_use: u64,
}

/// The predicted maximum number of threads, and the setting that decides it.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    pub threads: u64,
    pub bound_by: &'static str,
}

impl Limits {
    /// Reads every setting it can; the ones that cannot be read are `None`.
    pub fn read() -> Result<Limits> {
        Ok(Limits {
            max_map_count: read_number(Path::new("/proc/sys/vm/max_map_count")),
            tasks: TaskLimits::read(),
            maps_in_use: crate::idle::count_maps()?,
        })
    }

    // ANCHOR: predict
    /// The lowest of the limits, given how many mappings one thread adds.
    pub fn predict(&self, maps_per_thread: f64) -> Prediction {
        let mut candidates: Vec<(u64, &'static str)> = Vec::new();
        if let Some(max) = self.max_map_count {
            if maps_per_thread > 0.0 {
                let room = max.saturating_sub(self.maps_in_use) as f64;
                candidates.push(((room / maps_per_thread) as u64, "vm.max_map_count"));
            }
        }
        candidates.extend(self.tasks.named());
        candidates
            .into_iter()
            .min_by_key(|(n, _)| *n)
            .map(|(threads, bound_by)| Prediction { threads, bound_by })
            .unwrap_or(Prediction {
                threads: u64::MAX,
                bound_by: "nothing that could be read",
            })
    }
    // ANCHOR_END: predict
}

/// What happened when a child process tried to start threads in a small address space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitDemo {
    pub asked: usize,
    /// Threads running at once before the first failure (or all, if none failed).
    pub started: usize,
    /// The error spawning reported, if it reported one.
    pub error: Option<String>,
}

// ANCHOR: hit_limit
/// Runs in the child: limits this process's address space to its current size plus
/// `room` bytes, then starts up to `asked` threads (default stacks) that stay alive,
/// stopping at the first refusal. Never call it in a process you want to keep: a thread
/// that gets its stack but not its signal stack aborts the process.
pub fn hit_limit(asked: usize, room: u64) -> Result<LimitDemo> {
    let now = procs::proc::self_status()?.vm_size;
    let cap = now + room;
    setrlimit(Resource::RLIMIT_AS, cap, cap).map_err(|errno| procs::Error::Sys {
        what: "setrlimit(RLIMIT_AS)",
        errno,
    })?;
    let gate = Arc::new(Gate::new());
    let mut handles = Vec::new();
    let mut error = None;
    for _ in 0..asked {
        let gate = gate.clone();
        match std::thread::Builder::new().spawn(move || gate.wait()) {
            Ok(h) => handles.push(h),
            Err(e) => {
                error = Some(e.to_string());
                break;
            }
        }
    }
    let started = gate.wait_for_arrivals(handles.len(), Duration::from_secs(10));
    gate.open();
    for h in handles {
        let _ = h.join();
    }
    Ok(LimitDemo {
        asked,
        started,
        error,
    })
}
// ANCHOR_END: hit_limit

impl LimitDemo {
    /// The child's report on stdout: `started N` and maybe `error MESSAGE`.
    pub fn to_lines(&self) -> String {
        let mut out = format!("asked {}\nstarted {}\n", self.asked, self.started);
        if let Some(e) = &self.error {
            out.push_str(&format!("error {e}\n"));
        }
        out
    }

    /// Reads [`LimitDemo::to_lines`] back; `None` if the child did not finish its report.
    pub fn from_lines(text: &str) -> Option<LimitDemo> {
        let mut asked = None;
        let mut started = None;
        let mut error = None;
        for line in text.lines() {
            if let Some(v) = line.strip_prefix("asked ") {
                asked = v.parse().ok();
            } else if let Some(v) = line.strip_prefix("started ") {
                started = v.parse().ok();
            } else if let Some(v) = line.strip_prefix("error ") {
                error = Some(v.to_string());
            }
        }
        Some(LimitDemo {
            asked: asked?,
            started: started?,
            error,
        })
    }
}

// ANCHOR: demo_in_child
/// Runs `program --demo-thread-limit ASKED ROOM` (the tour binary itself, in a child)
/// and reads its report. A child killed by a signal (the abort described above) is
/// reported as such, with what it managed to print.
pub fn demo_in_child(
    program: &Path,
    asked: usize,
    room: u64,
) -> Result<(Option<LimitDemo>, String)> {
    let out = std::process::Command::new(program)
        .args(["--demo-thread-limit", &asked.to_string(), &room.to_string()])
        .output()
        .map_err(|e| Error::Invalid {
            what: "child",
            reason: format!("cannot run {}: {e}", program.display()),
        })?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let ending = match std::os::unix::process::ExitStatusExt::signal(&out.status) {
        Some(sig) => format!(
            "killed by signal {sig} ({})",
            nix::sys::signal::Signal::try_from(sig).map_or("?", |s| s.as_str())
        ),
        None => format!("exited with {}", out.status.code().unwrap_or(-1)),
    };
    Ok((LimitDemo::from_lines(&text), ending))
}
// ANCHOR_END: demo_in_child

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            max_map_count: Some(65_530),
            tasks: TaskLimits {
                threads_max: Some(192_729),
                pid_max: Some(32_768),
                cgroup_pids_max: None,
                rlimit_nproc: None,
            },
            maps_in_use: 30,
        }
    }

    #[test]
    fn the_lowest_limit_wins() {
        let p = limits().predict(4.0);
        assert_eq!(
            p,
            Prediction {
                threads: 16_375,
                bound_by: "vm.max_map_count"
            }
        );
        let with = |tasks: TaskLimits| Limits { tasks, ..limits() };
        let p = with(TaskLimits {
            pid_max: Some(1_000),
            ..limits().tasks
        })
        .predict(4.0);
        assert_eq!(p.bound_by, "kernel.pid_max");
        let p = with(TaskLimits {
            cgroup_pids_max: Some(500),
            ..limits().tasks
        })
        .predict(4.0);
        assert_eq!(p.bound_by, "the cgroup's pids.max");
    }

    #[test]
    fn the_report_reads_back() {
        let d = LimitDemo {
            asked: 200,
            started: 17,
            error: Some("Resource temporarily unavailable".into()),
        };
        assert_eq!(LimitDemo::from_lines(&d.to_lines()), Some(d));
        assert_eq!(LimitDemo::from_lines("asked 3\n"), None);
    }

    #[test]
    fn this_machine_has_readable_limits() {
        let l = Limits::read().unwrap();
        assert!(
            l.max_map_count.is_some() || l.tasks.threads_max.is_some(),
            "{l:?}"
        );
        assert!(l.predict(4.0).threads > 100);
    }
}
