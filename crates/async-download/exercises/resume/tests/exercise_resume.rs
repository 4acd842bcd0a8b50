//! Graded tests for exercise `async-download/resume`: reading the journal a killed run
//! left (torn last lines, unknown lines, duplicates, names with spaces and `\r`), and
//! writing it so that it can be read back: one `write_all` of the whole line, through
//! short writes, and nothing at all for a name that is refused.
//!
//! Every check names the journal text, the names or the name it tried and the rule of
//! the task it checks ([`graded::case`]); a panic in the exercise's functions is
//! reported as one, with that case. Sets of names are shown sorted, so that a failure
//! reads the same every time.

use std::collections::{BTreeSet, HashSet};
use std::io;

use async_download_resume::{parse_journal, record_done, still_to_fetch};
use graded::{Case, case, scene};

fn set(names: &[&str]) -> HashSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// A set of names in order, to show: a HashSet's order changes from run to run.
fn sorted(names: HashSet<String>) -> BTreeSet<String> {
    names.into_iter().collect()
}

/// Parses the journal `text` and checks that the names it records as done are
/// `expected`, for the task's `rule`. A failure points at the line that called it
/// (`track_caller`), not at this helper.
#[track_caller]
fn parses(text: &str, rule: &str, expected: &[&str]) {
    let c = case(text, rule);
    let got = c.run(|| parse_journal(text));
    c.eq(sorted(got), sorted(set(expected)));
}

/// Checks that `still_to_fetch(all, done)` is `expected`, for the task's `rule`.
#[track_caller]
fn to_fetch(all: &[&str], done: &[&str], rule: &str, expected: &[&str]) {
    let c = scene(format!("still_to_fetch({all:?}, done {done:?})"), rule);
    let done = set(done);
    let got = c.run(|| still_to_fetch(all, &done));
    c.eq(got, expected.to_vec());
}

/// Records `name` in `journal` for case `c`, which fails if `record_done` refuses it
/// or panics.
#[track_caller]
fn records(c: &Case, journal: &mut impl io::Write, name: &str) {
    if let Err(error) = c.run(|| record_done(journal, name)) {
        c.fail(error);
    }
}

/// Checks that `record_done` refuses `name` with an `InvalidInput` error, for case `c`.
#[track_caller]
fn refuses(c: &Case, journal: &mut impl io::Write, name: &str) {
    let got = c.run(|| record_done(journal, name));
    c.check(
        matches!(&got, Err(e) if e.kind() == io::ErrorKind::InvalidInput),
        got,
    );
}

/// What was written, as text: the journal is read as text.
#[track_caller]
fn text_of(c: &Case, journal: Vec<u8>) -> String {
    String::from_utf8(journal).unwrap_or_else(|e| c.fail(e))
}

#[test]
fn complete_ok_lines_are_the_done_names() {
    let rule = "every complete line `ok <name>` records <name> as done";
    parses("ok a.html\nok b.html\n", rule, &["a.html", "b.html"]);
    parses("", "an empty journal records nothing", &[]);
    parses(
        "ok sub/page one.html\nok c\r\n",
        "the name is everything after `ok `; a \\r before the \\n is not part of it",
        &["sub/page one.html", "c"],
    );
}

#[test]
fn a_torn_last_line_is_ignored() {
    // Killed while writing `ok doc-1234\n`: the name was cut.
    let rule = "a last line without its \\n is torn: it is ignored, whatever it says";
    parses("ok doc-1\nok doc-2\nok doc-12", rule, &["doc-1", "doc-2"]);
    parses("ok doc-1\nok doc-2\nok", rule, &["doc-1", "doc-2"]);
    parses(
        "ok only",
        "one line without its \\n is torn too: nothing counts",
        &[],
    );
    parses(
        "ok doc-1\nok doc-1",
        "a torn line is ignored even if its name is also on a complete line",
        &["doc-1"],
    );
}

#[test]
fn duplicates_and_unknown_lines_are_harmless() {
    let text = "ok a\n\nok a\n# a comment\nfailed b\nok\nok \nOK c\n ok d\nokay e\nok f\nok a\n";
    parses(
        text,
        "other lines (empty, `ok` without a name, unknown words) are ignored; a name \
         recorded twice is in the set once",
        &["a", "f"],
    );
    // `ok ` with only the `\r` of a CRLF line after it has no name either.
    parses(
        "ok \r\nok g\r\n\r\n",
        "`ok ` and the \\r of a CRLF line is `ok` without a name: ignored",
        &["g"],
    );
}

#[test]
fn journals_at_the_edges() {
    parses("\n", "one empty line records nothing", &[]);
    parses("ok a\n", "a single complete line", &["a"]);
    parses(
        "ok a\r",
        "a line without its \\n is torn, even if it ends in \\r",
        &[],
    );
    parses(
        "ok a\nok b\r",
        "the last line, without its \\n, is torn",
        &["a"],
    );
}

#[test]
fn a_name_is_everything_after_ok_and_a_space_spaces_included() {
    parses(
        "ok  padded \nok ok\nok tab\there\n",
        "the name is everything after `ok `, spaces included: nothing is trimmed but the \
         \\r of a CRLF line",
        &[" padded ", "ok", "tab\there"],
    );
}

