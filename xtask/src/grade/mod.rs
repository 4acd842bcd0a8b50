//! `cargo xtask grade`: runs the graded tests and scores the exercises.
//!
//! Grading happens in three steps, each chosen so that one broken exercise costs only
//! its own points and never stops the grader:
//!
//! 1. **Build** each lesson's graded test targets once, in one
//!    `cargo build --tests --keep-going --message-format=json` over the lesson's exercise
//!    packages (the same binaries `cargo test` would build): on stdout, one JSON message
//!    per artifact, from which we read where each test binary is, and the compiler's
//!    errors, by package. `--keep-going` builds every package that compiles, so an
//!    exercise that does not compile is marked as an error with the compiler's message,
//!    and every other one is graded.
//! 2. **List** each binary's tests (`--list --format terse`).
//! 3. **Run** each test alone, as its own process with a deadline (`test_process`),
//!    several at once. Points are shared out by test: an exercise worth 10 points with
//!    4 of 5 tests passing earns 8.
//!
//! The result (`Grade`) is then shown as a table per lesson and a list of failures, and
//! written for machines: Exercism's `results.json` (v3) shape, which GitHub Classroom
//! and other autograders read, JUnit XML, which CI systems show as test reports, and a
//! Markdown summary for a GitHub Actions run page. The results are also kept in the
//! learner's `progress.toml`, so `cargo xtask list` can tell which exercises are done.
//!
//! One job a file: `build` (step 1), this file (steps 2 and 3, and the points), `text`
//! (the report for people), `exercism`, `junit` and `markdown` (for machines), and
//! `history` (the progress file).

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

use crate::child::{self, Seen};
use crate::cli::{GradeFormat, GradeOptions};
use crate::format::{Row, render_table};
use crate::format::{duration, width};
use crate::lessons::Lesson;
use crate::progress::{LineFilter, Progress, StepKind, Stream};
use crate::registry::{self, Exercise};
use crate::test_process;
use crate::workspace;

mod build;
mod exercism;
mod history;
mod junit;
mod markdown;
mod text;

pub use crate::progress::Say;
pub use crate::test_process::{Status, TestOutcome};
pub use build::*;
pub use exercism::*;
pub use history::*;
pub use junit::*;
pub use markdown::*;
pub use text::*;

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
    /// Build with one job (`-j1`): `kit --verify`'s proof that a package which does not
    /// compile leaves the others built, whatever order cargo takes them in.
    pub one_job: bool,
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

