//! The machine a tour ran on, and how busy it was: figures mean little without it.
//!
//! Every tour and `cargo xtask run-all` print one host line: the system, the CPU model,
//! the core count, and the load just before the run. A figure measured while other
//! programs kept the cores busy is noisier (a claim may then be "too close to call"),
//! so a busy machine is named in a warning, in the text and in the JSON report.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A share of all cores busy with other work, sampled just before the run, from which
/// the host is called busy: a quarter of the machine.
pub const BUSY_SHARE: f64 = 0.25;

/// How long the cores are watched before the run.
const SAMPLE: Duration = Duration::from_millis(200);

/// The machine the figures were measured on.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Host {
    pub os: String,
    pub kernel: String,
    pub arch: String,
    pub cores: usize,
    /// The CPU model, from /proc/cpuinfo ("unknown" if it does not say).
    #[serde(default)]
    pub cpu: String,
    pub rustc: String,
    pub git_revision: String,
    /// The load average over the last minute, from /proc/loadavg (NaN if unreadable).
    #[serde(default)]
    pub load_average: f64,
    /// The share of all cores that were busy during a short look just before the run
    /// (0.5: one core of two), from /proc/stat (NaN if unreadable).
    #[serde(default)]
    pub busy_before: f64,
    /// Set when the machine was busy before the run: its figures may be noisy.
    #[serde(default)]
    pub warning: Option<String>,
}

impl Host {
    /// Reads the host's description, watching the cores for a fifth of a second. Nothing
    /// here can fail the tour: what cannot be read is reported as unknown.
    pub fn detect() -> Self {
        let uname = nix::sys::utsname::uname().ok();
        let field = |f: fn(&nix::sys::utsname::UtsName) -> &std::ffi::OsStr| {
            uname
                .as_ref()
                .map(|u| f(u).to_string_lossy().into_owned())
                .unwrap_or_else(|| "unknown".into())
        };
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let load_average = std::fs::read_to_string("/proc/loadavg")
            .ok()
            .and_then(|text| parse_loadavg(&text))
            .unwrap_or(f64::NAN);
        let busy_before = busy_share(SAMPLE).unwrap_or(f64::NAN);
        Host {
            os: field(|u| u.sysname()),
            kernel: field(|u| u.release()),
            arch: std::env::consts::ARCH.to_string(),
            cores,
            cpu: std::fs::read_to_string("/proc/cpuinfo")
                .ok()
                .and_then(|text| cpu_model(&text))
                .unwrap_or_else(|| "unknown CPU".into()),
            rustc: env!("PROCS_RUSTC_VERSION").to_string(),
            git_revision: git_revision(),
            load_average,
            busy_before,
            warning: busy_warning(busy_before, load_average, cores),
        }
    }

    /// The host line every tour prints.
    pub fn line(&self) -> String {
        format!(
            "host: {} {} {}, {}, {} cores, {}, revision {}; load {:.2}, {:.0}% of the cores busy just before",
            self.os,
            self.kernel,
            self.arch,
            self.cpu,
            self.cores,
            self.rustc,
            self.git_revision,
            self.load_average,
            self.busy_before * 100.0
        )
    }
}

/// The warning for a machine that was busy, or `None`.
///
/// Decided by the share of the cores in use just before (`busy`), not by the load
/// average: that one is an average over the last minute, so the tests that
/// `cargo xtask run-all` ran a moment ago would raise it and warn about a machine that
/// is now idle. It is shown in the warning, as a hint of what came before.
pub fn busy_warning(busy: f64, load_average: f64, cores: usize) -> Option<String> {
    (busy >= BUSY_SHARE).then(|| {
        format!(
            "the machine was busy before this run ({:.0}% of {cores} cores in use, load \
             average {load_average:.2}): timings are noisier, and a comparison inside the \
             noise is reported as too close to call",
            busy * 100.0
        )
    })
}

