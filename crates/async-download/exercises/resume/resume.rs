//! Exercise `async-download/resume`: the journal that lets a killed run go on.
//!
//! A run of a million documents will be interrupted: Ctrl-C, a reboot, `kill -9`, a full
//! disk. The next run must neither fetch again what is already saved nor skip what is
//! not. So after each document is saved (written to a temporary file and renamed into
//! place), one line is appended to a journal: `ok <name>\n`. At start, the journal says
//! what is done, and only the rest is fetched.
//!
//! The journal is read by a program that trusts nothing it did not finish. A run killed
//! while appending leaves a last line without its `\n`, maybe cut in the middle of the
//! name (`ok doc-12` of `ok doc-1234`): that document's line was never completed, so it
//! does not count (at worst, one document is fetched twice; never one lost). The same
//! name may appear twice (a document fetched again after a crash between rename and
//! journal); a line of another kind may come from a newer version of the program: both
//! are harmless, and reading goes on.

// In your copy the body is `todo!()` and ignores its arguments until you write it:
// no warnings for that.
#![allow(unused_variables, unused_mut, dead_code)]

use std::collections::HashSet;
use std::io::{self, Write};

/// The names the journal `text` records as done: every complete line (ending in `\n`)
/// of the form `ok <name>`, with a non-empty name (everything after `ok `, spaces
/// included, a trailing `\r` removed).
///
/// - A last line without its `\n` is torn (the run was killed while writing it): it
///   is ignored, whatever it says.
/// - Any other line (empty, `ok` without a name, unknown words) is ignored.
/// - A name recorded twice is in the set once.
pub fn parse_journal(text: &str) -> HashSet<String> {
    // BEGIN SOLUTION
    // Only what is before the last '\n' was completely written.
    let complete = match text.rfind('\n') {
        Some(end) => &text[..end],
        None => "",
    };
    complete
        .split('\n')
        .map(|line| line.strip_suffix('\r').unwrap_or(line))
        .filter_map(|line| line.strip_prefix("ok "))
        .filter(|name| !name.is_empty())
        .map(str::to_string)
        .collect()
    // END SOLUTION
}

/// The names of `all` that are not in `done`, in the order of `all`, each once (a name
/// listed twice is fetched once, where it first appears).
pub fn still_to_fetch<'a>(all: &[&'a str], done: &HashSet<String>) -> Vec<&'a str> {
    // BEGIN SOLUTION
    let mut seen = HashSet::new();
    all.iter()
        .copied()
        .filter(|name| !done.contains(*name) && seen.insert(*name))
        .collect()
    // END SOLUTION
}

/// Appends the journal line `ok <name>\n` for `name` to `journal`, with a single
/// `write_all` call (so that a concurrent writer's line cannot land in the middle of
/// it, with a file opened in append mode).
///
/// A `name` that cannot be read back as itself is refused with an
/// `io::ErrorKind::InvalidInput` error and nothing is written: an empty name, and a
/// name containing `\n` or `\r` (one could forge a line `ok <another name>`, or be cut).
pub fn record_done(journal: &mut impl Write, name: &str) -> io::Result<()> {
    // BEGIN SOLUTION
    if name.is_empty() || name.contains(['\n', '\r']) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{name:?} cannot be a journal entry: empty, or a line break in it"),
        ));
    }
    journal.write_all(format!("ok {name}\n").as_bytes())
    // END SOLUTION
}
