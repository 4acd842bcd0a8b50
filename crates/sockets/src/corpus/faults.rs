//! Fault injection: what can go wrong with a download, on purpose and reproducibly.
//!
//! A downloader that was only ever tested against a healthy server is not known to
//! work. The corpus can misbehave in seven ways ([`FaultKind`]), chosen two ways:
//!
//! - **Per request**, by the query: `/wiki/7?fault=truncate`, `?latency=50` (ms),
//!   `?fault=unavailable&retry_after=2`. A test asks for exactly the fault it checks.
//! - **Globally**, by a [`FaultPlan`] given to the server: every reply waits
//!   `latency`, and a fraction `rate` of the article requests meet one of `kinds`.
//!
//! The global choice is a hash, not a random draw: request `(id, attempt)` meets the
//! same fault on every run, on every server (threads, event loop, tokio) with the same
//! seed, so a failing test fails again when you rerun it. `attempt` comes from the
//! request (an `X-Attempt: N` header, or `attempt=N` in the query; 0 without either):
//! a client that retries and says so gets a fresh roll, with the same odds; a client
//! that retries without saying so meets the same fault again, deterministically. The
//! server keeps no state per id, which keeps the corpus sans-IO and lets lessons 4 and 5
//! serve it unchanged. Query faults apply on every attempt: they are the test's order.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use super::article::mix;

/// One way for a reply to go wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FaultKind {
    /// The reply waits [`SLOW_REPLY`] longer than the others.
    Latency,
    /// The connection is closed without an answer.
    Drop,
    /// `503 Service Unavailable` with a `Retry-After` header.
    Unavailable,
    /// The head promises the whole body (`Content-Length`), the server sends half of it
    /// and closes: the client must notice the missing bytes.
    Truncate,
    /// The body comes in `Transfer-Encoding: chunked`, in chunks of varied sizes.
    Chunked,
    /// No `Content-Length`: the body ends when the server closes the connection.
    Close,
    /// The reply trickles out in small pieces with pauses: each read gets a little, so
    /// only a deadline on the *whole* download catches it.
    Drip,
}

impl FaultKind {
    /// Every kind, in the order of the documentation.
    pub const ALL: [FaultKind; 7] = [
        FaultKind::Latency,
        FaultKind::Drop,
        FaultKind::Unavailable,
        FaultKind::Truncate,
        FaultKind::Chunked,
        FaultKind::Close,
        FaultKind::Drip,
    ];

    /// The name used in queries (`fault=drop`) and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Latency => "latency",
            FaultKind::Drop => "drop",
            FaultKind::Unavailable => "unavailable",
            FaultKind::Truncate => "truncate",
            FaultKind::Chunked => "chunked",
            FaultKind::Close => "close",
            FaultKind::Drip => "drip",
        }
    }

    /// Parses a comma-separated list such as `drop,truncate` (the `--faults` flag).
    pub fn parse_list(list: &str) -> Result<Vec<FaultKind>, UnknownFault> {
        list.split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .map(str::parse)
            .collect()
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A fault name that is not one of [`FaultKind::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown fault `{0}` (expected one of latency, drop, unavailable, truncate, chunked, close, drip)"
)]
pub struct UnknownFault(pub String);

impl FromStr for FaultKind {
    type Err = UnknownFault;

    fn from_str(name: &str) -> Result<FaultKind, UnknownFault> {
        FaultKind::ALL
            .into_iter()
            .find(|kind| kind.name() == name)
            .ok_or_else(|| UnknownFault(name.to_string()))
    }
}

/// How much longer a [`FaultKind::Latency`] reply waits.
pub const SLOW_REPLY: Duration = Duration::from_millis(250);
/// The `Retry-After` of a [`FaultKind::Unavailable`] reply, unless the query says.
pub const DEFAULT_RETRY_AFTER_SECS: u64 = 1;
/// A [`FaultKind::Drip`] reply goes out this many bytes at a time...
pub const DRIP_PIECE: usize = 1024;
/// ... with this pause between pieces: an average article takes about 100 ms.
pub const DRIP_PAUSE: Duration = Duration::from_millis(20);

/// The server-wide faults: a latency on every reply, and a rate of random faults.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultPlan {
    /// Added before every reply: the "network and disk" wait that makes a download
    /// I/O-bound (the thread-pool tour uses a few milliseconds).
    pub latency: Duration,
    /// The fraction of article requests, 0 to 1, that meet a fault from `kinds`.
    pub rate: f64,
    /// The faults to choose from (evenly). Empty: no fault whatever the rate.
    pub kinds: Vec<FaultKind>,
    /// Another seed, another set of unlucky ids.
    pub seed: u64,
}

impl FaultPlan {
    /// No latency, no faults: a healthy server.
    pub fn none() -> FaultPlan {
        FaultPlan {
            latency: Duration::ZERO,
            rate: 0.0,
            kinds: FaultKind::ALL.to_vec(),
            seed: 0,
        }
    }

    // ANCHOR: pick
    /// The fault that request `attempt` for article `id` meets, if any.
    ///
    /// A hash of `(id, attempt, seed)` becomes a fraction in [0, 1); below `rate`, the
    /// request is faulty and other bits of the hash pick the kind. Same inputs, same
    /// answer; over many ids the fraction of faulty ones approaches `rate`.
    pub fn pick(&self, id: u64, attempt: u64) -> Option<FaultKind> {
        // A NaN rate would compare "not less" with every roll; say so instead of relying
        // on it.
        if self.kinds.is_empty() || self.rate.is_nan() || self.rate <= 0.0 {
            return None;
        }
        let hash = mix(mix(mix(id ^ FAULT_SALT) ^ attempt).wrapping_add(self.seed));
        // The top 53 bits as a float in [0, 1): exactly representable, evenly spread.
        let roll = (hash >> 11) as f64 / (1u64 << 53) as f64;
        if roll >= self.rate {
            return None;
        }
        // The low bits were not used by the roll: they choose the kind.
        Some(self.kinds[(hash & 0x7ff) as usize % self.kinds.len()])
    }
    // ANCHOR_END: pick
}

impl Default for FaultPlan {
    fn default() -> FaultPlan {
        FaultPlan::none()
    }
}

const FAULT_SALT: u64 = 0xfa17_0000_0000_0003;