/// The first `model name` of /proc/cpuinfo (on some ARM machines: `Hardware` or
/// `Processor`).
pub fn cpu_model(cpuinfo: &str) -> Option<String> {
    ["model name", "Hardware", "Processor"]
        .iter()
        .find_map(|key| {
            cpuinfo.lines().find_map(|line| {
                let (name, value) = line.split_once(':')?;
                (name.trim() == *key && !value.trim().is_empty())
                    .then(|| value.split_whitespace().collect::<Vec<_>>().join(" "))
            })
        })
}

/// The 1-minute load average: the first field of /proc/loadavg.
pub fn parse_loadavg(text: &str) -> Option<f64> {
    text.split_whitespace().next()?.parse().ok()
}

/// (busy, total) jiffies of all CPUs, from the first line of /proc/stat.
pub fn cpu_jiffies(stat: &str) -> Option<(u64, u64)> {
    let line = stat.lines().next()?;
    let mut fields = line.split_whitespace();
    if fields.next()? != "cpu" {
        return None;
    }
    let values: Vec<u64> = fields.map(|f| f.parse().ok()).collect::<Option<_>>()?;
    if values.len() < 4 {
        return None;
    }
    let total: u64 = values.iter().take(8).sum();
    // idle and iowait (fields 4 and 5) are the time no work ran.
    let idle = values[3] + values.get(4).copied().unwrap_or(0);
    Some((total.saturating_sub(idle), total))
}

/// The share of all cores busy over `window` (0.0 to 1.0).
pub fn busy_share(window: Duration) -> Option<f64> {
    let read = || {
        std::fs::read_to_string("/proc/stat")
            .ok()
            .and_then(|t| cpu_jiffies(&t))
    };
    let (busy0, total0) = read()?;
    std::thread::sleep(window);
    let (busy1, total1) = read()?;
    let total = total1.checked_sub(total0)?;
    (total > 0).then(|| busy1.saturating_sub(busy0) as f64 / total as f64)
}

/// The commit the tour was built from, asked of git at run time so it is never stale.
fn git_revision() -> String {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stderr(std::process::Stdio::null())
        .output();
    match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_string(),
        _ => "unknown".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cpu_model_and_load_are_read_from_proc_text() {
        let cpuinfo = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC  7B13 64-Core Processor\n";
        assert_eq!(
            cpu_model(cpuinfo).as_deref(),
            Some("AMD EPYC 7B13 64-Core Processor")
        );
        assert_eq!(
            cpu_model("Hardware\t: BCM2835\n").as_deref(),
            Some("BCM2835")
        );
        assert_eq!(cpu_model("processor : 0\n"), None);
        assert_eq!(parse_loadavg("0.52 0.30 0.12 1/234 5678\n"), Some(0.52));
        assert_eq!(parse_loadavg(""), None);
    }

    #[test]
    fn busy_jiffies_leave_out_idle_and_iowait() {
        let stat = "cpu  100 5 50 800 40 0 5 0 0 0\ncpu0 1 2 3 4\n";
        assert_eq!(cpu_jiffies(stat), Some((160, 1000)));
        assert_eq!(cpu_jiffies("intr 1 2\n"), None);
        assert_eq!(cpu_jiffies("cpu 1 x 3 4\n"), None);
    }

    #[test]
    fn a_busy_machine_is_warned_about() {
        assert!(busy_warning(0.05, 0.3, 2).is_none());
        let warning = busy_warning(0.6, 0.3, 2).unwrap();
        assert!(warning.contains("60% of 2 cores"), "{warning}");
        // A high load average alone is the past minute, maybe this run's own tests.
        assert!(busy_warning(0.0, 2.5, 2).is_none());
        assert!(
            busy_warning(0.5, 2.5, 2)
                .unwrap()
                .contains("load average 2.50")
        );
        // Unreadable figures are no reason to warn.
        assert!(busy_warning(f64::NAN, f64::NAN, 2).is_none());
    }

    #[test]
    fn this_machine_is_described() {
        let host = Host::detect();
        assert!(host.cores >= 1);
        assert!(
            (0.0..=1.0).contains(&host.busy_before),
            "{}",
            host.busy_before
        );
        assert!(host.line().contains("cores busy just before"));
    }
}
