//! Your tasks for lesson 5.
//!
//! Each function or method below has its task in its doc comment and a body that, in
//! your copy of the course, is `todo!()`. `cargo xtask hint <id>` gives a hint and
//! `cargo xtask grade --exercise <id>` runs its graded tests (`tests/exercise_*.rs`).
//! The lesson's own code never calls these, so an unfinished exercise never breaks the
//! tour or the downloader. The registry of ids, points and hints is `exercises.toml`.
//!
//! They are the downloader's parts, each small enough to write and test alone: keeping
//! at most N requests in flight, waiting longer after each failure, giving up on a
//! request that takes too long, and resuming a run that was killed. They run on tokio,
//! and their tests run on tokio's paused clock: time moves only when every task waits,
//! straight to the next timer, so a test of a ten-second backoff takes no real time and
//! measures its delays exactly.

// In your copy, each body is `todo!()` and ignores its arguments until you write it:
// no warnings for that.
#[allow(unused_variables, unused_mut, dead_code)]
pub mod map_bounded;
#[allow(unused_variables, unused_mut, dead_code)]
pub mod rate_limit;
#[allow(unused_variables, unused_mut, dead_code)]
pub mod resume;
#[allow(unused_variables, unused_mut, dead_code)]
pub mod retry;
#[allow(unused_variables, unused_mut, dead_code)]
pub mod timeout;
