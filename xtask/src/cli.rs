//! The command line: verbs, options, and the help text.
//!
//! Read by clap from one definition ([`Cli`]): each verb and option once, with its
//! default and its help, and the usage errors, the suggestions ("did you mean
//! `run-all`?") and `cargo xtask help VERB` come from it. What the definition reads is
//! turned into a [`Verb`], the program's own view of the work, so that the rest of xtask
//! never sees clap, and tests can check every branch without running anything.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::lessons::{self, Lesson};

// ANCHOR: exit
/// xtask's exit codes. Every verb uses these three; its `--help` says what "passed"
/// means for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Everything passed.
    Passed = 0,
    /// Something failed: a test, a claim, a grade, a check. The output says what.
    Failed = 1,
    /// Called wrongly: an unknown verb or option, a missing value, an unknown lesson or
    /// exercise, or a tool that must be installed first (clap uses 2 for its errors too).
    Usage = 2,
}
// ANCHOR_END: exit

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit as u8)
    }
}

/// What to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verb {
    RunAll(RunOptions),
    Lesson(&'static Lesson, RunOptions),
    DocsCheck,
    Grade(GradeOptions),
    Kit(KitOptions),
    List,
    /// `next`: the first exercise not done yet, with its task and hint.
    Next,
    /// `reset <ID> [--yes]`: the exercise's file back as it was handed out.
    Reset {
        id: String,
        yes: bool,
    },
    /// `hint <ID> [--more | --step N]`: the task and one hint more than seen so far (the
    /// first, the first time), or the first N.
    Hint {
        id: String,
        ask: HintAsk,
    },
    Watch(WatchOptions),
    /// `bench`: the race of engines; `bench --peers`: the comparison with outside peers.
    Bench {
        options: RunOptions,
        peers: bool,
    },
    /// `claims --falsify`: every claim decided on its wrong world.
    ClaimsFalsify,
    /// `book --record [--quick]`: every tour in full, recorded for the book.
    BookRecord {
        quick: bool,
    },
    /// `book`: the book checked, then rendered to HTML with mdBook.
    BookRender,
    /// `diagrams`: every picture of the book rendered from its text source.
    Diagrams,
    /// `mutants`: cargo-mutants over the solution regions, or `--check` its reports.
    Mutants(MutantsOptions),
}

/// Which of an exercise's hints `hint` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HintAsk {
    /// One more than seen so far: the first, the first time; the next, asked again.
    Next,
    /// The first N.
    UpTo(usize),
}

/// `grade`: which exercises, where to write the results, how long a test may take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GradeOptions {
    /// Only this lesson's exercises (by name or number).
    pub lesson: Option<&'static Lesson>,
    /// Only this exercise (`procs/capture`).
    pub exercise: Option<String>,
    /// Results in Exercism's results.json (v3) shape, plus points.
    pub json: Option<PathBuf>,
    /// Results as JUnit XML.
    pub junit: Option<PathBuf>,
    /// Seconds one test may run before it is killed and failed.
    pub timeout_secs: u64,
    /// What goes to stdout: the table, or Exercism's results.json.
    pub format: GradeFormat,
    /// Only build what grading these exercises builds (the same cargo commands), and
    /// run nothing: a CI job's one build, which each exercise's step then reuses.
    pub build_only: bool,
}

/// `grade --format`: what is printed on stdout.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum GradeFormat {
    /// A table per lesson, and every failing test's assertion
    #[default]
    Table,
    /// Exercism's test-runner results.json (version 3), to the letter; the table goes
    /// to stderr. One lesson at a time: a lesson is Exercism's exercise, and its
    /// exercises are the tasks that `task_id` numbers
    Exercism,
}

/// Seconds a graded test may run by default: generous for a slow laptop, short enough
/// that a deadlocked exercise fails quickly.
pub const DEFAULT_TEST_TIMEOUT_SECS: u64 = 60;

impl Default for GradeOptions {
    fn default() -> Self {
        GradeOptions {
            lesson: None,
            exercise: None,
            json: None,
            junit: None,
            timeout_secs: DEFAULT_TEST_TIMEOUT_SECS,
            format: GradeFormat::Table,
            build_only: false,
        }
    }
}

