//! The command line: verbs, options, and the help text.
//!
//! Parsed by hand because there are few options and xtask should build in seconds, with
//! nothing to download: a course's tooling that needs a dependency tree to start is one
//! more thing that can break before a learner has run a single lesson. Parsing returns a
//! value (`Parsed`) instead of printing and exiting, so tests can check every branch.

use std::path::PathBuf;

use crate::lessons::{self, LESSONS, Lesson};

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
    Hint(String),
    Watch(WatchOptions),
    /// `bench`: the race of engines (and the peers, when installed).
    Bench(RunOptions),
    /// `claims --falsify`: every claim decided on its wrong world.
    ClaimsFalsify,
    /// `book --record [--quick]`: every tour in full, recorded for the book.
    BookRecord {
        quick: bool,
    },
    /// `book`: the book checked, then rendered to HTML with mdBook.
    BookRender,
    /// `mutants`: cargo-mutants over the solution regions, or `--check` its reports.
    Mutants(crate::cargo_mutants::MutantsOptions),
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

/// The options shared by `run-all` and `lesson`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// Pass `--quick` to the tours: smaller sizes and fewer trials, for CI.
    pub quick: bool,
    /// Also write the results as JSON to this file.
    pub json: Option<PathBuf>,
}

/// What parsing the command line decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    Run(Verb),
    /// Help was asked for: print it on stdout and exit 0.
    Help(String),
    /// A usage error: print it on stderr and exit 2. It names the bad argument and
    /// carries the usage, so the fix is on the screen.
    Bad(String),
}

/// Exit status for a usage error, as most command-line tools use it.
pub const USAGE_ERROR: u8 = 2;

const RUN_ALL_USAGE: &str = "\
Usage: cargo xtask run-all [--quick] [--json FILE]

For every written lesson, in course order: run its tests, run its tour, check its
claims. Checks the book's includes first. Shows progress as it goes, ends with one
summary table, and lists every failure under it.

Options:
  --quick       run the tours with smaller sizes and fewer trials (for CI)
  --json FILE   also write the results as JSON to FILE
  -h, --help    print this help

Exit status: 0 when everything passed, 1 when anything failed, 2 on a usage error.";

const LESSON_USAGE: &str = "\
Usage: cargo xtask lesson <NAME> [--quick] [--json FILE]

The same as run-all, for one lesson: its tests, its tour, its claims.
NAME is the lesson's crate name or its number.

Options:
  --quick       run the tour with smaller sizes and fewer trials (for CI)
  --json FILE   also write the results as JSON to FILE
  -h, --help    print this help

Exit status: 0 when everything passed, 1 when anything failed, 2 on a usage error
(including a lesson that is not written yet).";

const DOCS_CHECK_USAGE: &str = "\
Usage: cargo xtask docs-check

