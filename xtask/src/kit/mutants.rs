//! Mutants: the wrong solutions a class would hand in, graded to prove the tests catch them.
//!
//! A graded test that passes on `todo!()` grades nothing; `verify` catches that. A test
//! that passes on a solution that is *almost* right is the quieter defect: an off-by-one
//! at a limit, a zombie left on an error path, a loop that spins instead of waiting. Each
//! exercise therefore declares mutants (`[[exercise.mutant]]` in its registry): files that
//! replace one solution region with a plausible wrong one, each with a line saying what is
//! wrong. This module puts each mutant in place, in a copy of the course, grades that
//! exercise as a student's work would be graded, and requires the grade to fall short.
//!
//! The copy lives in `target/kit-verify-mutants/<all or a lesson>/course` and builds into
//! its own target directory beside it. Only files that changed are rewritten, so a second verification
//! rebuilds only what the mutants touch.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::error::Error;
use crate::format::duration;
use crate::grade::{self, Settings, Status};
use crate::markers;
use crate::progress::Progress;
use crate::registry::{Exercise, Mutant};

use super::files;

/// Every exercise needs at least this many mutants: one wrong solution proves little
/// about a test suite, three of different kinds begin to.
pub const MIN_MUTANTS: usize = 3;

/// What grading one mutant showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// At least one graded test failed: these tests (the ones that ran before the rest
    /// were skipped), and the first one's failure message, as a student would read it.
    Rejected { by: Vec<String>, message: String },
    /// Every graded test passed: the tests cannot tell this wrong solution from a right one.
    Survived,
    /// The mutant could not be graded (does not compile, its file is missing): a mutant
    /// must be a plausible solution, and a student's code compiles before it is graded.
    Broken(String),
}

/// One mutant's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MutantResult {
    pub exercise: String,
    pub name: String,
    pub wrong: String,
    pub outcome: Outcome,
}

/// Where the copy of the course and its builds live. A run for one lesson's exercises
/// has a copy of its own, so runs for different lessons can go on side by side.
pub fn home(root: &Path, exercises: &[Exercise]) -> PathBuf {
    let base = root.join("target").join("kit-verify-mutants");
    match exercises {
        [one, rest @ ..] if rest.iter().all(|e| e.lesson == one.lesson) => {
            base.join(one.lesson.name)
        }
        _ => base.join("all"),
    }
}

/// Grades every mutant of `exercises` in a copy of the course at `root`. `Err` when the
/// copy cannot be made.
pub fn verify(
    root: &Path,
    exercises: &[Exercise],
    settings: &Settings,
    progress: &mut Progress,
) -> Result<Vec<MutantResult>, Error> {
    let home = home(root, exercises);
    let course = home.join("course");
    let scope = "mutants · copy";
    let started = Instant::now();
    let copied = mirror(root, &course)?;
    progress.line(
        scope,
        &format!(
            "the course in {} ({copied} files rewritten, {})",
            course.display(),
            duration(started.elapsed().as_secs_f64())
        ),
    );
    let settings = Settings {
        target_dir: Some(home.join("target")),
        progress: false,
        fail_fast: true,
        lean_build: true,
        ..settings.clone()
    };
    let total: usize = exercises.iter().map(|e| e.mutants.len()).sum();
    let mut results = Vec::new();
    for exercise in exercises {
        let file = course.join(&exercise.file);
        let original = std::fs::read_to_string(&file).map_err(Error::read(&file))?;
        for mutant in &exercise.mutants {
            let scope = format!("mutants · {}", exercise.id);
            let n = results.len() + 1;
            progress.line(&scope, &format!("[{n}/{total}] {}", mutant.name()));
            let started = Instant::now();
            let outcome = grade_one(root, &course, exercise, mutant, &original, &settings);
            // Whatever happened, the next mutant starts from the reference solution.
            std::fs::write(&file, &original).map_err(|e| Error::Write {
                path: file.clone(),
                source: e,
            })?;
            let took = duration(started.elapsed().as_secs_f64());
            let said = match &outcome {
                Outcome::Rejected { by, .. } => {
                    format!("rejected by {} ({took})", by.join(", "))
                }
                Outcome::Survived => format!("SURVIVED: every graded test passed ({took})"),
                Outcome::Broken(why) => format!("BROKEN: {} ({took})", first_line(why)),
            };
            progress.line(&scope, &format!("{} · {said}", mutant.name()));
            // One exercise's run is the one an author reads to check that each wrong
            // solution gets a failure that names its input, rule and result: show it.
            if let (Outcome::Rejected { message, .. }, [_]) = (&outcome, exercises) {
                for line in message.lines() {
                    progress.line(&scope, &format!("    {line}"));
                }
            }
            results.push(MutantResult {
                exercise: exercise.id.clone(),
                name: mutant.name(),
                wrong: mutant.wrong.clone(),
                outcome,
            });
        }
    }
    Ok(results)
}

