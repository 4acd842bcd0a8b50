//! `cargo xtask kit`: the student repository, and the proof that it works.
//!
//! The course keeps its reference solutions in the real source, between
//! `// BEGIN SOLUTION` and `// END SOLUTION`, so they are compiled and tested like the
//! rest and cannot rot. Students get a copy without them: `kit --out DIR` writes it,
//! with each solution replaced by `todo!("<id>: <task>")`, a README for students and
//! instructors, and a GitHub Classroom workflow generated from the registry. `kit
//! --verify` proves such a copy is worth handing out: it builds warning-free, no
//! solution leaks into it, every graded test fails on the stubs (a test that passes on
//! `todo!()` cannot tell a solution from none), and every graded test passes on the
//! reference solutions.
//!
//! The pieces, in the order a kit is made:
//!
//! - `files`: which files the course has (as git sees them), and writing them out safely;
//! - `plan`: the kit in memory: stubs, marker checks, the generated files;
//! - `readme` and `classroom`: the two generated files;
//! - `leak`: the check that no solution line reached the kit;
//! - `verify`: building and grading the kit and the course to prove it all; `verdict`:
//!   its verdict per exercise, and the table.

mod classroom;
mod files;
mod leak;
mod mutants;
mod plan;
mod readme;
mod verdict;
mod verify;

pub use plan::STUBS_DIR;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::cli::KitOptions;
use crate::registry::{self, Exercise};
use crate::workspace;

use files::Source;
use plan::Stub;

/// The course's files that are for instructors only and never go into the kit. One
/// entry per line: a path ending in `/` is a folder and everything in it, any other is
/// one file (relative to the workspace root).
///
/// - `.ci/`: the course's own CI entry point: it runs `kit --verify`, which needs the
///   solutions, and would fail on every stub;
/// - `.github/workflows/ci.yml`: the same CI on GitHub; the kit gets the autograding
///   workflow instead (`classroom.yml`, generated);
/// - `crates/*/mutants/`: each lesson's wrong solutions, which `kit --verify` grades to
///   prove the tests reject them; they are nearly solutions, so they stay with the course.
///
/// A `*` stands for any one path component. The course's `README.md` is not listed: it
/// is replaced, not dropped (`plan::GENERATED`).
pub const INSTRUCTOR_ONLY: &[&str] = &[".ci/", ".github/workflows/ci.yml", "crates/*/mutants/"];

/// True when `path` (relative to the root) is listed in `INSTRUCTOR_ONLY`.
pub fn is_instructor_only(path: &Path) -> bool {
    INSTRUCTOR_ONLY.iter().any(|entry| {
        let (pattern, folder) = match entry.strip_suffix('/') {
            Some(folder) => (folder, true),
            None => (*entry, false),
        };
        let pattern: Vec<&str> = pattern.split('/').collect();
        let parts: Vec<_> = path.components().map(|c| c.as_os_str()).collect();
        let long_enough = if folder {
            parts.len() > pattern.len()
        } else {
            parts.len() == pattern.len()
        };
        long_enough
            && pattern
                .iter()
                .zip(&parts)
                .all(|(want, have)| *want == "*" || std::ffi::OsStr::new(want) == *have)
    })
}

/// The entry point of `cargo xtask kit`.
pub fn main(options: &KitOptions) -> ExitCode {
    let root = workspace::root();
    match options {
        KitOptions::Out(dir) => write_to(&root, dir),
        KitOptions::Verify(options) => verify::run(&root, options),
    }
}

/// What writing a kit did.
#[derive(Debug)]
pub struct Written {
    pub files: usize,
    pub stubs: Vec<Stub>,
    /// The instructor-only files that were left out.
    pub left_out: Vec<PathBuf>,
    pub exercises: Vec<Exercise>,
    /// The secret solution lines, for checking the kit again once it is on disk.
    pub secrets: leak::Secrets,
}

