//! What can go wrong, in two kinds: with one document (the download goes on and the
//! report names it), or with the whole run (nothing sensible can go on).

use std::path::PathBuf;
use std::time::Duration;

use sockets::http::HttpError;

/// Why one document could not be fetched (or why one attempt failed). Each variant
/// says enough for the report: what was being done, and what came back.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum FetchError {
    #[error("bad URL: {0}")]
    BadUrl(String),
    #[error("cannot resolve {host}: {reason}")]
    Resolve { host: String, reason: String },
    #[error("cannot connect to {addr}: {reason}")]
    Connect { addr: String, reason: String },
    #[error("no answer within {after:?} while {doing}")]
    Timeout {
        doing: &'static str,
        after: Duration,
    },
    #[error("{doing} failed: {reason}")]
    Io { doing: &'static str, reason: String },
    #[error("the server closed the connection before any response")]
    Closed,
    #[error("TLS with {host} failed: {reason}")]
    Tls { host: String, reason: String },
    #[error("https needs TLS, which only the tokio and tokio-multi engines speak (--engine tokio)")]
    NoTls,
    #[error("bad response: {0}")]
    Http(#[from] HttpError),
    #[error("status {status}")]
    Status {
        status: u16,
        /// What the server's `Retry-After` asked for, if anything.
        retry_after: Option<Duration>,
    },
    #[error("checksum mismatch over {len} bytes (expected {expected}, got {got})")]
    Checksum {
        len: usize,
        expected: String,
        got: String,
    },
    #[error("redirect (status {status}) not followed: {reason}")]
    Redirect { status: u16, reason: String },
    #[error("redirect loop: back to {to} after {after} redirects")]
    RedirectLoop { to: String, after: usize },
    #[error("more than {max} redirects (--max-redirects)")]
    TooManyRedirects { max: u32 },
    #[error("Content-Encoding {coding:?} cannot be decoded: {reason}")]
    Encoding { coding: String, reason: String },
    #[error("the {coding} body is corrupt: {reason}")]
    Corrupt { coding: String, reason: String },
    #[error("the document decoded is over {limit} bytes (--max-size)")]
    DecodedTooLarge { limit: usize },
    #[error("cannot resume the part file: {reason} (it is fetched again from the start)")]
    Resume { reason: String },
    #[error("cannot save as {name}: {reason}")]
    Save { name: String, reason: String },
    #[error("stopped before it was fetched (interrupted)")]
    Interrupted,
    /// A bug: the code fetching it panicked. The run fails (exit status 1) and says so.
    #[error("the program panicked while fetching it (a bug, please report it): {0}")]
    Panicked(String),
}

impl FetchError {
    /// A document that could not be saved as `name` (its name under `--out`, or the
    /// `-o` file), and why.
    pub fn save(name: &str, reason: String) -> FetchError {
        FetchError::Save {
            name: name.to_string(),
            reason,
        }
    }

    /// An I/O error, with what was being done; the reason is kept as text so that the
    /// error can be cloned into the report.
    pub fn io(doing: &'static str, source: &std::io::Error) -> FetchError {
        FetchError::Io {
            doing,
            reason: source.to_string(),
        }
    }

    /// An I/O error while `doing` something on a connection: a reset or a broken pipe
    /// means the server closed it ([`FetchError::Closed`], worth a retry on a new one).
    pub fn closed_or(doing: &'static str, error: std::io::Error) -> FetchError {
        use std::io::ErrorKind;
        match error.kind() {
            ErrorKind::BrokenPipe | ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted => {
                FetchError::Closed
            }
            _ => FetchError::io(doing, &error),
        }
    }
}

/// Why a whole run could not go on.
#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    #[error("cannot use the output folder {path}: {source}")]
    Output {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read the journal {path}: {source}")]
    Journal {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read the URL list {what}: {source}")]
    Input {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot start the {what}: {source}")]
    Runtime {
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("the corpus server: {0}")]
    Server(String),
}
