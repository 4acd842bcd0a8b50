//! `kit --verify`: proof, in a temporary copy, that the kit is worth handing out.
//!
//! A kit can be wrong in ways nobody notices until a class of students does: a stub that
//! does not compile (every student starts with an error), a solution line left behind,
//! or, the quiet one, a graded test that passes on `todo!()`. Such a test grades
//! nothing: it gives points for an empty exercise. So every claim is checked:
//!
//! 1. the kit is written into a temporary folder, exactly as `kit --out` writes it;
//! 2. no secret solution line and no marker is in it (`leak`), read back from disk;
//! 3. it builds: `cargo check` and `cargo clippy -D warnings`, all targets, so the
//!    stubs are warning-free as a student first sees them;
//! 4. graded on the stubs, every graded test of every exercise fails (an assertion or
//!    the stub's panic), and every exercise has at least one test;
//! 5. graded in the course, on the reference solutions, every one of them passes;
//! 6. every exercise has at least three mutants (plausible wrong solutions, declared in
//!    its registry), and graded with each in place, at least one test fails (`mutants`).
//!
//! The kit is built in its own target directory, `target/kit-verify` in the course: the
//! dependencies are compiled once and reused by every later verification, and the
//! course's own `target/` is not rebuilt around the copy's different paths.
//!
//! The temporary folder is removed at the end, unless the kit itself was found wrong:
//! then it is kept, and its path printed, so the problem can be looked at in place.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use crate::cli::{DEFAULT_TEST_TIMEOUT_SECS, VerifyOptions};
use crate::error::Error;
use crate::format::{duration, tail};
use crate::grade::{self, Grade, Settings};
use crate::progress::{Progress, StepKind};
use crate::registry::{self, Exercise};
use crate::workspace;

use super::files;
use super::leak::{self, Secrets};
use super::mutants::{self, MutantResult};
use super::verdict::{Row, judge, judge_mutants, mutant_counts, problems_text, table};

/// How many lines of a failed build's output to show: a compiler error with context.
const FAILED_OUTPUT_LINES: usize = 40;

/// The kit's target directory: inside the course's `target/`, so `cargo clean` clears
/// it and git ignores it, and persistent, so only the first verification is slow.
pub fn target_dir(root: &Path) -> PathBuf {
    root.join("target").join("kit-verify")
}

/// A temporary folder, removed when dropped unless asked to keep it. Dropping happens
/// on every way out of `run`, early returns and panics included.
#[derive(Debug)]
struct Scratch {
    path: PathBuf,
    keep: bool,
}

