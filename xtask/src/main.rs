//! `cargo xtask`: the course's own tooling, written in Rust like the course.
//!
//! The "xtask" pattern: instead of shell scripts or a Makefile, the repository's chores
//! are a small Rust program in the workspace, run with `cargo xtask <verb>` (an alias in
//! `.cargo/config.toml`). It works wherever cargo works, and a learner can read it.
//!
//! - `run-all`: check the book, then test every written lesson and run its tour.
//! - `lesson <name>`: the same for one lesson.
//! - `docs-check`: the book's includes resolve, its pictures exist and are up to date.
//! - `diagrams`: the book's pictures rendered from their text sources.
//! - `grade`, `list`, `hint`, `next`, `reset`, `watch`: the learner's side: points for
//!   the exercises.
//! - `kit`: the student repository, and the proof that every exercise is a real test.
//! - `bench`: lesson 5's race of engines (into target/bench); `bench --peers` runs the
//!   benchmark against nginx, wrk and aiohttp (the `peers` package in `xtask/peers`).
//! - `claims --falsify`: every claim decided on its wrong world, which must fail it.
//! - `mutants`: cargo-mutants over the exercises' solutions; `--check` its reports.
//! - `book`: the book rendered; `book --record`: every tour in full, recorded for the
//!   book's outputs and figures.
//!
//! How the pieces fit: `cli` decides what to do; `run` does it, using `child` to run
//! cargo with live `progress`, `cargo_test` and `tour_report` to read what came back;
//! `summary` reports. `lessons` is the one list of lessons; `docs_check` the book check,
//! `diagrams` the book's pictures.
//! `registry` reads the exercises (`exercises.toml`), `markers` the solution regions;
//! `grade` runs and scores the graded tests (each test a process of its own, run with a
//! time limit by `test_process`), `kit` writes and verifies the student copy,
//! `learner` prints `list` and `hint`, and `watch` re-grades on change.

mod bench;
mod book;
mod cargo_mutants;
mod cargo_test;
mod child;
#[cfg(test)]
mod circles;
mod claims;
mod cli;
mod diagrams;
mod docs_check;
mod error;
mod figures;
mod fnv;
mod format;
mod grade;
mod kit;
mod learner;
mod lessons;
mod links;
mod listings;
mod markers;
mod pace;
mod progress;
mod registry;
mod run;
mod signals;
mod summary;
mod test_process;
mod tour_report;
mod watch;
mod workspace;
mod xml;

use std::process::ExitCode;

use cli::{Exit, RunOptions, Verb};
use lessons::{LESSONS, Lesson};

fn main() -> ExitCode {
    // First, before any thread starts: Ctrl-C kills the tests still running.
    signals::watch();
    let verb = match cli::parse(std::env::args_os()) {
        Ok(verb) => verb,
        // --help, --version (exit 0), or a usage error (exit 2), printed by clap.
        Err(e) => e.exit(),
    };
    match verb {
        Verb::RunAll(options) => {
            let all: Vec<&'static Lesson> = LESSONS.iter().collect();
            run_lessons(&all, &options, true)
        }
        Verb::Lesson(lesson, options) => {
            let root = workspace::root();
            if !lesson.is_written(&root) {
                eprintln!(
                    "error: lesson {} `{}` ({}) is not written yet: {} does not exist",
                    lesson.number,
                    lesson.name,
                    lesson.title,
                    lesson.manifest()
                );
                return Exit::Usage.into();
            }
            run_lessons(&[lesson], &options, false)
        }
        Verb::DocsCheck => docs_check(),
        Verb::Diagrams => diagrams::main(),
        Verb::Grade(options) => grade::main(&options),
        Verb::Kit(options) => kit::main(&options),
        Verb::List => learner::list(),
        Verb::Next => learner::next(),
        Verb::Reset { id, yes } => learner::reset(&id, yes),
        Verb::Hint { id, ask } => learner::hint(&id, ask),
        Verb::Watch(options) => watch::main(&options),
        Verb::Bench { options, peers } => bench::main(&options, peers),
        Verb::ClaimsFalsify => claims::falsify(),
        Verb::Mutants(options) => cargo_mutants::main(&options),
        Verb::BookRecord { quick } => book::record(quick),
        Verb::BookRender => book::render(),
    }
}

/// Runs the lessons, prints the summary and failures, writes the JSON if asked.
fn run_lessons(lessons: &[&'static Lesson], options: &RunOptions, check_docs: bool) -> ExitCode {
    let run = run::run(lessons, options.quick, check_docs);
    println!();
    println!("{}", summary::table(&run));
    if let Some(slowest) = summary::slowest(&run) {
        println!("{slowest}");
    }
    if let Some(close) = summary::too_close(&run) {
        println!("{close}");
    }
    if let Some(failures) = summary::failures(&run) {
        println!("{failures}");
    }
    println!("{}", summary::verdict(&run));
    let mut passed = run.passed();
    if let Some(path) = &options.json {
        let written = serde_json::to_string_pretty(&summary::to_json(&run))
            .map_err(std::io::Error::other)
            .and_then(|text| std::fs::write(path, text + "\n"));
        match written {
            Ok(()) => eprintln!("results written to {}", path.display()),
            Err(e) => {
                // Whoever asked for the file depends on it: not writing it is a failure.
                eprintln!("error: cannot write {}: {e}", path.display());
                passed = false;
            }
        }
    }
    if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn docs_check() -> ExitCode {
    let root = workspace::root();
    let report = docs_check::check(&root.join("docs"), &root);
    for problem in &report.problems {
        println!("{problem}");
    }
    if report.passed() {
        println!("docs-check: ok, {}", report.counts());
        ExitCode::SUCCESS
    } else {
        println!(
            "docs-check: {} problem(s) in {}",
            report.problems.len(),
            report.counts()
        );
        ExitCode::FAILURE
    }
}
