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
        "run-all" | "lesson" | "docs-check" => {
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
            None => Ok(Verb::DocsCheck),
        },
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
