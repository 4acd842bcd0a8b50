//! The leak check: no line of a reference solution may reach the student's copy.
//!
//! Stripping is simple, but "simple" is not proof. This check looks at the result, not
//! at the stripper: it takes every line of every solution region (trimmed) and searches
//! the kit for it. Two rules keep it from crying wolf:
//!
//! - Short lines (`}`, `Ok(())`, `loop {`) are in every program; only lines of at least
//!   `MIN_CHARS` characters are specific enough to mean "this is the solution".
//! - A solution line that the course also shows *outside* any solution region (in the
//!   lesson's code, an example, the book) is public already: the student is meant to see
//!   it, so finding it in the kit means nothing.
//!
//! What remains is secret, and any occurrence in the kit is reported with the kit file,
//! the line and the exercise it gives away. Lines that still look like markers under
//! `crates/` are reported too: whatever they surround was not stripped.
//!
//! The second rule has a price worth knowing: a solution pasted into the book (or any
//! other file of the course) has made itself public, and this check cannot tell that
//! from a line the lesson shares on purpose. It catches a stripper that leaves lines
//! behind and generated files that carry solution text; the review of the course catches
//! the rest.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use crate::markers;
use crate::registry::Exercise;

use super::files::Source;
use super::plan::is_marker_like;

/// A solution line shorter than this (trimmed) is too common to be a secret.
pub const MIN_CHARS: usize = 15;

/// The secret lines: trimmed solution line -> the exercises whose solution holds it.
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    lines: BTreeMap<String, BTreeSet<String>>,
}

impl Secrets {
    /// How many lines are secret.
    pub fn count(&self) -> usize {
        self.lines.len()
    }
}

/// A line of the kit that should not be there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leak {
    /// Relative to the kit's root.
    pub file: PathBuf,
    pub line: usize,
    /// What it gives away: "a line of procs/capture's solution", "a solution marker".
    pub what: String,
    pub text: String,
}

impl fmt::Display for Leak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}: `{}`",
            self.file.display(),
            self.line,
            self.what,
            self.text
        )
    }
}

/// The secret lines of the course: from `sources` (the course's files that go into the
/// kit, with their solutions) and the exercises declaring which files hold solutions.
pub fn secrets(sources: &[Source], exercises: &[Exercise]) -> Secrets {
    let mut secret: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut public: BTreeSet<&str> = BTreeSet::new();
    for source in sources {
        let Some(text) = source.text() else { continue };
        let owners: Vec<&Exercise> = exercises.iter().filter(|e| e.file == source.path).collect();
        // Which lines are inside a region (1-based, markers included). A malformed
        // file was refused when the kit was planned; here it only means "no regions
        // known", and every line of it counts as public.
        let mut inside = BTreeSet::new();
        if !owners.is_empty() {
            for region in markers::regions(text).unwrap_or_default() {
                inside.extend(region.begin..=region.end);
            }
            for line in markers::solution_lines(text).unwrap_or_default() {
                let trimmed = line.trim();
                if trimmed.chars().count() >= MIN_CHARS && !is_marker_like(trimmed) {
                    let ids = secret.entry(trimmed.to_string()).or_default();
                    ids.extend(owners.iter().map(|e| e.id.clone()));
                }
            }
        }
        let outside = text
            .lines()
            .enumerate()
            .filter(|(i, _)| !inside.contains(&(i + 1)));
        public.extend(outside.map(|(_, line)| line.trim()));
    }
    secret.retain(|line, _| !public.contains(line.as_str()));
    Secrets { lines: secret }
}

/// Every leak in `files` (kit-relative path, contents).
pub fn find<'a>(
    secrets: &Secrets,
    files: impl IntoIterator<Item = (&'a Path, &'a [u8])>,
) -> Vec<Leak> {
    let mut leaks = Vec::new();
    for (path, bytes) in files {
        // Lossy: a leak inside a file that is not quite UTF-8 is still a leak.
        let text = String::from_utf8_lossy(bytes);
        let in_crates = path.starts_with("crates");
        for (i, line) in text.lines().enumerate() {
            let trimmed = line.trim();
            let what = if let Some(ids) = secrets.lines.get(trimmed) {
                let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
                format!("a line of {}'s solution", ids.join(" and "))
            } else if in_crates && is_marker_like(trimmed) {
                "a solution marker left in the kit".to_string()
            } else {
                continue;
            };
            leaks.push(Leak {
                file: path.to_path_buf(),
                line: i + 1,
                what,
                text: trimmed.to_string(),
            });
        }
    }
    leaks
}

#[cfg(test)]
mod tests {
    use super::super::plan;
    use super::super::tests::{FIXTURE, exercises, sources};
    use super::*;

    #[test]
    fn solution_lines_are_secret_unless_the_course_shows_them_elsewhere() {
        let secrets = secrets(&sources(FIXTURE), &exercises());
        let lines: Vec<&str> = secrets.lines.keys().map(String::as_str).collect();
        // `let doubled = n.wrapping_mul(2);` is also in lib.rs's helper: public.
        assert_eq!(
            lines,
            [
                "let incremented = n.checked_add(1);",
                "return incremented.unwrap_or(n);"
            ],
            "{lines:?}"
        );
    }

    #[test]
    fn a_copied_solution_line_is_caught_and_a_public_one_is_not() {
        let sources = sources(FIXTURE);
        let secrets = secrets(&sources, &exercises());
        let kit = plan::build(&sources, &exercises()).unwrap();
        let mut files: Vec<(PathBuf, Vec<u8>)> = kit
            .files
            .iter()
            .map(|f| (f.path.clone(), f.bytes.clone()))
            .collect();
        let clean = |files: &[(PathBuf, Vec<u8>)]| {
            find(
                &secrets,
                files.iter().map(|(p, b)| (p.as_path(), b.as_slice())),
            )
        };
        assert_eq!(clean(&files), [], "the stripped kit leaks nothing");
        // A kit file that carries a solution line (a stripping bug, a generated file
        // quoting a solution), and a marker left in a crate.
        files.push((
            "docs/src/notes.md".into(),
            b"Look:\n\n    let incremented = n.checked_add(1);\n    let doubled = n.wrapping_mul(2);\n"
                .to_vec(),
        ));
        files.push((
            "crates/procs/src/late.rs".into(),
            b"fn f() {\n    // END SOLUTION\n}\n".to_vec(),
        ));
        let leaks: Vec<String> = clean(&files).iter().map(Leak::to_string).collect();
        assert_eq!(
            leaks,
            [
                "docs/src/notes.md:3: a line of procs/first's solution: \
                 `let incremented = n.checked_add(1);`",
                "crates/procs/src/late.rs:2: a solution marker left in the kit: `// END SOLUTION`",
            ]
        );
    }
}