#[test]
fn every_name_record_done_accepts_is_read_back_as_itself() {
    let names = [
        " padded ",
        " ",
        "ok",
        "tab\there",
        "ünïcödé",
        "sub/dir/page.html?x=1",
    ];
    let mut journal = Vec::new();
    for name in names {
        let c = case(name, "a name that reads back as itself is recorded: Ok");
        records(&c, &mut journal, name);
    }
    let c = case(
        names,
        "every name record_done wrote is read back by parse_journal as itself",
    );
    let text = text_of(&c, journal);
    let c = scene(
        format!("the names {names:?}, which record_done wrote as the journal {text:?}"),
        "every name record_done wrote is read back by parse_journal as itself",
    );
    let got = c.run(|| parse_journal(&text));
    c.eq(sorted(got), sorted(set(&names)));
}

#[test]
fn still_to_fetch_keeps_the_order_and_skips_what_is_done() {
    let all = ["a", "b", "c", "d", "e"];
    let rule = "the names of `all` that are not done, in the order of `all`";
    to_fetch(&all, &["b", "d", "zzz"], rule, &["a", "c", "e"]);
    to_fetch(&all, &[], rule, &all);
    to_fetch(&all, &all, rule, &[]);
    to_fetch(&[], &["b", "d", "zzz"], rule, &[]);
}

#[test]
fn a_name_listed_twice_is_fetched_once() {
    let all = ["a", "b", "a", "c", "b", "a"];
    let rule = "a name listed twice is fetched once, where it first appears";
    to_fetch(&all, &[], rule, &["a", "b", "c"]);
    to_fetch(&all, &["a"], rule, &["b", "c"]);
}

#[test]
fn the_journal_of_a_killed_run_resumes_it() {
    let all = ["p1", "p2", "p3", "p4", "p5"];
    // The first run saved p1, p3 (twice) and was killed while recording p4.
    let c = scene(
        "a run of p1..p5 that recorded p1, p3 and p3 with record_done, then was killed \
         while writing `ok p4\\n`, after `ok p`",
        "the next run reads p1 and p3 as done and fetches p2, p4, p5",
    );
    let mut journal = Vec::new();
    for name in ["p1", "p3", "p3"] {
        records(&c, &mut journal, name);
    }
    journal.extend_from_slice(b"ok p");
    let text = text_of(&c, journal);
    c.rule("record_done writes `ok <name>\\n`")
        .check(text.starts_with("ok p1\nok p3\n"), &text);
    let done = c.run(|| parse_journal(&text));
    c.eq(sorted(done.clone()), sorted(set(&["p1", "p3"])));
    let to_fetch = c.run(|| still_to_fetch(&all, &done));
    c.eq(to_fetch, vec!["p2", "p4", "p5"]);
}

#[test]
fn record_done_writes_one_line_or_nothing() {
    let mut journal = Vec::new();
    let c = case(
        "sub/a b.html",
        "record_done appends the line `ok <name>\\n`",
    );
    records(&c, &mut journal, "sub/a b.html");
    c.eq(
        text_of(&c, journal.clone()),
        "ok sub/a b.html\n".to_string(),
    );
    for bad in ["", "x\nok forged", "cut\r", "\n"] {
        let c = case(
            bad,
            "an empty name, or one with \\n or \\r, is refused with InvalidInput, and \
             nothing is written",
        );
        refuses(&c, &mut journal, bad);
        c.rule("a refused name writes nothing").eq(
            text_of(&c, journal.clone()),
            "ok sub/a b.html\n".to_string(),
        );
    }
    let text = text_of(&c, journal);
    let c = case(&text, "the journal reads back as the one name recorded");
    let got = c.run(|| parse_journal(&text));
    c.eq(sorted(got), sorted(set(&["sub/a b.html"])));
}

/// A writer that keeps every `write` call's bytes apart, and takes them all.
#[derive(Debug, Default)]
struct Calls {
    writes: Vec<Vec<u8>>,
}

impl io::Write for Calls {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writes.push(buf.to_vec());
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Each `write` call's bytes, as text where they are.
fn calls_of(out: &Calls) -> Vec<String> {
    out.writes
        .iter()
        .map(|w| String::from_utf8_lossy(w).into_owned())
        .collect()
}

#[test]
fn record_done_writes_the_line_with_one_call() {
    // A writer that takes everything: one write_all of the line is one `write` of it.
    // Several calls ("ok ", then the name, then "\n", as `writeln!` makes) let another
    // writer's line land in between, in a journal shared by two processes.
    let c = case(
        "page-7.html",
        "the whole line in one write_all call: one `write` to a writer that takes it all",
    );
    let mut out = Calls::default();
    records(&c, &mut out, "page-7.html");
    c.eq(calls_of(&out), vec!["ok page-7.html\n".to_string()]);
    // Exact bytes too, should a lossy conversion have hidden a difference.
    c.eq(out.writes, vec![b"ok page-7.html\n".to_vec()]);
    let mut out = Calls::default();
    for bad in ["", "a\nb", "c\r"] {
        let c = case(
            bad,
            "a refused name (empty, \\n or \\r in it) makes no write call at all",
        );
        refuses(&c, &mut out, bad);
        c.eq(calls_of(&out), vec![]);
    }
}

/// A writer that takes at most 3 bytes per `write` call, as a pipe or a nearly full
/// disk may: `write_all` loops until the line is whole; one `write` would tear it.
#[derive(Debug, Default)]
struct Trickle {
    bytes: Vec<u8>,
}

impl io::Write for Trickle {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = buf.len().min(3);
        self.bytes.extend_from_slice(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn record_done_writes_the_whole_line_through_short_writes() {
    let c = case(
        "document-42.html",
        "the whole line `ok <name>\\n` is written (write_all), even to a writer that takes \
         3 bytes per write call",
    );
    let mut out = Trickle::default();
    records(&c, &mut out, "document-42.html");
    c.eq(text_of(&c, out.bytes), "ok document-42.html\n".to_string());
}
