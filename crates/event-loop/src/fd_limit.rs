//! How many descriptors this process may hold, and raising that to the most allowed.
//!
//! Every socket is a file descriptor, and `RLIMIT_NOFILE` caps how many a process may
//! have open at once. The limit has two parts: the **soft** limit (`ulimit -n`, often
//! 1,024) is the one enforced, and the process may raise it itself, up to the **hard**
//! limit (`ulimit -Hn`), which only a privileged process can raise. Step 3's measurement
//! needs 10,000 idle connections, step 8's server as many as come, lesson 5's race
//! 10,000 clients: each raises its soft limit here before it opens anything. (A module
//! of its own, not of step 3, because all of them use it.)

use std::io;

use nix::sys::resource::{Resource, getrlimit, setrlimit};

/// The descriptor limit of this process, after [`raise_fd_limit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FdLimit {
    /// The soft limit found at start.
    pub before: u64,
    /// The soft limit now: what `open`, `socket` and `accept` are held to.
    pub soft: u64,
    /// The hard limit: the most an unprivileged process may raise its soft limit to.
    pub hard: u64,
}

// ANCHOR: raise_fd_limit
/// Raises this process's soft `RLIMIT_NOFILE` to its hard limit.
///
/// Past the soft limit, `socket` and `accept` fail with `EMFILE`. Any process may
/// raise its own soft limit up to the hard one; beyond that takes privileges (`ulimit
/// -Hn`, `/etc/security/limits.conf`, systemd's `LimitNOFILE`).
pub fn raise_fd_limit() -> io::Result<FdLimit> {
    let (before, hard) = getrlimit(Resource::RLIMIT_NOFILE).map_err(io::Error::from)?;
    // An unlimited hard limit cannot be the soft one: Linux caps a process's open
    // files at `fs.nr_open` (2^20 by default) and refuses more.
    let target = if hard == nix::libc::RLIM_INFINITY {
        std::fs::read_to_string("/proc/sys/fs/nr_open")
            .ok()
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or(1 << 20)
    } else {
        hard
    };
    if before < target {
        setrlimit(Resource::RLIMIT_NOFILE, target, hard).map_err(io::Error::from)?;
    }
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).map_err(io::Error::from)?;
    Ok(FdLimit { before, soft, hard })
}
// ANCHOR_END: raise_fd_limit

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_soft_limit_ends_at_the_hard_one() {
        let limit = raise_fd_limit().unwrap();
        assert!(limit.before <= limit.soft, "{limit:?}");
        if limit.hard != nix::libc::RLIM_INFINITY {
            assert_eq!(limit.soft, limit.hard, "{limit:?}");
        }
        // Raising again changes nothing.
        let again = raise_fd_limit().unwrap();
        assert_eq!((again.before, again.soft), (limit.soft, limit.soft));
    }
}
