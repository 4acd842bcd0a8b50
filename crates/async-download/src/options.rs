//! How a download runs: every setting in one place, with defaults that suit both the
//! corpus and ordinary web servers.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use sockets::http::Limits;

use crate::headers::Header;
use crate::rate::Rate;
use crate::tls::Tls;

/// How the downloader introduces itself, unless `--user-agent` says otherwise.
pub const USER_AGENT: &str = concat!("async-download/", env!("CARGO_PKG_VERSION"));

/// Settings of a download. `Options::default()` is what the command uses without flags.
#[derive(Debug, Clone)]
pub struct Options {
    /// Documents in flight at once (workers, hence at most this many connections).
    pub concurrency: usize,
    /// Requests sent at once on one connection (HTTP/1.1 pipelining) by the tokio
    /// engines; 1, the default, waits for each response before the next request.
    pub pipeline: usize,
    /// Tries after the first one, for what is worth trying again.
    pub retries: u32,
    /// The first retry waits about this long; each later one twice as long...
    pub backoff_base: Duration,
    /// ...up to this (a server's Retry-After is honoured up to this too).
    pub backoff_max: Duration,
    /// Longest wait for a TCP handshake.
    pub connect_timeout: Duration,
    /// Longest wait for one request to be sent and its whole response received.
    pub timeout: Duration,
    /// A kept-alive connection unused for this long is closed rather than reused:
    /// servers close idle connections too, and a request on one they just closed fails.
    pub idle_timeout: Duration,
    /// The codec's limits; `max_body_bytes` is the size limit per document held in
    /// memory.
    pub limits: Limits,
    /// The size limit of a document written to disk as it comes (see [`crate::part`];
    /// with `--out`, on the tokio engines); `None`: no limit.
    pub max_spilled: Option<usize>,
    /// Where documents are written; `None`: verify and discard.
    pub out: Option<PathBuf>,
    /// A seed for the retry jitter, so a test can repeat a run exactly.
    pub seed: u64,
    /// Attempts in flight to one host at once (see [`crate::polite`]); `None`: no
    /// limit but `concurrency`.
    pub per_host: Option<usize>,
    /// The `User-Agent` every request sends; empty: none.
    pub user_agent: String,
    /// More headers every request sends (`-H`), checked by [`Header::parse`].
    pub headers: Vec<Header>,
    /// Redirects followed for one attempt at most (see [`crate::redirect`]); 0: none.
    pub max_redirects: u32,
    /// Ask for compressed bodies (`Accept-Encoding: gzip, deflate`). A body that comes
    /// encoded is decoded either way (see [`crate::decode`]).
    pub compress: bool,
    /// The CAs `https` servers are checked against (see [`crate::tls`]): the web's,
    /// and those of `--ca-cert`.
    pub tls: Tls,
    /// `--rate`: the bytes read per second at most, all connections together (the
    /// tokio engines only); `None`: as fast as they come.
    pub rate: Option<Arc<Rate>>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            concurrency: 64,
            pipeline: 1,
            retries: 4,
            backoff_base: Duration::from_millis(100),
            backoff_max: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(20),
            limits: Limits::default(),
            max_spilled: None,
            out: None,
            seed: 0x5eed,
            per_host: None,
            user_agent: USER_AGENT.to_string(),
            headers: Vec::new(),
            max_redirects: crate::redirect::DEFAULT_MAX_REDIRECTS,
            compress: true,
            tls: Tls::web(),
            rate: None,
        }
    }
}
