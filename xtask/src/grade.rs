//! `cargo xtask grade`: runs the graded tests and scores the exercises.
//!
//! Grading happens in three steps, each chosen so that one broken exercise costs only
//! its own points and never stops the grader:
//!
//! 1. **Build** each lesson's graded test targets once, with
//!    `cargo test -p <lesson> --no-run --message-format=json-render-diagnostics`: cargo
//!    prints the compiler's errors for people on stderr and, on stdout, one JSON message
//!    per artifact, from which we read where each test binary is. A lesson that does not
//!    compile has all its exercises marked as errors, with the compiler's message, and
//!    grading goes on with the other lessons.
//! 2. **List** each binary's tests (`--list --format terse`).
//! 3. **Run** each test alone, as its own process with a deadline (`test_process`),
//!    several at once. Points are shared out by test: an exercise worth 10 points with
//!    4 of 5 tests passing earns 8.
//!
//! The result (`Grade`) is then shown as a table per lesson and a list of failures, and
//! written for machines: Exercism's `results.json` (v3) shape, which GitHub Classroom
//! and other autograders read, JUnit XML, which CI systems show as test reports, and a
//! Markdown summary for a GitHub Actions run page. The last results are also kept under
//! the target folder, so `cargo xtask list` can tell which exercises are done.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde_json::Value;

use crate::child::{self, Seen};
use crate::cli::{GradeOptions, USAGE_ERROR};
use crate::format::{duration, width};
use crate::lessons::Lesson;
use crate::progress::{LineFilter, Progress, StepKind, Stream};
use crate::registry::{self, Exercise};
use crate::summary::{Row, render_table};
use crate::test_process;
use crate::workspace;

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
    /// Stop starting tests once one has failed (the rest are reported as not run).
    /// `kit --verify` grades mutants this way: one failing test rejects a mutant, and
    /// a mutant that hangs should cost one timeout, not one per test.
    pub fail_fast: bool,
    /// Build without debug information: quicker to compile and link, for builds nobody
    /// debugs (`kit --verify` builds a hundred mutants). Panic messages are unchanged.
    pub lean_build: bool,
}

/// How one test ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pass,
    Fail,
    /// It could not run: the lesson did not compile, or the runner failed.
    Error,
}

impl Status {
    /// The word Exercism's results.json uses.
    pub fn word(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Error => "error",
        }
    }
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
    /// Processes the test started that were still running when it ended (`pid name`).
    pub left_running: Vec<String>,
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

impl ExerciseResult {
    pub fn passed(&self) -> usize {
        self.tests
            .iter()
            .filter(|t| t.status == Status::Pass)
            .count()
    }

    pub fn total(&self) -> usize {
        self.tests.len()
    }

    /// Pass when every test passed; error when the tests could not run; fail otherwise.
    /// An exercise without a single test has not passed: there is nothing to show for it.
    pub fn status(&self) -> Status {
        if self.error.is_some() || self.tests.iter().any(|t| t.status == Status::Error) {
            Status::Error
        } else if !self.tests.is_empty() && self.passed() == self.total() {
            Status::Pass
        } else {
            Status::Fail
        }
    }
}

/// The result of grading a set of exercises.
#[derive(Debug, Clone, Default)]
pub struct Grade {
    pub exercises: Vec<ExerciseResult>,
}

impl Grade {
    /// True when there was something to grade and every graded test passed.
    pub fn passed(&self) -> bool {
        !self.exercises.is_empty() && self.exercises.iter().all(|e| e.status() == Status::Pass)
    }

    pub fn points(&self) -> f64 {
        self.exercises.iter().map(|e| e.points).sum()
    }

    pub fn max_points(&self) -> u32 {
        self.exercises.iter().map(|e| e.exercise.points).sum()
    }

    pub fn tests_passed(&self) -> usize {
        self.exercises.iter().map(ExerciseResult::passed).sum()
    }

    pub fn tests_total(&self) -> usize {
        self.exercises.iter().map(ExerciseResult::total).sum()
    }
}

/// A silent build gets a "still compiling" line this often.
const HEARTBEAT: Duration = Duration::from_secs(30);

/// How many lines of compiler errors an exercise's result keeps: the first errors are
/// the ones to fix first (later ones often follow from them).
const COMPILE_ERROR_LINES: usize = 40;

/// Progress lines, or silence (`kit --verify` grades quietly).
pub struct Say<'a>(pub Option<&'a mut Progress>);

impl Say<'_> {
    pub fn line(&mut self, scope: &str, text: &str) {
        if let Some(progress) = self.0.as_mut() {
            progress.line(scope, text);
        }
    }

    pub fn quiet_for(&self) -> Duration {
        self.0.as_ref().map_or(Duration::ZERO, |p| p.quiet_for())
    }
}

/// One test to run: which exercise and which of its tests, and how to start it.
#[derive(Debug)]
struct Job {
    exercise: usize,
    /// For the progress line.
    exercise_id: String,
    test: usize,
    bin: PathBuf,
    name: String,
    cwd: PathBuf,
}