/// One test to run: which exercise and which of its tests, and how to start it.
#[derive(Debug)]
struct GradedTest {
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
        // Each exercise is a package of its own: built together, in one cargo run that
        // goes on past one that does not compile, so a mistake costs its own points only.
        let mut packages: Vec<String> = Vec::new();
        for &i in &members {
            let package = exercises[i].package();
            if !packages.contains(&package) {
                packages.push(package);
            }
        }
        match build(root, lesson.name, &packages, None, settings, &mut say) {
            Err(message) => {
                let why = format!("lesson `{}` did not compile", lesson.name);
                for &i in &members {
                    results[i].error = Some(message.to_string());
                    results[i].tests = not_run(root, &exercises[i], &why);
                }
            }
            Ok(built) => {
                let mut listed: HashMap<&str, Result<Vec<String>, crate::error::Error>> =
                    HashMap::new();
                for &i in &members {
                    let target = exercises[i].test.as_str();
                    let package = exercises[i].package();
                    // As `cargo test -p <exercise>` runs them: in the exercise's folder.
                    let cwd = root.join(exercises[i].dir());
                    if let Some(errors) = built.failed.get(&package) {
                        let why = format!("`{}` did not compile", exercises[i].id);
                        results[i].tests = not_run(root, &exercises[i], &why);
                        results[i].error = Some(errors.clone());
                        continue;
                    }
                    let Some(bin) = built.bins.get(target) else {
                        // Its package compiled, so something it depends on did not.
                        let others: Vec<&str> = built.failed.values().map(String::as_str).collect();
                        let why = format!(
                            "cargo built no test binary for `{target}`: a package it depends \
                             on did not compile"
                        );
                        results[i].tests = not_run(root, &exercises[i], &why);
                        results[i].error = Some(format!("{why}\n{}", others.join("\n")));
                        continue;
                    };
                    let names = listed
                        .entry(target)
                        .or_insert_with(|| test_process::list(bin, &cwd, settings.timeout));
                    match names {
                        Ok(names) if !names.is_empty() => {
                            let names =
                                in_file_order(names.clone(), &source_of(root, &exercises[i]));
                            for (k, name) in names.iter().enumerate() {
                                results[i].tests.push(placeholder(name));
                                jobs.push(GradedTest {
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
                            let why = e.to_string();
                            results[i].tests = not_run(root, &exercises[i], &why);
                            results[i].error = Some(why);
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
        r.points = earned(
            r.exercise.points,
            r.passed() as u64,
            r.total() as u64,
            r.error.is_none(),
        );
    }
    Grade { exercises: results }
}

/// Runs every job, up to one per CPU at once. Each test is its own process, so running
/// them side by side cannot make them interfere (not even tests that reap any child).
fn run_jobs<'a>(
    jobs: &'a [GradedTest],
    settings: &Settings,
    say: &mut Say<'_>,
) -> Vec<(&'a GradedTest, TestOutcome)> {
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

/// The graded test file of `exercise`, or nothing if it cannot be read.
pub(crate) fn source_of(root: &Path, exercise: &Exercise) -> String {
    std::fs::read_to_string(root.join(exercise.test_file())).unwrap_or_default()
}

/// `names` (as the test binary lists them: sorted by name) in the order the tests are
/// written in `source`, which is the order a reader of the file expects, and the one
/// Exercism's results.json asks for. A name not found in the file goes last.
fn in_file_order(mut names: Vec<String>, source: &str) -> Vec<String> {
    let written = declared_tests(source);
    names.sort_by_key(|n| written.iter().position(|w| w == n).unwrap_or(usize::MAX));
    names
}

/// The body of each `#[test]` function of `source`, by name: the text between its
/// braces, dedented. Braces inside string and character literals are skipped; a body
/// that cannot be delimited is left out.
pub(crate) fn test_bodies(source: &str) -> HashMap<String, String> {
    let mut bodies = HashMap::new();
    for name in declared_tests(source) {
        let Some(at) = source.find(&format!("fn {name}(")) else {
            continue;
        };
        let Some(open) = source[at..].find('{').map(|o| at + o) else {
            continue;
        };
        if let Some(close) = matching_brace(source, open) {
            bodies.insert(name, dedent(source[open + 1..close].trim_matches('\n')));
        }
    }
    bodies
}

/// The index of the `}` that closes the `{` at `open`, skipping literals.
fn matching_brace(source: &str, open: usize) -> Option<usize> {
    let bytes = source.as_bytes();
    let (mut depth, mut i) = (0usize, open);
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                // To the closing quote, past escaped ones.
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'\'' if bytes.get(i + 2) == Some(&b'\'') => i += 2, // '{' or '}'
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Removes the indentation all non-empty lines share.
fn dedent(text: &str) -> String {
    let indent = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    text.lines()
        .map(|l| l.get(indent..).unwrap_or(l.trim_start()))
        .collect::<Vec<_>>()
        .join("\n")
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

/// Why the options choose no exercise to grade.
#[derive(Debug, thiserror::Error)]
enum SelectError {
    #[error(transparent)]
    Unknown(#[from] registry::UnknownExercise),
    #[error("exercise `{id}` belongs to lesson `{belongs}`, not `{asked}`")]
    OtherLesson {
        id: String,
        belongs: &'static str,
        asked: &'static str,
    },
    #[error("lesson {number} `{name}` is not written yet: it has no exercises")]
    Unwritten { number: u32, name: &'static str },
    #[error("the course has no exercises yet")]
    None,
}

/// `grade --build-only`: each lesson's graded test targets built with the very command
/// grading runs, so that grading them later (one exercise, or all) compiles nothing.
/// Exit 0 when every lesson built; 1 otherwise (each failure is printed, and the lessons
/// after it are still built).
fn build_only(root: &Path, exercises: &[Exercise]) -> ExitCode {
    let settings = Settings {
        fail_fast: false,
        lean_build: false,
        one_job: false,
        timeout: Duration::from_secs(crate::cli::DEFAULT_TEST_TIMEOUT_SECS),
        target_dir: None,
        progress: true,
    };
    let mut progress = Progress::new();
    let mut say = Say(Some(&mut progress));
    let mut failed = 0;
    for lesson in crate::lessons::LESSONS.iter() {
        let packages: Vec<String> = exercises
            .iter()
            .filter(|e| e.lesson == lesson)
            .map(Exercise::package)
            .collect();
        if packages.is_empty() {
            continue;
        }
        match build(root, lesson.name, &packages, None, &settings, &mut say) {
            Err(e) => {
                eprintln!("error: lesson `{}` did not build:\n{e}", lesson.name);
                failed += 1;
            }
            Ok(built) => {
                for (package, errors) in &built.failed {
                    eprintln!("error: `{package}` did not build:\n{errors}");
                    failed += 1;
                }
            }
        }
    }
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Which exercises the options ask for, or why none can be graded.
fn select(
    all: &[Exercise],
    options: &GradeOptions,
    root: &Path,
) -> Result<Vec<Exercise>, SelectError> {
    if let Some(id) = &options.exercise {
        let exercise = registry::find(all, id)?;
        if let Some(lesson) = options.lesson.filter(|l| *l != exercise.lesson) {
            return Err(SelectError::OtherLesson {
                id: id.clone(),
                belongs: exercise.lesson.name,
                asked: lesson.name,
            });
        }
        return Ok(vec![exercise.clone()]);
    }
    if let Some(lesson) = options.lesson {
        if !lesson.is_written(root) {
            return Err(SelectError::Unwritten {
                number: lesson.number,
                name: lesson.name,
            });
        }
        return Ok(all.iter().filter(|e| e.lesson == lesson).cloned().collect());
    }
    if all.is_empty() {
        return Err(SelectError::None);
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
            return crate::cli::Exit::Usage.into();
        }
    };
    if options.build_only {
        return build_only(&root, &chosen);
    }
    let exercism = options.format == GradeFormat::Exercism;
    if exercism && chosen.iter().any(|e| e.lesson != chosen[0].lesson) {
        eprintln!(
            "error: --format exercism grades one lesson (Exercism's exercise, whose tasks \
             are the lesson's exercises): add --lesson NAME or --exercise ID"
        );
        return crate::cli::Exit::Usage.into();
    }
    let settings = Settings {
        fail_fast: false,
        lean_build: false,
        one_job: false,
        timeout: Duration::from_secs(options.timeout_secs),
        target_dir: None,
        progress: true,
    };
    let sources = fingerprints(&root, &chosen);
    let grade = grade(&root, &chosen, &settings);

    // The table is for a person: on stdout, unless stdout carries results.json.
    let table = format!("\n{}", report(&grade));
    let failures = failures(&grade).map(|f| format!("\n{f}"));
    for text in std::iter::once(table).chain(failures) {
        if exercism {
            eprintln!("{text}");
        } else {
            println!("{text}");
        }
    }
    let mut ok = grade.passed();
    if exercism {
        match exercism_text(&grade) {
            Ok(text) => print!("{text}"),
            Err(e) => {
                eprintln!("error: cannot write the results as JSON: {e}");
                return ExitCode::FAILURE;
            }
        }
        // Exercism's runners exit with 0 whenever results.json was written, whatever
        // the tests did: the file says how they did.
        ok = true;
    }
    let mut write = |what: &str, path: &Path, text: std::io::Result<String>| match text
        .and_then(|text| std::fs::write(path, text))
    {
        Ok(()) => eprintln!("{what} written to {}", path.display()),
        Err(e) => {
            // Whoever asked for the file depends on it: not writing it is a failure.
            eprintln!("error: cannot write {what} to {}: {e}", path.display());
            ok = false;
        }
    };
    if let Some(path) = &options.json {
        let text = json_text(&grade).map_err(std::io::Error::other);
        write("results (JSON)", path, text);
    }
    if let Some(path) = &options.junit {
        write("results (JUnit XML)", path, Ok(to_junit(&grade)));
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
    // The grade itself is what was asked for: failing to keep it in the progress file
    // is worth a warning that says what to do, not a failed grade.
    if let Err(e) = remember(&root, &grade, &sources) {
        eprintln!("warning: your progress was not kept: {e}");
    }
    // Everything graded passed: say where to go on (on stderr with --format exercism,
    // whose stdout is the JSON alone).
    if grade.passed() {
        let graded = grade.exercises.last().map(|e| e.exercise.id.as_str());
        let line = next_line(&root, &all, graded);
        if exercism {
            eprintln!("\n{line}");
        } else {
            println!("\n{line}");
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests;
