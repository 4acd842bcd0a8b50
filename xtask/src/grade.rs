//! `cargo xtask grade`: runs the graded tests and scores the exercises.
//!
//! (Being written: the types below are the interface `kit --verify` uses.)

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use crate::cli::GradeOptions;
use crate::registry::Exercise;

/// How to grade, apart from what.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How long one test may run before its whole process group is killed.
    pub timeout: Duration,
    /// Build in this target directory instead of the workspace's own (`kit --verify`
    /// builds the student copy in its own, so the two trees do not evict each other).
    pub target_dir: Option<PathBuf>,
    /// Print progress lines on stderr while grading.
    pub progress: bool,
}

/// How one test ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pass,
    Fail,
    /// It could not run: the lesson did not compile, or the runner failed.
    Error,
}

/// One graded test's result.
#[derive(Debug, Clone)]
pub struct TestOutcome {
    /// The test's name inside its test target, e.g. `captures_what_the_program_prints`.
    pub name: String,
    pub status: Status,
    /// For a failure: the assertion or panic message (or "timed out after 60 s ...").
    pub message: String,
    /// What the test printed (stdout and stderr), shortened.
    pub output: String,
    pub seconds: f64,
}

/// One exercise's result.
#[derive(Debug, Clone)]
pub struct ExerciseResult {
    pub exercise: Exercise,
    pub tests: Vec<TestOutcome>,
    /// Points earned: `exercise.points` times the share of tests passed.
    pub points: f64,
    /// Set when the graded tests could not be built (compiler output, shortened).
    pub error: Option<String>,
}

/// The result of grading a set of exercises.
#[derive(Debug, Clone, Default)]
pub struct Grade {
    pub exercises: Vec<ExerciseResult>,
}

/// Grades `exercises` in the workspace at `root`.
pub fn grade(_root: &Path, _exercises: &[Exercise], _settings: &Settings) -> Grade {
    Grade::default()
}

pub fn main(_options: &GradeOptions) -> ExitCode {
    eprintln!("error: `grade` is not written yet");
    ExitCode::FAILURE
}
