//! What goes into the kit, decided in memory before anything is written.
//!
//! From the course's files and its exercises this makes the list of the kit's files:
//! each exercise file with its solution regions replaced by `todo!()`, every other file
//! as it is, and the generated README and autograding workflow. It refuses (with every
//! problem, each naming its file and line) when the markers cannot be trusted:
//!
//! - a malformed marker in an exercise file (a BEGIN without END, a marker after code):
//!   stripping around it would either leak a solution or leave code that does not build;
//! - an exercise file with no region at all: its solution would ship whole;
//! - markers in a file under `crates/` that no exercise declares: nothing strips them,
//!   so whatever they surround would ship.
//!
//! Deciding first and writing second means a refused kit writes nothing at all.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::markers;
use crate::registry::Exercise;

use super::files::{OutFile, Source};
use super::{classroom, readme};

/// How long the task may be in a stub's `todo!("<id>: <task>")`: the first sentence of
/// the task, cut to fit one line of a panic message.
pub const TODO_TASK_CHARS: usize = 90;

/// The kit, ready to write.
#[derive(Debug, Clone)]
pub struct Kit {
    /// Every file, sorted by path.
    pub files: Vec<KitFile>,
    /// The exercise files that were stubbed.
    pub stubs: Vec<Stub>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KitFile {
    pub path: PathBuf,
    pub bytes: Vec<u8>,
    pub executable: bool,
}

/// One exercise file whose solutions were replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stub {
    pub file: PathBuf,
    /// The exercises declared in it (usually one).
    pub exercises: Vec<String>,
    pub regions: usize,
}

impl Kit {
    pub fn out_files(&self) -> impl Iterator<Item = OutFile<'_>> {
        self.files.iter().map(|f| OutFile {
            path: &f.path,
            bytes: &f.bytes,
            executable: f.executable,
        })
    }
}

/// Where the kit keeps a copy of each exercise file as it was handed out, for
/// `cargo xtask reset` (see `learner::reset`).
pub const STUBS_DIR: &str = "xtask/stubs";

/// Files generated for the kit: the course's own versions, if any, are not copied.
pub const GENERATED: &[&str] = &["README.md", classroom::PATH];

/// Makes the kit from the course's `sources` (already without the instructor-only
/// files) and its `exercises`.
pub fn build(sources: &[Source], exercises: &[Exercise]) -> Result<Kit, Vec<String>> {
    let mut problems = Vec::new();
    let by_file = exercises_by_file(exercises);
    for (file, declared) in &by_file {
        if !sources.iter().any(|s| &s.path == file) {
            problems.push(format!(
                "exercise {} names {}, which is not among the repository's files \
                 (is it ignored by git?)",
                declared.join(", "),
                file.display()
            ));
        }
    }
    let mut files = Vec::new();
    let mut stubs = Vec::new();
    for source in sources {
        if GENERATED.iter().any(|g| source.path == Path::new(g)) {
            continue;
        }
        let bytes = match by_file.get(&source.path) {
            Some(declared) => match stub(source, declared, exercises) {
                Ok((text, regions)) => {
                    stubs.push(Stub {
                        file: source.path.clone(),
                        exercises: declared.clone(),
                        regions,
                    });
                    text.into_bytes()
                }
                Err(problem) => {
                    problems.push(problem.to_string());
                    continue;
                }
            },
            None if source.path == Path::new(".gitignore") => match source.text() {
                Some(text) => student_gitignore(text).into_bytes(),
                None => source.bytes.clone(),
            },
            None => {
                if source.path.starts_with("crates") {
                    problems.extend(stray_markers(source));
                }
                source.bytes.clone()
            }
        };
        files.push(KitFile {
            path: source.path.clone(),
            bytes,
            executable: source.executable,
        });
    }
    if !problems.is_empty() {
        if stubs.is_empty() && !by_file.is_empty() && looks_like_a_kit(&problems) {
            problems.push(
                "(no exercise file has a solution region: is this already a student copy? \
                 The kit is made from the course repository, which holds the solutions.)"
                    .into(),
            );
        }
        return Err(problems);
    }
    let pristine: Vec<KitFile> = files
        .iter()
        .filter(|f| stubs.iter().any(|s| s.file == f.path))
        .map(|f| KitFile {
            path: Path::new(STUBS_DIR).join(&f.path),
            bytes: f.bytes.clone(),
            executable: false,
        })
        .collect();
    files.extend(pristine);
    for (path, text) in [
        ("README.md", readme::render(exercises)),
        (classroom::PATH, classroom::workflow(exercises)),
    ] {
        files.push(KitFile {
            path: PathBuf::from(path),
            bytes: text.into_bytes(),
            executable: false,
        });
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(Kit { files, stubs })
}

/// The course's `.gitignore` without the rule that ignores the progress file (and the
/// comment lines just above it): in the course an instructor's grading stays out of git;
/// in a kit the student's progress is part of their work, committed with it.
pub fn student_gitignore(text: &str) -> String {
    let rule = format!("/{}", crate::grade::PROGRESS_FILE);
    let mut kept: Vec<&str> = Vec::new();
    for line in text.lines() {
        if line.trim() == rule {
            while kept.last().is_some_and(|l| l.trim_start().starts_with('#')) {
                kept.pop();
            }
        } else {
            kept.push(line);
        }
    }
    let mut out = kept.join("\n");
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

/// Exercise files and the ids declared in each (two exercises may share a file).
fn exercises_by_file(exercises: &[Exercise]) -> BTreeMap<PathBuf, Vec<String>> {
    let mut by_file: BTreeMap<PathBuf, Vec<String>> = BTreeMap::new();
    for e in exercises {
        by_file
            .entry(e.file.clone())
            .or_default()
            .push(e.id.clone());
    }
    by_file
}

/// Why an exercise file cannot be stubbed: each message names the file.
#[derive(Debug, thiserror::Error)]
enum StubError {
    #[error("{0}: an exercise file must be UTF-8 text")]
    NotText(String),
    #[error("{file}:{line}: {message}")]
    Marker {
        file: String,
        line: usize,
        message: String,
    },
    #[error(
        "exercise {exercises} has no solution region in {file}: mark the reference solution \
         with `{begin}` ... `{end}`",
        begin = markers::BEGIN,
        end = markers::END
    )]
    NoRegion { exercises: String, file: String },
}

