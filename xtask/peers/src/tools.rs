//! Finding the peers: nginx, wrk, and aiohttp for python3, each with its version, or the
//! reason its comparisons are skipped.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::error::PeersError;
use crate::report::Tool;
use crate::running::run_bounded;

/// A tool that was found.
#[derive(Debug, Clone)]
pub struct Found {
    /// The program to run (for aiohttp: python3).
    pub path: PathBuf,
    pub version: String,
}

/// The tools, or for each missing one the reason its comparisons are skipped.
#[derive(Debug)]
pub struct Tools {
    pub nginx: Result<Found, PeersError>,
    pub wrk: Result<Found, PeersError>,
    pub aiohttp: Result<Found, PeersError>,
}

impl Tools {
    pub fn detect() -> Tools {
        Tools {
            nginx: find_nginx(),
            wrk: find_wrk(),
            aiohttp: find_aiohttp(),
        }
    }

    pub fn list(&self) -> Vec<Tool> {
        [
            ("nginx", &self.nginx),
            ("wrk", &self.wrk),
            ("aiohttp", &self.aiohttp),
        ]
        .into_iter()
        .map(|(name, found)| Tool {
            name: name.to_string(),
            status: match found {
                Ok(f) => format!("{} ({})", f.version, f.path.display()),
                Err(reason) => reason.to_string(),
            },
            found: found.is_ok(),
        })
        .collect()
    }
}

/// How long a tool may take to say its version.
const VERSION_LIMIT: Duration = Duration::from_secs(30);

fn find_nginx() -> Result<Found, PeersError> {
    // nginx lives in sbin, which an ordinary user's PATH often leaves out.
    let path = ["nginx", "/usr/sbin/nginx", "/usr/local/sbin/nginx"]
        .into_iter()
        .find_map(|name| procs::spawn::find_program(name).ok())
        .ok_or(PeersError::NotInstalled {
            tool: "nginx",
            install: "apt-get install nginx",
        })?;
    // `nginx -v` answers on stderr: "nginx version: nginx/1.22.1".
    let mut command = Command::new(&path);
    command.arg("-v");
    let out = run_bounded(command, VERSION_LIMIT, "nginx -v")?;
    let text = out.stdout.clone() + &out.stderr;
    match text.lines().find_map(|l| l.strip_prefix("nginx version: ")) {
        Some(version) if out.status.success() => Ok(Found {
            path,
            version: version.trim().to_string(),
        }),
        _ => Err(PeersError::Answer {
            tool: "nginx",
            problem: format!("{} does not run", path.display()),
            output: out.output(),
        }),
    }
}

fn find_wrk() -> Result<Found, PeersError> {
    let path = procs::spawn::find_program("wrk").map_err(|_| PeersError::NotInstalled {
        tool: "wrk",
        install: "apt-get install wrk",
    })?;
    // `wrk -v` prints "wrk 4.1.0 [epoll] Copyright..." and its usage, and exits with 1.
    let mut command = Command::new(&path);
    command.arg("-v");
    let out = run_bounded(command, VERSION_LIMIT, "wrk -v")?;
    let version = out
        .stdout
        .lines()
        .chain(out.stderr.lines())
        .find(|l| l.starts_with("wrk "))
        .map(|l| l.split(" Copyright").next().unwrap_or(l).trim().to_string())
        .ok_or_else(|| PeersError::Answer {
            tool: "wrk",
            problem: format!("{} does not run", path.display()),
            output: out.output(),
        })?;
    Ok(Found { path, version })
}

fn find_aiohttp() -> Result<Found, PeersError> {
    let path = procs::spawn::find_program("python3").map_err(|_| PeersError::NotInstalled {
        tool: "python3",
        install: "apt-get install python3; pip install aiohttp",
    })?;
    let mut command = Command::new(&path);
    command.args([
        "-c",
        "import sys, aiohttp; print('aiohttp', aiohttp.__version__, 'on Python', sys.version.split()[0])",
    ]);
    let out = run_bounded(command, VERSION_LIMIT, "python3 -c 'import aiohttp'")?;
    let version = out.stdout.trim();
    if out.status.success() && version.starts_with("aiohttp ") {
        Ok(Found {
            version: version.to_string(),
            path,
        })
    } else {
        Err(PeersError::NotInstalled {
            tool: "aiohttp",
            install: "pip install aiohttp",
        })
    }
}
