//! The exercise registry: every exercise, declared once, in its lesson's `exercises.toml`.
//!
//! `grade`, `kit`, `list`, `hint` and `watch` all start here, so an exercise's id,
//! points, task, hint, source file and graded test target are written in one place and
//! nowhere else. A mistake in a registry (a missing field, an id of the wrong lesson, a
//! test target that does not exist) is reported with the file and line, because a
//! grader that silently skips an exercise would be worse than one that stops.
//!
//! ```toml
//! [[exercise]]
//! id = "procs/capture"              # <lesson>/<name>
//! title = "Capture a child's output"
//! points = 10
//! file = "src/exercises/capture.rs" # holds the BEGIN/END SOLUTION markers
//! test = "exercise_capture"         # tests/exercise_capture.rs: the graded tests
//! task = """..."""
//! hint = """..."""
//!
//! [[exercise.mutant]]               # a plausible wrong solution (at least 3 each)
//! file = "mutants/capture/no_cloexec.rs"   # replaces the solution region
//! wrong = "the pipe is made without O_CLOEXEC: the program inherits a write end"
//! region = 1                        # which region of the file (1 unless it has several)
//! ```
//!
//! A mutant is graded like a student's work by `kit --verify`, and the graded tests must
//! reject it: a test suite that a wrong solution passes gives points for wrong work.
//! Mutant files live in `crates/<lesson>/mutants/`, which the kit leaves out.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::lessons::{LESSONS, Lesson};

/// The registry's file name inside a lesson crate.
pub const REGISTRY_FILE: &str = "exercises.toml";

/// One exercise, as declared, with paths resolved against the workspace root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exercise {
    pub lesson: &'static Lesson,
    /// `<lesson>/<name>`, e.g. `procs/capture`.
    pub id: String,
    pub title: String,
    pub points: u32,
    /// The source file with the solution markers, relative to the workspace root.
    pub file: PathBuf,
    /// The graded test target (`cargo test -p <lesson> --test <test>`).
    pub test: String,
    pub task: String,
    /// The hints, in steps: the first points at the idea; each next one is closer to a
    /// solution; the last may come close to one.
    pub hints: Vec<String>,
    /// Where it is declared: `crates/procs/exercises.toml:12`.
    pub declared_at: String,
    /// Plausible wrong solutions that the graded tests must reject.
    pub mutants: Vec<Mutant>,
}

/// A plausible wrong solution of an exercise: the text that replaces one of its
/// solution regions, and one line saying what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mutant {
    /// The replacement text, relative to the workspace root.
    pub file: PathBuf,
    /// What a student who wrote this got wrong.
    pub wrong: String,
    /// Which solution region of the exercise file it replaces, 1-based.
    pub region: usize,
}

impl Mutant {
    /// The mutant's short name: its file name without `.rs`.
    pub fn name(&self) -> String {
        self.file
            .file_stem()
            .map_or_else(String::new, |s| s.to_string_lossy().into_owned())
    }
}

impl Exercise {
    /// The exercise's name within its lesson: `capture` for `procs/capture`.
    pub fn name(&self) -> &str {
        self.id
            .split_once('/')
            .map_or(self.id.as_str(), |(_, name)| name)
    }

    /// The exercise's own folder, relative to the workspace root: its package (no
    /// lesson and no other exercise depends on it, so a mistake in it stops nothing
    /// else from building), the file to edit, and its graded tests.
    pub fn dir(&self) -> PathBuf {
        PathBuf::from("crates")
            .join(self.lesson.name)
            .join("exercises")
            .join(self.name())
    }

    /// The exercise's package: `procs-capture`.
    pub fn package(&self) -> String {
        format!("{}-{}", self.lesson.name, self.name())
    }

    /// The graded test file, relative to the workspace root.
    pub fn test_file(&self) -> PathBuf {
        self.dir().join("tests").join(format!("{}.rs", self.test))
    }