/// `kit`: write the student repository, or prove that it works.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KitOptions {
    /// Write the student repository into this folder (which must not exist or be empty).
    Out(PathBuf),
    /// Build the kit in a temporary folder and prove every exercise is a real test.
    Verify(VerifyOptions),
}

/// `kit --verify`: what to verify.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyOptions {
    /// Only this exercise (the kit is still built whole, unless `mutants_only`).
    pub exercise: Option<String>,
    /// Only the reference solutions and the mutants: no kit is written or built.
    pub mutants_only: bool,
}

/// `watch`: re-grade on every change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WatchOptions {
    /// Only this exercise; otherwise every exercise of the course.
    pub exercise: Option<String>,
    /// Look for changes by polling instead of file events (network drives, some WSL setups).
    pub poll: bool,
}

/// `mutants`: which exercises, and whether to run cargo-mutants or only check its
/// reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MutantsOptions {
    pub exercise: Option<String>,
    /// Only this lesson's exercises.
    pub lesson: Option<&'static Lesson>,
    /// Only compare the reports with the sources; run nothing.
    pub check: bool,
}

/// The options shared by `run-all` and `lesson`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// Pass `--quick` to the tours: smaller sizes and fewer trials, for CI.
    pub quick: bool,
    /// Also write the results as JSON to this file.
    pub json: Option<PathBuf>,
}

/// A lesson named on the command line that the course does not have.
#[derive(Debug, thiserror::Error)]
#[error("no lesson named `{name}`; the lessons are: {known}")]
pub struct UnknownLesson {
    name: String,
    known: String,
}

/// A lesson, by its crate name or its number.
fn lesson(name: &str) -> Result<&'static Lesson, UnknownLesson> {
    lessons::find(name).ok_or_else(|| UnknownLesson {
        name: name.to_string(),
        known: lessons::known_names(),
    })
}

const EXIT_STATUS: &str =
    "Exit status: 0 when everything passed, 1 when anything failed, 2 on a usage error.";

// ANCHOR: cli
/// cargo xtask: the course's own tooling.
#[derive(Debug, Parser)]
#[command(
    name = "xtask",
    bin_name = "cargo xtask",
    version,
    after_help = EXIT_STATUS,
    after_long_help = lessons_and_exit_status(),
    subcommand_required = true,
    arg_required_else_help = true
)]
pub struct Cli {
    #[command(subcommand)]
    verb: VerbArgs,
}