Checks the course book (docs/src/**/*.md): every {{#include}} and {{#rustdoc_include}}
names a file that exists, its anchor has both ANCHOR and ANCHOR_END lines, its line
range lies within the file; every link in docs/src/SUMMARY.md names a file that exists.
mdBook itself silently includes nothing for a missing anchor, so this is what keeps the
text and the code from drifting apart.

Options:
  -h, --help    print this help

Exit status: 0 when the book is consistent, 1 when a problem was found.";

const GRADE_USAGE: &str = "\
Usage: cargo xtask grade [--lesson NAME] [--exercise ID] [--json FILE] [--junit FILE] [--timeout SECS]

Grades the exercises: compiles each lesson's graded tests once, runs every test on its
own with a time limit (a hung or deadlocked exercise fails with a message; it never
hangs the grader), and scores points per exercise, in proportion to its tests passed.
Prints a table per lesson with a total, and the assertion of every failing test.

Options:
  --lesson NAME     only this lesson's exercises (name or number)
  --exercise ID     only this exercise, e.g. procs/capture
  --json FILE       write the results as JSON (Exercism results.json v3 fields, plus points)
  --junit FILE      write the results as JUnit XML
  --timeout SECS    how long one test may run (default 60)
  -h, --help        print this help

When GITHUB_STEP_SUMMARY is set (GitHub Actions), a Markdown summary is appended to it.

Exit status: 0 when every graded test passed, 1 otherwise, 2 on a usage error.";

const KIT_USAGE: &str = "\
Usage: cargo xtask kit --out DIR
       cargo xtask kit --verify [--exercise ID] [--mutants-only]

--out DIR   writes the student repository into DIR (new or empty): every solution
            region replaced by todo!(\"<id>: <task>\"), the graded tests and xtask
            kept, the GitHub Classroom workflow included, the course's own CI left out.
--verify    writes the kit into a temporary folder and proves that it builds (check and
            clippy), that every exercise's graded tests FAIL on the stub and PASS on the
            solution, and that no solution text leaks into the kit. Then it grades each
            exercise's mutants (at least 3 plausible wrong solutions, declared in its
            exercises.toml) in a copy of the course: each must fail a graded test.
            Ends with `mutants: M of M rejected`, naming any survivor.
--exercise ID   with --verify: grade only this exercise (the kit is still built whole)
--mutants-only  with --verify: grade the reference solutions and the mutants, and skip
                the kit (quick, while writing tests and mutants)

Options:
  -h, --help  print this help

Exit status: 0 on success, 1 when the kit is wrong, 2 on a usage error.";

const LIST_USAGE: &str = "\
Usage: cargo xtask list

Lists every exercise with its points and status: `todo` while its body is still
todo!(), `done` or `failing` after `cargo xtask grade` graded it, `changed` when it
was edited since.

Options:
  -h, --help  print this help";

const NEXT_USAGE: &str = "\
Usage: cargo xtask next

Prints the first exercise, in the course's order, that is not done yet (its body is
still todo!(), it failed or was never graded, or it changed since its last grade),
with its task, its hint, the file to edit and how to grade it.

Options:
  -h, --help  print this help";

const RESET_USAGE: &str = "\
Usage: cargo xtask reset <ID> [--yes]

In the students' copy, puts an exercise's file back as it was handed out (its body
todo!() again), after asking for a confirmation: everything written in that file is
lost. A file that holds two exercises goes back for both.

Options:
  --yes       do not ask (needed where there is no terminal to ask on)
  -h, --help  print this help";

const HINT_USAGE: &str = "\
Usage: cargo xtask hint <ID>

Prints an exercise's task, its hint, the file to edit and how to grade it.
`cargo xtask list` shows the ids.

Options:
  -h, --help  print this help

Exit status: 0, or 2 for an unknown id.";

const WATCH_USAGE: &str = "\
Usage: cargo xtask watch [ID] [--poll]

Grades the exercise ID (or every exercise) now and again whenever a file of the course
changes, until you stop it with Ctrl-C. Press Enter to grade again by hand, for
folders where file events do not arrive (some network drives, WSL on a Windows drive).

Options:
  --poll      look for changes every second instead of waiting for file events
  -h, --help  print this help";

const BENCH_USAGE: &str = "\
cargo xtask bench: the race of every engine, and the comparison with real peers

Usage: cargo xtask bench [--quick] [--json FILE]

Builds lesson 5 in release mode and runs `async-download --race`: the same corpus
documents through every engine (sequential, threads, event-loop, tokio, tokio-multi)
at concurrency 1, 10, 100, 1,000 and 10,000, each run in a process of its own against
a corpus server process of its own. It prints a table and writes the chart and the
table into target/bench/ (race.svg, race.md). The book's race is the one of the
recorded run (`cargo xtask book --record`). Then `async-download --peers`: the tokio
engine and the corpus server against nginx, wrk and Python's aiohttp, each comparison
skipped (and said so) when its tools are not installed.

Options:
  --quick      fewer documents and connections (1 and 10,000)
  --json FILE  also write the race's figures as JSON
  -h, --help   print this help";

const CLAIMS_USAGE: &str = "\
Usage: cargo xtask claims --falsify

Proves that every claim of the course can fail. Each lesson's tour, run with
--falsify, decides each of its claims (src/claims.rs) on the figures of its wrong
world: what a wrong implementation or the wrong theory would measure. No experiment
runs; it takes seconds. Each claim is also decided again on the figures of the
lesson's reference run (docs/src/record/<lesson>.json, from `cargo xtask book
--record`), which must give the verdict that run recorded.

Prints a table (lesson, claim, wrong world, verdict there, reference run) and
`N of N claims fail on their wrong world`.

Options:
  --falsify   (required) decide every claim on its wrong world
  -h, --help  print this help

Exit status: 0 when every claim fails on its wrong world and agrees with its reference
run, 1 otherwise, 2 on a usage error.";

const BOOK_USAGE: &str = "\
Usage: cargo xtask book
       cargo xtask book --record [--quick]

Without options: checks the book (includes, links, recorded figures), then renders it
to HTML with mdBook into target/book (open target/book/index.html). mdBook is not
needed for anything else; when it is missing, this says how to install it.

With --record:
Runs every lesson's tour in full (release build), one after another, and records what
each printed and measured into docs/src/record/: <lesson>.txt (the output the chapters
include), <lesson>.json (every figure and claim), and lesson 5's race table and chart.
Then rewrites every number in the prose marked <!-- fig LESSON/ID/FIGURE --> to the
recorded value, and checks the book. Takes several minutes; run it on a quiet machine.

Options:
  --record    run the tours and record them
  --quick     smaller runs, recorded into target/record instead of the book
  -h, --help  print this help

Exit status: 0 when every tour ran, its claims did not fail and the book checks out;
1 otherwise (what was recorded is kept); 2 on a usage error.";

const MUTANTS_USAGE: &str = "\
Usage: cargo xtask mutants [--lesson L | --exercise ID]
       cargo xtask mutants --check [--lesson L | --exercise ID]

Runs cargo-mutants over the solution regions of every exercise (or of ID), each
exercise's mutants graded by its own graded tests, and writes the report into
crates/<lesson>/mutants/cargo-mutants.json with a hash of each solution and its tests.
Every missed mutant must be killed by a new test or listed, with a reason, in
crates/<lesson>/mutants/equivalent.toml. A full run takes about a quarter of an hour on
2 cores. Needs cargo-mutants: cargo install --locked cargo-mutants

Options:
  --lesson L     only this lesson's exercises (by name or number)
  --exercise ID  only this exercise (its entry in the lesson's report is replaced)
  --check        run nothing: check that every report matches its solution and tests
                 (none changed since it was made) and that every missed mutant is listed
                 as equivalent; CI runs this
  -h, --help     print this help

Exit status: 0 when no mutant is missed without a reason (and, with --check, no report
is stale), 1 otherwise, 2 on a usage error or when cargo-mutants is missing.";

/// The help for the whole tool.
pub fn usage() -> String {
    let lessons = LESSONS
        .iter()
        .map(|l| format!("  {} {:<16} {}", l.number, l.name, l.title))
        .collect::<Vec<_>>()
        .join("\n");
    format!(
        "cargo xtask: the course's own tooling\n\n\
         Usage: cargo xtask <VERB> [OPTIONS]\n\n\
         Verbs:\n  \
         run-all [--quick] [--json FILE]        test every written lesson, run its tour, check its claims\n  \
         lesson <NAME> [--quick] [--json FILE]  the same for one lesson (by name or number)\n  \
         docs-check                             check the book's includes and SUMMARY.md links\n  \
         grade [--lesson L] [--exercise ID]     grade the exercises, with points (--json, --junit)\n  \
         list                                   every exercise, its points and status\n  \
         hint <ID>                              an exercise's task and hint\n  \
         next                                   the first exercise not done yet, and its hint\n  \
         reset <ID> [--yes]                     an exercise's file back as handed out (students' copy)\n  \
         watch [ID] [--poll]                    grade again whenever a file changes\n  \
         kit --out DIR | --verify               write the student repository, or prove it works\n  \
         bench [--quick] [--json FILE]          race every engine (into target/bench), and the peers\n  \
         claims --falsify                       prove every claim fails on its wrong world\n  \
         mutants [--exercise ID] [--check]      cargo-mutants over the solutions, or check its reports\n  \
         book [--record [--quick]]              render the book with mdBook, or record every tour for it\n  \
         help [VERB]                            print this help, or one verb's\n\n\
         `cargo xtask <VERB> --help` explains a verb and its options.\n\n\
         Lessons:\n{lessons}\n\n\
         Exit status: 0 when everything passed, 1 when anything failed, 2 on a usage error."
    )
}

fn verb_usage(verb: &str) -> Option<&'static str> {
    match verb {
        "run-all" => Some(RUN_ALL_USAGE),
        "lesson" => Some(LESSON_USAGE),
        "docs-check" => Some(DOCS_CHECK_USAGE),
        "grade" => Some(GRADE_USAGE),
        "kit" => Some(KIT_USAGE),
        "list" => Some(LIST_USAGE),
        "hint" => Some(HINT_USAGE),
        "next" => Some(NEXT_USAGE),
        "reset" => Some(RESET_USAGE),
        "watch" => Some(WATCH_USAGE),
        "bench" => Some(BENCH_USAGE),
        "claims" => Some(CLAIMS_USAGE),
        "mutants" => Some(MUTANTS_USAGE),
        "book" => Some(BOOK_USAGE),
        _ => None,
    }
}

/// Parses the arguments after `cargo xtask`.
pub fn parse(args: impl IntoIterator<Item = String>) -> Parsed {
    let args: Vec<String> = args.into_iter().collect();
    let Some((verb, rest)) = args.split_first() else {
        return Parsed::Bad(format!("error: no verb given\n\n{}", usage()));
    };
    match verb.as_str() {
        "-h" | "--help" | "help" => help(rest),
        "claims" => {
            if rest.iter().any(|a| a == "-h" || a == "--help") {
                return Parsed::Help(CLAIMS_USAGE.to_string());
            }
            match rest {
                [flag] if flag == "--falsify" => Parsed::Run(Verb::ClaimsFalsify),
                [] => Parsed::Bad(format!(
                    "error: `claims` needs `--falsify`\n\n{CLAIMS_USAGE}"
                )),
                [other, ..] => Parsed::Bad(format!(
                    "error: unexpected argument `{other}` for `claims`\n\n{CLAIMS_USAGE}"
                )),
            }
        }
        "book" => {
            if rest.iter().any(|a| a == "-h" || a == "--help") {
                return Parsed::Help(BOOK_USAGE.to_string());
            }
            let record = rest.iter().any(|a| a == "--record");
            let quick = rest.iter().any(|a| a == "--quick");
            if let Some(other) = rest.iter().find(|a| *a != "--record" && *a != "--quick") {
                return Parsed::Bad(format!(
                    "error: unexpected argument `{other}` for `book`\n\n{BOOK_USAGE}"
                ));
            }
            match (record, quick) {
                (true, _) => Parsed::Run(Verb::BookRecord { quick }),
                (false, false) => Parsed::Run(Verb::BookRender),
                (false, true) => Parsed::Bad(format!(
                    "error: `--quick` goes with `--record`\n\n{BOOK_USAGE}"
                )),
            }
        }
        "mutants" => {
            if rest.iter().any(|a| a == "-h" || a == "--help") {
                return Parsed::Help(MUTANTS_USAGE.to_string());
            }
            let mut options = crate::cargo_mutants::MutantsOptions::default();
            let mut args = rest.iter();
            while let Some(arg) = args.next() {
                match arg.as_str() {
                    "--check" => options.check = true,
                    "--exercise" => match args.next() {
                        Some(id) => options.exercise = Some(id.clone()),
                        None => {
                            return Parsed::Bad(format!(
                                "error: `--exercise` needs an exercise id\n\n{MUTANTS_USAGE}"
                            ));
                        }
                    },
                    "--lesson" => match args.next().map(|name| (name, lessons::find(name))) {
                        Some((_, Some(lesson))) => options.lesson = Some(lesson),
                        Some((name, None)) => {
                            return Parsed::Bad(format!(
                                "error: no lesson named `{name}`; the lessons are: {}\n\n{MUTANTS_USAGE}",
                                lessons::known_names()
                            ));
                        }
                        None => {
                            return Parsed::Bad(format!(
                                "error: `--lesson` needs a lesson's name or number\n\n{MUTANTS_USAGE}"
                            ));
                        }
                    },
                    other => {
                        return Parsed::Bad(format!(
                            "error: unexpected argument `{other}` for `mutants`\n\n{MUTANTS_USAGE}"
                        ));
                    }
                }
            }
            Parsed::Run(Verb::Mutants(options))
        }
        "run-all" | "lesson" | "docs-check" | "bench" => {
            // `--help` wins wherever it appears, even next to a bad argument: someone
            // who asks for help should get it, not an error about the rest.
            let usage = verb_usage(verb).unwrap_or_default();
            if rest.iter().any(|a| a == "-h" || a == "--help") {
                return Parsed::Help(usage.to_string());
            }
            match parse_verb(verb, rest) {
                Ok(v) => Parsed::Run(v),
                Err(message) => Parsed::Bad(format!("error: {message}\n\n{usage}")),
            }
        }
        "grade" | "kit" | "list" | "next" | "reset" | "hint" | "watch" => {
            let usage = verb_usage(verb).unwrap_or_default();
            if rest.iter().any(|a| a == "-h" || a == "--help") {
                return Parsed::Help(usage.to_string());
            }
            match parse_exercise_verb(verb, rest) {
                Ok(v) => Parsed::Run(v),
                Err(message) => Parsed::Bad(format!("error: {message}\n\n{usage}")),
            }
        }
        other if other.starts_with('-') => Parsed::Bad(format!(
            "error: unknown option `{other}` (options go after the verb)\n\n{}",
            usage()
        )),
        other => Parsed::Bad(format!("error: unknown verb `{other}`\n\n{}", usage())),
    }
}

/// `help`, `help VERB`, `--help`.
fn help(rest: &[String]) -> Parsed {
    match rest {
        [] => Parsed::Help(usage()),
        [verb] => match verb_usage(verb) {
            Some(text) => Parsed::Help(text.to_string()),
            None => Parsed::Bad(format!(
                "error: no help for unknown verb `{verb}`\n\n{}",
                usage()
            )),
        },
        [_, extra, ..] => Parsed::Bad(format!(
            "error: unexpected argument `{extra}`\n\n{}",
            usage()
        )),
    }
}

fn parse_verb(verb: &str, rest: &[String]) -> Result<Verb, String> {
    let mut options = RunOptions::default();
    let mut positional: Vec<&str> = Vec::new();
    let takes_options = verb != "docs-check";
    let mut args = rest.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" if takes_options => options.quick = true,
            "--json" if takes_options => {
                // A following flag is not a file name: `--json --quick` is a forgotten FILE,
                // and writing a file named "--quick" would only hide the mistake.
                match args.next() {
                    Some(file) if !file.starts_with('-') || file == "-" => {
                        options.json = Some(PathBuf::from(file));
                    }
                    _ => return Err("`--json` needs a FILE to write the results to".into()),
                }
            }
            a if takes_options && a.starts_with("--json=") => {
                let file = &a["--json=".len()..];
                if file.is_empty() {
                    return Err("`--json` needs a FILE to write the results to".into());
                }
                options.json = Some(PathBuf::from(file));
            }
            a if a.starts_with('-') && a != "-" => {
                return Err(format!("unknown option `{a}` for `{verb}`"));
            }
            a => positional.push(a),
        }
    }
    match verb {
        "lesson" => match positional.as_slice() {
            [name] => match lessons::find(name) {
                Some(lesson) => Ok(Verb::Lesson(lesson, options)),
                None => Err(format!(
                    "no lesson named `{name}`; the lessons are: {}",
                    lessons::known_names()
                )),
            },
            [] => Err(format!(
                "`lesson` needs a lesson's name: one of {}",
                lessons::known_names()
            )),
            [_, extra, ..] => Err(format!("unexpected argument `{extra}`")),
        },
        _ => match positional.first() {
            Some(extra) => Err(format!("unexpected argument `{extra}`")),
            None if verb == "run-all" => Ok(Verb::RunAll(options)),
            None if verb == "bench" => Ok(Verb::Bench(options)),
            None => Ok(Verb::DocsCheck),
        },
    }
}

/// The value after an option (`--out DIR`), or an error naming what is missing.
fn value_of<'a>(
    option: &str,
    what: &str,
    args: &mut impl Iterator<Item = &'a String>,
) -> Result<&'a str, String> {
    match args.next() {
        Some(v) if !v.starts_with('-') || v == "-" => Ok(v),
        _ => Err(format!("`{option}` needs {what}")),
    }
}

/// The learner's verbs: grade, kit, list, hint, watch.
fn parse_exercise_verb(verb: &str, rest: &[String]) -> Result<Verb, String> {
    let mut grade = GradeOptions::default();
    let mut watch = WatchOptions::default();
    let mut kit: Option<KitOptions> = None;
    let mut mutants_only = false;
    let mut yes = false;
    let mut positional: Vec<&str> = Vec::new();
    let mut args = rest.iter();
    while let Some(arg) = args.next() {
        match (verb, arg.as_str()) {
            ("grade", "--lesson") => {
                let name = value_of(arg, "a lesson's name or number", &mut args)?;
                grade.lesson = Some(lessons::find(name).ok_or_else(|| {
                    format!(
                        "no lesson named `{name}`; the lessons are: {}",
                        lessons::known_names()
                    )
                })?);
            }
            ("grade", "--exercise") => {
                grade.exercise = Some(value_of(arg, "an exercise id", &mut args)?.to_string());
            }
            ("grade", "--json") => {
                grade.json = Some(value_of(arg, "a FILE to write to", &mut args)?.into());
            }
            ("grade", "--junit") => {
                grade.junit = Some(value_of(arg, "a FILE to write to", &mut args)?.into());
            }
            ("grade", "--timeout") => {
                let secs = value_of(arg, "a number of seconds", &mut args)?;
                grade.timeout_secs = match secs.parse() {
                    Ok(n) if n > 0 => n,
                    _ => {
                        return Err(format!(
                            "`--timeout` needs whole seconds above 0, not `{secs}`"
                        ));
                    }
                };
            }
            ("kit", "--out") => {
                let dir = value_of(arg, "a folder to write the kit into", &mut args)?;
                if kit.replace(KitOptions::Out(dir.into())).is_some() {
                    return Err("give either `--out DIR` or `--verify`, once".into());
                }
            }
            ("kit", "--verify") => {
                if kit
                    .replace(KitOptions::Verify(VerifyOptions::default()))
                    .is_some()
                {
                    return Err("give either `--out DIR` or `--verify`, once".into());
                }
            }
            ("kit", "--exercise") => {
                grade.exercise = Some(value_of(arg, "an exercise id", &mut args)?.to_string());
            }
            ("kit", "--mutants-only") => mutants_only = true,
            ("watch", "--poll") => watch.poll = true,
            ("reset", "--yes") => yes = true,
            (_, a) if a.starts_with('-') && a != "-" => {
                return Err(format!("unknown option `{a}` for `{verb}`"));
            }
            (_, a) => positional.push(a),
        }
    }
    let no_more = |from: usize| match positional.get(from) {
        Some(extra) => Err(format!("unexpected argument `{extra}`")),
        None => Ok(()),
    };
    match verb {
        "grade" => {
            no_more(0)?;
            Ok(Verb::Grade(grade))
        }
        "kit" => {
            no_more(0)?;
            match (kit, grade.exercise) {
                (Some(KitOptions::Verify(_)), exercise) => {
                    Ok(Verb::Kit(KitOptions::Verify(VerifyOptions {
                        exercise,
                        mutants_only,
                    })))
                }
                (Some(KitOptions::Out(_)), Some(_)) => {
                    Err("`--exercise` goes with `--verify`; `--out` writes every exercise".into())
                }
                (Some(_), None) if mutants_only => {
                    Err("`--mutants-only` goes with `--verify`".into())
                }
                (Some(out), None) => Ok(Verb::Kit(out)),
                (None, _) => Err("`kit` needs `--out DIR` or `--verify`".to_string()),
            }
        }
        "list" => {
            no_more(0)?;
            Ok(Verb::List)
        }
        "next" => {
            no_more(0)?;
            Ok(Verb::Next)
        }
        "reset" => {
            no_more(1)?;
            match positional.first() {
                Some(id) => Ok(Verb::Reset {
                    id: id.to_string(),
                    yes,
                }),
                None => Err("`reset` needs an exercise id (`cargo xtask list` shows them)".into()),
            }
        }
        "hint" => {
            no_more(1)?;
            match positional.first() {
                Some(id) => Ok(Verb::Hint(id.to_string())),
                None => Err("`hint` needs an exercise id (`cargo xtask list` shows them)".into()),
            }
        }
        _ => {
            no_more(1)?;
            watch.exercise = positional.first().map(|s| s.to_string());
            Ok(Verb::Watch(watch))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_strs(args: &[&str]) -> Parsed {
        parse(args.iter().map(|s| s.to_string()))
    }

    fn bad(args: &[&str]) -> String {
        match parse_strs(args) {
            Parsed::Bad(message) => message,
            other => panic!("{args:?} parsed as {other:?}"),
        }
    }

    fn help_text(args: &[&str]) -> String {
        match parse_strs(args) {
            Parsed::Help(text) => text,
            other => panic!("{args:?} parsed as {other:?}"),
        }
    }

    #[test]
    fn verbs_and_their_options_parse() {
        assert_eq!(
            parse_strs(&["run-all"]),
            Parsed::Run(Verb::RunAll(RunOptions::default()))
        );
        assert_eq!(
            parse_strs(&["run-all", "--json", "out.json", "--quick"]),
            Parsed::Run(Verb::RunAll(RunOptions {
                quick: true,
                json: Some("out.json".into())
            }))
        );
        assert_eq!(
            parse_strs(&["lesson", "--json=r.json", "1"]),
            Parsed::Run(Verb::Lesson(
                &LESSONS[0],
                RunOptions {
                    quick: false,
                    json: Some("r.json".into())
                }
            ))
        );
        assert_eq!(parse_strs(&["docs-check"]), Parsed::Run(Verb::DocsCheck));
    }

    #[test]
    fn help_is_printed_for_the_tool_and_for_every_verb() {
        for args in [&["--help"][..], &["-h"], &["help"]] {
            assert!(help_text(args).contains("run-all"), "{args:?}");
        }
        for verb in ["run-all", "lesson", "docs-check"] {
            let text = help_text(&[verb, "--help"]);
            assert!(text.contains(&format!("cargo xtask {verb}")), "{text}");
            assert_eq!(help_text(&["help", verb]), text);
        }
        // Help wins over a bad argument next to it.
        assert!(help_text(&["lesson", "nope", "--bogus", "-h"]).contains("lesson <NAME>"));
    }

    #[test]
    fn unknown_verbs_and_flags_are_named_with_the_usage() {
        let m = bad(&["rnu-all"]);
        assert!(
            m.contains("unknown verb `rnu-all`") && m.contains("Usage:"),
            "{m}"
        );
        let m = bad(&["run-all", "--fast"]);
        assert!(
            m.contains("`--fast`") && m.contains("Usage: cargo xtask run-all"),
            "{m}"
        );
        let m = bad(&["docs-check", "--quick"]);
        assert!(m.contains("`--quick`"), "{m}");
        let m = bad(&["--quick"]);
        assert!(m.contains("`--quick`"), "{m}");
        assert!(bad(&[]).contains("no verb"));
        assert!(bad(&["run-all", "procs"]).contains("unexpected argument `procs`"));
    }

    #[test]
    fn the_exercise_verbs_parse() {
        assert_eq!(
            parse_strs(&[
                "grade",
                "--lesson",
                "1",
                "--junit",
                "j.xml",
                "--timeout",
                "5"
            ]),
            Parsed::Run(Verb::Grade(GradeOptions {
                lesson: Some(&LESSONS[0]),
                junit: Some("j.xml".into()),
                timeout_secs: 5,
                ..GradeOptions::default()
            }))
        );
        assert_eq!(
            parse_strs(&["kit", "--out", "student"]),
            Parsed::Run(Verb::Kit(KitOptions::Out("student".into())))
        );
        assert_eq!(
            parse_strs(&["kit", "--verify"]),
            Parsed::Run(Verb::Kit(KitOptions::Verify(VerifyOptions::default())))
        );
        assert_eq!(
            parse_strs(&[
                "kit",
                "--verify",
                "--exercise",
                "procs/reap",
                "--mutants-only"
            ]),
            Parsed::Run(Verb::Kit(KitOptions::Verify(VerifyOptions {
                exercise: Some("procs/reap".into()),
                mutants_only: true
            })))
        );
        assert_eq!(parse_strs(&["list"]), Parsed::Run(Verb::List));
        assert_eq!(parse_strs(&["next"]), Parsed::Run(Verb::Next));
        assert_eq!(parse_strs(&["book"]), Parsed::Run(Verb::BookRender));
        assert_eq!(
            parse_strs(&["book", "--record", "--quick"]),
            Parsed::Run(Verb::BookRecord { quick: true })
        );
        assert!(matches!(parse_strs(&["book", "--quick"]), Parsed::Bad(_)));
        assert_eq!(
            parse_strs(&["reset", "procs/reap", "--yes"]),
            Parsed::Run(Verb::Reset {
                id: "procs/reap".into(),
                yes: true
            })
        );
        assert_eq!(
            parse_strs(&["reset", "procs/reap"]),
            Parsed::Run(Verb::Reset {
                id: "procs/reap".into(),
                yes: false
            })
        );
        assert!(matches!(parse_strs(&["reset"]), Parsed::Bad(_)));
        assert!(matches!(parse_strs(&["next", "--yes"]), Parsed::Bad(_)));
        assert!(matches!(parse_strs(&["next", "extra"]), Parsed::Bad(_)));
        assert!(matches!(parse_strs(&["next", "--help"]), Parsed::Help(_)));
        assert_eq!(
            parse_strs(&["hint", "procs/capture"]),
            Parsed::Run(Verb::Hint("procs/capture".into()))
        );
        assert_eq!(
            parse_strs(&["watch", "procs/reap", "--poll"]),
            Parsed::Run(Verb::Watch(WatchOptions {
                exercise: Some("procs/reap".into()),
                poll: true
            }))
        );
        for verb in ["grade", "kit", "list", "hint", "watch"] {
            assert!(help_text(&[verb, "--help"]).contains(&format!("cargo xtask {verb}")));
        }
    }

    #[test]
    fn the_exercise_verbs_refuse_bad_arguments() {
        assert!(bad(&["kit"]).contains("needs `--out DIR` or `--verify`"));
        assert!(bad(&["kit", "--out", "a", "--verify"]).contains("once"));
        assert!(bad(&["kit", "--out"]).contains("`--out` needs"));
        assert!(bad(&["grade", "--timeout", "0"]).contains("above 0"));
        assert!(bad(&["grade", "--lesson", "nope"]).contains("no lesson named `nope`"));
        assert!(bad(&["grade", "extra"]).contains("unexpected argument `extra`"));
        assert!(bad(&["hint"]).contains("needs an exercise id"));
        assert!(bad(&["hint", "a", "b"]).contains("unexpected argument `b`"));
        assert!(bad(&["list", "--poll"]).contains("unknown option `--poll` for `list`"));
    }

    #[test]
    fn json_without_a_file_is_an_error() {
        for args in [
            &["run-all", "--json"][..],
            &["run-all", "--json", "--quick"],
            &["lesson", "procs", "--json="],
        ] {
            assert!(bad(args).contains("`--json` needs a FILE"), "{args:?}");
        }
    }

    #[test]
    fn a_lesson_must_be_named_and_known() {
        let m = bad(&["lesson"]);
        assert!(m.contains("needs a lesson's name"), "{m}");
        let m = bad(&["lesson", "prcs"]);
        assert!(
            m.contains("`prcs`") && m.contains("procs, threads, sockets"),
            "{m}"
        );
        let m = bad(&["lesson", "procs", "threads"]);
        assert!(m.contains("unexpected argument `threads`"), "{m}");
    }
}
