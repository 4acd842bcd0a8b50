//! The lesson's one error type.
//!
//! Every failure says what was attempted and on what (which program, which /proc file,
//! which byte of it), because "No such file or directory" alone does not tell a learner
//! whether the program, its interpreter or a /proc entry was missing.

use std::path::PathBuf;

use nix::errno::Errno;

/// Errors from starting, waiting for and inspecting processes.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The program name did not resolve to an executable file.
    #[error("cannot find program `{program}`: {reason}")]
    ProgramNotFound { program: String, reason: String },

    /// An argument cannot be passed to exec (C strings end at the first NUL byte).
    #[error("argument {index} ({arg:?}) contains a NUL byte, which exec cannot pass")]
    NulInArgument { index: usize, arg: String },

    /// The child was created but could not become the program. The child told the
    /// parent through a close-on-exec pipe, so this is the real reason, not a guess.
    /// (nix shows an errno with its meaning already: `ENOENT: No such file or directory`.)
    #[error("the child could not exec `{program}`: {errno}")]
    Exec { program: String, errno: Errno },

    /// A system call failed; `what` names the call and its purpose.
    #[error("{what} failed: {errno}")]
    Sys { what: &'static str, errno: Errno },

    /// A file under /proc could not be read (the process may have exited meanwhile).
    #[error("cannot read {}: {source}", path.display())]
    ProcRead {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A file under /proc did not have the expected shape.
    #[error("cannot parse {} at byte {offset}: {reason}", path.display())]
    ProcParse {
        path: PathBuf,
        offset: usize,
        reason: String,
    },

    /// A size or count outside what the experiment supports.
    #[error("invalid {what}: {reason}")]
    Invalid { what: &'static str, reason: String },
}

impl Error {
    /// Shorthand for a failed system call, used as `.map_err(Error::sys("fork"))`.
    pub fn sys(what: &'static str) -> impl Fn(Errno) -> Error {
        move |errno| Error::Sys { what, errno }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