/// The verbs, as clap reads them; see [`Verb`] for what each becomes.
#[derive(Debug, Subcommand)]
enum VerbArgs {
    /// Test every written lesson, run its tour, check its claims.
    ///
    /// For every written lesson, in course order: run its tests, run its tour, check its
    /// claims. Checks the book's includes first. Shows progress as it goes, ends with one
    /// summary table, and lists every failure under it.
    #[command(after_help = EXIT_STATUS)]
    RunAll(RunArgs),
    /// The same as run-all, for one lesson: its tests, its tour, its claims.
    ///
    /// The same as run-all, for one lesson: its tests, its tour, its claims. NAME is the
    /// lesson's crate name or its number. A lesson not written yet is a usage error.
    #[command(after_help = EXIT_STATUS)]
    Lesson {
        /// The lesson's crate name or number: procs, threads, sockets, event-loop,
        /// async-download (or 1 to 5)
        #[arg(value_name = "NAME", value_parser = lesson)]
        lesson: &'static Lesson,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Check the book's includes and SUMMARY.md links.
    ///
    /// Checks the course book (docs/src/**/*.md): every {{#include}} and
    /// {{#rustdoc_include}} names a file that exists, its anchor has both ANCHOR and
    /// ANCHOR_END lines, its line range lies within the file; every link in
    /// docs/src/SUMMARY.md names a file that exists; every measured number is marked;
    /// every image a page shows exists and has alt text; every diagram's SVG is what
    /// `cargo xtask diagrams` renders from its source now, and a page shows it; no page
    /// renders to more than 1,200 lines and no Rust listing shows more than 40 (includes
    /// counted). mdBook itself silently includes nothing for a missing anchor, so this is what
    /// keeps the text and the code from drifting apart.
    #[command(
        after_help = "Exit status: 0 when the book is consistent, 1 when a problem was found."
    )]
    DocsCheck,
    /// Render the book's diagrams (docs/src/diagrams/*.txt) to SVG.
    ///
    /// Renders every diagram source of the book, docs/src/diagrams/NAME.txt, into the
    /// picture beside it, NAME.svg, and prints each picture's name with `wrote` or
    /// `unchanged`. A source that cannot be drawn (a syntax error, an unknown box, a
    /// label wider than its box, text outside the drawing) is reported with its file and
    /// line, and its picture is left as it was. The format is described at the top of
    /// xtask/src/diagrams.rs. docs-check fails while a picture differs from what its
    /// source renders to, so run this after editing a source.
    #[command(
        after_help = "Exit status: 0 when every source rendered, 1 when one could not be drawn."
    )]
    Diagrams,
    /// Grade the exercises, with points (--json, --junit).
    ///
    /// Grades the exercises: compiles each lesson's graded tests once, runs every test on
    /// its own with a time limit (a hung or deadlocked exercise fails with a message; it
    /// never hangs the grader), and scores points per exercise, in proportion to its tests
    /// passed. Prints a table per lesson with a total, and the assertion of every failing
    /// test. When GITHUB_STEP_SUMMARY is set (GitHub Actions), a Markdown summary is
    /// appended to it.
    #[command(
        after_help = "Exit status: 0 when every graded test passed, 1 otherwise, 2 on a usage error."
    )]
    Grade(GradeArgs),
    /// Every exercise, its points and status.
    ///
    /// Lists every exercise with its points and status: `todo` while its body is still
    /// todo!(), `done` or `failing` after `cargo xtask grade` graded it, `changed` when it
    /// was edited since. Ends with a legend of every status.
    List,
    /// An exercise's task and hints, one step at a time.
    ///
    /// Prints an exercise's task, its hints up to one more than you have seen (the first
    /// time: the first hint, which points at the idea to look for), the file to edit and
    /// how to grade it. The hints come in steps, each closer to a solution than the one
    /// before: asked again, `hint` shows the next one, and the last may come close to a
    /// solution, so take one step at a time. How many you have seen is kept in
    /// progress.toml; `--step N` looks back at the first N without going further.
    /// `cargo xtask list` shows the ids.
    #[command(after_help = "Exit status: 0, or 2 for an unknown id.")]
    Hint {
        /// The exercise, e.g. procs/capture
        id: String,
        /// Show one hint more than you have seen (what `hint` does anyway; kept for
        /// those who say it)
        #[arg(long, conflicts_with = "step")]
        more: bool,
        /// Show the hints up to this step (the last step if there are fewer)
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..100))]
        step: Option<u64>,
    },
    /// The first exercise not done yet, and its hint.
    ///
    /// Prints the first exercise, in the course's order, that is not done yet (its body
    /// is still todo!(), it failed or was never graded, or it changed since its last
    /// grade), with its task, its hint, the file to edit and how to grade it.
    Next,
    /// An exercise's file back as handed out (students' copy).
    ///
    /// In the students' copy, puts an exercise's file back as it was handed out (its body
    /// todo!() again), after asking for a confirmation: everything written in that file
    /// is lost. A file that holds two exercises goes back for both.
    Reset {
        /// The exercise, e.g. procs/reap
        id: String,
        /// Do not ask (needed where there is no terminal to ask on)
        #[arg(long)]
        yes: bool,
    },
    /// Grade again whenever a file changes.
    ///
    /// Grades the exercise ID (or every exercise) now and again whenever a file of the
    /// course changes, until you stop it with Ctrl-C. Press Enter to grade again by hand,
    /// for folders where file events do not arrive (some network drives, WSL on a Windows
    /// drive).
    Watch {
        /// Only this exercise [default: every exercise]
        id: Option<String>,
        /// Look for changes every second instead of waiting for file events
        #[arg(long)]
        poll: bool,
    },
    /// Write the student repository, or prove it works.
    ///
    /// --out DIR writes the student repository into DIR (new or empty): every solution
    /// region replaced by todo!("<id>: <task>"), the graded tests and xtask kept, the
    /// GitHub Classroom workflow included, the course's own CI left out.
    ///
    /// --verify writes the kit into a temporary folder and proves that it builds (check
    /// and clippy), that every exercise's graded tests FAIL on the stub and PASS on the
    /// solution, and that no solution text leaks into the kit. Then it grades each
    /// exercise's mutants (plausible wrong solutions, declared in its exercises.toml) in a
    /// copy of the course: each must fail a graded test. It also proves that each
    /// exercise breaks alone: a compile error planted in one costs only that one, in a
    /// warm build and in a cold one (`isolation: N of N exercises break alone`). Ends
    /// with `mutants: M of M rejected`, naming any survivor.
    #[command(
        after_help = "Exit status: 0 on success, 1 when the kit is wrong, 2 on a usage error."
    )]
    Kit(KitArgs),
    /// Race every engine (into target/bench); --peers: against nginx, wrk, aiohttp.
    ///
    /// Builds lesson 5 in release mode and runs `async-download --race`: the same corpus
    /// documents through every engine (sequential, threads, event-loop, tokio,
    /// tokio-multi) at concurrency 1, 10, 100, 1,000 and 10,000, each run in a process of
    /// its own against a corpus server process of its own. It prints a table and writes
    /// the chart and the table into target/bench/ (race.svg, race.md). The book's race is
    /// the one of the recorded run (`cargo xtask book --record`).
    ///
    /// With --peers, instead: the course's tooling `peers` (xtask/peers), built in
    /// release mode: the tokio engines and the corpus server against nginx, wrk and
    /// Python's aiohttp, each comparison skipped (and said so) when its tools are not
    /// installed.
    Bench {
        #[command(flatten)]
        run: RunArgs,
        /// Compare with nginx, wrk and aiohttp instead of racing the engines
        #[arg(long)]
        peers: bool,
    },
    /// Prove every claim fails on its wrong world.
    ///
    /// Proves that every claim of the course can fail. Each lesson's tour, run with
    /// --falsify, decides each of its claims (src/claims.rs) on the figures of its wrong
    /// world: what a wrong implementation or the wrong theory would measure. No
    /// experiment runs; it takes seconds. Each claim is also decided again on the figures
    /// of the lesson's reference run (docs/src/record/<lesson>.json, from `cargo xtask
    /// book --record`), which must give the verdict that run recorded. Prints a table
    /// and `N of N claims fail on their wrong world`.
    #[command(
        after_help = "Exit status: 0 when every claim fails on its wrong world and agrees \
                            with its reference run, 1 otherwise, 2 on a usage error."
    )]
    Claims {
        /// (required) decide every claim on its wrong world
        #[arg(long, required = true)]
        falsify: bool,
    },
    /// Cargo-mutants over the solutions, or check its reports.
    ///
    /// Runs cargo-mutants over the solution regions of every exercise (or of ID), each
    /// exercise's mutants graded by its own graded tests, and writes the report into
    /// crates/<lesson>/mutants/cargo-mutants.json with a hash of each solution and its
    /// tests. Every missed mutant must be killed by a new test or listed, with a reason,
    /// in crates/<lesson>/mutants/equivalent.toml. A full run takes about a quarter of an
    /// hour on 2 cores. Needs cargo-mutants: cargo install --locked cargo-mutants
    #[command(
        after_help = "Exit status: 0 when no mutant is missed without a reason (and, with \
                            --check, no report is stale), 1 otherwise, 2 on a usage error or \
                            when cargo-mutants is missing."
    )]
    Mutants {
        /// Only this lesson's exercises (by name or number)
        #[arg(long, value_name = "L", value_parser = lesson, conflicts_with = "exercise")]
        lesson: Option<&'static Lesson>,
        /// Only this exercise (its entry in the lesson's report is replaced)
        #[arg(long, value_name = "ID")]
        exercise: Option<String>,
        /// Run nothing: check that every report matches its solution and tests (none
        /// changed since it was made) and that every missed mutant is listed as
        /// equivalent; CI runs this
        #[arg(long)]
        check: bool,
    },
    /// Render the book with mdBook, or record every tour for it.
    ///
    /// Without options: checks the book (includes, links, recorded figures), then renders
    /// it to HTML with mdBook into target/book (open target/book/index.html). mdBook is
    /// not needed for anything else; when it is missing, this says how to install it.
    ///
    /// With --record: runs every lesson's tour in full (release build), one after
    /// another, and records what each printed and measured into docs/src/record/:
    /// <lesson>.txt (the output the chapters include), <lesson>.json (every figure and
    /// claim), and lesson 5's race table and chart. Then rewrites every number in the
    /// prose marked <!-- fig LESSON/ID/FIGURE --> to the recorded value, and checks the
    /// book. Takes several minutes; run it on a quiet machine.
    #[command(
        after_help = "Exit status: 0 when every tour ran, its claims did not fail and the \
                            book checks out; 1 otherwise (what was recorded is kept); 2 on a \
                            usage error."
    )]
    Book {
        /// Run the tours and record them
        #[arg(long)]
        record: bool,
        /// With --record: smaller runs, recorded into target/record instead of the book
        #[arg(long, requires = "record")]
        quick: bool,
    },
}

