//! `run-all` and `lesson`: test each lesson, run its tour, and collect what happened.
//!
//! Each written lesson goes through two steps, both run with the workspace's own cargo:
//!
//! - **test**: `cargo test -p <lesson> --no-fail-fast`. `--no-fail-fast` because one
//!   failing exercise must not hide the results of the others.
//! - **tour**: `cargo run --release -p <lesson> -- --json [--quick]`. Release, because
//!   the tour measures costs, and debug builds measure the debug build.
//!
//! Every step runs even when an earlier one failed (a failing test does not make the
//! lesson's claims less interesting), and nothing here decides the exit status: the
//! results are collected into a `Run`, which `summary` turns into a table, a list of
//! failures and JSON.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::cargo_test::{self, TestCounts};
use crate::child::{self, Output, Seen};
use crate::docs_check::{self, BookCheck};
use crate::format::{duration, tail};
use crate::lessons::Lesson;
use crate::progress::{LineFilter, Progress, StepKind};
use crate::tour_report::{self, TourSummary};
use crate::workspace;

/// How many lines of a failed step's output the failure report shows: enough for a
/// compiler error with its context, short enough to find in a CI log.
const FAILED_OUTPUT_LINES: usize = 40;

/// A silent step gets a "still running" line this often.
const HEARTBEAT: Duration = Duration::from_secs(30);

/// Everything one `run-all` (or `lesson`) found out.
#[derive(Debug)]
pub struct Run {
    pub quick: bool,
    /// The book check, when it was part of the run.
    pub docs: Option<DocsResult>,
    pub lessons: Vec<LessonResult>,
    pub seconds: f64,
}

impl Run {
    pub fn passed(&self) -> bool {
        self.docs.as_ref().is_none_or(|d| d.check.passed())
            && self.lessons.iter().all(|l| !l.written || l.passed())
    }
}

#[derive(Debug)]
pub struct DocsResult {
    pub check: BookCheck,
    pub seconds: f64,
}

/// One lesson's results.
#[derive(Debug)]
pub struct LessonResult {
    pub lesson: &'static Lesson,
    pub written: bool,
    /// `None` when `cargo test` could not be started at all.
    pub tests: Option<TestCounts>,
    /// `None` when the tour produced no readable report.
    pub tour: Option<TourSummary>,
    /// Steps that could not run or did something inconsistent: not a failing test or a
    /// failed claim (those are in `tests` and `tour`), but what kept us from knowing.
    pub errors: Vec<StepError>,
    pub seconds: f64,
}

impl LessonResult {
    fn unwritten(lesson: &'static Lesson) -> Self {
        LessonResult {
            lesson,
            written: false,
            tests: None,
            tour: None,
            errors: Vec::new(),
            seconds: 0.0,
        }
    }

    /// Passed means: every test passed, every claim held, every experiment ran, and no
    /// step failed to run. A lesson we could not fully check has not passed.
    pub fn passed(&self) -> bool {
        self.written
            && self.errors.is_empty()
            && self.tests.as_ref().is_some_and(|t| t.failed == 0)
            && self.tour.as_ref().is_some_and(TourSummary::passed)
    }
}

/// A step that could not run, or ran but left us unable to trust its results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepError {
    /// "test" or "tour".
    pub step: &'static str,
    /// What happened, possibly followed by the end of the step's output.
    pub message: String,
}

