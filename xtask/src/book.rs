//! `cargo xtask book --record`: one recorded run behind every figure in the book; and
//! `cargo xtask book`: the book rendered to HTML (see [`render`]).
//!
//! The book shows what the tours print, and its prose quotes what they measured. Both
//! come from one run, recorded here: every lesson's tour in full (release build, no
//! `--quick`), one after another, each writing into `docs/src/record/`:
//!
//! - `<lesson>.txt`: what the tour printed, host line first; chapters include it;
//! - `<lesson>.json`: its report, every figure and claim (`cargo xtask claims
//!   --falsify` decides the claims again on these figures; the docs check compares
//!   the prose's marked numbers with them);
//! - what a tour adds for the book (lesson 5: the race's table and chart).
//!
//! Then every number in the prose that is marked with where it comes from
//! (`<!-- fig LESSON/ID/FIGURE -->`, see `figures`) is rewritten to the new value, and
//! the book is checked. Run it on a quiet machine: a busy one records noisy figures (the
//! host line of each output says how busy the cores were).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use crate::error::Error;
use crate::format::{duration, tail};
use crate::lessons::LESSONS;
use crate::progress::{Progress, StepKind};
use crate::{docs_check, figures, workspace};

/// Where a quick run records: its figures are too rough for the book.
const QUICK_DIR: &str = "target/record";

/// The entry point: records into the book, or with `quick` into `target/record`.
pub fn record(quick: bool) -> ExitCode {
    let root = workspace::root();
    let dir = if quick {
        root.join(QUICK_DIR)
    } else {
        root.join("docs").join("src").join(figures::RECORD_DIR)
    };
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("error: cannot create {}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    let mut progress = Progress::new();
    let mut failures = Vec::new();
    for lesson in LESSONS.iter().filter(|l| l.is_written(&root)) {
        if let Err(e) = record_lesson(&root, lesson.name, &dir, quick, &mut progress) {
            failures.push(format!("{}: {e}", lesson.name));
        }
    }
    if !quick {
        match refresh_prose(&root, &dir) {
            Ok(changed) => progress.line(
                "book · prose",
                &format!("{changed} marked figure(s) rewritten to the recorded values"),
            ),
            Err(e) => failures.push(format!("the prose: {e}")),
        }
        let check = docs_check::check(&root.join("docs"), &root);
        for problem in &check.problems {
            println!("{problem}");
        }
        if !check.passed() {
            failures.push(format!(
                "the book check found {} problem(s) (listed above)",
                check.problems.len()
            ));
        }
    }
    println!("\nrecorded into {}", dir.display());
    if failures.is_empty() {
        println!("book --record: ok");
        ExitCode::SUCCESS
    } else {
        for f in &failures {
            println!("error: {f}");
        }
        println!(
            "book --record: FAILED (what was recorded is kept; a failed claim is part of an \
             honest record, but look at it)"
        );
        ExitCode::FAILURE
    }
}

/// Runs one lesson's tour with `--record DIR`, its text output saved beside the report.
fn record_lesson(
    root: &Path,
    lesson: &str,
    dir: &Path,
    quick: bool,
    progress: &mut Progress,
) -> Result<(), Error> {
    let scope = format!("book · {lesson}");
    let dir_arg = dir.to_string_lossy().into_owned();
    let mut args = vec!["run", "--release", "-p", lesson, "--", "--record", &dir_arg];
    if quick {
        args.push("--quick");
    }
    let mut command = Command::new(workspace::cargo());
    command.args(&args).current_dir(root);
    let out = crate::run::stream(progress, &scope, StepKind::Tour, &mut command)
        .map_err(Error::spawn("cargo"))?;
    let text_path = dir.join(format!("{lesson}.txt"));
    std::fs::write(&text_path, &out.stdout).map_err(Error::write(&text_path))?;
    let report = dir.join(format!("{lesson}.json"));
    if !report.is_file() {
        return Err(Error::answer(
            format!("the tour of {lesson}"),
            format!(
                "it wrote no {} ({}); the end of its output:\n{}",
                report.display(),
                out.status_text(),
                tail(&out.combined.join("\n"), 20)
            ),
        ));
    }
    progress.line(
        &scope,
        &format!(
            "recorded {} and {} ({})",
            text_path.display(),
            report.display(),
            duration(out.seconds)
        ),
    );
    if out.success() {
        Ok(())
    } else {
        Err(Error::answer(
            format!("the tour of {lesson}"),
            format!("it ended with {}", out.status_text()),
        ))
    }
}

/// Rewrites the marked numbers of every page to the recorded values.
fn refresh_prose(root: &Path, record: &Path) -> Result<usize, Error> {
    let records = figures::Records::load(record)?;
    let mut changed = 0;
    for page in pages(&root.join("docs").join("src")) {
        let text = std::fs::read_to_string(&page).map_err(Error::read(&page))?;
        let (new, n) = figures::refresh_page(&text, &records);
        if n > 0 {
            std::fs::write(&page, new).map_err(Error::write(&page))?;
            changed += n;
        }
    }
    Ok(changed)
}

fn pages(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(pages(&path));
        } else if path.extension().is_some_and(|e| e == "md") {
            found.push(path);
        }
    }
    found.sort();
    found
}

