//! Your tasks for lesson 1.
//!
//! Each function below has its task in its doc comment and a body that, in your copy of
//! the course, is `todo!()`. Replace it with an implementation; `cargo xtask grade`
//! runs the graded tests in `tests/exercise_*.rs`, and `cargo xtask hint <id>` gives a
//! hint. The lesson's own code never calls these functions, so an unfinished exercise
//! never breaks the tour. The registry of ids, points and hints is `exercises.toml`.
//!
//! You may use everything the lesson offers: [`crate::spawn::Program`] (resolves a
//! program and prepares its arguments before you fork), [`crate::spawn::wait_for`],
//! [`crate::proc`] for /proc, and the `nix` crate.

// In your copy, each body is `todo!()` and ignores its arguments until you write it:
// no warnings for that.
#[allow(unused_variables)]
pub mod capture;
#[allow(unused_variables)]
pub mod pipeline;
#[allow(unused_variables)]
pub mod pstree;
#[allow(unused_variables)]
pub mod reap;
