//! Your tasks for lesson 4.
//!
//! Each function or method below has its task in its doc comment and a body that, in
//! your copy of the course, is `todo!()`. `cargo xtask hint <id>` gives a hint and
//! `cargo xtask grade --exercise <id>` runs its graded tests (`tests/exercise_*.rs`).
//! The lesson's own code never calls these, so an unfinished exercise never breaks the
//! tour. The registry of ids, points and hints is `exercises.toml`.
//!
//! They run on the lesson's executor (`crate::step5_executor`): `block_on`, `spawn`,
//! `sleep`, `timeout`, and its `TcpStream`.

// In your copy, each body is `todo!()` and ignores its arguments until you write it:
// no warnings for that.
#[allow(unused_variables, unused_mut, dead_code)]
pub mod job_scheduler;
#[allow(unused_variables, unused_mut, dead_code)]
pub mod join_all;
#[allow(unused_variables, unused_mut, dead_code)]
pub mod read_exact;
#[allow(unused_variables, unused_mut, dead_code)]
pub mod select;
