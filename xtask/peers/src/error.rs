//! What can go wrong in a run of the benchmark, said with the tool and the file it is
//! about. A tool that is missing is not an error of the run: its comparisons are
//! skipped, and [`PeersError`] is the reason they carry.

use std::path::PathBuf;
use std::process::ExitStatus;

#[derive(Debug, thiserror::Error)]
pub enum PeersError {
    #[error("{tool} not installed ({install})")]
    NotInstalled {
        tool: &'static str,
        install: &'static str,
    },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{what}: {source}")]
    Run { what: String, source: procs::Error },
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The URL list the engines fetch from, read again for the names `--out` gives.
    #[error("the URL list {}: {problem}", path.display())]
    Urls { path: PathBuf, problem: String },
    /// The write protocol alone (`write_floor`): its store would not open.
    #[error("the write protocol: {0}")]
    StoreOpen(async_download::DownloadError),
    /// The write protocol alone: a save failed.
    #[error("the write protocol: {0}")]
    Save(async_download::FetchError),
    #[error("{tool} failed ({status}): {output}")]
    Failed {
        tool: &'static str,
        status: ExitStatus,
        output: String,
    },
    /// A tool ran, and what it answered is not what a correct run answers.
    #[error("{tool}: {problem}{output}")]
    Answer {
        tool: &'static str,
        problem: String,
        output: String,
    },
    #[error("{engine}: {source}")]
    Engine {
        engine: &'static str,
        source: async_download::DownloadError,
    },
    #[error("minimal client: {0}")]
    Floor(#[from] crate::floor::FloorError),
    #[error("nginx: {0}")]
    Nginx(String),
    #[error("cannot find a free port: {0}")]
    Port(std::io::Error),
    #[error("nginx cannot be given the path {0:?}: set TMPDIR to a plainer folder")]
    Path(String),
    #[error("interrupted")]
    Interrupted,
}

impl PeersError {
    /// A `map_err` for writing `path`.
    pub fn write(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> PeersError + '_ {
        move |source| PeersError::Write {
            path: path.to_path_buf(),
            source,
        }
    }
}