/// The options of run-all, lesson and bench.
#[derive(Debug, Args)]
struct RunArgs {
    /// Run the tours with smaller sizes and fewer trials (for CI)
    #[arg(long)]
    quick: bool,
    /// Also write the results as JSON to FILE
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct GradeArgs {
    /// Only this lesson's exercises (name or number)
    #[arg(long, value_name = "NAME", value_parser = lesson)]
    lesson: Option<&'static Lesson>,
    /// Only this exercise, e.g. procs/capture
    #[arg(long, value_name = "ID")]
    exercise: Option<String>,
    /// Write the results as JSON (Exercism results.json v3 fields, plus points)
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Write the results as JUnit XML
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// How long one test may run, in seconds
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_TEST_TIMEOUT_SECS,
          value_parser = clap::value_parser!(u64).range(1..))]
    timeout: u64,
    /// What to print on stdout
    #[arg(long, value_enum, default_value_t = GradeFormat::Table)]
    format: GradeFormat,
    /// Only build what grading builds (the same cargo commands, so a later grade
    /// recompiles nothing), and run no test
    #[arg(long, conflicts_with_all = ["json", "junit", "format"])]
    build_only: bool,
}

#[derive(Debug, Args)]
struct KitArgs {
    /// Write the student repository into DIR (new or empty)
    #[arg(
        long,
        value_name = "DIR",
        conflicts_with = "verify",
        required_unless_present = "verify"
    )]
    out: Option<PathBuf>,
    /// Build the kit in a temporary folder and prove every exercise is a real test
    #[arg(long)]
    verify: bool,
    /// With --verify: grade only this exercise (the kit is still built whole)
    #[arg(long, value_name = "ID", conflicts_with = "out")]
    exercise: Option<String>,
    /// With --verify: grade the reference solutions and the mutants, and skip the kit
    /// (quick, while writing tests and mutants)
    #[arg(long, conflicts_with = "out")]
    mutants_only: bool,
}
// ANCHOR_END: cli

