//! xtask's errors: what went wrong, on which file or program. Every message is read by
//! a person in a terminal or a CI log, so each names the path or the command it is about.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not {what}: {source}", path.display())]
    Json {
        path: PathBuf,
        what: &'static str,
        source: serde_json::Error,
    },
    #[error("cannot run {program}: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    /// A program ran, and its answer is not what it should be.
    #[error("{program}: {problem}")]
    Answer { program: String, problem: String },
    /// The course's own files say something they must not (a marker with no end, an
    /// exercise with no tests, a report that is out of date): what, and where.
    #[error("{what}: {problem}")]
    Course { what: String, problem: String },
}

impl Error {
    /// A `map_err` for reading `path`.
    pub fn read(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
        move |source| Error::Read {
            path: path.to_path_buf(),
            source,
        }
    }

    /// A `map_err` for writing `path`.
    pub fn write(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
        move |source| Error::Write {
            path: path.to_path_buf(),
            source,
        }
    }

    /// A `map_err` for starting `program`.
    pub fn spawn(program: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
        let program = program.into();
        move |source| Error::Spawn { program, source }
    }

    pub fn answer(program: impl Into<String>, problem: impl Into<String>) -> Error {
        Error::Answer {
            program: program.into(),
            problem: problem.into(),
        }
    }

    pub fn course(what: impl Into<String>, problem: impl Into<String>) -> Error {
        Error::Course {
            what: what.into(),
            problem: problem.into(),
        }
    }
}