/// Makes the kit of the course at `root` and writes it into `out` (new or empty): reads
/// the registry and the files, plans the kit, checks the plan for leaks, then writes.
/// Nothing is written unless every check passed.
pub fn write_kit(root: &Path, out: &Path) -> Result<Written, Vec<String>> {
    let exercises = registry::load(root)
        .map_err(|problems| problems.iter().map(|p| p.to_string()).collect::<Vec<_>>())?;
    let listed = files::list(root).map_err(|e| vec![e.to_string()])?;
    let (left_out, kept): (Vec<PathBuf>, Vec<PathBuf>) =
        listed.into_iter().partition(|p| is_instructor_only(p));
    let sources: Vec<Source> = files::read(root, &kept)?;
    let kit = plan::build(&sources, &exercises)?;
    let secrets = leak::secrets(&sources, &exercises);
    let leaks = leak::find(
        &secrets,
        kit.files
            .iter()
            .map(|f| (f.path.as_path(), f.bytes.as_slice())),
    );
    if !leaks.is_empty() {
        return Err(leaks.iter().map(|l| l.to_string()).collect());
    }
    let written = files::write(out, kit.out_files()).map_err(|e| {
        vec![format!(
            "{e}\n(the kit in {} is incomplete: remove it and try again)",
            out.display()
        )]
    })?;
    Ok(Written {
        files: written,
        stubs: kit.stubs,
        left_out,
        exercises,
        secrets,
    })
}

/// `kit --out DIR`.
fn write_to(root: &Path, out: &Path) -> ExitCode {
    if let Err(e) = files::check_out_dir(root, out) {
        eprintln!("error: {e}");
        return crate::cli::Exit::Usage.into();
    }
    match write_kit(root, out) {
        Ok(written) => {
            println!("{}", describe(&written, out));
            println!("{}", next_steps(out));
            ExitCode::SUCCESS
        }
        Err(problems) => {
            eprintln!("error: the kit was not written, because:");
            for problem in &problems {
                eprintln!("  {problem}");
            }
            ExitCode::FAILURE
        }
    }
}

/// What was written, for a person: counts, the stubbed exercises, what was left out.
pub fn describe(written: &Written, out: &Path) -> String {
    let regions: usize = written.stubs.iter().map(|s| s.regions).sum();
    let points: u32 = written.exercises.iter().map(|e| e.points).sum();
    let mut text = format!(
        "kit: wrote {} files to {}\n  \
         stubbed {} exercises ({regions} solution regions, each now todo!()):\n",
        written.files,
        out.display(),
        written.exercises.len()
    );
    for stub in &written.stubs {
        text.push_str(&format!(
            "    {:<20} {}\n",
            stub.exercises.join(", "),
            stub.file.display()
        ));
    }
    text.push_str(&format!(
        "  generated README.md (for students and instructors) and {} \
         ({} graded steps, {points} points)\n",
        classroom::PATH,
        written.exercises.len()
    ));
    // The mutants are many small files: counted, not listed.
    let is_mutant = |p: &&PathBuf| {
        p.components()
            .nth(2)
            .is_some_and(|c| c.as_os_str() == "mutants")
    };
    let mutants = written.left_out.iter().filter(is_mutant).count();
    let mut left_out: Vec<String> = written
        .left_out
        .iter()
        .filter(|p| !is_mutant(p))
        .map(|p| p.display().to_string())
        .collect();
    if mutants > 0 {
        left_out.push(format!("{mutants} mutant files (crates/*/mutants/)"));
    }
    text.push_str(&format!(
        "  left out (instructor-only): {}",
        if left_out.is_empty() {
            "nothing".to_string()
        } else {
            left_out.join(", ")
        }
    ));
    text
}

fn next_steps(out: &Path) -> String {
    let dir = out.display();
    [
        "\nNext steps:".to_string(),
        format!("  1. cd {dir} && cargo build"),
        "     the stubs build as they are;".to_string(),
        "  2. here, in the course: cargo xtask kit --verify".to_string(),
        "     proves that every graded test fails on the stubs and passes on the solutions;"
            .to_string(),
        format!("  3. cd {dir} && git init -b main && git add . && git commit -m \"Course kit\""),
        "     then push it, mark it as a template repository, and create the GitHub".to_string(),
        format!("     Classroom assignment from it: see \"For instructors\" in {dir}/README.md"),
    ]
    .join("\n")
}

#[cfg(test)]
pub(crate) mod tests {
    //! A small course to make kits from: lesson `procs` with two exercises, one file
    //! with two regions (one nested in blocks), and the files a kit must leave out.

