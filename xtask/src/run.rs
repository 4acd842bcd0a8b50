//! `run-all` and `lesson`: test each lesson, run its tour, and collect what happened.
//!
//! Each written lesson goes through two steps, both run with the workspace's own cargo:
//!
//! - **test**: every test of the lesson, each as its own timed process (see
//!   `test_step`), then its doc-tests. All of them run even when one fails: one failing
//!   exercise must not hide the results of the others.
//! - **tour**: `cargo run --release -p <lesson> -- --json [--quick]`. Release, because
//!   the tour measures costs, and debug builds measure the debug build.
//!
//! Every step runs even when an earlier one failed (a failing test does not make the
//! lesson's claims less interesting), and nothing here decides the exit status: the
//! results are collected into a `Run`, which `summary` turns into a table, a list of
//! failures and JSON.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::cargo_test::{self, TestCounts};
use crate::child::{self, Output, Seen};
use crate::docs_check::{self, BookCheck};
use crate::format::{duration, tail};
use crate::grade::{self, Say, Status, first_line};
use crate::lessons::Lesson;
use crate::progress::{LineFilter, Progress, StepKind};
use crate::test_process;
use crate::tour_report::{self, TourSummary};
use crate::workspace;

/// How many lines of a failed step's output the failure report shows: enough for a
/// compiler error with its context, short enough to find in a CI log.
const FAILED_OUTPUT_LINES: usize = 40;

/// A silent step gets a "still running" line this often.
const HEARTBEAT: Duration = Duration::from_secs(30);

/// How long one test may run before it is killed with everything it started. The
/// course's tests are bounded by themselves (the slowest takes seconds); this catches
/// a hang, on a machine as slow as a busy 2-core CI runner.
const TEST_TIMEOUT: Duration = Duration::from_secs(300);

/// A test this slow gets its own progress line.
const SLOW_TEST_SECONDS: f64 = 10.0;

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
    /// `None` when the tests could not be started at all.
    pub tests: Option<TestCounts>,
    /// Each test's time (`lesson binary::test`, seconds), for the slowest-tests list.
    pub test_times: Vec<(String, f64)>,
    /// Each failed test (`binary · test`) with what it said.
    pub test_failures: Vec<(String, String)>,
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
            test_times: Vec::new(),
            test_failures: Vec::new(),
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
        test_times: Vec::new(),
        test_failures: Vec::new(),
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
///
/// Not `cargo test`: it runs a package's test binaries one after another and, on stable
/// Rust, tells no test's time. Here each test runs as its own process (the grader's
/// `test_process`), one per core at once across all the lesson's binaries, so a slow
/// test keeps one core busy instead of holding up the next binary, and every test has
/// its time (for the slowest-tests list) and its own deadline. The doc-tests, which
/// only cargo can run, are one more step with one time.
fn test_step(result: &mut LessonResult, root: &Path, progress: &mut Progress) -> bool {
    let name = result.lesson.name;
    let scope = format!("{name} · test");
    let started = Instant::now();
    let settings = grade::Settings {
        timeout: TEST_TIMEOUT,
        target_dir: None,
        progress: true,
        fail_fast: false,
        lean_build: false,
        one_job: false,
    };
    // The lesson and its exercises, each exercise a package of its own: a student's
    // exercise that does not compile fails its own tests, and the rest still run.
    let mut packages = vec![name.to_string()];
    if let Ok(exercises) = crate::registry::load_lesson(root, result.lesson) {
        packages.extend(exercises.iter().map(crate::registry::Exercise::package));
    }
    let built = match grade::build(
        root,
        name,
        &packages,
        None,
        &settings,
        &mut Say(Some(progress)),
    ) {
        Ok(built) if !built.failed.contains_key(name) => built,
        Ok(built) => {
            let errors = built.failed.get(name).cloned().unwrap_or_default();
            result.errors.push(StepError {
                step: "test",
                message: format!("the lesson or its tests do not compile:\n{errors}"),
            });
            progress.line(&scope, "FAILED: does not compile");
            result.tests = Some(TestCounts::default());
            return true;
        }
        Err(errors) => {
            result.errors.push(StepError {
                step: "test",
                message: format!("the lesson or its tests do not compile:\n{errors}"),
            });
            progress.line(&scope, "FAILED: does not compile");
            result.tests = Some(TestCounts::default());
            return true;
        }
    };
    for (package, errors) in &built.failed {
        result.errors.push(StepError {
            step: "test",
            message: format!("`{package}` does not compile, so its tests cannot run:\n{errors}"),
        });
    }
    let lesson_dir = root.join("crates").join(name);
    let mut bins: Vec<(String, PathBuf)> = built.bins.into_iter().collect();
    bins.sort();
    let mut jobs = Vec::new();
    for (binary, path) in &bins {
        // Where `cargo test` would run it: its package's folder.
        let cwd = built
            .dirs
            .get(binary)
            .cloned()
            .unwrap_or_else(|| lesson_dir.clone());
        match test_process::list(path, &cwd, TEST_TIMEOUT) {
            Ok(names) => jobs.extend(names.into_iter().map(|test| TestJob {
                binary: binary.clone(),
                path: path.clone(),
                test,
                cwd: cwd.clone(),
            })),
            Err(e) => result.errors.push(StepError {
                step: "test",
                message: e.to_string(),
            }),
        }
    }
    let mut counts = TestCounts {
        binaries: bins.len(),
        ..TestCounts::default()
    };
    let total = jobs.len();
    let mut ended = 0;
    let outcomes = test_process::run_pool(
        &jobs,
        false,
        |job| test_process::run_test(&job.path, &job.test, &job.cwd, TEST_TIMEOUT),
        |_| unreachable!("run-all never stops early"),
        |job, outcome| {
            ended += 1;
            // One line per failure, and one per slow test; the rest show in the count.
            let label = format!("[{ended}/{total}] {} · {}", job.binary, job.test);
            if outcome.status != Status::Pass {
                progress.line(
                    &scope,
                    &format!("{label} · FAILED: {}", first_line(&outcome.message)),
                );
            } else if !outcome.left_running.is_empty() {
                let left = outcome.left_running.join(", ");
                progress.line(&scope, &format!("{label} · FAILED: left running: {left}"));
            } else if outcome.seconds >= SLOW_TEST_SECONDS || progress.quiet_for() >= HEARTBEAT {
                progress.line(
                    &scope,
                    &format!("{label} · ok ({})", duration(outcome.seconds)),
                );
            }
        },
    );
    for (job, outcome) in outcomes {
        let label = format!("{} {}::{}", name, job.binary, job.test);
        // A test must stop what it starts: a server or child still running once the
        // test is over is a leak that `cargo test` would never show (it exits with its
        // parent's pipes closed and goes on running).
        let leaked = outcome.status == Status::Pass && !outcome.left_running.is_empty();
        if outcome.status == Status::Pass && !leaked {
            counts.passed += 1;
        } else {
            counts.failed += 1;
            let test = format!("{} · {}", job.binary, job.test);
            counts.failing.push(test.clone());
            let message = if leaked {
                format!(
                    "it passed, but left processes running when it ended (killed since): {}",
                    outcome.left_running.join(", ")
                )
            } else {
                outcome.message.clone()
            };
            result.test_failures.push((test, message));
        }
        result.test_times.push((label, outcome.seconds));
    }
    doc_tests(result, root, progress, &mut counts);
    let took = duration(started.elapsed().as_secs_f64());
    let verdict = if counts.failed > 0 || !result.errors.is_empty() {
        format!(
            "FAILED: {} of {} tests failed ({took})",
            counts.failed,
            counts.passed + counts.failed
        )
    } else {
        format!("{} passed ({took})", counts.passed)
    };
    progress.line(&scope, &verdict);
    result.tests = Some(counts);
    false
}

