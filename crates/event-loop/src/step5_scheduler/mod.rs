//! Step 5: a scheduler of hand-written tasks — the seed's Python event loop, in Rust.
//!
//! Steps 2 and 3 drove many downloads from one loop, but the loop *was* the download:
//! its code knew every state of every connection. Here the loop knows nothing about
//! downloads. It runs [`Task`]s: things that run a little, then say what they wait for
//! (a socket, a deadline, another task). The scheduler keeps a ready queue, a task map,
//! the sockets and the timers, and sleeps in `epoll_wait` until one of them needs it.
//! It is what the seed's Python module built with generators and `select`, and a
//! small operating system: tasks are its processes, [`Ctx`] their system calls.
//!
//! - [`scheduler`]: [`Scheduler`] (`spawn`, `join`, `cancel`, `run`), [`Task`],
//!   [`Step`], [`Ctx`].
//! - [`tasks`]: [`Sleeper`] and [`Download`], two state machines written by hand.
//! - [`fetch`]: what a download asks and checks, shared with step 7.

pub mod fetch;
pub mod scheduler;
pub mod tasks;

pub use fetch::FetchError;
pub use scheduler::{
    Ctx, Exit, Scheduler, SchedulerError, SchedulerStats, SocketId, Step, Task, TaskId, WaitFor,
};
pub use tasks::{Download, Sleeper, Slot, fetch_all};