    /// The task on one line, for `todo!()` messages and tables: the first sentence,
    /// at most `max` characters.
    pub fn task_line(&self, max: usize) -> String {
        let flat = self.task.split_whitespace().collect::<Vec<_>>().join(" ");
        let sentence = match flat.find(". ") {
            Some(end) => &flat[..=end],
            None => flat.as_str(),
        };
        if sentence.chars().count() <= max {
            sentence.trim_end().to_string()
        } else {
            // Cut at a word boundary: half a word reads like a typo in a todo!() message.
            let cut: String = sentence.chars().take(max.saturating_sub(3)).collect();
            let cut = match cut.rfind(' ') {
                Some(space) if space > 0 => &cut[..space],
                _ => cut.as_str(),
            };
            format!("{}...", cut.trim_end_matches([',', ';', ':', ' ']))
        }
    }
}

/// A problem in a registry, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// `crates/procs/exercises.toml:12` (or the file alone when no line applies).
    pub at: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.at, self.message)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegistryFile {
    #[serde(default)]
    exercise: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    id: String,
    title: String,
    points: u32,
    file: String,
    test: String,
    task: String,
    /// One hint (older registries), or `hints`: steps, the first pointing at the idea,
    /// each next one closer to a solution.
    #[serde(default)]
    hint: Option<String>,
    #[serde(default)]
    hints: Vec<String>,
    #[serde(default)]
    mutant: Vec<MutantEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MutantEntry {
    file: String,
    wrong: String,
    #[serde(default = "first_region")]
    region: usize,
}

fn first_region() -> usize {
    1
}

/// Every exercise of every written lesson, in course order, or every problem found.
pub fn load(root: &Path) -> Result<Vec<Exercise>, Vec<Problem>> {
    let mut exercises = Vec::new();
    let mut problems = Vec::new();
    for lesson in LESSONS.iter().filter(|l| l.is_written(root)) {
        match load_lesson(root, lesson) {
            Ok(mut list) => exercises.append(&mut list),
            Err(mut list) => problems.append(&mut list),
        }
    }
    // Ids are unique across the course: `hint procs/capture` must mean one thing.
    for (i, a) in exercises.iter().enumerate() {
        if let Some(b) = exercises[..i].iter().find(|b| b.id == a.id) {
            problems.push(Problem {
                at: a.declared_at.clone(),
                message: format!("id `{}` is already declared at {}", a.id, b.declared_at),
            });
        }
    }
    if problems.is_empty() {
        Ok(exercises)
    } else {
        Err(problems)
    }
}

/// The exercises of one lesson. A written lesson without a registry is a problem: every
/// lesson of the course has exercises.
pub fn load_lesson(root: &Path, lesson: &'static Lesson) -> Result<Vec<Exercise>, Vec<Problem>> {
    let rel = format!("crates/{}/{REGISTRY_FILE}", lesson.name);
    let text = match std::fs::read_to_string(root.join(&rel)) {
        Ok(text) => text,
        Err(e) => {
            return Err(vec![Problem {
                at: rel,
                message: format!("cannot read the lesson's exercise registry: {e}"),
            }]);
        }
    };
    parse(root, lesson, &rel, &text)
}

/// Parses and checks one registry's text; `rel` is its path for messages.
pub fn parse(
    root: &Path,
    lesson: &'static Lesson,
    rel: &str,
    text: &str,
) -> Result<Vec<Exercise>, Vec<Problem>> {
    let file: RegistryFile = toml::from_str(text).map_err(|e| {
        let line = e.span().map_or(0, |s| line_of(text, s.start));
        vec![Problem {
            at: at(rel, line),
            message: e.message().trim().to_string(),
        }]
    })?;
    if file.exercise.is_empty() {
        return Err(vec![Problem {
            at: rel.to_string(),
            message: "no [[exercise]] is declared".into(),
        }]);
    }
    let mut problems = Vec::new();
    let mut exercises = Vec::new();
    let mut search_from = 0;
    for entry in file.exercise {
        // The line of this entry's `id = "..."`, found in declaration order.
        let line = find_line(text, &format!("\"{}\"", entry.id), &mut search_from);
        let here = at(rel, line);
        let mut bad = |message: String| {
            problems.push(Problem {
                at: here.clone(),
                message,
            })
        };
        let prefix = format!("{}/", lesson.name);
        match entry.id.strip_prefix(&prefix) {
            Some(name) if is_slug(name) => {}
            _ => bad(format!(
                "id `{}` must be `{prefix}<name>`, the name in lower case, digits and -",
                entry.id
            )),
        }
        if entry.points == 0 {
            bad(format!("`{}` is worth 0 points", entry.id));
        }
        for (field, value) in [("title", &entry.title), ("task", &entry.task)] {
            if value.trim().is_empty() {
                bad(format!("`{}` has an empty {field}", entry.id));
            }
        }
        let hints: Vec<String> = match (&entry.hint, entry.hints.is_empty()) {
            (Some(_), false) => {
                bad(format!(
                    "`{}` has both `hint` and `hints`: keep `hints`",
                    entry.id
                ));
                Vec::new()
            }
            (Some(one), true) => vec![one.trim().to_string()],
            (None, _) => entry.hints.iter().map(|h| h.trim().to_string()).collect(),
        };
        if hints.is_empty() || hints.iter().any(String::is_empty) {
            bad(format!("`{}` needs `hints`, none of them empty", entry.id));
        }
        let crate_dir = PathBuf::from("crates").join(lesson.name);
        let file = crate_dir.join(&entry.file);
        if entry.file.contains("..") || !root.join(&file).is_file() {
            bad(format!(
                "file `{}` does not exist in {}",
                entry.file,
                crate_dir.display()
            ));
        }
        let mut mutants = Vec::new();
        for m in &entry.mutant {
            // The files themselves are read by `kit --verify`: a student's copy has the
            // declarations but not the files (they are instructor-only).
            if m.file.contains("..") || !m.file.ends_with(".rs") {
                bad(format!(
                    "mutant file `{}` of `{}` must be a .rs path inside {}",
                    m.file,
                    entry.id,
                    crate_dir.display()
                ));
            }
            if m.wrong.trim().is_empty() {
                bad(format!(
                    "mutant `{}` of `{}` does not say what is wrong",
                    m.file, entry.id
                ));
            }
            if m.region == 0 {
                bad(format!(
                    "mutant `{}` of `{}`: regions count from 1",
                    m.file, entry.id
                ));
            }
            mutants.push(Mutant {
                file: crate_dir.join(&m.file),
                wrong: m.wrong.split_whitespace().collect::<Vec<_>>().join(" "),
                region: m.region,
            });
        }
        let exercise = Exercise {
            lesson,
            id: entry.id,
            title: entry.title.trim().to_string(),
            points: entry.points,
            file,
            test: entry.test,
            task: entry.task.trim().to_string(),
            hints,
            declared_at: here.clone(),
            mutants,
        };
        // The exercise's folder is its package: the file to edit must be in it, or the
        // package would compile something else (and cargo-mutants mutate nothing).
        let dir = exercise.dir();
        if !exercise.file.starts_with(&dir) || !root.join(&dir).join("Cargo.toml").is_file() {
            bad(format!(
                "`{}`: its file must be in its own package, {}/ (with a Cargo.toml), not {}",
                exercise.id,
                dir.display(),
                exercise.file.display()
            ));
        }
        let test_file = exercise.test_file();
        match std::fs::read_to_string(root.join(&test_file)) {
            Ok(source) if source.contains("#[test]") => {}
            Ok(_) => bad(format!(
                "`{}` has no graded test: {} contains no #[test]",
                exercise.id,
                test_file.display()
            )),
            Err(_) => bad(format!(
                "`{}` names test `{}`, but {} does not exist",
                exercise.id,
                exercise.test,
                test_file.display()
            )),
        }
        exercises.push(exercise);
    }
    if problems.is_empty() {
        Ok(exercises)
    } else {
        Err(problems)
    }
}

/// An exercise id that the course does not have.
#[derive(Debug, thiserror::Error)]
#[error("no exercise `{id}`; the exercises are: {known}")]
pub struct UnknownExercise {
    id: String,
    known: String,
}

/// Finds an exercise by id, or says which ids exist.
pub fn find<'a>(exercises: &'a [Exercise], id: &str) -> Result<&'a Exercise, UnknownExercise> {
    exercises.iter().find(|e| e.id == id).ok_or_else(|| {
        let ids: Vec<&str> = exercises.iter().map(|e| e.id.as_str()).collect();
        UnknownExercise {
            id: id.to_string(),
            known: ids.join(", "),
        }
    })
}