/// Grades `exercises` in the workspace at `root`.
pub fn grade(root: &Path, exercises: &[Exercise], settings: &Settings) -> Grade {
    let mut progress = settings.progress.then(Progress::new);
    let mut say = Say(progress.as_mut());
    let mut results: Vec<ExerciseResult> = exercises
        .iter()
        .map(|e| ExerciseResult {
            exercise: e.clone(),
            tests: Vec::new(),
            points: 0.0,
            error: None,
        })
        .collect();

    let mut lessons: Vec<&'static Lesson> = Vec::new();
    for e in exercises {
        if !lessons.contains(&e.lesson) {
            lessons.push(e.lesson);
        }
    }
    let mut jobs = Vec::new();
    for lesson in lessons {
        let members: Vec<usize> = (0..exercises.len())
            .filter(|&i| exercises[i].lesson == lesson)
            .collect();
        let mut targets: Vec<&str> = Vec::new();
        for &i in &members {
            if !targets.contains(&exercises[i].test.as_str()) {
                targets.push(&exercises[i].test);
            }
        }
        let cwd = root.join("crates").join(lesson.name);
        match build(root, lesson, Some(&targets), settings, &mut say) {
            Err(message) => {
                let why = format!("lesson `{}` did not compile", lesson.name);
                for &i in &members {
                    results[i].error = Some(message.clone());
                    results[i].tests = not_run(root, &exercises[i], &why);
                }
            }
            Ok(bins) => {
                let mut listed: HashMap<&str, Result<Vec<String>, String>> = HashMap::new();
                for &i in &members {
                    let target = exercises[i].test.as_str();
                    let Some(bin) = bins.get(target) else {
                        let why = format!("cargo built no test binary for target `{target}`");
                        results[i].tests = not_run(root, &exercises[i], &why);
                        results[i].error = Some(why);
                        continue;
                    };
                    let names = listed
                        .entry(target)
                        .or_insert_with(|| test_process::list(bin, &cwd, settings.timeout));
                    match names {
                        Ok(names) if !names.is_empty() => {
                            for (k, name) in names.iter().enumerate() {
                                results[i].tests.push(placeholder(name));
                                jobs.push(Job {
                                    exercise: i,
                                    exercise_id: exercises[i].id.clone(),
                                    test: k,
                                    bin: bin.clone(),
                                    name: name.clone(),
                                    cwd: cwd.clone(),
                                });
                            }
                        }
                        Ok(_) => {
                            results[i].error =
                                Some(format!("the test target `{target}` has no tests"));
                        }
                        Err(e) => {
                            results[i].tests = not_run(root, &exercises[i], e);
                            results[i].error = Some(e.clone());
                        }
                    }
                }
            }
        }
    }

    for (job, outcome) in run_jobs(&jobs, settings, &mut say) {
        results[job.exercise].tests[job.test] = outcome;
    }
    for r in &mut results {
        r.points = if r.total() == 0 || r.error.is_some() {
            0.0
        } else {
            f64::from(r.exercise.points) * r.passed() as f64 / r.total() as f64
        };
    }
    Grade { exercises: results }
}

/// Runs every job, up to one per CPU at once. Each test is its own process, so running
/// them side by side cannot make them interfere (not even tests that reap any child).
fn run_jobs<'a>(
    jobs: &'a [Job],
    settings: &Settings,
    say: &mut Say<'_>,
) -> Vec<(&'a Job, TestOutcome)> {
    let timeout = settings.timeout;
    test_process::run_pool(
        jobs,
        settings.fail_fast,
        |job| test_process::run_test(&job.bin, &job.name, &job.cwd, timeout),
        |job| skipped(&job.name),
        // Progress lines appear in the order tests end.
        |job, outcome| {
            let verdict = match outcome.status {
                Status::Pass => format!("ok ({})", duration(outcome.seconds)),
                Status::Fail if outcome.message.starts_with("timed out") => {
                    format!("FAILED: timed out after {}", duration(outcome.seconds))
                }
                Status::Fail => "FAILED".to_string(),
                Status::Error => format!("ERROR: {}", first_line(&outcome.message)),
            };
            say.line(&job.exercise_id, &format!("{} · {verdict}", job.name));
        },
    )
}

/// A test not started because an earlier one failed (`Settings::fail_fast`).
fn skipped(name: &str) -> TestOutcome {
    TestOutcome {
        name: name.to_string(),
        status: Status::Error,
        message: "not run: an earlier test already failed".to_string(),
        output: String::new(),
        seconds: 0.0,
        left_running: Vec::new(),
    }
}

/// A test slot waiting for its result; it is always replaced once the test has run.
fn placeholder(name: &str) -> TestOutcome {
    TestOutcome {
        name: name.to_string(),
        status: Status::Error,
        message: "not run".to_string(),
        output: String::new(),
        seconds: 0.0,
        left_running: Vec::new(),
    }
}

/// The tests of an exercise that could not be built, as errors. Their names come from
/// the test file itself, so reports still list (and count) every test.
fn not_run(root: &Path, exercise: &Exercise, why: &str) -> Vec<TestOutcome> {
    let source = std::fs::read_to_string(root.join(exercise.test_file())).unwrap_or_default();
    let mut names = declared_tests(&source);
    if names.is_empty() {
        names.push(exercise.test.clone());
    }
    names
        .iter()
        .map(|name| TestOutcome {
            name: name.clone(),
            status: Status::Error,
            message: format!("not run: {why}"),
            output: String::new(),
            seconds: 0.0,
            left_running: Vec::new(),
        })
        .collect()
}

/// The names of the `#[test]` functions in a test file, in order. A plain scan, not a
/// parser: it only has to name the tests of a file that does not compile.
fn declared_tests(source: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut after_test_attribute = false;
    for line in source.lines().map(str::trim) {
        if line.starts_with("#[test]") {
            after_test_attribute = true;
        } else if let Some(at) = line.find("fn ").filter(|_| after_test_attribute) {
            let name: String = line[at + 3..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                names.push(name);
            }
            after_test_attribute = false;
        }
    }
    names
}

/// Builds a lesson's test targets (`targets`, or every test binary of the lesson when
/// `None`: its unit tests and each file in tests/); returns each one's executable by
/// name (see [`executables`]), or the compiler's errors.
pub fn build(
    root: &Path,
    lesson: &Lesson,
    targets: Option<&[&str]>,
    settings: &Settings,
    say: &mut Say<'_>,
) -> Result<HashMap<String, PathBuf>, String> {
    let mut command = Command::new(workspace::cargo());
    command.current_dir(root).args([
        "test",
        "-p",
        lesson.name,
        "--no-run",
        "--message-format=json-render-diagnostics",
    ]);
    for target in targets.unwrap_or_default() {
        command.args(["--test", target]);
    }
    if let Some(dir) = &settings.target_dir {
        command.env("CARGO_TARGET_DIR", dir);
    }
    if settings.lean_build {
        command
            .env("CARGO_PROFILE_DEV_DEBUG", "0")
            .env("CARGO_PROFILE_TEST_DEBUG", "0");
    }
    let scope = format!("{} · build", lesson.name);
    let mut filter = LineFilter::new(StepKind::Test);
    let started = Instant::now();
    let out = child::run(&mut command, &mut |seen| match seen {
        // Stdout carries the JSON messages, read once cargo is done.
        Seen::Line(Stream::Stderr, line) => {
            if let Some(text) = filter.show(Stream::Stderr, line, Instant::now()) {
                say.line(&scope, &text);
            }
        }
        Seen::Line(Stream::Stdout, _) => {}
        Seen::Quiet => {
            if say.quiet_for() >= HEARTBEAT {
                let so_far = duration(started.elapsed().as_secs_f64());
                say.line(&scope, &format!("still compiling ({so_far} so far)"));
            }
        }
    })
    .map_err(|e| format!("could not start cargo: {e}"))?;
    let took = duration(out.seconds);
    if !out.success() {
        say.line(&scope, &format!("FAILED: does not compile ({took})"));
        return Err(compile_errors(&out.stderr));
    }
    let bins = executables(&out.stdout);
    let binaries = if bins.len() == 1 {
        "binary"
    } else {
        "binaries"
    };
    say.line(
        &scope,
        &format!("ok: {} test {binaries} ({took})", bins.len()),
    );
    Ok(bins)
}