/// Puts one mutant in place in the copy and grades its exercise.
fn grade_one(
    root: &Path,
    course: &Path,
    exercise: &Exercise,
    mutant: &Mutant,
    original: &str,
    settings: &Settings,
) -> Outcome {
    let replacement = match std::fs::read_to_string(root.join(&mutant.file)) {
        Ok(text) => text,
        Err(e) => return Outcome::Broken(format!("cannot read {}: {e}", mutant.file.display())),
    };
    let mutated = match apply(original, mutant.region, &replacement) {
        Ok(text) => text,
        Err(e) => return Outcome::Broken(format!("{}: {e}", exercise.file.display())),
    };
    let file = course.join(&exercise.file);
    if let Err(e) = std::fs::write(&file, mutated) {
        return Outcome::Broken(format!("cannot write {}: {e}", file.display()));
    }
    let grade = grade::grade(course, std::slice::from_ref(exercise), settings);
    let Some(result) = grade.exercises.first() else {
        return Outcome::Broken("the exercise was not graded".into());
    };
    if let Some(error) = &result.error {
        return Outcome::Broken(format!("does not compile:\n{error}"));
    }
    let failing: Vec<_> = result
        .tests
        .iter()
        .filter(|t| t.status == Status::Fail || (t.status == Status::Error && ran(&t.message)))
        .collect();
    if result.tests.iter().all(|t| t.status == Status::Pass) {
        Outcome::Survived
    } else if let Some(first) = failing.first() {
        Outcome::Rejected {
            by: failing.iter().map(|t| t.name.clone()).collect(),
            message: first.message.clone(),
        }
    } else {
        Outcome::Broken("no graded test ran".into())
    }
}

/// False for the tests `fail_fast` skipped: they did not reject anything.
fn ran(message: &str) -> bool {
    !message.starts_with("not run")
}

/// Replaces the body of solution region `region` (1-based) of `source` with `body`,
/// keeping the markers.
pub fn apply(source: &str, region: usize, body: &str) -> Result<String, Error> {
    let regions = markers::regions(source)
        .map_err(|e| Error::course("the exercise's solution markers", e.to_string()))?;
    let Some(r) = region.checked_sub(1).and_then(|i| regions.get(i)) else {
        return Err(Error::course(
            "the mutants",
            format!(
                "it has {} solution region(s), the mutant replaces region {region}",
                regions.len()
            ),
        ));
    };
    let lines: Vec<&str> = source.lines().collect();
    let mut out = String::with_capacity(source.len() + body.len());
    for line in &lines[..r.begin] {
        out.push_str(line);
        out.push('\n');
    }
    out.push_str(body);
    if !body.ends_with('\n') {
        out.push('\n');
    }
    for line in &lines[r.end - 1..] {
        out.push_str(line);
        out.push('\n');
    }
    Ok(out)
}

/// Makes `copy` hold the course's files (as git lists them) and nothing else, rewriting
/// only the files whose bytes differ, so that cargo rebuilds only what changed. Returns
/// how many files were written.
fn mirror(root: &Path, copy: &Path) -> Result<usize, Error> {
    let listed = files::list(root)?;
    let sources = files::read(root, &listed)
        .map_err(|problems| Error::course("the course's files", problems.join("\n")))?;
    let mut written = 0;
    for source in &sources {
        let target = copy.join(&source.path);
        if std::fs::read(&target).is_ok_and(|bytes| bytes == source.bytes) {
            continue;
        }
        files::write(
            copy,
            [files::OutFile {
                path: &source.path,
                bytes: &source.bytes,
                executable: source.executable,
            }],
        )?;
        written += 1;
    }
    // A file removed from the course must go from the copy too: a stale test file would
    // still be built and run there.
    if copy.is_dir() {
        for path in files::walk(copy)? {
            if !listed.contains(&path) {
                let _ = std::fs::remove_file(copy.join(&path));
            }
        }
    }
    Ok(written)
}

fn first_line(text: &str) -> &str {
    text.lines().find(|l| !l.trim().is_empty()).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = "\
fn a() -> u32 {
    // BEGIN SOLUTION
    1
    // END SOLUTION
}

fn b() -> u32 {
    // BEGIN SOLUTION
    2
    // END SOLUTION
}
";

    #[test]
    fn a_mutant_replaces_only_its_region_and_keeps_the_markers() {
        let out = apply(SOURCE, 2, "    3 + 0").unwrap();
        assert_eq!(out, SOURCE.replace("    2\n", "    3 + 0\n"));
        let out = apply(SOURCE, 1, "    let x = 5;\n    x\n").unwrap();
        assert!(out.starts_with(
            "fn a() -> u32 {\n    // BEGIN SOLUTION\n    let x = 5;\n    x\n    // END SOLUTION\n}"
        ));
        assert!(out.ends_with("    2\n    // END SOLUTION\n}\n"));
    }

    #[test]
    fn a_region_that_does_not_exist_is_an_error() {
        assert!(
            apply(SOURCE, 3, "x")
                .unwrap_err()
                .to_string()
                .contains("2 solution region(s)")
        );
        assert!(apply(SOURCE, 0, "x").is_err());
        assert!(
            apply("fn f() {}\n", 1, "x")
                .unwrap_err()
                .to_string()
                .contains("0 solution")
        );
    }
}