/// The lessons, listed under `cargo xtask --help`.
fn lessons_and_exit_status() -> String {
    let lessons: Vec<String> = lessons::LESSONS
        .iter()
        .map(|l| format!("  {} {:<16} {}", l.number, l.name, l.title))
        .collect();
    format!("Lessons:\n{}\n\n{EXIT_STATUS}", lessons.join("\n"))
}

impl From<RunArgs> for RunOptions {
    fn from(args: RunArgs) -> RunOptions {
        RunOptions {
            quick: args.quick,
            json: args.json,
        }
    }
}

/// The verbs for whoever keeps the course, not for a student: hidden from `--help` in a
/// student's copy (they still work there, for an instructor trying the kit).
pub const INSTRUCTOR_VERBS: [&str; 7] = [
    "kit",
    "bench",
    "claims",
    "mutants",
    "book",
    "docs-check",
    "diagrams",
];

/// Whether this is a student's copy of the course: it has no `.ci/run`, which stays with
/// the course (see `kit::INSTRUCTOR_ONLY`).
pub fn is_student_copy() -> bool {
    !crate::workspace::root().join(".ci/run").is_file()
}

/// Reads the command line (the program's name first). `Err` is clap's: `--help`,
/// `--version` (exit code 0) or a usage error (exit code 2); `Error::exit` prints it
/// where it belongs. In a student's copy the instructor's verbs are hidden.
pub fn parse<I, T>(args: I) -> Result<Verb, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    parse_for(args, is_student_copy())
}

