//! `cargo xtask mutants`: cargo-mutants over the solution regions, a report kept in the
//! repository, and a check that the report is not stale.
//!
//! The mutants each exercise declares (`kit --verify`) are wrong solutions a person
//! thought of. [cargo-mutants](https://mutants.rs) is the systematic second layer: it
//! changes the solution mechanically (an operator flipped, a body replaced by a default,
//! a condition forced), runs the exercise's graded tests on each change, and lists the
//! changes no test noticed ("missed"). Each missed mutant is either killed by a new test
//! or listed, with a reason, as equivalent (a change that does not change behaviour) in
//! `crates/<lesson>/mutants/equivalent.toml`:
//!
//! ```toml
//! [[equivalent]]
//! mutant = "crates/threads/src/exercises/barrier.rs: replace == with >= in Barrier::wait"
//! why = "the count never passes the size: it is reset when it reaches it"
//! ```
//!
//! A run writes `crates/<lesson>/mutants/cargo-mutants.json`: per exercise, a hash of its
//! solution and its graded tests, and every mutant inside the solution regions with its
//! outcome. Mutants are tried in place, one exercise at a time with its own graded tests
//! (see `run_cargo_mutants`). A full run takes a while on 2 cores, so CI does not run it:
//! `cargo xtask mutants --check` (seconds) fails when a solution or its tests changed
//! after the report was made, or when the report has a missed mutant that is not listed
//! as equivalent.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::Error;
use crate::format::{Row, render_table};
use crate::lessons::Lesson;
use crate::markers;
use crate::progress::{Progress, StepKind};
use crate::registry::{self, Exercise};
use crate::workspace;

/// How long one mutant's graded tests may run: far more than the slowest exercise's
/// tests take on the reference solution, so only a mutant that hangs reaches it.
pub const TEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(90);

/// The report's file name, in `crates/<lesson>/mutants/`.
pub const REPORT: &str = "cargo-mutants.json";
/// The hand-written list of equivalent mutants, beside it.
pub const EQUIVALENTS: &str = "equivalent.toml";

/// One lesson's report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The cargo-mutants version that made it.
    pub tool: String,
    pub exercises: BTreeMap<String, ExerciseReport>,
}

/// One exercise's mutants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExerciseReport {
    /// A hash of the solution regions and the graded test file when the report was made.
    pub hash: String,
    pub mutants: Vec<MutantOutcome>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MutantOutcome {
    /// As cargo-mutants names it, without line and column (so it survives edits above).
    pub name: String,
    /// caught, timeout, unviable or missed.
    pub outcome: String,
    /// For a missed mutant: why it is equivalent (from equivalent.toml), if it is listed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equivalent: Option<String>,
}