/// What to tell someone who has no mdBook: the book reads fine without it, and how to
/// get it.
const NO_MDBOOK: &str = "mdBook is not installed, so the book cannot be rendered to \
HTML. Install it with\n  cargo install --locked mdbook\nand run `cargo xtask book` \
again. Nothing else needs it: the chapters in docs/src are Markdown that reads fine as \
it is, and `cargo xtask docs-check` checks them.";

/// `cargo xtask book`: checks the book, then renders it with mdBook into
/// `target/book`. mdBook is the one tool of the course that is not installed by cargo
/// on its own, so its absence is reported with how to install it, not as a failure of
/// the book.
pub fn render() -> ExitCode {
    let root = crate::workspace::root();
    let check = crate::docs_check::check(&root.join("docs"), &root);
    if !check.passed() {
        for problem in &check.problems {
            eprintln!("error: {problem}");
        }
        eprintln!("the book has problems (above); fix them before rendering it");
        return ExitCode::FAILURE;
    }
    let out = root.join("target").join("book");
    match render_with("mdbook", &root.join("docs"), &out) {
        Ok(()) => {
            println!(
                "book: {} checked; rendered into {} (open index.html)",
                check.counts(),
                out.display()
            );
            ExitCode::SUCCESS
        }
        Err(RenderError::NotInstalled) => {
            eprintln!("{NO_MDBOOK}");
            crate::cli::Exit::Usage.into()
        }
        Err(RenderError::Failed(why)) => {
            eprintln!("error: mdBook could not render the book: {why}");
            ExitCode::FAILURE
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum RenderError {
    /// No `mdbook` program on the PATH.
    NotInstalled,
    /// It ran and failed; the end of what it said.
    Failed(String),
}

/// Runs `mdbook build BOOK --dest-dir OUT` with the program `mdbook`.
fn render_with(mdbook: &str, book: &Path, out: &Path) -> Result<(), RenderError> {
    let result = Command::new(mdbook)
        .arg("build")
        .arg(book)
        .arg("--dest-dir")
        .arg(out)
        .output();
    match result {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(RenderError::NotInstalled),
        Err(e) => Err(RenderError::Failed(format!("cannot start {mdbook}: {e}"))),
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => Err(RenderError::Failed(format!(
            "{}; it said:\n{}",
            o.status,
            tail(&String::from_utf8_lossy(&o.stderr), 20)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_mdbook_is_named_with_how_to_install_it() {
        let none = render_with(
            "mdbook-that-is-not-installed-anywhere",
            Path::new("docs"),
            Path::new("/nonexistent"),
        );
        assert_eq!(none, Err(RenderError::NotInstalled));
        assert!(NO_MDBOOK.contains("cargo install --locked mdbook"));
    }

    #[test]
    fn a_failing_mdbook_says_what_it_said() {
        // `false` stands for an mdBook that fails.
        let failed = render_with("false", Path::new("docs"), Path::new("/nonexistent"));
        assert!(matches!(failed, Err(RenderError::Failed(why)) if why.contains("exit status: 1")));
    }
}