/// Reads cargo's JSON messages: each test executable cargo built, by name: a file in
/// tests/ by its target name (`exercise_capture`), unit tests by kind and name
/// (`lib procs`, `bin tour`).
fn executables(cargo_stdout: &str) -> HashMap<String, PathBuf> {
    let mut found = HashMap::new();
    for line in cargo_stdout.lines() {
        let Ok(message) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        // An example is built by `cargo test` too, but as a program, not as tests.
        if message["reason"] != "compiler-artifact" || message["profile"]["test"] != true {
            continue;
        }
        let target = &message["target"];
        let (Some(kind), Some(name), Some(exe)) = (
            target["kind"][0].as_str(),
            target["name"].as_str(),
            message["executable"].as_str(),
        ) else {
            continue;
        };
        let key = if kind == "test" {
            name.to_string()
        } else {
            format!("{kind} {name}")
        };
        found.insert(key, PathBuf::from(exe));
    }
    found
}

/// The compiler's errors from cargo's stderr, without the warnings (an unfinished
/// exercise often has many, and they hide the error) and cargo's status lines.
fn compile_errors(stderr: &str) -> String {
    let mut kept = Vec::new();
    let mut in_error = false;
    for line in stderr.lines() {
        if line.starts_with("error") {
            in_error = true;
        } else if line.starts_with("warning") || is_cargo_status(line) {
            in_error = false;
            continue;
        }
        if in_error {
            kept.push(line);
        }
    }
    while kept.last().is_some_and(|l| l.trim().is_empty()) {
        kept.pop();
    }
    if kept.is_empty() {
        // Not a compiler error (a broken manifest, a missing toolchain): show the end.
        let lines: Vec<&str> = stderr.lines().collect();
        kept = lines[lines.len().saturating_sub(20)..].to_vec();
    }
    let mut text = kept
        .iter()
        .take(COMPILE_ERROR_LINES)
        .copied()
        .collect::<Vec<_>>()
        .join("\n");
    if kept.len() > COMPILE_ERROR_LINES {
        text.push_str(&format!(
            "\n... ({} more lines: `cargo build --tests` shows them all)",
            kept.len() - COMPILE_ERROR_LINES
        ));
    }
    text
}

/// `   Compiling procs v0.1.0 (...)`, `    Finished ...`: cargo reporting, not the compiler.
fn is_cargo_status(line: &str) -> bool {
    let words = [
        "Compiling",
        "Checking",
        "Finished",
        "Executable",
        "Blocking",
        "Updating",
        "Downloading",
        "Downloaded",
        "Locking",
        "Adding",
        "Fresh",
    ];
    line.starts_with(' ') && words.iter().any(|w| line.trim_start().starts_with(w))
}

pub fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}

/// Points with at most one decimal: "10", "7.5", "6.7".
pub fn show_points(points: f64) -> String {
    let tenths = (points * 10.0).round() / 10.0;
    if tenths.fract() == 0.0 {
        format!("{tenths:.0}")
    } else {
        format!("{tenths:.1}")
    }
}

fn status_label(result: &ExerciseResult) -> &'static str {
    match result.status() {
        Status::Pass => "pass",
        Status::Fail => "FAIL",
        Status::Error if result.error.is_some() => "ERROR (did not build)",
        Status::Error => "ERROR",
    }
}

/// A table per lesson with its total, then the grand total.
pub fn report(grade: &Grade) -> String {
    let mut out = String::new();
    let mut lessons: Vec<&Lesson> = Vec::new();
    for r in &grade.exercises {
        if !lessons.contains(&r.exercise.lesson) {
            lessons.push(r.exercise.lesson);
        }
    }
    let header = ["exercise", "title", "tests", "points", "status"];
    for lesson in lessons {
        let results: Vec<&ExerciseResult> = grade
            .exercises
            .iter()
            .filter(|r| r.exercise.lesson == lesson)
            .collect();
        let mut rows: Vec<Row> = results
            .iter()
            .map(|r| {
                Row::Cells(vec![
                    r.exercise.id.clone(),
                    cut(&r.exercise.title, 40),
                    format!("{}/{}", r.passed(), r.total()),
                    format!("{}/{}", show_points(r.points), r.exercise.points),
                    status_label(r).to_string(),
                ])
            })
            .collect();
        let (got, max): (f64, u32) = results
            .iter()
            .fold((0.0, 0), |(g, m), r| (g + r.points, m + r.exercise.points));
        let (passed, total): (usize, usize) = results
            .iter()
            .fold((0, 0), |(p, t), r| (p + r.passed(), t + r.total()));
        rows.push(Row::Cells(vec![
            "total".to_string(),
            String::new(),
            format!("{passed}/{total}"),
            format!("{}/{max}", show_points(got)),
        ]));
        out.push_str(&format!(
            "Lesson {} · {}: {}\n\n{}\n\n",
            lesson.number,
            lesson.name,
            lesson.title,
            render_table(&header, &rows)
        ));
    }
    out.push_str(&verdict(grade));
    out
}

/// The last line: points, tests, and pass or fail.
pub fn verdict(grade: &Grade) -> String {
    let max = grade.max_points();
    let percent = if max == 0 {
        0.0
    } else {
        100.0 * grade.points() / f64::from(max)
    };
    let outcome = if grade.passed() { "PASSED" } else { "FAILED" };
    format!(
        "{outcome}: {} of {max} points ({percent:.0}%), {} of {} graded tests passed.",
        show_points(grade.points()),
        grade.tests_passed(),
        grade.tests_total()
    )
}

