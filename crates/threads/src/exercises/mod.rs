//! Your tasks for lesson 2.
//!
//! Each function or method below has its task in its doc comment and a body that, in
//! your copy of the course, is `todo!()`. `cargo xtask hint <id>` gives a hint and
//! `cargo xtask grade --exercise <id>` runs its graded tests (`tests/exercise_*.rs`).
//! The lesson's own code never calls these, so an unfinished exercise never breaks the
//! tour. The registry of ids, points and hints is `exercises.toml`.

// In your copy, each body is `todo!()` and ignores its arguments until you write it:
// no warnings for that.
#[allow(unused_variables, dead_code)]
pub mod barrier;
#[allow(unused_variables, dead_code)]
pub mod bounded_queue;
#[allow(unused_variables, dead_code)]
pub mod parallel_sum;
#[allow(unused_variables, dead_code)]
pub mod pool_map;