/// The stubbed text of an exercise file and how many regions it had.
fn stub(
    source: &Source,
    declared: &[String],
    exercises: &[Exercise],
) -> Result<(String, usize), StubError> {
    let file = source.path.display().to_string();
    let text = source
        .text()
        .ok_or_else(|| StubError::NotText(file.clone()))?;
    let marker = |e: markers::MarkerError| StubError::Marker {
        file: file.clone(),
        line: e.line,
        message: e.message,
    };
    let regions = markers::regions(text).map_err(marker)?.len();
    if regions == 0 {
        return Err(StubError::NoRegion {
            exercises: declared.join(", "),
            file,
        });
    }
    let message = match declared {
        [one] => {
            let task = exercises
                .iter()
                .find(|e| &e.id == one)
                .map(|e| e.task_line(TODO_TASK_CHARS))
                .unwrap_or_default();
            format!("{one}: {task}")
        }
        // Several exercises in one file: the stub cannot tell which region is whose.
        several => format!("{}: see the tasks in exercises.toml", several.join(", ")),
    };
    let stubbed = markers::strip(text, &message).map_err(marker)?;
    Ok((stubbed, regions))
}

/// Lines in a file no exercise declares that look like markers. Anything a comment
/// mentioning a marker counts, not only exact markers: a misspelt marker around a
/// solution in such a file is just as much a leak.
fn stray_markers(source: &Source) -> Vec<String> {
    let Some(text) = source.text() else {
        return Vec::new();
    };
    text.lines()
        .enumerate()
        .filter(|(_, line)| is_marker_like(line))
        .map(|(i, _)| {
            format!(
                "{}:{}: markers in a file no exercise declares (declare the exercise in \
                 its lesson's exercises.toml, or remove the markers)",
                source.path.display(),
                i + 1
            )
        })
        .collect()
}

/// `// BEGIN SOLUTION`, and comments that mention a marker.
pub fn is_marker_like(line: &str) -> bool {
    let t = line.trim();
    t == markers::BEGIN
        || t == markers::END
        || (t.starts_with("//") && (t.contains("BEGIN SOLUTION") || t.contains("END SOLUTION")))
}

