//! `cargo xtask`: the course's own tooling, written in Rust like the course.
//!
//! The "xtask" pattern: instead of shell scripts or a Makefile, the repository's chores
//! are a small Rust program in the workspace, run with `cargo xtask <verb>` (an alias in
//! `.cargo/config.toml`). It works wherever cargo works, and a learner can read it.
//!
//! - `run-all`: check the book, then test every written lesson and run its tour.
//! - `lesson <name>`: the same for one lesson.
//! - `docs-check`: the book's includes resolve.
//! - `grade`, `list`, `hint`, `watch`: the learner's side: points for the exercises.
//! - `kit`: the student repository, and the proof that every exercise is a real test.
//! - `bench`: lesson 5's race of engines (into target/bench), and the peers.
//! - `claims --falsify`: every claim decided on its wrong world, which must fail it.
//! - `mutants`: cargo-mutants over the exercises' solutions; `--check` its reports.
//! - `book --record`: every tour in full, recorded for the book's outputs and figures.
//!
//! How the pieces fit: `cli` decides what to do; `run` does it, using `child` to run
//! cargo with live `progress`, `cargo_test` and `tour_report` to read what came back;
//! `summary` reports. `lessons` is the one list of lessons; `docs_check` the book check.
//! `registry` reads the exercises (`exercises.toml`), `markers` the solution regions;
//! `grade` runs and scores the graded tests (each test a process of its own, run with a
//! time limit by `test_process`), `kit` writes and verifies the student copy,
//! `learner` prints `list` and `hint`, and `watch` re-grades on change.

mod bench;
mod book;
mod cargo_mutants;
mod cargo_test;
mod child;
mod claims;
mod cli;
mod docs_check;
mod figures;
mod format;
mod grade;
mod kit;
mod learner;
mod lessons;
mod markers;
mod progress;
mod registry;
mod run;
mod signals;
mod summary;
mod test_process;
mod tour_report;
mod watch;
mod workspace;

use std::process::ExitCode;

use cli::{Parsed, RunOptions, USAGE_ERROR, Verb};
use lessons::{LESSONS, Lesson};

fn main() -> ExitCode {
    // First, before any thread starts: Ctrl-C kills the tests still running.
    signals::watch();
    // Arguments that are not UTF-8 cannot be a verb, a lesson or a flag we know; a file
    // name for --json could be, but such names are rare enough to refuse clearly.
    let args: Result<Vec<String>, _> = std::env::args_os()
        .skip(1)
        .map(|a| a.into_string())
        .collect();
    let parsed = match args {
        Ok(args) => cli::parse(args),
        Err(bad) => Parsed::Bad(format!(
            "error: argument {bad:?} is not valid UTF-8\n\n{}",
            cli::usage()
        )),
    };
    match parsed {
        Parsed::Help(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Parsed::Bad(text) => {
            eprintln!("{text}");
            ExitCode::from(USAGE_ERROR)
        }
        Parsed::Run(Verb::RunAll(options)) => {
            let all: Vec<&'static Lesson> = LESSONS.iter().collect();
            run_lessons(&all, &options, true)
        }
        Parsed::Run(Verb::Lesson(lesson, options)) => {
            let root = workspace::root();
            if !lesson.is_written(&root) {
                eprintln!(
                    "error: lesson {} `{}` ({}) is not written yet: {} does not exist",
                    lesson.number,
                    lesson.name,
                    lesson.title,
                    lesson.manifest()
                );
                return ExitCode::from(USAGE_ERROR);
            }
            run_lessons(&[lesson], &options, false)
        }
        Parsed::Run(Verb::DocsCheck) => docs_check(),
        Parsed::Run(Verb::Grade(options)) => grade::main(&options),
        Parsed::Run(Verb::Kit(options)) => kit::main(&options),
        Parsed::Run(Verb::List) => learner::list(),
        Parsed::Run(Verb::Next) => learner::next(),
        Parsed::Run(Verb::Reset { id, yes }) => learner::reset(&id, yes),
        Parsed::Run(Verb::Hint(id)) => learner::hint(&id),
        Parsed::Run(Verb::Watch(options)) => watch::main(&options),
        Parsed::Run(Verb::Bench(options)) => bench::main(&options),
        Parsed::Run(Verb::ClaimsFalsify) => claims::falsify(),
        Parsed::Run(Verb::Mutants(options)) => cargo_mutants::main(&options),
        Parsed::Run(Verb::BookRecord { quick }) => book::record(quick),
        Parsed::Run(Verb::BookRender) => book::render(),
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