/// Checks the book, then runs every lesson in `lessons` in order.
pub fn run(lessons: &[&'static Lesson], quick: bool, check_docs: bool) -> Run {
    let root = workspace::root();
    let mut progress = Progress::new();
    let started = Instant::now();
    let docs = check_docs.then(|| docs_step(&root, &mut progress));
    let lessons = lessons
        .iter()
        .map(|lesson| run_lesson(lesson, &root, quick, &mut progress))
        .collect();
    Run {
        quick,
        docs,
        lessons,
        seconds: started.elapsed().as_secs_f64(),
    }
}

fn docs_step(root: &Path, progress: &mut Progress) -> DocsResult {
    let started = Instant::now();
    let check = docs_check::check(&root.join("docs"), root);
    let seconds = started.elapsed().as_secs_f64();
    let verdict = if check.passed() {
        format!("ok: {} ({})", check.counts(), duration(seconds))
    } else {
        format!(
            "FAILED: {} problem(s) in {} ({})",
            check.problems.len(),
            check.counts(),
            duration(seconds)
        )
    };
    progress.line("book · check", &verdict);
    DocsResult { check, seconds }
}

fn run_lesson(
    lesson: &'static Lesson,
    root: &Path,
    quick: bool,
    progress: &mut Progress,
) -> LessonResult {
    if !lesson.is_written(root) {
        progress.line(
            lesson.name,
            &format!("not written yet ({} does not exist)", lesson.manifest()),
        );
        return LessonResult::unwritten(lesson);
    }
    progress.line(
        lesson.name,
        &format!("lesson {}: {}", lesson.number, lesson.title),
    );
    let started = Instant::now();
    let mut result = LessonResult {
        lesson,
        written: true,
        tests: None,
        tour: None,
        errors: Vec::new(),
        seconds: 0.0,
    };
    let tests_did_not_compile = test_step(&mut result, root, progress);
    tour_step(&mut result, root, quick, tests_did_not_compile, progress);
    result.seconds = started.elapsed().as_secs_f64();
    result
}

/// Runs one cargo command for a step, streaming its interesting lines.
fn run_step(
    progress: &mut Progress,
    scope: &str,
    kind: StepKind,
    root: &Path,
    args: &[&str],
) -> std::io::Result<Output> {
    let mut command = Command::new(workspace::cargo());
    command.args(args).current_dir(root);
    stream(progress, scope, kind, &mut command)
}

/// Runs `command` (a cargo command), showing its interesting lines as progress under
/// `scope` and a "still running" line after a long silence. Every step of xtask that
/// runs cargo shows its progress this way.
pub fn stream(
    progress: &mut Progress,
    scope: &str,
    kind: StepKind,
    command: &mut Command,
) -> std::io::Result<Output> {
    let mut filter = LineFilter::new(kind);
    let started = Instant::now();
    child::run(command, &mut |seen| match seen {
        Seen::Line(stream, line) => {
            if let Some(text) = filter.show(stream, line, Instant::now()) {
                progress.line(scope, &text);
            }
        }
        Seen::Quiet => {
            if progress.quiet_for() >= HEARTBEAT {
                let so_far = duration(started.elapsed().as_secs_f64());
                progress.line(scope, &format!("still running ({so_far} so far)"));
            }
        }
    })
}

/// Cargo's words for a build that failed; the compiler's messages come before them.
fn did_not_compile(out: &Output) -> bool {
    out.stderr.contains("could not compile")
}

/// The test step. Returns true when the lesson did not compile, so the tour step can
/// say so briefly instead of repeating the same compiler errors.
fn test_step(result: &mut LessonResult, root: &Path, progress: &mut Progress) -> bool {
    let name = result.lesson.name;
    let scope = format!("{name} · test");
    let args = ["test", "-p", name, "--no-fail-fast"];
    let out = match run_step(progress, &scope, StepKind::Test, root, &args) {
        Ok(out) => out,
        Err(e) => {
            let message = format!("could not start `cargo test`: {e}");
            progress.line(&scope, &format!("FAILED: {message}"));
            result.errors.push(StepError {
                step: "test",
                message,
            });
            return false;
        }
    };
    let counts = cargo_test::count(&out.stdout);
    let took = duration(out.seconds);
    let compile_failed = did_not_compile(&out);
    let verdict = if compile_failed {
        result.errors.push(StepError {
            step: "test",
            message: format!(
                "the lesson or its tests do not compile; the end of cargo's output:\n{}",
                tail(&out.combined.join("\n"), FAILED_OUTPUT_LINES)
            ),
        });
        format!("FAILED: does not compile ({took})")
    } else if !out.success() && counts.failed == 0 {
        // cargo failed, yet no test did: a crash, a linker error, a missing package...
        result.errors.push(StepError {
            step: "test",
            message: format!(
                "`cargo test` ended with {} although no test reported a failure; \
                 the end of its output:\n{}",
                out.status_text(),
                tail(&out.combined.join("\n"), FAILED_OUTPUT_LINES)
            ),
        });
        format!("FAILED: {} ({took})", out.status_text())
    } else {
        // A test binary that died before reporting (a crash, an abort, a signal) has
        // its tests in no count: without this, a crash could look like a pass.
        let died = cargo_test::binaries_that_died(&out.stderr, &counts);
        if died > 0 {
            result.errors.push(StepError {
                step: "test",
                message: format!(
                    "{died} test binary(ies) stopped without reporting results (crashed?); \
                     the end of cargo's output:\n{}",
                    tail(&out.stderr, FAILED_OUTPUT_LINES)
                ),
            });
        }
        let total = counts.passed + counts.failed;
        let crashed = if died > 0 {
            format!(", {died} test binary(ies) crashed")
        } else {
            String::new()
        };
        if counts.failed > 0 || died > 0 {
            let failed = counts.failed;
            format!("FAILED: {failed} of {total} tests failed{crashed} ({took})")
        } else {
            format!("{} passed ({took})", counts.passed)
        }
    };
    progress.line(&scope, &verdict);
    result.tests = Some(counts);
    compile_failed
}

fn tour_step(
    result: &mut LessonResult,
    root: &Path,
    quick: bool,
    tests_did_not_compile: bool,
    progress: &mut Progress,
) {
    let name = result.lesson.name;
    let scope = format!("{name} · tour");
    let mut args = vec!["run", "--release", "-p", name, "--", "--json"];
    if quick {
        args.push("--quick");
    }
    let out = match run_step(progress, &scope, StepKind::Tour, root, &args) {
        Ok(out) => out,
        Err(e) => {
            let message = format!("could not start `cargo run`: {e}");
            progress.line(&scope, &format!("FAILED: {message}"));
            result.errors.push(StepError {
                step: "tour",
                message,
            });
            return;
        }
    };
    let took = duration(out.seconds);
    let mut error = |message: String| {
        result.errors.push(StepError {
            step: "tour",
            message,
        })
    };
    if did_not_compile(&out) {
        error(if tests_did_not_compile {
            "the tour does not compile either (the compiler's errors are under the test step)"
                .to_string()
        } else {
            format!(
                "the tour does not compile; the end of cargo's output:\n{}",
                tail(&out.combined.join("\n"), FAILED_OUTPUT_LINES)
            )
        });
        progress.line(&scope, &format!("FAILED: does not compile ({took})"));
        return;
    }
    let summary = match tour_report::parse(&out.stdout) {
        Ok(summary) => summary,
        Err(why) => {
            let mut message = format!("{why}\nThe tour ended with {}", out.status_text());
            if out.cut_short {
                message.push_str(
                    ", and a process it started kept its output open, so the report may be cut",
                );
            }
            message.push_str(&format!(
                "; the end of its stderr:\n{}",
                tail(&out.stderr, 15)
            ));
            error(message);
            progress.line(&scope, &format!("FAILED: no readable report ({took})"));
            return;
        }
    };
    // The report and the exit status must agree: a disagreement is a bug in the tour
    // (or a panic after the report was printed), and hiding it would teach nothing.
    if !out.success() && summary.passed() {
        error(format!(
            "the tour ended with {} although its report shows no failure; the end of its stderr:\n{}",
            out.status_text(),
            tail(&out.stderr, 15)
        ));
    }
    if out.success() && !summary.passed() {
        error(
            "the tour's report shows failures, but it exited with status 0 (it must exit 1)".into(),
        );
    }
    if summary.lesson != name {
        error(format!(
            "the report says it is lesson `{}`, but it came from `{name}`",
            summary.lesson
        ));
    }
    let total = summary.held + summary.failed + summary.too_close;
    let broken = summary.experiment_errors.len();
    let verdict = if summary.passed() {
        let close = match summary.too_close {
            0 => String::new(),
            n => format!(", {n} too close to call"),
        };
        format!("{}/{total} claims held{close} ({took})", summary.held)
    } else {
        let mut v = format!("FAILED: {} of {total} claims failed", summary.failed);
        if broken > 0 {
            v.push_str(&format!(", {broken} experiment(s) could not run"));
        }
        format!("{v} ({took})")
    };
    progress.line(&scope, &verdict);
    result.tour = Some(summary);
}