fn looks_like_a_kit(problems: &[String]) -> bool {
    problems
        .iter()
        .all(|p| p.contains("has no solution region"))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{FIXTURE, FIXTURE_LIB, exercises, sources};
    use super::*;

    #[test]
    fn every_region_of_every_exercise_file_becomes_a_todo() {
        let kit = build(&sources(FIXTURE), &exercises()).unwrap();
        let text = |path: &str| {
            let file = kit.files.iter().find(|f| f.path == Path::new(path));
            String::from_utf8(file.unwrap().bytes.clone()).unwrap()
        };
        let first = text("crates/procs/exercises/first/first.rs");
        assert_eq!(
            first
                .matches("todo!(\"procs/first: Add one to a number.\")")
                .count(),
            2,
            "{first}"
        );
        // The nested region keeps its indentation; code around regions is kept.
        assert!(
            first.contains("\n            todo!(\"procs/first:"),
            "{first}"
        );
        assert!(first.contains("if n > 0 {"), "{first}");
        assert!(
            !first.contains("SOLUTION") && !first.contains("n + 1"),
            "{first}"
        );
        let second = text("crates/procs/exercises/second/second.rs");
        assert!(second.contains("todo!(\"procs/second: Double a number.\")"));
        assert_eq!(
            kit.stubs
                .iter()
                .map(|s| (s.exercises.join(","), s.regions))
                .collect::<Vec<_>>(),
            [
                ("procs/first".to_string(), 2),
                ("procs/second".to_string(), 1)
            ]
        );
        // The other files are copied as they are, and the generated ones added.
        assert_eq!(text("crates/procs/src/lib.rs"), FIXTURE_LIB);
        assert!(text("README.md").contains("`procs/second`"));
        assert!(text(".github/workflows/classroom.yml").contains("id: procs-second"));
    }

    #[test]
    fn markers_in_a_file_no_exercise_declares_are_refused_with_file_and_line() {
        let mut files = sources(FIXTURE);
        files.push(Source {
            path: "crates/procs/src/other.rs".into(),
            bytes: b"fn f() {\n    // BEGIN SOLUTION\n    1\n    // END SOLUTION\n}\n".to_vec(),
            executable: false,
        });
        // Outside crates/ (xtask's own docs and tests talk about markers) it is fine.
        files.push(Source {
            path: "xtask/src/notes.rs".into(),
            bytes: b"// BEGIN SOLUTION\n".to_vec(),
            executable: false,
        });
        let problems = build(&files, &exercises()).unwrap_err();
        assert_eq!(
            problems.len(),
            2,
            "one problem per marker line: {problems:?}"
        );
        assert!(
            problems[0]
                .starts_with("crates/procs/src/other.rs:2: markers in a file no exercise declares"),
            "{problems:?}"
        );
        assert!(problems[1].starts_with("crates/procs/src/other.rs:4:"));
    }

    #[test]
    fn an_exercise_file_without_regions_is_refused() {
        let files: Vec<Source> = sources(FIXTURE)
            .into_iter()
            .map(|mut s| {
                if s.path.ends_with("second.rs") {
                    s.bytes = b"pub fn double(n: u32) -> u32 {\n    n * 2\n}\n".to_vec();
                }
                s
            })
            .collect();
        let problems = build(&files, &exercises()).unwrap_err();
        assert_eq!(
            problems,
            [format!(
                "exercise procs/second has no solution region in \
                 crates/procs/exercises/second/second.rs: mark the reference solution with \
                 `{}` ... `{}`",
                markers::BEGIN,
                markers::END
            )]
        );
    }

    #[test]
    fn unbalanced_markers_are_refused_with_file_and_line() {
        let files: Vec<Source> = sources(FIXTURE)
            .into_iter()
            .map(|mut s| {
                if s.path.ends_with("second.rs") {
                    let text = String::from_utf8(s.bytes).unwrap();
                    s.bytes = text.replacen("    // END SOLUTION\n", "", 1).into_bytes();
                }
                s
            })
            .collect();
        let problems = build(&files, &exercises()).unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with(
                "crates/procs/exercises/second/second.rs:2: BEGIN SOLUTION is never closed"
            ),
            "{problems:?}"
        );
    }

    #[test]
    fn a_kit_commits_the_progress_file_the_course_ignores() {
        let course = "/target\n# the progress file\n# two lines of why\n/progress.toml\n/x\n";
        assert_eq!(student_gitignore(course), "/target\n/x\n");
        // The course's own .gitignore ignores it: an instructor's grade stays out of git.
        let root = crate::workspace::root();
        let ours = std::fs::read_to_string(root.join(".gitignore")).unwrap();
        assert!(ours.lines().any(|l| l == "/progress.toml"), "{ours}");
        assert!(!student_gitignore(&ours).contains("progress.toml"));
    }

    #[test]
    fn a_student_copy_is_recognised() {
        let kit = build(&sources(FIXTURE), &exercises()).unwrap();
        let copy: Vec<Source> = kit
            .files
            .iter()
            .map(|f| Source {
                path: f.path.clone(),
                bytes: f.bytes.clone(),
                executable: false,
            })
            .collect();
        let problems = build(&copy, &exercises()).unwrap_err();
        assert!(problems.last().unwrap().contains("already a student copy"));
    }
}