impl MutantOutcome {
    /// Missed, and not explained as equivalent: a hole in the graded tests.
    pub fn unexplained(&self) -> bool {
        self.outcome == "missed" && self.equivalent.is_none()
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EquivalentFile {
    #[serde(default)]
    equivalent: Vec<Equivalent>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Equivalent {
    mutant: String,
    why: String,
}

/// The entry point of `cargo xtask mutants`.
pub fn main(options: &crate::cli::MutantsOptions) -> ExitCode {
    let root = workspace::root();
    let all = match registry::load(&root) {
        Ok(all) => all,
        Err(problems) => {
            for p in problems {
                eprintln!("error: {p}");
            }
            return ExitCode::FAILURE;
        }
    };
    let selected: Vec<Exercise> = match &options.exercise {
        None => match options.lesson {
            None => all,
            Some(lesson) => all.into_iter().filter(|e| e.lesson == lesson).collect(),
        },
        Some(id) => match registry::find(&all, id) {
            Ok(e) => vec![e.clone()],
            Err(e) => {
                eprintln!("error: {e}");
                return crate::cli::Exit::Usage.into();
            }
        },
    };
    // An in-place run killed hard (SIGKILL, a power cut) cannot put the file back: the
    // mutant stays in the course's source, and every later build would grade it.
    let left = left_behind(&root, &selected);
    if !left.is_empty() {
        for file in &left {
            eprintln!(
                "error: {file} still holds a mutant from an interrupted cargo-mutants run \
                 (it contains `{MUTATION_MARK}`). Put it back with\n  git checkout -- {file}"
            );
        }
        return ExitCode::FAILURE;
    }
    if options.check {
        return check(&root, &selected);
    }
    if !installed() {
        eprintln!(
            "error: cargo-mutants is not installed. Install it with\n  \
             cargo install --locked cargo-mutants\nand run this again."
        );
        return crate::cli::Exit::Usage.into();
    }
    let mut progress = Progress::new();
    let mut ok = true;
    for lesson in lessons_of(&selected) {
        let exercises: Vec<&Exercise> = selected.iter().filter(|e| e.lesson == lesson).collect();
        match run_lesson(&root, lesson, &exercises, &mut progress) {
            Ok(report) => {
                println!("\n{}", table(&report, &exercises));
                ok &= report
                    .exercises
                    .values()
                    .all(|e| e.mutants.iter().all(|m| !m.unexplained()));
            }
            Err(e) => {
                eprintln!("error: {}: {e}", lesson.name);
                ok = false;
            }
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        println!(
            "\nEvery missed mutant needs a test that kills it, or a line in the lesson's \
             mutants/{EQUIVALENTS} saying why it changes nothing."
        );
        ExitCode::FAILURE
    }
}

/// What cargo-mutants writes into every line it mutates.
const MUTATION_MARK: &str = "~ changed by cargo-mutants ~";

/// The exercise files (of `exercises`) that still hold a mutation.
fn left_behind(root: &Path, exercises: &[Exercise]) -> Vec<String> {
    let mut files: Vec<&Path> = exercises.iter().map(|e| e.file.as_path()).collect();
    files.sort_unstable();
    files.dedup();
    files
        .into_iter()
        .filter(|f| {
            std::fs::read_to_string(root.join(f)).is_ok_and(|text| text.contains(MUTATION_MARK))
        })
        .map(|f| f.display().to_string())
        .collect()
}

fn installed() -> bool {
    Command::new(workspace::cargo())
        .args(["mutants", "--version"])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn lessons_of(exercises: &[Exercise]) -> Vec<&'static Lesson> {
    let mut lessons: Vec<&'static Lesson> = Vec::new();
    for e in exercises {
        if !lessons.contains(&e.lesson) {
            lessons.push(e.lesson);
        }
    }
    lessons
}

fn report_path(root: &Path, lesson: &Lesson) -> PathBuf {
    root.join("crates")
        .join(lesson.name)
        .join("mutants")
        .join(REPORT)
}

/// The lesson's report on disk, or an empty one.
fn read_report(root: &Path, lesson: &Lesson) -> Result<Report, Error> {
    let path = report_path(root, lesson);
    match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text).map_err(|e| Error::Json {
            path: path.to_path_buf(),
            what: "a mutants report",
            source: e,
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Report::default()),
        Err(e) => Err(Error::Read {
            path: path.to_path_buf(),
            source: e,
        }),
    }
}

/// The lesson's equivalent mutants: name -> why.
fn equivalents(root: &Path, lesson: &Lesson) -> Result<BTreeMap<String, String>, Error> {
    let path = root
        .join("crates")
        .join(lesson.name)
        .join("mutants")
        .join(EQUIVALENTS);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => {
            return Err(Error::Read {
                path: path.to_path_buf(),
                source: e,
            });
        }
    };
    let file: EquivalentFile = toml::from_str(&text)
        .map_err(|e| Error::course(path.display().to_string(), e.message().trim().to_string()))?;
    Ok(file
        .equivalent
        .into_iter()
        .map(|e| {
            (
                e.mutant,
                e.why.split_whitespace().collect::<Vec<_>>().join(" "),
            )
        })
        .collect())
}

/// The fingerprint ([`crate::fnv`]) of the solution regions and the graded tests: it
/// changes when they change, so a report made from other ones is found stale.
pub fn fingerprint(root: &Path, exercise: &Exercise) -> Result<String, Error> {
    let source =
        std::fs::read_to_string(root.join(&exercise.file)).map_err(Error::read(&exercise.file))?;
    let tests =
        std::fs::read_to_string(root.join(exercise.test_file())).map_err(|e| Error::Read {
            path: exercise.test_file().to_path_buf(),
            source: e,
        })?;
    let regions = markers::regions(&source)
        .map_err(|e| Error::course(exercise.file.display().to_string(), e.to_string()))?;
    let lines: Vec<&str> = source.lines().collect();
    let mut fnv = crate::fnv::Fnv::new();
    for r in &regions {
        for line in &lines[r.begin..r.end - 1] {
            fnv.feed(line.as_bytes());
            fnv.feed(b"\n");
        }
    }
    fnv.feed(b"\0");
    fnv.feed(tests.as_bytes());
    Ok(fnv.hex())
}

/// Runs cargo-mutants over the exercises' solution regions: one run per lesson (one
/// copy of the workspace to build, not one per exercise), each mutant graded by the
/// lesson's graded tests of these exercises (another exercise's tests pass whatever is
/// done to this one, so the verdict is this exercise's own). Updates the lesson's
/// report and returns it.
fn run_lesson(
    root: &Path,
    lesson: &'static Lesson,
    exercises: &[&Exercise],
    progress: &mut Progress,
) -> Result<Report, Error> {
    let equivalents = equivalents(root, lesson)?;
    let mut report = read_report(root, lesson)?;
    report.tool = tool_version();
    let scope = format!("mutants · {}", lesson.name);
    let mut names = Vec::new();
    for exercise in exercises {
        let found = in_regions(root, exercise)?;
        progress.line(
            &scope,
            &format!(
                "{}: {} mutants inside the solution regions of {}",
                exercise.id,
                found.len(),
                exercise.file.display()
            ),
        );
        names.extend(found);
    }
    let mut outcomes = Vec::new();
    for exercise in exercises {
        let file = format!("{}:", exercise.file.display());
        let mine: Vec<String> = names
            .iter()
            .filter(|n| n.starts_with(&file))
            .cloned()
            .collect();
        if !mine.is_empty() {
            let scope = format!("mutants · {}", exercise.id);
            outcomes.extend(run_cargo_mutants(root, exercise, &mine, progress, &scope)?);
        }
    }
    for exercise in exercises {
        let file = format!("{}:", exercise.file.display());
        let mutants = outcomes
            .iter()
            .filter(|(name, _)| name.starts_with(&file))
            .map(|(name, outcome)| MutantOutcome {
                equivalent: (outcome == "missed")
                    .then(|| equivalents.get(&plain(name)).cloned())
                    .flatten(),
                name: plain(name),
                outcome: outcome.clone(),
            })
            .collect();
        report.exercises.insert(
            exercise.id.clone(),
            ExerciseReport {
                hash: fingerprint(root, exercise)?,
                mutants,
            },
        );
    }
    // The other exercises' entries are kept, but explained by today's equivalent.toml:
    // a line added there since their run counts without running them again.
    for entry in report.exercises.values_mut() {
        for m in &mut entry.mutants {
            m.equivalent = (m.outcome == "missed")
                .then(|| equivalents.get(&m.name).cloned())
                .flatten();
        }
    }
    let path = report_path(root, lesson);
    let text = serde_json::to_string_pretty(&report).map_err(|source| Error::Json {
        path: path.clone(),
        what: "a mutants report that can be written",
        source,
    })? + "\n";
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(Error::write(dir))?;
    }
    std::fs::write(&path, text).map_err(Error::write(&path))?;
    Ok(report)
}

fn tool_version() -> String {
    Command::new(workspace::cargo())
        .args(["mutants", "--version"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

/// The names (without line and column) of cargo-mutants' mutants that lie inside the
/// exercise's solution regions.
fn in_regions(root: &Path, exercise: &Exercise) -> Result<Vec<String>, Error> {
    let source =
        std::fs::read_to_string(root.join(&exercise.file)).map_err(Error::read(&exercise.file))?;
    let regions = markers::regions(&source)
        .map_err(|e| Error::course(exercise.file.display().to_string(), e.to_string()))?;
    let file = exercise.file.to_string_lossy().into_owned();
    let out = Command::new(workspace::cargo())
        .args([
            "mutants",
            "--list",
            "--json",
            "--line-col=false",
            "--package",
            &exercise.package(),
            "-f",
            &file,
        ])
        .current_dir(root)
        .output()
        .map_err(Error::spawn("cargo mutants"))?;
    if !out.status.success() {
        return Err(Error::answer(
            "cargo mutants --list",
            format!("it failed: {}", String::from_utf8_lossy(&out.stderr)),
        ));
    }
    let list: Value = serde_json::from_slice(&out.stdout).map_err(|e| {
        Error::answer(
            "cargo mutants --list --json",
            format!("it printed no JSON: {e}"),
        )
    })?;
    let mut names = Vec::new();
    for m in list.as_array().into_iter().flatten() {
        let line = m["span"]["start"]["line"].as_u64().unwrap_or(0) as usize;
        let inside = regions.iter().any(|r| r.begin < line && line < r.end);
        if let (true, Some(name)) = (inside, m["name"].as_str()) {
            names.push(name.to_string());
        }
    }
    names.dedup();
    Ok(names)
}

/// Runs cargo-mutants on exactly `names`, in the exercise's file, with its graded tests;
/// returns each mutant's name and outcome.
///
/// In place (`--in-place`): each mutant is written into the course's own file, built
/// in the course's own (warm) target directory, and the file is put back after each;
/// cargo-mutants restores it on Ctrl-C too. Building a copy of the workspace instead
/// took minutes per exercise before the first mutant. The unmutated tests are known to
/// pass (`kit --verify` proves it), so there is no baseline run, and a mutant whose
/// tests run past [`TEST_TIMEOUT`] counts as caught by a timeout (the grader has one).
fn run_cargo_mutants(
    root: &Path,
    exercise: &Exercise,
    names: &[String],
    progress: &mut Progress,
    scope: &str,
) -> Result<Vec<(String, String)>, Error> {
    let out_dir = root
        .join("target")
        .join("cargo-mutants")
        .join(&exercise.test);
    let _ = std::fs::remove_dir_all(&out_dir);
    std::fs::create_dir_all(&out_dir).map_err(Error::write(&out_dir))?;
    let exact = names
        .iter()
        .map(|n| format!("^{}$", regex_escape(n)))
        .collect::<Vec<_>>()
        .join("|");
    let timeout = TEST_TIMEOUT.as_secs().to_string();
    let mut command = Command::new(workspace::cargo());
    command
        .args(["mutants", "--in-place", "--baseline=skip", "--no-shuffle"])
        .args(["--line-col=false", "--timeout", &timeout, "-f"])
        .arg(&exercise.file)
        .args(["--package", &exercise.package()])
        .args(["-F", &exact, "--test-package", &exercise.package(), "-o"])
        .arg(&out_dir)
        .args(["--", "--test", &exercise.test])
        .current_dir(root);
    let out = crate::run::stream(progress, scope, StepKind::Test, &mut command)
        .map_err(Error::spawn("cargo mutants"))?;
    let outcomes_file = out_dir.join("mutants.out").join("outcomes.json");
    let text = std::fs::read_to_string(&outcomes_file).map_err(|e| {
        Error::answer(
            "cargo mutants",
            format!(
                "it wrote no {} ({e}; {}); the end of its output:\n{}",
                outcomes_file.display(),
                out.status_text(),
                crate::format::tail(&out.combined.join("\n"), 20)
            ),
        )
    })?;
    let outcomes: Value = serde_json::from_str(&text).map_err(|source| Error::Json {
        path: outcomes_file.clone(),
        what: "the outcomes of cargo mutants",
        source,
    })?;
    let mut found = Vec::new();
    for o in outcomes["outcomes"].as_array().into_iter().flatten() {
        let Some(name) = o["scenario"]["Mutant"]["name"].as_str() else {
            continue; // the unmutated baseline
        };
        let outcome = match o["summary"].as_str().unwrap_or("") {
            "CaughtMutant" => "caught",
            "MissedMutant" => "missed",
            "Timeout" => "timeout",
            "Unviable" => "unviable",
            other => {
                return Err(Error::answer(
                    "cargo mutants",
                    format!("mutant `{name}`: an outcome this xtask does not know: {other}"),
                ));
            }
        };
        found.push((name.to_string(), outcome.to_string()));
    }
    if found.len() != names.len() {
        return Err(Error::answer(
            "cargo mutants",
            format!(
                "{} mutants asked for, {} outcomes found in {}",
                names.len(),
                found.len(),
                outcomes_file.display()
            ),
        ));
    }
    Ok(found)
}

/// A mutant's name without its line and column (`path:12:5: replace ...` becomes
/// `path: replace ...`): the name an equivalent is listed under, which survives an edit
/// above it. (cargo-mutants puts them in its JSON whatever `--line-col` says.)
pub fn plain(name: &str) -> String {
    let Some((path, rest)) = name.split_once(": ") else {
        return name.to_string();
    };
    let mut parts = path.rsplitn(3, ':');
    let (col, line, file) = (parts.next(), parts.next(), parts.next());
    let numeric =
        |p: Option<&str>| p.is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    match file {
        Some(file) if numeric(col) && numeric(line) => format!("{file}: {rest}"),
        _ => name.to_string(),
    }
}

fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~ ".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `--check`: every exercise has a report entry made from its current solution and
/// tests, and no unexplained missed mutant.
fn check(root: &Path, exercises: &[Exercise]) -> ExitCode {
    let mut problems = Vec::new();
    let mut counted = (0, 0);
    for lesson in lessons_of(exercises) {
        let report = match read_report(root, lesson) {
            Ok(r) => r,
            Err(e) => {
                problems.push(e.to_string());
                continue;
            }
        };
        let equivalents = equivalents(root, lesson).unwrap_or_else(|e| {
            problems.push(e.to_string());
            BTreeMap::new()
        });
        for exercise in exercises.iter().filter(|e| e.lesson == lesson) {
            problems.extend(check_one(
                root,
                exercise,
                &report,
                &equivalents,
                &mut counted,
            ));
        }
    }
    let (mutants, exercises_checked) = counted;
    if problems.is_empty() {
        println!(
            "mutants --check: ok: the cargo-mutants reports of {exercises_checked} exercises \
             ({mutants} mutants) match their solutions and tests; every missed mutant is \
             listed as equivalent"
        );
        ExitCode::SUCCESS
    } else {
        for p in &problems {
            println!("error: {p}");
        }
        println!(
            "\nmutants --check: FAILED. Run `cargo xtask mutants --exercise ID` for each \
             exercise named (cargo install --locked cargo-mutants, if it is missing)."
        );
        ExitCode::FAILURE
    }
}

fn check_one(
    root: &Path,
    exercise: &Exercise,
    report: &Report,
    equivalents: &BTreeMap<String, String>,
    counted: &mut (usize, usize),
) -> Vec<String> {
    let mut problems = Vec::new();
    let Some(entry) = report.exercises.get(&exercise.id) else {
        return vec![format!(
            "{}: no cargo-mutants report in crates/{}/mutants/{REPORT}",
            exercise.id, exercise.lesson.name
        )];
    };
    match fingerprint(root, exercise) {
        Ok(hash) if hash == entry.hash => {}
        Ok(_) => problems.push(format!(
            "{}: its solution or graded tests changed after its cargo-mutants report was made",
            exercise.id
        )),
        Err(e) => problems.push(e.to_string()),
    }
    for m in &entry.mutants {
        if m.outcome == "missed" && !equivalents.contains_key(&plain(&m.name)) {
            problems.push(format!(
                "{}: missed mutant not listed as equivalent: {}",
                exercise.id, m.name
            ));
        }
    }
    counted.0 += entry.mutants.len();
    counted.1 += 1;
    problems
}

/// Per exercise: mutants in the regions, and how each ended.
fn table(report: &Report, exercises: &[&Exercise]) -> String {
    let rows: Vec<Row> = exercises
        .iter()
        .filter_map(|e| report.exercises.get(&e.id).map(|r| (e, r)))
        .map(|(e, r)| {
            let count = |o: &str| r.mutants.iter().filter(|m| m.outcome == o).count();
            let equivalent = r.mutants.iter().filter(|m| m.equivalent.is_some()).count();
            let unexplained = r.mutants.iter().filter(|m| m.unexplained()).count();
            Row::Cells(vec![
                e.id.clone(),
                r.mutants.len().to_string(),
                count("caught").to_string(),
                count("timeout").to_string(),
                count("unviable").to_string(),
                equivalent.to_string(),
                if unexplained == 0 {
                    "0".to_string()
                } else {
                    format!("{unexplained} MISSED")
                },
            ])
        })
        .collect();
    let mut out = render_table(
        &[
            "exercise",
            "mutants",
            "caught",
            "timeout",
            "unviable",
            "equivalent",
            "missed",
        ],
        &rows,
    );
    for (e, r) in exercises
        .iter()
        .filter_map(|e| report.exercises.get(&e.id).map(|r| (e, r)))
    {
        for m in r.mutants.iter().filter(|m| m.unexplained()) {
            out.push_str(&format!("\n  {}: MISSED: {}", e.id, m.name));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_escaped_for_an_exact_match() {
        let name = "a/b.rs: replace <impl Future for S<A>>::poll -> Poll<T> with Poll::new()";
        let escaped = regex_escape(name);
        assert!(escaped.contains(r"b\.rs:"));
        assert!(escaped.contains(r"Poll::new\(\)"));
        assert!(escaped.contains(r"\->"));
    }

    #[test]
    fn a_name_is_kept_without_its_line_and_column() {
        assert_eq!(
            plain("crates/a/src/x.rs:45:23: replace += with *= in Barrier::wait"),
            "crates/a/src/x.rs: replace += with *= in Barrier::wait"
        );
        assert_eq!(
            plain("crates/a/src/x.rs: replace a"),
            "crates/a/src/x.rs: replace a"
        );
        assert_eq!(plain("no colon here"), "no colon here");
    }

    #[test]
    fn only_a_missed_mutant_without_a_reason_is_a_hole() {
        let m = |outcome: &str, equivalent: Option<&str>| MutantOutcome {
            name: "m".into(),
            outcome: outcome.into(),
            equivalent: equivalent.map(str::to_string),
        };
        assert!(m("missed", None).unexplained());
        assert!(!m("missed", Some("changes nothing")).unexplained());
        assert!(!m("caught", None).unexplained());
        assert!(!m("timeout", None).unexplained());
    }

    #[test]
    fn the_fingerprint_follows_the_solution_and_the_tests() {
        let exercises = registry::load(&workspace::root()).unwrap();
        let root = workspace::root();
        let a = fingerprint(&root, &exercises[0]).unwrap();
        let b = fingerprint(&root, &exercises[1]).unwrap();
        assert_eq!(a.len(), 16);
        assert_ne!(a, b);
        assert_eq!(a, fingerprint(&root, &exercises[0]).unwrap());
    }
}