impl Scratch {
    fn create() -> std::io::Result<Scratch> {
        // The pid makes it ours: a folder of that name left by a killed run is stale.
        let path = std::env::temp_dir().join(format!("xtask-kit-verify-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path)?;
        Ok(Scratch { path, keep: false })
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// Runs the whole verification (for one exercise when the options name it; of the
/// solutions and mutants alone when they say so); exit 0 only if everything holds.
pub fn run(root: &Path, options: &VerifyOptions) -> ExitCode {
    if options.mutants_only {
        return run_mutants_only(root, options.exercise.as_deref());
    }
    let only = options.exercise.as_deref();
    let mut scratch = match Scratch::create() {
        Ok(scratch) => scratch,
        Err(e) => {
            eprintln!(
                "error: cannot create a temporary folder in {}: {e}",
                std::env::temp_dir().display()
            );
            return ExitCode::FAILURE;
        }
    };
    let kit = scratch.path.join("kit");
    let target = target_dir(root);
    let mut steps = Steps {
        progress: Progress::new(),
        kit_problems: Vec::new(),
        isolation_line: None,
    };
    let Some(written) = steps.write(root, &kit) else {
        println!("\nkit --verify: FAILED");
        return ExitCode::FAILURE;
    };
    let selected: Vec<Exercise> = match only {
        None => written.exercises.clone(),
        Some(id) => match registry::find(&written.exercises, id) {
            Ok(exercise) => vec![exercise.clone()],
            Err(e) => {
                eprintln!("error: {e}");
                return crate::cli::Exit::Usage.into();
            }
        },
    };
    steps.leaks(&kit, &written.secrets);
    let builds = steps.builds(&kit, &target);
    if let (true, None, Some(first)) = (builds, only, written.exercises.first()) {
        steps.classroom_build_is_reused(&kit, &target, first);
    }
    let stub_grade = if builds {
        let grade = steps.grade_stubs(&kit, &written.exercises, &selected, &target);
        // Only for the whole kit: one exercise's isolation says nothing of the others.
        if only.is_none() {
            steps.isolation(&kit, &written.exercises, &target);
        }
        grade
    } else {
        let scope = "kit · grade stubs";
        steps
            .progress
            .line(scope, "skipped: the kit does not build");
        None
    };
    let course_grade = steps.grade_course(root, &selected);
    let mut rows = judge(&selected, stub_grade.as_ref(), &course_grade);
    // Mutants only where the solution passes: a mutant is judged against tests that
    // can tell right from wrong, and a failing solution says they cannot yet.
    let sound: Vec<Exercise> = selected
        .iter()
        .filter(|e| {
            rows.iter()
                .any(|r| r.id == e.id && r.solution_defects.is_empty())
        })
        .cloned()
        .collect();
    let graded = steps.mutants(root, &sound);
    judge_mutants(&mut rows, &selected, graded.as_deref());

    println!("\n{}", table(&rows));
    let problems = problems_text(&rows, &steps.kit_problems);
    if !problems.is_empty() {
        println!("\n{problems}");
    }
    let kit_wrong =
        !steps.kit_problems.is_empty() || rows.iter().any(|r| !r.stub_defects.is_empty());
    if kit_wrong {
        // The kit is what needs looking at: keep it. A failure of the course alone
        // (a test failing on a solution) is looked at in the course.
        scratch.keep = true;
        println!(
            "\nThe kit is kept for you to look at: {}\n  \
             (its builds use CARGO_TARGET_DIR={}; remove it with `rm -rf {}`)",
            kit.display(),
            target.display(),
            scratch.path.display()
        );
    }
    let elapsed = duration(steps.progress.elapsed());
    if !kit_wrong && rows.iter().all(Row::ok) {
        let tests: usize = rows.iter().map(|r| r.passing_on_solution.1).sum();
        let (_, mutants) = mutant_counts(&rows);
        println!("\nmutants: {mutants} of {mutants} rejected");
        if let Some(line) = &steps.isolation_line {
            println!("{line}");
        }
        println!(
            "\nkit --verify: ok: {} exercises, {tests} graded tests, each failing on the stub \
             and passing on the solution, {mutants} mutants each rejected; the kit builds \
             clean and leaks no solution ({elapsed})",
            rows.len()
        );
        ExitCode::SUCCESS
    } else {
        let (rejected, declared) = mutant_counts(&rows);
        println!("\nmutants: {rejected} of {declared} rejected");
        println!("\nkit --verify: FAILED ({elapsed})");
        ExitCode::FAILURE
    }
}

/// `--mutants-only`: the reference solutions, then the mutants, without a kit.
fn run_mutants_only(root: &Path, only: Option<&str>) -> ExitCode {
    let all = match registry::load(root) {
        Ok(all) => all,
        Err(problems) => {
            for problem in problems {
                eprintln!("error: {problem}");
            }
            return ExitCode::FAILURE;
        }
    };
    let selected = match only {
        None => all,
        Some(id) => match registry::find(&all, id) {
            Ok(exercise) => vec![exercise.clone()],
            Err(e) => {
                eprintln!("error: {e}");
                return crate::cli::Exit::Usage.into();
            }
        },
    };
    let mut steps = Steps {
        progress: Progress::new(),
        kit_problems: Vec::new(),
        isolation_line: None,
    };
    let course_grade = steps.grade_course(root, &selected);
    let mut rows = judge(&selected, None, &course_grade);
    let sound: Vec<Exercise> = selected
        .iter()
        .filter(|e| {
            rows.iter()
                .any(|r| r.id == e.id && r.solution_defects.is_empty())
        })
        .cloned()
        .collect();
    let graded = steps.mutants(root, &sound);
    judge_mutants(&mut rows, &selected, graded.as_deref());
    println!("\n{}", table(&rows));
    let problems = problems_text(&rows, &steps.kit_problems);
    if !problems.is_empty() {
        println!("\n{problems}");
    }
    let (rejected, declared) = mutant_counts(&rows);
    println!("\nmutants: {rejected} of {declared} rejected");
    if steps.kit_problems.is_empty() && rows.iter().all(Row::ok) {
        println!("\nkit --verify --mutants-only: ok (the kit itself was not built)");
        ExitCode::SUCCESS
    } else {
        println!("\nkit --verify --mutants-only: FAILED");
        ExitCode::FAILURE
    }
}

/// The steps, sharing the progress lines and the list of what is wrong with the kit as
/// a whole (leaks, builds); what is wrong with one exercise goes into its `Row`.
#[derive(Debug)]
struct Steps {
    progress: Progress,
    kit_problems: Vec<String>,
    /// `isolation: N of N exercises break alone`, once proved.
    isolation_line: Option<String>,
}

impl Steps {
    /// 1. Writes the kit exactly as `kit --out` does; `None` (reasons printed) if it
    ///    cannot be written, which leaves nothing else to verify.
    fn write(&mut self, root: &Path, kit: &Path) -> Option<super::Written> {
        let scope = "kit · write";
        self.progress
            .line(scope, &format!("writing the kit into {}", kit.display()));
        let started = Instant::now();
        match super::write_kit(root, kit) {
            Ok(written) => {
                let text = format!(
                    "{} files, {} exercises stubbed ({})",
                    written.files,
                    written.exercises.len(),
                    took(started)
                );
                self.progress.line(scope, &text);
                Some(written)
            }
            Err(problems) => {
                self.progress
                    .line(scope, "FAILED: the kit cannot be written");
                println!("\nThe kit cannot be written:");
                for problem in &problems {
                    println!("  {problem}");
                }
                None
            }
        }
    }

    /// 2. Searches the kit, as it is on disk, for secret lines and markers.
    fn leaks(&mut self, kit: &Path, secrets: &Secrets) {
        let scope = "kit · leaks";
        let started = Instant::now();
        match leaks_on_disk(kit, secrets) {
            Ok((leaks, searched)) if leaks.is_empty() => {
                let text = format!(
                    "none: {} secret solution lines searched for in {searched} files ({})",
                    secrets.count(),
                    took(started)
                );
                self.progress.line(scope, &text);
            }
            Ok((leaks, _)) => {
                self.progress
                    .line(scope, &format!("FAILED: {} leak(s)", leaks.len()));
                self.kit_problems
                    .extend(leaks.iter().map(|l| format!("leak: {l}")));
            }
            Err(e) => {
                self.progress
                    .line(scope, "FAILED: cannot read the kit back");
                self.kit_problems.push(e.to_string());
            }
        }
    }

    /// 3. `cargo check` and `cargo clippy -D warnings` in the kit. True when it
    ///    compiles (clippy's warnings are defects, but leave something to grade).
    fn builds(&mut self, kit: &Path, target: &Path) -> bool {
        let check = ["check", "--workspace", "--all-targets"];
        let clippy = [
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ];
        let compiles = self.cargo("kit · check", kit, target, &check);
        if compiles {
            self.cargo("kit · clippy", kit, target, &clippy);
        }
        compiles
    }

    /// Runs one cargo command in the kit, showing its progress; a failure becomes a
    /// kit problem with the end of cargo's output.
    fn cargo(&mut self, scope: &str, kit: &Path, target: &Path, args: &[&str]) -> bool {
        match cargo_step(&mut self.progress, scope, kit, target, args) {
            Ok(()) => true,
            Err(problem) => {
                self.kit_problems.push(problem.to_string());
                false
            }
        }
    }

    /// 3b. The Classroom workflow's one build, then one exercise's step as the workflow
    ///     runs it: the step must compile nothing (no `Compiling` in its output), so
    ///     that every step reuses the one build.
    fn classroom_build_is_reused(&mut self, kit: &Path, target: &Path, first: &Exercise) {
        let scope = "kit · classroom";
        if !self.cargo(scope, kit, target, &super::classroom::BUILD_ARGS) {
            return;
        }
        let args = super::classroom::step_args(first);
        let shown = format!("cargo {}", args.join(" "));
        self.progress.line(scope, &shown);
        let mut command = Command::new(workspace::cargo());
        command
            .args(args)
            .current_dir(kit)
            .env("CARGO_TARGET_DIR", target);
        // The step fails (a stub's tests fail): only what it compiled matters here.
        let out = match crate::run::stream(&mut self.progress, scope, StepKind::Test, &mut command)
        {
            Ok(out) => out,
            Err(e) => {
                self.kit_problems
                    .push(format!("`{shown}` could not start: {e}"));
                return;
            }
        };
        let compiled: Vec<&str> = out
            .combined
            .iter()
            .map(String::as_str)
            .filter(|l| l.contains("Compiling "))
            .collect();
        if compiled.is_empty() {
            self.progress.line(
                scope,
                "ok: after the workflow's build, an exercise's step compiles nothing",
            );
        } else {
            self.progress.line(scope, "FAILED: the step compiled again");
            self.kit_problems.push(format!(
                "after `cargo {}`, the Classroom step `{shown}` compiled again:\n{}",
                super::classroom::BUILD_ARGS.join(" "),
                compiled.join("\n")
            ));
        }
    }

    /// 4. Grades the kit with its own registry, in the kit's target directory: the
    ///    `selected` exercises of the `course`'s.
    fn grade_stubs(
        &mut self,
        kit: &Path,
        course: &[Exercise],
        selected: &[Exercise],
        target: &Path,
    ) -> Option<Grade> {
        let scope = "kit · grade stubs";
        let kit_exercises = match registry::load(kit) {
            Ok(list) => list,
            Err(problems) => {
                let problems = problems.iter();
                self.kit_problems
                    .extend(problems.map(|p| format!("the kit's exercise registry: {p}")));
                return None;
            }
        };
        if let Some(problem) = different_exercises(course, &kit_exercises) {
            self.kit_problems.push(problem);
        }
        let kit_exercises: Vec<Exercise> = kit_exercises
            .into_iter()
            .filter(|e| selected.iter().any(|s| s.id == e.id))
            .collect();
        let text = format!(
            "grading {} exercises on the stubs (every test should fail; the table below says \
             whether they did)",
            kit_exercises.len()
        );
        self.progress.line(scope, &text);
        let started = Instant::now();
        // Quiet: a line per test saying FAILED would read like a broken kit in a CI log,
        // when failing is exactly what a stub's tests must do.
        let quiet = Settings {
            progress: false,
            lean_build: true,
            ..settings(Some(target.to_path_buf()))
        };
        let grade = grade::grade(kit, &kit_exercises, &quiet);
        self.progress
            .line(scope, &format!("done ({})", took(started)));
        Some(grade)
    }

    /// 4b. Proves that each exercise breaks alone: for every exercise in turn, a compile
    ///     error is planted in the kit's copy of its file and every exercise's package
    ///     is built; only that exercise's may fail. The file is put back after each.
    ///     Then [`Steps::isolation_cold`].
    fn isolation(&mut self, kit: &Path, exercises: &[Exercise], target: &Path) {
        let scope = "kit · isolation";
        let quiet = Settings {
            progress: false,
            lean_build: true,
            ..settings(Some(target.to_path_buf()))
        };
        let packages: Vec<String> = exercises.iter().map(Exercise::package).collect();
        let started = Instant::now();
        let mut alone = 0;
        for exercise in exercises {
            let file = kit.join(&exercise.file);
            let Ok(original) = std::fs::read_to_string(&file) else {
                self.kit_problems
                    .push(format!("isolation: cannot read {}", file.display()));
                continue;
            };
            // A type error, as a student makes them, in this exercise's file only.
            let planted =
                format!("{original}\nconst _PLANTED_BY_KIT_VERIFY: u8 = \"not a number\";\n");
            if let Err(e) = std::fs::write(&file, planted) {
                self.kit_problems
                    .push(format!("isolation: cannot write {}: {e}", file.display()));
                continue;
            }
            let built = grade::build(kit, "kit", &packages, None, &quiet, &mut grade::Say(None));
            let restored = std::fs::write(&file, &original);
            let failed: Vec<String> = match built {
                Ok(built) => built.failed.into_keys().collect(),
                Err(e) => vec![format!("(the whole build: {e})")],
            };
            if failed == [exercise.package()] {
                alone += 1;
            } else {
                self.kit_problems.push(format!(
                    "isolation: a compile error planted in {} broke {} (only {} may fail)",
                    exercise.id,
                    if failed.is_empty() {
                        "nothing, not even itself".to_string()
                    } else {
                        failed.join(", ")
                    },
                    exercise.package()
                ));
            }
            if let Err(e) = restored {
                self.kit_problems.push(format!(
                    "isolation: cannot put back {}: {e}",
                    file.display()
                ));
                return;
            }
        }
        let cold = self.isolation_cold(kit, exercises, &packages, &quiet);
        let text = format!(
            "isolation: {alone} of {} exercises break alone{cold} ({})",
            exercises.len(),
            took(started)
        );
        self.progress.line(scope, &text);
        self.isolation_line = Some(text);
    }

    /// The same promise when nothing is built yet, as after `cargo clean` or in a fresh
    /// clone: every exercise but the last gets a compile error, the last one a change
    /// that needs compiling, and all are built in one cargo run with one job, so that
    /// the broken ones are met first. The last must still be built (a build that stops
    /// starting crates at the first error, as `cargo test --no-run` does, would zero
    /// every exercise after it). Returns the words for the report line, `""` if it failed
    /// (the problem is in the kit's problems).
    fn isolation_cold(
        &mut self,
        kit: &Path,
        exercises: &[Exercise],
        packages: &[String],
        settings: &Settings,
    ) -> &'static str {
        let Some((last, broken)) = exercises.split_last() else {
            return "";
        };
        let mut originals = Vec::new();
        let mut written = true;
        for (exercise, addition) in broken
            .iter()
            .map(|e| {
                (
                    e,
                    "\nconst _PLANTED_BY_KIT_VERIFY: u8 = \"not a number\";\n",
                )
            })
            .chain([(last, "\n// Changed by kit --verify: compiled again.\n")])
        {
            let file = kit.join(&exercise.file);
            match std::fs::read_to_string(&file) {
                Ok(original) => {
                    written &= std::fs::write(&file, format!("{original}{addition}")).is_ok();
                    originals.push((file, original));
                }
                Err(_) => written = false,
            }
        }
        let one_job = Settings {
            one_job: true,
            ..settings.clone()
        };
        let built = written
            .then(|| grade::build(kit, "kit", packages, None, &one_job, &mut grade::Say(None)));
        for (file, original) in &originals {
            if std::fs::write(file, original).is_err() {
                written = false;
            }
        }
        let (failed, last_built): (Vec<String>, bool) = match built {
            Some(Ok(built)) => (
                built.failed.into_keys().collect(),
                built.bins.contains_key(&last.test),
            ),
            Some(Err(e)) => (vec![format!("(the whole build: {e})")], false),
            None => (Vec::new(), false),
        };
        let expected: Vec<String> = {
            let mut names: Vec<String> = broken.iter().map(Exercise::package).collect();
            names.sort();
            names
        };
        if !written {
            self.kit_problems
                .push("isolation: cannot plant or put back the cold round's errors".to_string());
            ""
        } else if failed != expected || !last_built {
            self.kit_problems.push(format!(
                "isolation: with nothing built yet and every other exercise broken, {} was \
                 not graded on its own (failed: {})",
                last.id,
                failed.join(", ")
            ));
            ""
        } else {
            ", even from a cold build"
        }
    }

    /// 5. Grades the course itself, on its reference solutions.
    fn grade_course(&mut self, root: &Path, exercises: &[Exercise]) -> Grade {
        let scope = "course · grade solutions";
        let text = format!(
            "grading {} exercises on the reference solutions",
            exercises.len()
        );
        self.progress.line(scope, &text);
        let started = Instant::now();
        let grade = grade::grade(root, exercises, &settings(None));
        self.progress
            .line(scope, &format!("done ({})", took(started)));
        grade
    }
}

impl Steps {
    /// 6. Grades every mutant of `exercises` in a copy of the course; `None` when the
    ///    copy could not be made (said in the kit's problems).
    fn mutants(&mut self, root: &Path, exercises: &[Exercise]) -> Option<Vec<MutantResult>> {
        let declared: usize = exercises.iter().map(|e| e.mutants.len()).sum();
        let scope = "mutants";
        self.progress.line(
            scope,
            &format!(
                "grading {declared} mutants of {} exercises (each must fail a graded test)",
                exercises.len()
            ),
        );
        let started = Instant::now();
        match mutants::verify(root, exercises, &settings(None), &mut self.progress) {
            Ok(results) => {
                self.progress
                    .line(scope, &format!("done ({})", took(started)));
                Some(results)
            }
            Err(e) => {
                self.progress
                    .line(scope, "FAILED: the mutants were not graded");
                self.kit_problems
                    .push(format!("the mutants could not be graded: {e}"));
                None
            }
        }
    }
}

fn settings(target_dir: Option<PathBuf>) -> Settings {
    Settings {
        fail_fast: false,
        lean_build: false,
        one_job: false,
        timeout: Duration::from_secs(DEFAULT_TEST_TIMEOUT_SECS),
        target_dir,
        progress: true,
    }
}

fn took(started: Instant) -> String {
    duration(started.elapsed().as_secs_f64())
}

/// Searches the kit as written: the leaks, and how many files were searched.
fn leaks_on_disk(kit: &Path, secrets: &Secrets) -> Result<(Vec<leak::Leak>, usize), Error> {
    let paths = files::walk(kit)?;
    let mut leaks = Vec::new();
    for path in &paths {
        let bytes = std::fs::read(kit.join(path)).map_err(|e| Error::Read {
            path: path.clone(),
            source: e,
        })?;
        leaks.extend(leak::find(secrets, [(path.as_path(), bytes.as_slice())]));
    }
    Ok((leaks, paths.len()))
}

/// The kit's registry must declare the course's exercises: the kit is graded by it.
fn different_exercises(course: &[Exercise], kit: &[Exercise]) -> Option<String> {
    let ids = |list: &[Exercise]| list.iter().map(|e| e.id.clone()).collect::<Vec<_>>();
    (ids(course) != ids(kit)).then(|| {
        format!(
            "the kit declares exercises {:?}, the course {:?}",
            ids(kit),
            ids(course)
        )
    })
}

/// Runs one cargo command in the kit with its own target directory, showing progress;
/// `Err` with the end of its output when it fails.
fn cargo_step(
    progress: &mut Progress,
    scope: &str,
    kit: &Path,
    target: &Path,
    args: &[&str],
) -> Result<(), Error> {
    let shown = format!("cargo {}", args.join(" "));
    progress.line(scope, &shown);
    let mut command = Command::new(workspace::cargo());
    command
        .args(args)
        .current_dir(kit)
        .env("CARGO_TARGET_DIR", target);
    let out = crate::run::stream(progress, scope, StepKind::Test, &mut command)
        .map_err(Error::spawn(shown.to_string()))?;
    if out.success() {
        progress.line(scope, &format!("ok ({})", duration(out.seconds)));
        Ok(())
    } else {
        progress.line(scope, &format!("FAILED ({})", duration(out.seconds)));
        Err(Error::answer(
            shown.to_string(),
            format!(
                "it failed in the kit ({}); the end of its output:\n{}",
                out.status_text(),
                tail(&out.combined.join("\n"), FAILED_OUTPUT_LINES)
            ),
        ))
    }
}