/// Every failing test with its message, and every exercise that did not build. `None`
/// when everything passed.
pub fn failures(grade: &Grade) -> Option<String> {
    let mut out = String::new();
    let mut shown_errors: Vec<&str> = Vec::new();
    for r in &grade.exercises {
        let id = &r.exercise.id;
        if let Some(error) = &r.error {
            // A lesson that does not compile gives every exercise the same error: once.
            if shown_errors.contains(&error.as_str()) {
                out.push_str(&format!("\n{id}: did not build (the error is above)\n"));
            } else {
                shown_errors.push(error);
                out.push_str(&format!("\n{id}: did not build\n{}\n", indent(error, 4)));
            }
            continue;
        }
        for t in r.tests.iter().filter(|t| t.status != Status::Pass) {
            out.push_str(&format!("\n{id} · {}\n{}\n", t.name, indent(&t.message, 4)));
        }
    }
    if out.is_empty() {
        return None;
    }
    let ids: Vec<&str> = grade
        .exercises
        .iter()
        .filter(|r| r.status() != Status::Pass)
        .map(|r| r.exercise.id.as_str())
        .collect();
    let example = ids.first().copied().unwrap_or("ID");
    out.push_str(&format!(
        "\nStuck? `cargo xtask hint {example}` prints the task and a hint; \
         `cargo xtask grade --exercise {example}` grades one exercise.\n"
    ));
    Some(format!("Failures\n{out}"))
}

fn indent(text: &str, by: usize) -> String {
    let pad = " ".repeat(by);
    text.lines()
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("{pad}{l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// At most `max` characters, with "..." when cut.
fn cut(text: &str, max: usize) -> String {
    if width(text) <= max {
        text.to_string()
    } else {
        let kept: String = text.chars().take(max.saturating_sub(3)).collect();
        format!("{}...", kept.trim_end())
    }
}

/// Exercism asks for at most 500 characters of a test's output.
const EXERCISM_OUTPUT_CHARS: usize = 500;

/// At most 500 characters, the cut said in the text itself.
fn exercism_output(text: &str) -> String {
    if text.chars().count() <= EXERCISM_OUTPUT_CHARS {
        return text.to_string();
    }
    let note = "\n[output truncated]";
    let kept: String = text
        .chars()
        .take(EXERCISM_OUTPUT_CHARS - note.chars().count())
        .collect();
    format!("{kept}{note}")
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The overall status and, for an error, why: Exercism's top-level `status` and
/// `message`.
fn overall(grade: &Grade) -> (&'static str, Option<String>) {
    let mut errors: Vec<String> = Vec::new();
    for r in &grade.exercises {
        if let Some(e) = &r.error {
            let line = format!("{}: {e}", r.exercise.lesson.name);
            if !errors.contains(&line) {
                errors.push(line);
            }
        }
    }
    if grade.exercises.is_empty() {
        return ("error", Some("no exercise was graded".to_string()));
    }
    if !errors.is_empty() {
        return ("error", Some(errors.join("\n\n")));
    }
    if grade.passed() {
        ("pass", None)
    } else {
        ("fail", None)
    }
}

/// The results in Exercism's results.json (version 3) shape, which autograders read,
/// with the points added: `points`, `max_points`, and one entry per exercise. A test's
/// `task_id` is its exercise's position in `exercises`, counting from 1.
///
/// Typed structs rather than `json!`: they keep the fields in this order in the file
/// (version and status first), which is the order a person reads them in.
#[derive(Debug, Serialize)]
struct ResultsJson<'a> {
    version: u32,
    status: &'static str,
    message: Option<String>,
    tests: Vec<TestJson>,
    points: f64,
    max_points: u32,
    exercises: Vec<ExerciseJson<'a>>,
    /// Only in the kept copy for `list`: exercises graded by earlier runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    earlier: Option<Vec<Value>>,
}

#[derive(Debug, Serialize)]
struct TestJson {
    name: String,
    status: &'static str,
    message: Option<String>,
    output: Option<String>,
    test_code: &'static str,
    task_id: usize,
}

#[derive(Debug, Serialize)]
struct ExerciseJson<'a> {
    id: &'a str,
    title: &'a str,
    points: f64,
    max_points: u32,
    passed: usize,
    total: usize,
    status: &'static str,
    /// Only in the kept copy for `list`: when this grading started (seconds since 1970).
    #[serde(skip_serializing_if = "Option::is_none")]
    graded_at: Option<f64>,
}

fn results_json(grade: &Grade) -> ResultsJson<'_> {
    let (status, message) = overall(grade);
    let mut tests = Vec::new();
    for (i, r) in grade.exercises.iter().enumerate() {
        for t in &r.tests {
            tests.push(TestJson {
                name: format!("{}: {}", r.exercise.id, t.name),
                status: t.status.word(),
                message: (t.status != Status::Pass && !t.message.is_empty())
                    .then(|| t.message.clone()),
                output: (!t.output.is_empty()).then(|| exercism_output(&t.output)),
                test_code: "",
                task_id: i + 1,
            });
        }
    }
    let exercises: Vec<ExerciseJson<'_>> = grade
        .exercises
        .iter()
        .map(|r| ExerciseJson {
            id: &r.exercise.id,
            title: &r.exercise.title,
            points: round2(r.points),
            max_points: r.exercise.points,
            passed: r.passed(),
            total: r.total(),
            status: r.status().word(),
            graded_at: None,
        })
        .collect();
    // The total is the sum of the rounded parts, so the file adds up as printed.
    let points = round2(exercises.iter().map(|e| e.points).sum());
    ResultsJson {
        version: 3,
        status,
        message,
        tests,
        points,
        max_points: grade.max_points(),
        exercises,
        earlier: None,
    }
}

/// The results as JSON text, as `--json` writes them.
pub fn json_text(grade: &Grade) -> String {
    to_text(&results_json(grade))
}

fn to_text(results: &ResultsJson<'_>) -> String {
    // Serialising plain structs of strings and numbers cannot fail; if it ever did,
    // the file says so rather than being empty.
    serde_json::to_string_pretty(results)
        .unwrap_or_else(|e| format!("{{\"error\": \"cannot serialise the results: {e}\"}}"))
        + "\n"
}

/// The same results as a JSON value.
#[cfg(test)]
fn to_json(grade: &Grade) -> Value {
    serde_json::from_str(&json_text(grade)).unwrap_or(Value::Null)
}