/// [`parse`], for a student's copy (`student`) or the course's.
pub fn parse_for<I, T>(args: I, student: bool) -> Result<Verb, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    use clap::{CommandFactory, FromArgMatches};
    let mut command = Cli::command();
    if student {
        for verb in INSTRUCTOR_VERBS {
            command = command.mut_subcommand(verb, |c| c.hide(true));
        }
    }
    let matches = command.try_get_matches_from(args)?;
    let cli = Cli::from_arg_matches(&matches)?;
    Ok(match cli.verb {
        VerbArgs::RunAll(run) => Verb::RunAll(run.into()),
        VerbArgs::Lesson { lesson, run } => Verb::Lesson(lesson, run.into()),
        VerbArgs::DocsCheck => Verb::DocsCheck,
        VerbArgs::Diagrams => Verb::Diagrams,
        VerbArgs::Grade(g) => Verb::Grade(GradeOptions {
            lesson: g.lesson,
            exercise: g.exercise,
            json: g.json,
            junit: g.junit,
            timeout_secs: g.timeout,
            format: g.format,
            build_only: g.build_only,
        }),
        VerbArgs::List => Verb::List,
        VerbArgs::Hint { id, more, step } => Verb::Hint {
            id,
            ask: match (more, step) {
                (_, Some(n)) => HintAsk::UpTo(n as usize),
                (_, None) => HintAsk::Next,
            },
        },
        VerbArgs::Next => Verb::Next,
        VerbArgs::Reset { id, yes } => Verb::Reset { id, yes },
        VerbArgs::Watch { id, poll } => Verb::Watch(WatchOptions { exercise: id, poll }),
        VerbArgs::Kit(k) => Verb::Kit(match k.out {
            Some(dir) => KitOptions::Out(dir),
            None => KitOptions::Verify(VerifyOptions {
                exercise: k.exercise,
                mutants_only: k.mutants_only,
            }),
        }),
        VerbArgs::Bench { run, peers } => Verb::Bench {
            options: run.into(),
            peers,
        },
        VerbArgs::Claims { .. } => Verb::ClaimsFalsify,
        VerbArgs::Mutants {
            lesson,
            exercise,
            check,
        } => Verb::Mutants(MutantsOptions {
            exercise,
            lesson,
            check,
        }),
        VerbArgs::Book {
            record: true,
            quick,
        } => Verb::BookRecord { quick },
        VerbArgs::Book { record: false, .. } => Verb::BookRender,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lessons::LESSONS;

    fn parse_strs(args: &[&str]) -> Result<Verb, clap::Error> {
        parse_for(std::iter::once("xtask").chain(args.iter().copied()), false)
    }

    fn ok(args: &[&str]) -> Verb {
        parse_strs(args).unwrap_or_else(|e| panic!("{args:?}: {e}"))
    }

    /// The message of a usage error (exit code 2).
    fn bad(args: &[&str]) -> String {
        match parse_strs(args) {
            Err(e) if e.exit_code() == 2 => e.to_string(),
            other => panic!("{args:?} parsed as {other:?}"),
        }
    }

    /// The text of `--help` (exit code 0).
    fn help_text(args: &[&str]) -> String {
        match parse_strs(args) {
            Err(e) if e.exit_code() == 0 => e.render().to_string(),
            other => panic!("{args:?} parsed as {other:?}"),
        }
    }

    #[test]
    fn the_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn verbs_and_their_options_parse() {
        assert_eq!(ok(&["run-all"]), Verb::RunAll(RunOptions::default()));
        assert_eq!(
            ok(&["run-all", "--json", "out.json", "--quick"]),
            Verb::RunAll(RunOptions {
                quick: true,
                json: Some("out.json".into())
            })
        );
        assert_eq!(
            ok(&["lesson", "--json=r.json", "1"]),
            Verb::Lesson(
                &LESSONS[0],
                RunOptions {
                    quick: false,
                    json: Some("r.json".into())
                }
            )
        );
        assert_eq!(
            ok(&["lesson", "event-loop"]),
            Verb::Lesson(&LESSONS[3], RunOptions::default())
        );
        assert_eq!(ok(&["docs-check"]), Verb::DocsCheck);
        assert_eq!(ok(&["diagrams"]), Verb::Diagrams);
        assert_eq!(ok(&["claims", "--falsify"]), Verb::ClaimsFalsify);
        assert_eq!(
            ok(&["bench", "--peers", "--quick"]),
            Verb::Bench {
                options: RunOptions {
                    quick: true,
                    json: None
                },
                peers: true
            }
        );
        assert_eq!(
            ok(&["mutants", "--lesson", "2", "--check"]),
            Verb::Mutants(MutantsOptions {
                exercise: None,
                lesson: Some(&LESSONS[1]),
                check: true
            })
        );
    }

    #[test]
    fn help_is_printed_for_the_tool_and_for_every_verb() {
        for args in [&["--help"][..], &["-h"], &["help"]] {
            let text = help_text(args);
            assert!(
                text.contains("run-all") && text.contains("mutants"),
                "{args:?}: {text}"
            );
        }
        assert!(
            help_text(&["--help"]).contains("async-download"),
            "the lessons are listed"
        );
        for verb in [
            "run-all",
            "lesson",
            "docs-check",
            "diagrams",
            "grade",
            "list",
            "hint",
            "next",
            "reset",
            "watch",
            "kit",
            "bench",
            "claims",
            "mutants",
            "book",
        ] {
            let text = help_text(&[verb, "--help"]);
            assert!(text.contains(&format!("cargo xtask {verb}")), "{text}");
            assert!(help_text(&["help", verb]).contains(&format!("cargo xtask {verb}")));
        }
    }

    #[test]
    fn a_students_help_shows_the_students_verbs_only() {
        let help = |student| match parse_for(["xtask", "--help"], student) {
            Err(e) if e.exit_code() == 0 => e.render().to_string(),
            other => panic!("{other:?}"),
        };
        let (course, kit) = (help(false), help(true));
        for verb in ["run-all", "grade", "list", "hint", "next", "reset", "watch"] {
            assert!(kit.contains(&format!("\n  {verb} ")), "{verb} in\n{kit}");
        }
        for verb in INSTRUCTOR_VERBS {
            assert!(
                course.contains(&format!("\n  {verb} ")),
                "{verb} in\n{course}"
            );
            assert!(!kit.contains(&format!("\n  {verb} ")), "{verb} in\n{kit}");
        }
        // Hidden, not gone: an instructor trying the kit can still run them.
        assert_eq!(
            parse_for(["xtask", "claims", "--falsify"], true).unwrap(),
            Verb::ClaimsFalsify
        );
    }

    #[test]
    fn unknown_verbs_and_flags_are_named_with_a_suggestion() {
        let m = bad(&["rnu-all"]);
        assert!(m.contains("'rnu-all'") && m.contains("run-all"), "{m}");
        let m = bad(&["run-all", "--fast"]);
        assert!(
            m.contains("'--fast'") && m.contains("cargo xtask run-all"),
            "{m}"
        );
        assert!(bad(&["docs-check", "--quick"]).contains("'--quick'"));
        assert!(bad(&["--quick"]).contains("'--quick'"));
        assert!(bad(&["run-all", "procs"]).contains("'procs'"));
        // No verb: the help, as a usage error.
        assert_eq!(parse_strs(&[]).unwrap_err().exit_code(), 2);
    }

    #[test]
    fn the_exercise_verbs_parse() {
        assert_eq!(
            ok(&[
                "grade",
                "--lesson",
                "1",
                "--junit",
                "j.xml",
                "--timeout",
                "5"
            ]),
            Verb::Grade(GradeOptions {
                lesson: Some(&LESSONS[0]),
                junit: Some("j.xml".into()),
                timeout_secs: 5,
                ..GradeOptions::default()
            })
        );
        assert_eq!(ok(&["grade"]), Verb::Grade(GradeOptions::default()));
        assert_eq!(
            ok(&["grade", "--lesson", "procs", "--format", "exercism"]),
            Verb::Grade(GradeOptions {
                lesson: Some(&LESSONS[0]),
                format: GradeFormat::Exercism,
                ..GradeOptions::default()
            })
        );
        assert!(bad(&["grade", "--format", "xml"]).contains("exercism"));
        assert_eq!(
            ok(&["grade", "--build-only"]),
            Verb::Grade(GradeOptions {
                build_only: true,
                ..GradeOptions::default()
            })
        );
        assert!(bad(&["grade", "--build-only", "--json", "x"]).contains("cannot be used"));
        assert_eq!(
            ok(&["kit", "--out", "student"]),
            Verb::Kit(KitOptions::Out("student".into()))
        );
        assert_eq!(
            ok(&["kit", "--verify"]),
            Verb::Kit(KitOptions::Verify(VerifyOptions::default()))
        );
        assert_eq!(
            ok(&[
                "kit",
                "--verify",
                "--exercise",
                "procs/reap",
                "--mutants-only"
            ]),
            Verb::Kit(KitOptions::Verify(VerifyOptions {
                exercise: Some("procs/reap".into()),
                mutants_only: true
            }))
        );
        assert_eq!(ok(&["list"]), Verb::List);
        assert_eq!(ok(&["next"]), Verb::Next);
        assert_eq!(ok(&["book"]), Verb::BookRender);
        assert_eq!(
            ok(&["book", "--record", "--quick"]),
            Verb::BookRecord { quick: true }
        );
        assert!(bad(&["book", "--quick"]).contains("--record"));
        assert_eq!(
            ok(&["reset", "procs/reap", "--yes"]),
            Verb::Reset {
                id: "procs/reap".into(),
                yes: true
            }
        );
        assert_eq!(
            ok(&["reset", "procs/reap"]),
            Verb::Reset {
                id: "procs/reap".into(),
                yes: false
            }
        );
        let hint = |ask| Verb::Hint {
            id: "procs/capture".into(),
            ask,
        };
        assert_eq!(ok(&["hint", "procs/capture"]), hint(HintAsk::Next));
        assert_eq!(
            ok(&["hint", "procs/capture", "--more"]),
            hint(HintAsk::Next)
        );
        assert_eq!(
            ok(&["hint", "procs/capture", "--step", "3"]),
            hint(HintAsk::UpTo(3))
        );
        assert_eq!(
            ok(&["watch", "procs/reap", "--poll"]),
            Verb::Watch(WatchOptions {
                exercise: Some("procs/reap".into()),
                poll: true
            })
        );
        assert_eq!(ok(&["watch"]), Verb::Watch(WatchOptions::default()));
    }

    #[test]
    fn the_exercise_verbs_refuse_bad_arguments() {
        for args in [
            &["kit"][..],
            &["kit", "--out", "a", "--verify"],
            &["kit", "--out"],
            &["kit", "--out", "a", "--exercise", "procs/reap"],
            &["kit", "--out", "a", "--mutants-only"],
            &["grade", "--timeout", "0"],
            &["grade", "extra"],
            &["hint"],
            &["hint", "a", "b"],
            &["hint", "a", "--more", "--step", "2"],
            &["list", "--poll"],
            &["reset"],
            &["next", "--yes"],
            &["next", "extra"],
            &["claims"],
            &["mutants", "--lesson", "1", "--exercise", "procs/reap"],
        ] {
            bad(args);
        }
        assert!(bad(&["grade", "--lesson", "nope"]).contains("no lesson named `nope`"));
    }

    #[test]
    fn json_without_a_file_is_an_error() {
        for args in [
            &["run-all", "--json"][..],
            &["run-all", "--json", "--quick"],
        ] {
            assert!(bad(args).contains("--json"), "{args:?}");
        }
    }

    #[test]
    fn a_lesson_must_be_named_and_known() {
        assert!(bad(&["lesson"]).contains("<NAME>"));
        let m = bad(&["lesson", "prcs"]);
        assert!(
            m.contains("`prcs`") && m.contains("procs, threads, sockets"),
            "{m}"
        );
        assert!(bad(&["lesson", "procs", "threads"]).contains("'threads'"));
    }
}