fn is_slug(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn at(rel: &str, line: usize) -> String {
    if line == 0 {
        rel.to_string()
    } else {
        format!("{rel}:{line}")
    }
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The 1-based line of the next `needle` at or after `*from`, moving `*from` past it.
fn find_line(text: &str, needle: &str, from: &mut usize) -> usize {
    match text[*from..].find(needle) {
        Some(pos) => {
            let offset = *from + pos;
            *from = offset + needle.len();
            line_of(text, offset)
        }
        None => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The exercise tables of each lesson's README and chapter copy each task's text
    /// (on one line): they must say what the registry says, or a learner reads a task
    /// the tests no longer grade.
    #[test]
    fn every_exercise_table_row_is_its_task() {
        let root = crate::workspace::root();
        let exercises = load(&root).expect("the course's registry loads");
        let mut stale = Vec::new();
        for e in &exercises {
            let flat = e.task.split_whitespace().collect::<Vec<_>>().join(" ");
            let row = format!("| `{}` | {} | {flat} |", e.id, e.points);
            let lesson = e.lesson.name;
            // A chapter is split into section pages: its exercises are on the one whose
            // table holds the lesson's exercises.
            let chapter = exercise_page(&root, &e.id).expect("each exercise is in the book");
            for page in [chapter, root.join("crates").join(lesson).join("README.md")] {
                let text = std::fs::read_to_string(&page).unwrap();
                if !text.contains(&row) {
                    stale.push(format!(
                        "{}: the row of {} should read\n{row}",
                        page.display(),
                        e.id
                    ));
                }
            }
        }
        assert!(stale.is_empty(), "{}", stale.join("\n"));
    }

    /// The book's page whose exercise table has a row for `id`.
    fn exercise_page(root: &Path, id: &str) -> Option<PathBuf> {
        let row_start = format!("| `{id}` |");
        std::fs::read_dir(root.join("docs/src"))
            .ok()?
            .filter_map(|f| f.ok().map(|f| f.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "md"))
            .find(|p| std::fs::read_to_string(p).is_ok_and(|text| text.contains(&row_start)))
    }

    /// A workspace-shaped temporary folder with one lesson file and one test file.
    fn fixture(name: &str) -> PathBuf {
        let root =
            std::env::temp_dir().join(format!("xtask-registry-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let ex = root.join("crates/procs/exercises/ex");
        std::fs::create_dir_all(ex.join("tests")).unwrap();
        std::fs::write(ex.join("Cargo.toml"), "[package]\nname = \"procs-ex\"\n").unwrap();
        std::fs::write(ex.join("ex.rs"), "fn f() {}\n").unwrap();
        std::fs::write(ex.join("tests/exercise_ex.rs"), "#[test]\nfn t() {}\n").unwrap();
        std::fs::write(ex.join("tests/empty.rs"), "\n").unwrap();
        std::fs::create_dir_all(root.join("crates/procs/src")).unwrap();
        std::fs::write(root.join("crates/procs/src/elsewhere.rs"), "fn g() {}\n").unwrap();
        root
    }

    const GOOD: &str = r#"
[[exercise]]
id = "procs/ex"
title = "An exercise"
points = 10
file = "exercises/ex/ex.rs"
test = "exercise_ex"
task = """
Do the thing. Then more.
"""
hints = ["Think.", "Think harder."]
"#;

    #[test]
    fn a_good_registry_loads() {
        let root = fixture("good");
        let list = parse(&root, &LESSONS[0], "crates/procs/exercises.toml", GOOD).unwrap();
        assert_eq!(list.len(), 1);
        let e = &list[0];
        assert_eq!((e.id.as_str(), e.points), ("procs/ex", 10));
        assert_eq!(e.file, PathBuf::from("crates/procs/exercises/ex/ex.rs"));
        assert_eq!(
            e.test_file(),
            PathBuf::from("crates/procs/exercises/ex/tests/exercise_ex.rs")
        );
        assert_eq!(e.package(), "procs-ex");
        assert_eq!(e.hints, ["Think.", "Think harder."]);
        assert_eq!(e.declared_at, "crates/procs/exercises.toml:3");
        assert_eq!(e.task_line(80), "Do the thing.");
        assert_eq!(e.task_line(12), "Do the...");
        assert_eq!(e.task_line(5), "Do...");
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn mistakes_are_reported_with_file_and_line() {
        let root = fixture("bad");
        let text = GOOD
            .replace("procs/ex\"", "threads/ex\"")
            .replace("points = 10", "points = 0")
            .replace("exercises/ex/ex.rs", "exercises/ex/missing.rs")
            .replace("exercise_ex", "empty")
            .replace("hints = [\"Think.\", \"Think harder.\"]", "hints = []");
        let problems = parse(&root, &LESSONS[0], "r.toml", &text).unwrap_err();
        let all: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        let joined = all.join("\n");
        for want in [
            "r.toml:3: id `threads/ex` must be `procs/<name>`",
            "r.toml:3: `threads/ex` is worth 0 points",
            "r.toml:3: file `exercises/ex/missing.rs` does not exist",
            "r.toml:3: `threads/ex` has no graded test",
            "r.toml:3: `threads/ex` needs `hints`",
        ] {
            assert!(joined.contains(want), "missing {want:?} in\n{joined}");
        }
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn an_exercise_file_outside_its_own_package_is_refused() {
        let root = fixture("outside");
        let text = GOOD.replace("exercises/ex/ex.rs", "src/elsewhere.rs");
        let problems = parse(&root, &LESSONS[0], "r.toml", &text).unwrap_err();
        let joined: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        assert!(
            joined
                .iter()
                .any(|p| p.contains("must be in its own package")),
            "{joined:?}"
        );
        let both = GOOD.replace("hints = ", "hint = \"One.\"\nhints = ");
        let problems = parse(&root, &LESSONS[0], "r.toml", &both).unwrap_err();
        assert!(problems[0].message.contains("both"), "{problems:?}");
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn syntax_errors_and_unknown_fields_name_the_line() {
        let root = fixture("syntax");
        let problems = parse(&root, &LESSONS[0], "r.toml", "[[exercise]]\nid = \n").unwrap_err();
        assert!(problems[0].at.starts_with("r.toml:2"), "{problems:?}");
        let text = GOOD.replace("test = ", "point = 3\ntest = ");
        let problems = parse(&root, &LESSONS[0], "r.toml", &text).unwrap_err();
        assert!(problems[0].message.contains("point"), "{problems:?}");
        let problems = parse(&root, &LESSONS[0], "r.toml", "# nothing\n").unwrap_err();
        assert!(problems[0].message.contains("no [[exercise]]"));
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn the_course_registry_loads_and_finds_by_id() {
        let exercises = load(&crate::workspace::root()).unwrap_or_else(|problems| {
            panic!(
                "{}",
                problems
                    .iter()
                    .map(|p| p.to_string())
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        });
        assert!(
            exercises.len() >= 3,
            "lesson 1 has at least three exercises"
        );
        // Every exercise of the course has its hints in steps: the idea, then closer.
        for e in &exercises {
            assert!(e.hints.len() >= 2, "{}: {} hint(s)", e.id, e.hints.len());
        }
        let first = find(&exercises, &exercises[0].id).unwrap();
        assert_eq!(first.lesson.name, "procs");
        assert!(
            find(&exercises, "procs/nope")
                .unwrap_err()
                .to_string()
                .contains(&exercises[0].id)
        );
    }
}