    use super::*;
    use crate::lessons::LESSONS;

    pub const FIXTURE_LIB: &str = "\
/// A helper the lesson shows: its line also appears in a solution, so it is public.
pub fn helper(n: u32) -> u32 {
    let doubled = n.wrapping_mul(2);
    doubled
}
";

    pub const FIXTURE: &[(&str, &str)] = &[
        (
            "Cargo.toml",
            "[workspace]\nmembers = [\"crates/*\", \"crates/*/exercises/*\"]\nresolver = \"3\"\n",
        ),
        ("README.md", "# The course (with solutions)\n"),
        (".ci/run", "#!/bin/sh\ncargo xtask kit --verify\n"),
        (".github/workflows/ci.yml", "name: ci\n"),
        // xtask talks about markers in its docs: outside crates/, that is allowed.
        ("xtask/src/notes.rs", "//! Mark with `// BEGIN SOLUTION`.\n"),
        (
            "crates/procs/Cargo.toml",
            "[package]\nname = \"procs\"\nversion = \"0.1.0\"\nedition = \"2024\"\n",
        ),
        ("crates/procs/src/lib.rs", FIXTURE_LIB),
        (
            "crates/procs/exercises/first/Cargo.toml",
            "[package]\nname = \"procs-first\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\
             [lib]\npath = \"first.rs\"\n[dependencies]\nprocs = { path = \"../..\" }\n",
        ),
        (
            "crates/procs/exercises/second/Cargo.toml",
            "[package]\nname = \"procs-second\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\
             [lib]\npath = \"second.rs\"\n[dependencies]\nprocs = { path = \"../..\" }\n",
        ),
        (
            "crates/procs/exercises/first/first.rs",
            "\
/// Adds one, saturating.
pub fn add_one(n: u32) -> u32 {
    // BEGIN SOLUTION
    let incremented = n.checked_add(1);
    return incremented.unwrap_or(n);
    // END SOLUTION
}

/// Adds one to a positive number.
pub fn add_one_if_positive(n: u32) -> u32 {
    if n > 0 {
        {
            // BEGIN SOLUTION
            n + 1
            // END SOLUTION
        }
    } else {
        n
    }
}
",
        ),
        (
            "crates/procs/exercises/second/second.rs",
            "\
pub fn double(n: u32) -> u32 {
    // BEGIN SOLUTION
    let doubled = n.wrapping_mul(2);
    doubled
    // END SOLUTION
}
",
        ),
        (
            "crates/procs/exercises/first/tests/exercise_first.rs",
            "#[test]\nfn adds() { assert_eq!(procs_first::add_one(1), 2); }\n",
        ),
        (
            "crates/procs/exercises/second/tests/exercise_second.rs",
            "#[test]\nfn doubles() { assert_eq!(procs_second::double(2), 4); }\n",
        ),
        (
            "crates/procs/exercises.toml",
            r#"[[exercise]]
id = "procs/first"
title = "Add one"
points = 10
file = "exercises/first/first.rs"
test = "exercise_first"
task = "Add one to a number. Saturate at the top."
hints = ["checked_add.", "unwrap_or(n)."]

[[exercise]]
id = "procs/second"
title = "Double"
points = 15
file = "exercises/second/second.rs"
test = "exercise_second"
task = "Double a number."
hints = ["Multiply.", "wrapping_mul(2)."]
"#,
        ),
    ];

    /// The fixture's files in memory, as `files::read` would give them, minus the
    /// instructor-only ones (as `write_kit` does).
    pub fn sources(fixture: &[(&str, &str)]) -> Vec<Source> {
        fixture
            .iter()
            .filter(|(path, _)| !is_instructor_only(Path::new(path)))
            .map(|(path, text)| Source {
                path: PathBuf::from(path),
                bytes: text.as_bytes().to_vec(),
                executable: false,
            })
            .collect()
    }

    /// The fixture's exercises, as the registry would load them.
    pub fn exercises() -> Vec<Exercise> {
        let make = |name: &str, points, task: &str| Exercise {
            lesson: &LESSONS[0],
            id: format!("procs/{name}"),
            title: name.to_string(),
            points,
            file: format!("crates/procs/exercises/{name}/{name}.rs").into(),
            test: format!("exercise_{name}"),
            task: task.to_string(),
            hints: vec!["h".to_string()],
            declared_at: "crates/procs/exercises.toml:1".to_string(),
            mutants: Vec::new(),
        };
        vec![
            make("first", 10, "Add one to a number. Saturate at the top."),
            make("second", 15, "Double a number."),
        ]
    }

    /// The fixture written into a fresh temporary folder (not a git repository, so
    /// the kit's file list comes from walking it).
    fn fixture_on_disk(name: &str) -> PathBuf {
        let root = std::env::temp_dir().join(format!("xtask-kit-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for (path, text) in FIXTURE {
            let file = root.join(path);
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(file, text).unwrap();
        }
        root
    }

    #[test]
    fn instructor_only_paths_are_matched_by_folder_or_exact_file() {
        assert!(is_instructor_only(Path::new(".ci/run")));
        assert!(is_instructor_only(Path::new(".github/workflows/ci.yml")));
        assert!(!is_instructor_only(Path::new(
            ".github/workflows/classroom.yml"
        )));
        assert!(!is_instructor_only(Path::new(".cinema/x")));
        assert!(!is_instructor_only(Path::new(".ci")));
        assert!(is_instructor_only(Path::new(
            "crates/procs/mutants/capture/no_cloexec.rs"
        )));
        assert!(!is_instructor_only(Path::new(
            "crates/procs/src/mutants.rs"
        )));
        assert!(!is_instructor_only(Path::new("crates/mutants/x.rs")));
        assert!(!is_instructor_only(Path::new("crates/procs/src/lib.rs")));
    }

    #[test]
    fn a_kit_is_written_from_a_course_on_disk() {
        let root = fixture_on_disk("write");
        let out = root.with_extension("out");
        let _ = std::fs::remove_dir_all(&out);
        // The registry is the real one, read from the fixture's exercises.toml.
        let loaded = registry::load(&root).unwrap();
        let declared: Vec<(&str, u32)> = loaded.iter().map(|e| (e.id.as_str(), e.points)).collect();
        assert_eq!(declared, [("procs/first", 10), ("procs/second", 15)]);
        let written = write_kit(&root, &out).unwrap();
        assert_eq!(
            written.left_out,
            [
                PathBuf::from(".ci/run"),
                PathBuf::from(".github/workflows/ci.yml")
            ]
        );
        assert!(!out.join(".ci").exists());
        assert!(!out.join(".github/workflows/ci.yml").exists());
        let read = |path: &str| std::fs::read_to_string(out.join(path)).unwrap();
        assert!(read("README.md").contains("## For instructors: GitHub Classroom setup"));
        assert!(read(".github/workflows/classroom.yml").contains("max-score: 15"));
        assert!(read("crates/procs/exercises/second/second.rs").contains("todo!("));
        assert_eq!(read("crates/procs/src/lib.rs"), FIXTURE_LIB);
        assert_eq!(read("xtask/src/notes.rs"), FIXTURE[4].1);
        // 14 fixture files - 2 instructor-only, the README replaced, classroom.yml added,
        // and a pristine copy of each of the 2 stubbed files for `cargo xtask reset`.
        assert_eq!(written.files, 15);
        assert_eq!(
            read("xtask/stubs/crates/procs/exercises/second/second.rs"),
            read("crates/procs/exercises/second/second.rs")
        );
        let text = describe(&written, &out);
        assert!(text.contains("wrote 15 files"), "{text}");
        assert!(
            text.contains("stubbed 2 exercises (3 solution regions"),
            "{text}"
        );
        // What is on disk passes the leak check too.
        let on_disk = files::walk(&out).unwrap();
        let contents: Vec<(PathBuf, Vec<u8>)> = on_disk
            .iter()
            .map(|p| (p.clone(), std::fs::read(out.join(p)).unwrap()))
            .collect();
        let leaks = leak::find(
            &written.secrets,
            contents.iter().map(|(p, b)| (p.as_path(), b.as_slice())),
        );
        assert_eq!(leaks, []);
        // A second kit into the same (now full) folder is refused.
        assert!(files::check_out_dir(&root, &out).is_err());
        std::fs::remove_dir_all(root).unwrap();
        std::fs::remove_dir_all(out).unwrap();
    }
}