/// The results as JUnit XML: one `<testsuite>` per exercise, one `<testcase>` per test.
pub fn to_junit(grade: &Grade) -> String {
    let count = |r: &ExerciseResult, s: Status| r.tests.iter().filter(|t| t.status == s).count();
    let time = |r: &ExerciseResult| r.tests.iter().map(|t| t.seconds).sum::<f64>();
    let failures: usize = grade.exercises.iter().map(|r| count(r, Status::Fail)).sum();
    let errors: usize = grade
        .exercises
        .iter()
        .map(|r| count(r, Status::Error))
        .sum();
    let total_time: f64 = grade.exercises.iter().map(time).sum();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites name=\"cargo xtask grade\" tests=\"{}\" failures=\"{failures}\" \
         errors=\"{errors}\" time=\"{total_time:.3}\">\n",
        grade.tests_total()
    ));
    for r in &grade.exercises {
        let id = xml_attr(&r.exercise.id);
        out.push_str(&format!(
            "  <testsuite name=\"{id}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" \
             skipped=\"0\" time=\"{:.3}\">\n",
            r.total(),
            count(r, Status::Fail),
            count(r, Status::Error),
            time(r)
        ));
        out.push_str("    <properties>\n");
        for (name, value) in [
            ("title", r.exercise.title.clone()),
            ("points", show_points(r.points)),
            ("max_points", r.exercise.points.to_string()),
        ] {
            out.push_str(&format!(
                "      <property name=\"{name}\" value=\"{}\"/>\n",
                xml_attr(&value)
            ));
        }
        out.push_str("    </properties>\n");
        for t in &r.tests {
            let head = format!(
                "    <testcase classname=\"{id}\" name=\"{}\" time=\"{:.3}\"",
                xml_attr(&t.name),
                t.seconds
            );
            let (tag, body) = match t.status {
                Status::Pass => {
                    out.push_str(&head);
                    out.push_str("/>\n");
                    continue;
                }
                Status::Fail => ("failure", join_nonempty(&t.message, &t.output)),
                Status::Error => (
                    "error",
                    join_nonempty(&t.message, r.error.as_deref().unwrap_or("")),
                ),
            };
            out.push_str(&format!(
                "{head}>\n      <{tag} message=\"{}\">{}</{tag}>\n    </testcase>\n",
                xml_attr(first_line(&t.message)),
                xml_text(&body)
            ));
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

fn join_nonempty(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (_, true) => a.to_string(),
        (true, false) => b.to_string(),
        (false, false) => format!("{a}\n\n{b}"),
    }
}

/// Text content: the five special characters escaped, and the characters XML 1.0 does
/// not allow at all (control characters other than tab and newlines) dropped: a test's
/// output may contain anything, and one stray byte would make the whole file unreadable.
fn xml_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c.is_control() || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}

/// An attribute value: as text, and with line breaks and tabs as character references
/// (a parser would otherwise turn them into spaces).
fn xml_attr(text: &str) -> String {
    xml_text(text)
        .replace('\n', "&#10;")
        .replace('\r', "&#13;")
        .replace('\t', "&#9;")
}

/// A Markdown summary for a GitHub Actions run page: points per exercise, then the
/// failing tests with their messages.
pub fn to_markdown(grade: &Grade) -> String {
    let mut out = format!(
        "## Exercises: {} / {} points\n\n",
        show_points(grade.points()),
        grade.max_points()
    );
    out.push_str("| Exercise | Title | Tests | Points | Status |\n|---|---|---|---|---|\n");
    for r in &grade.exercises {
        let icon = match r.status() {
            Status::Pass => "✅ pass",
            Status::Fail => "❌ fail",
            Status::Error => "⚠️ error",
        };
        out.push_str(&format!(
            "| `{}` | {} | {}/{} | {} / {} | {icon} |\n",
            r.exercise.id,
            markdown_cell(&r.exercise.title),
            r.passed(),
            r.total(),
            show_points(r.points),
            r.exercise.points
        ));
    }
    out.push_str(&format!(
        "| **Total** | | {}/{} | **{} / {}** | |\n",
        grade.tests_passed(),
        grade.tests_total(),
        show_points(grade.points()),
        grade.max_points()
    ));
    let mut failing = String::new();
    let mut shown_errors: Vec<&str> = Vec::new();
    for r in &grade.exercises {
        if let Some(error) = &r.error {
            if !shown_errors.contains(&error.as_str()) {
                shown_errors.push(error);
                failing.push_str(&format!(
                    "\n**`{}`** did not build:\n\n{}\n",
                    r.exercise.id,
                    fenced(error)
                ));
            }
            continue;
        }
        for t in r.tests.iter().filter(|t| t.status != Status::Pass) {
            failing.push_str(&format!(
                "\n**`{}`** · `{}`\n\n{}\n",
                r.exercise.id,
                t.name,
                fenced(&t.message)
            ));
        }
    }
    if !failing.is_empty() {
        out.push_str("\n### Failing tests\n");
        out.push_str(&failing);
    }
    out
}

fn markdown_cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// A code block whose fence is longer than any run of backticks inside it.
fn fenced(text: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest.max(2) + 1);
    format!("{fence}text\n{text}\n{fence}")
}

/// Where cargo builds: the explicit folder, else `CARGO_TARGET_DIR`, else `target/`.
pub fn target_dir(root: &Path, explicit: Option<&Path>) -> PathBuf {
    if let Some(dir) = explicit {
        return dir.to_path_buf();
    }
    match std::env::var_os("CARGO_TARGET_DIR").filter(|d| !d.is_empty()) {
        // Cargo reads a relative CARGO_TARGET_DIR from where it runs: the root, for us.
        Some(dir) => root.join(dir),
        None => root.join("target"),
    }
}

/// The last results, kept for `cargo xtask list`.
pub fn last_results_file(root: &Path) -> PathBuf {
    target_dir(root, None).join("xtask").join("grade-last.json")
}

/// An exercise's result as the last `grade` recorded it.
#[derive(Debug, Clone, PartialEq)]
pub struct LastResult {
    pub status: Status,
    pub passed: u64,
    pub total: u64,
    /// When that grading started: a file changed after it may grade differently now.
    pub graded_at: SystemTime,
}

