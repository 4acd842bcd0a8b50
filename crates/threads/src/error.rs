//! The lesson's one error type.
//!
//! Spawning a thread can fail (the kernel refuses a new task, the address space has no
//! room for another stack), and the lesson shows exactly that, so the failure is a value
//! with its cause, never a panic.

/// Errors from starting and measuring threads.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The operating system refused a new thread, after `started` others had started.
    #[error("could not start thread {index} ({started} running): {source}")]
    Spawn {
        index: usize,
        started: usize,
        #[source]
        source: std::io::Error,
    },

    /// A measurement from lesson 1's tools failed (reading /proc, getrusage, fork).
    #[error(transparent)]
    Procs(#[from] procs::Error),

    /// A worker thread panicked where the lesson expected it not to.
    #[error("a thread panicked: {0}")]
    Panicked(String),

    /// A size or count outside what the experiment supports.
    #[error("invalid {what}: {reason}")]
    Invalid { what: &'static str, reason: String },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The message of a panic payload, for reports ("a thread panicked: index out of bounds").
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-string payload".to_string()
    }
}