/// The lesson's doc-tests, with `cargo test --doc`: counted with the other tests, and
/// timed as one.
fn doc_tests(
    result: &mut LessonResult,
    root: &Path,
    progress: &mut Progress,
    counts: &mut TestCounts,
) {
    let name = result.lesson.name;
    let scope = format!("{name} · doc-tests");
    let args = ["test", "-p", name, "--doc"];
    let out = match run_step(progress, &scope, StepKind::Test, root, &args) {
        Ok(out) => out,
        Err(e) => {
            result.errors.push(StepError {
                step: "test",
                message: format!("could not start `cargo test --doc`: {e}"),
            });
            return;
        }
    };
    let found = cargo_test::count(&out.stdout);
    result
        .test_times
        .push((format!("{name} doc-tests (all)"), out.seconds));
    counts.passed += found.passed;
    counts.failed += found.failed;
    counts.binaries += found.binaries;
    for test in &found.failing {
        result.test_failures.push((
            format!("doc-test {test}"),
            "see `cargo test --doc`".to_string(),
        ));
        counts.failing.push(format!("doc-test {test}"));
    }
    let died = cargo_test::binaries_that_died(&out.stderr, &found);
    if died > 0 {
        result.errors.push(StepError {
            step: "test",
            message: format!(
                "the doc-tests stopped without reporting results (crashed?); the end of \
                 cargo's output:\n{}",
                tail(&out.stderr, FAILED_OUTPUT_LINES)
            ),
        });
    } else if !out.success() && found.failed == 0 {
        result.errors.push(StepError {
            step: "test",
            message: format!(
                "`cargo test --doc` ended with {} although no doc-test reported a failure; \
                 the end of its output:\n{}",
                out.status_text(),
                tail(&out.combined.join("\n"), FAILED_OUTPUT_LINES)
            ),
        });
    }
}

/// One test of the lesson, as run-all runs it.
struct TestJob {
    /// The test binary's name: a file in tests/, or `lib <crate>` for unit tests.
    binary: String,
    path: PathBuf,
    test: String,
    /// Where it runs: its package's folder, as under `cargo test`.
    cwd: PathBuf,
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