/// Keeps `grade`'s results for `list`: the same JSON as `--json`, each exercise with the
/// time its grading started (`graded_at`, seconds since 1970), and under `earlier` the
/// exercises graded by an earlier run but not this one, so grading one exercise does
/// not make `list` forget the others.
pub fn remember(root: &Path, grade: &Grade, started: SystemTime) -> std::io::Result<PathBuf> {
    let path = last_results_file(root);
    let at = started
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    let mut results = results_json(grade);
    for entry in &mut results.exercises {
        entry.graded_at = Some(at);
    }
    let graded_now: Vec<&str> = results.exercises.iter().map(|e| e.id).collect();
    let earlier: Vec<Value> = previous_entries(&path)
        .into_iter()
        .filter(|e| e["id"].as_str().is_some_and(|id| !graded_now.contains(&id)))
        .collect();
    results.earlier = Some(earlier);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    // A temporary file renamed into place, as lesson 5's store does: `grade` and `watch`
    // may write at once, and a crash half-way must not lose the earlier results.
    let temp = path.with_extension(format!("json.tmp-{}", std::process::id()));
    std::fs::write(&temp, to_text(&results))?;
    std::fs::rename(&temp, &path).inspect_err(|_| {
        let _ = std::fs::remove_file(&temp);
    })?;
    Ok(path)
}

/// Every exercise entry of a results file, current and earlier.
fn previous_entries(path: &Path) -> Vec<Value> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    let Ok(doc) = serde_json::from_str::<Value>(&text) else {
        return Vec::new();
    };
    ["exercises", "earlier"]
        .iter()
        .filter_map(|key| doc[*key].as_array())
        .flatten()
        .cloned()
        .collect()
}

/// The last recorded result of each exercise, by id (empty when nothing was graded yet).
pub fn last_results(root: &Path) -> HashMap<String, LastResult> {
    results_in(&last_results_file(root))
}

/// [`last_results`] from the results file at `path`.
fn results_in(path: &Path) -> HashMap<String, LastResult> {
    let mut found = HashMap::new();
    for entry in previous_entries(path) {
        let status = match entry["status"].as_str() {
            Some("pass") => Status::Pass,
            Some("fail") => Status::Fail,
            Some("error") => Status::Error,
            _ => continue,
        };
        let (Some(id), Some(passed), Some(total), Some(at)) = (
            entry["id"].as_str(),
            entry["passed"].as_u64(),
            entry["total"].as_u64(),
            entry["graded_at"].as_f64(),
        ) else {
            continue;
        };
        // The file may have been edited or damaged: a time no clock can hold makes the
        // entry unknown, not a panic of every command that reads it.
        let Some(graded_at) = Duration::try_from_secs_f64(at.max(0.0))
            .ok()
            .and_then(|since| UNIX_EPOCH.checked_add(since))
        else {
            continue;
        };
        found.entry(id.to_string()).or_insert(LastResult {
            status,
            passed,
            total,
            graded_at,
        });
    }
    found
}

/// Which exercises the options ask for, or why none can be graded.
fn select(all: &[Exercise], options: &GradeOptions, root: &Path) -> Result<Vec<Exercise>, String> {
    if let Some(id) = &options.exercise {
        let exercise = registry::find(all, id)?;
        if let Some(lesson) = options.lesson.filter(|l| *l != exercise.lesson) {
            return Err(format!(
                "exercise `{id}` belongs to lesson `{}`, not `{}`",
                exercise.lesson.name, lesson.name
            ));
        }
        return Ok(vec![exercise.clone()]);
    }
    if let Some(lesson) = options.lesson {
        if !lesson.is_written(root) {
            return Err(format!(
                "lesson {} `{}` is not written yet: it has no exercises",
                lesson.number, lesson.name
            ));
        }
        return Ok(all.iter().filter(|e| e.lesson == lesson).cloned().collect());
    }
    if all.is_empty() {
        return Err("the course has no exercises yet".to_string());
    }
    Ok(all.to_vec())
}

pub fn main(options: &GradeOptions) -> ExitCode {
    let root = workspace::root();
    let all = match registry::load(&root) {
        Ok(all) => all,
        Err(problems) => {
            eprintln!("error: the exercise registry has problems:");
            for problem in problems {
                eprintln!("  {problem}");
            }
            return ExitCode::FAILURE;
        }
    };
    let chosen = match select(&all, options, &root) {
        Ok(chosen) => chosen,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(USAGE_ERROR);
        }
    };
    let settings = Settings {
        fail_fast: false,
        lean_build: false,
        timeout: Duration::from_secs(options.timeout_secs),
        target_dir: None,
        progress: true,
    };
    let started = SystemTime::now();
    let grade = grade(&root, &chosen, &settings);

    println!();
    println!("{}", report(&grade));
    if let Some(failures) = failures(&grade) {
        println!("\n{failures}");
    }
    let mut ok = grade.passed();
    let mut write = |what: &str, path: &Path, text: String| match std::fs::write(path, text) {
        Ok(()) => eprintln!("{what} written to {}", path.display()),
        Err(e) => {
            // Whoever asked for the file depends on it: not writing it is a failure.
            eprintln!("error: cannot write {what} to {}: {e}", path.display());
            ok = false;
        }
    };
    if let Some(path) = &options.json {
        write("results (JSON)", path, json_text(&grade));
    }
    if let Some(path) = &options.junit {
        write("results (JUnit XML)", path, to_junit(&grade));
    }
    if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
        let appended = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(to_markdown(&grade).as_bytes()));
        if let Err(e) = appended {
            eprintln!("warning: cannot append to GITHUB_STEP_SUMMARY ({path:?}): {e}");
        }
    }
    // `list` is a convenience: failing to remember is worth a warning, not a failure.
    if let Err(e) = remember(&root, &grade, started) {
        eprintln!("warning: cannot keep the results for `cargo xtask list`: {e}");
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lessons::LESSONS;

    fn exercise(name: &str, points: u32) -> Exercise {
        Exercise {
            lesson: &LESSONS[0],
            id: format!("procs/{name}"),
            title: format!("The {name} <exercise> & \"more\""),
            points,
            file: PathBuf::from(format!("crates/procs/src/exercises/{name}.rs")),
            test: format!("exercise_{name}"),
            task: "Do it.".into(),
            hint: "Think.".into(),
            declared_at: "crates/procs/exercises.toml:1".into(),
            mutants: Vec::new(),
        }
    }

    fn test(name: &str, status: Status, message: &str, output: &str) -> TestOutcome {
        TestOutcome {
            name: name.into(),
            status,
            message: message.into(),
            output: output.into(),
            seconds: 0.25,
            left_running: Vec::new(),
        }
    }

    /// Two passing tests and one failing (with every character XML and JSON find
    /// awkward), and an exercise whose lesson did not compile.
    fn sample() -> Grade {
        let nasty = "assertion `left == right` failed: <tag> & \"quote\" 'apos' \u{7}bell\n  left: 1\n right: 2";
        Grade {
            exercises: vec![
                ExerciseResult {
                    exercise: exercise("reap", 10),
                    tests: vec![
                        test("first", Status::Pass, "", ""),
                        test("second", Status::Pass, "", "printed\n"),
                        test("third", Status::Fail, nasty, &"x".repeat(2000)),
                    ],
                    points: 10.0 * 2.0 / 3.0,
                    error: None,
                },
                ExerciseResult {
                    exercise: exercise("capture", 15),
                    tests: vec![test("only", Status::Error, "not run", "")],
                    points: 0.0,
                    error: Some("error[E0308]: mismatched types".into()),
                },
            ],
        }
    }

    #[test]
    fn points_are_shown_with_at_most_one_decimal() {
        assert_eq!(show_points(10.0), "10");
        assert_eq!(show_points(10.0 * 2.0 / 3.0), "6.7");
        assert_eq!(show_points(7.5), "7.5");
        assert_eq!(show_points(0.0), "0");
    }

    #[test]
    fn the_json_has_every_exercism_v3_field_with_its_type() {
        let grade = sample();
        let doc = to_json(&grade);
        assert_eq!(doc["version"], 3);
        assert_eq!(doc["status"], "error");
        assert!(doc["message"].as_str().unwrap().contains("E0308"));
        let tests = doc["tests"].as_array().unwrap();
        assert_eq!(tests.len(), 4);
        for t in tests {
            assert!(t["name"].is_string(), "{t}");
            assert!(
                ["pass", "fail", "error"].contains(&t["status"].as_str().unwrap()),
                "{t}"
            );
            assert!(t["message"].is_string() || t["message"].is_null(), "{t}");
            assert!(t["output"].is_string() || t["output"].is_null(), "{t}");
            if let Some(output) = t["output"].as_str() {
                assert!(output.chars().count() <= 500, "{t}");
            }
            assert_eq!(t["test_code"], "");
            assert!(t["task_id"].as_u64().is_some_and(|id| id >= 1), "{t}");
        }
        assert_eq!(tests[0]["name"], "procs/reap: first");
        assert_eq!(tests[0]["message"], Value::Null);
        assert_eq!(tests[2]["status"], "fail");
        assert!(tests[2]["message"].as_str().unwrap().contains("left: 1"));
        assert_eq!(tests[3]["task_id"], 2);

        let exercises = doc["exercises"].as_array().unwrap();
        assert_eq!(exercises.len(), 2);
        for (key, check) in [
            ("id", Value::is_string as fn(&Value) -> bool),
            ("title", Value::is_string),
            ("points", Value::is_number),
            ("max_points", Value::is_u64),
            ("passed", Value::is_u64),
            ("total", Value::is_u64),
            ("status", Value::is_string),
        ] {
            assert!(exercises.iter().all(|e| check(&e[key])), "{key}");
        }
        assert_eq!(exercises[0]["points"], 6.67);
        assert_eq!(exercises[0]["status"], "fail");
        assert_eq!(exercises[1]["status"], "error");
        let sum: f64 = exercises
            .iter()
            .map(|e| e["points"].as_f64().unwrap())
            .sum();
        assert!((doc["points"].as_f64().unwrap() - sum).abs() < 1e-9);
        assert_eq!(doc["max_points"], 25);
        // It must survive a round trip as text.
        let text = serde_json::to_string(&doc).unwrap();
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), doc);
    }

    #[test]
    fn a_grade_without_errors_is_fail_or_pass_with_no_message() {
        let mut grade = sample();
        grade.exercises.pop();
        let doc = to_json(&grade);
        assert_eq!(doc["status"], "fail");
        assert_eq!(doc["message"], Value::Null);
        grade.exercises[0].tests.pop();
        assert_eq!(to_json(&grade)["status"], "pass");
        assert!(grade.passed());
        assert!(!Grade::default().passed());
        assert_eq!(to_json(&Grade::default())["status"], "error");
    }

    /// A small XML checker: every tag is closed in order, every `&` starts an entity,
    /// no control character other than tab and newlines appears.
    fn check_xml(xml: &str) -> Vec<(String, String)> {
        let mut stack: Vec<String> = Vec::new();
        let mut opened = Vec::new();
        let mut rest = xml
            .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
            .unwrap();
        for c in rest.chars() {
            assert!(
                !c.is_control() || "\t\n\r".contains(c),
                "control char {c:?}"
            );
        }
        for (i, _) in rest.match_indices('&') {
            let entity = &rest[i..rest[i..].find(';').map_or(rest.len(), |e| i + e + 1)];
            assert!(
                [
                    "&amp;", "&lt;", "&gt;", "&quot;", "&apos;", "&#10;", "&#13;", "&#9;"
                ]
                .contains(&entity),
                "bad entity {entity:?}"
            );
        }
        while let Some(start) = rest.find('<') {
            let end = start + rest[start..].find('>').unwrap();
            let tag = &rest[start + 1..end];
            assert!(!tag.contains('<'), "unescaped < in {tag:?}");
            if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(stack.pop().as_deref(), Some(name), "closing {name}");
            } else {
                let name = tag.split_whitespace().next().unwrap().trim_end_matches('/');
                opened.push((name.to_string(), tag.to_string()));
                if !tag.ends_with('/') {
                    stack.push(name.to_string());
                }
            }
            rest = &rest[end + 1..];
        }
        assert!(stack.is_empty(), "unclosed: {stack:?}");
        opened
    }

    fn attr<'a>(tag: &'a str, name: &str) -> &'a str {
        let start = tag.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
        let len = tag[start..].find('"').unwrap();
        &tag[start..start + len]
    }

    #[test]
    fn the_junit_xml_is_well_formed_and_its_counts_match() {
        let xml = to_junit(&sample());
        let tags = check_xml(&xml);
        let named = |n: &str| tags.iter().filter(|(t, _)| t == n).collect::<Vec<_>>();
        let suites = named("testsuites");
        assert_eq!(suites.len(), 1);
        let top = &suites[0].1;
        assert_eq!(attr(top, "tests"), "4");
        assert_eq!(attr(top, "failures"), "1");
        assert_eq!(attr(top, "errors"), "1");
        assert_eq!(named("testcase").len(), 4);
        assert_eq!(named("failure").len(), 1);
        assert_eq!(named("error").len(), 1);
        let suite = &named("testsuite")[0].1;
        assert_eq!(attr(suite, "name"), "procs/reap");
        assert_eq!(attr(suite, "tests"), "3");
        assert_eq!(attr(suite, "failures"), "1");
        let failure = &named("failure")[0].1;
        assert_eq!(
            attr(failure, "message"),
            "assertion `left == right` failed: &lt;tag&gt; &amp; &quot;quote&quot; &apos;apos&apos; bell"
        );
        assert!(xml.contains("  left: 1\n right: 2"));
        assert!(!xml.contains('\u{7}'));
        assert!(xml.contains("error[E0308]: mismatched types"));
    }

    #[test]
    fn the_markdown_summary_has_a_row_per_exercise_and_the_failures() {
        let md = to_markdown(&sample());
        assert!(md.starts_with("## Exercises: 6.7 / 25 points"), "{md}");
        assert!(md.contains("| `procs/reap` |"), "{md}");
        assert!(md.contains("| 2/3 | 6.7 / 10 |"), "{md}");
        assert!(md.contains("**`procs/reap`** · `third`"), "{md}");
        assert!(md.contains("did not build"), "{md}");
        assert_eq!(fenced("a ``` b"), "````text\na ``` b\n````");
    }

    #[test]
    fn the_text_report_totals_each_lesson_and_lists_the_failures() {
        let grade = sample();
        let text = report(&grade);
        assert!(text.contains("Lesson 1 · procs"), "{text}");
        let row = |first: &str| -> Vec<&str> {
            let line = text.lines().find(|l| l.trim_start().starts_with(first));
            line.unwrap_or_else(|| panic!("no row {first} in\n{text}"))
                .split_whitespace()
                .collect()
        };
        assert!(row("procs/reap").ends_with(&["2/3", "6.7/10", "FAIL"]));
        assert!(row("procs/capture").ends_with(&["ERROR", "(did", "not", "build)"]));
        assert_eq!(row("total"), ["total", "2/4", "6.7/25"]);
        assert!(text.ends_with("FAILED: 6.7 of 25 points (27%), 2 of 4 graded tests passed."));
        let failures = failures(&grade).unwrap();
        assert!(
            failures.contains("procs/reap · third\n    assertion"),
            "{failures}"
        );
        assert!(
            failures.contains("procs/capture: did not build\n    error[E0308]"),
            "{failures}"
        );
    }

    #[test]
    fn cargo_artifacts_give_the_test_executables() {
        // The bin `procs` as a program (profile.test false) is no test binary; its unit
        // tests are.
        let stdout = r#"{"reason":"compiler-artifact","target":{"kind":["lib"],"name":"procs"},"profile":{"test":false},"executable":null}
{"reason":"compiler-artifact","target":{"kind":["bin"],"name":"procs"},"profile":{"test":false},"executable":"/t/debug/procs"}
{"reason":"compiler-artifact","target":{"kind":["lib"],"name":"procs"},"profile":{"test":true},"executable":"/t/debug/deps/procs-9a"}
{"reason":"compiler-artifact","target":{"kind":["bin"],"name":"tour"},"profile":{"test":true},"executable":"/t/debug/deps/tour-77"}
{"reason":"compiler-artifact","target":{"kind":["test"],"name":"exercise_reap"},"profile":{"test":true},"executable":"/t/debug/deps/exercise_reap-1f2e"}
{"reason":"build-finished","success":true}"#;
        let found = executables(stdout);
        assert_eq!(found.len(), 3, "{found:?}");
        assert_eq!(
            found["exercise_reap"],
            PathBuf::from("/t/debug/deps/exercise_reap-1f2e")
        );
        assert_eq!(found["lib procs"], PathBuf::from("/t/debug/deps/procs-9a"));
        assert_eq!(found["bin tour"], PathBuf::from("/t/debug/deps/tour-77"));
    }

    #[test]
    fn compile_errors_keep_the_errors_and_drop_warnings_and_status_lines() {
        let stderr = "   Compiling procs v0.1.0 (/w/crates/procs)
warning: unused variable: `x`
 --> crates/procs/src/exercises/reap.rs:3:9
  |
3 |     let x = 1;
  |         ^

error[E0308]: mismatched types
 --> crates/procs/src/exercises/reap.rs:5:5
  |
5 |     1
  |     ^ expected `Result`, found integer

error: could not compile `procs` (lib) due to 1 previous error; 1 warning emitted
";
        assert_eq!(
            compile_errors(stderr),
            "error[E0308]: mismatched types
 --> crates/procs/src/exercises/reap.rs:5:5
  |
5 |     1
  |     ^ expected `Result`, found integer

error: could not compile `procs` (lib) due to 1 previous error; 1 warning emitted"
        );
    }

    #[test]
    fn the_tests_of_a_file_that_does_not_compile_are_found_by_name() {
        let source = "use x;\n\n#[test]\nfn first() {}\n\nfn helper() {}\n\n#[test]\n#[should_panic]\npub fn second_one() {}\n";
        assert_eq!(declared_tests(source), ["first", "second_one"]);
    }

    #[test]
    fn a_results_file_with_an_impossible_time_is_read_without_a_panic() {
        let dir = std::env::temp_dir().join(format!("xtask-results-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("grade-last.json");
        // A hand-edited (or damaged) file: a time no clock can hold, next to a good one.
        let entry = |id: &str, at: &str| {
            format!(
                r#"{{"id": "{id}", "status": "pass", "passed": 1, "total": 1, "graded_at": {at}}}"#
            )
        };
        let text = format!(
            r#"{{"exercises": [{}, {}]}}"#,
            entry("procs/far", "1e300"),
            entry("procs/near", "1700000000.5")
        );
        std::fs::write(&path, text).unwrap();
        let found = results_in(&path);
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(!found.contains_key("procs/far"), "{found:?}");
        assert_eq!(
            found["procs/near"].graded_at,
            UNIX_EPOCH + Duration::from_secs_f64(1_700_000_000.5)
        );
    }
}
