//! Graded tests for exercise `async-download/resume`: reading the journal a killed run
//! left (torn last lines, unknown lines, duplicates, names with spaces and `\r`), and
//! writing it so that it can be read back: one `write_all` of the whole line, through
//! short writes, and nothing at all for a name that is refused.

use std::collections::HashSet;
use std::io;

use async_download_resume::{parse_journal, record_done, still_to_fetch};

fn set(names: &[&str]) -> HashSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

#[test]
fn complete_ok_lines_are_the_done_names() {
    assert_eq!(
        parse_journal("ok a.html\nok b.html\n"),
        set(&["a.html", "b.html"])
    );
    assert_eq!(parse_journal(""), set(&[]));
    assert_eq!(
        parse_journal("ok sub/page one.html\nok c\r\n"),
        set(&["sub/page one.html", "c"]),
        "the name is everything after `ok `; a \\r before the \\n is not part of it"
    );
}

#[test]
fn a_torn_last_line_is_ignored() {
    // Killed while writing `ok doc-1234\n`: the name was cut.
    assert_eq!(
        parse_journal("ok doc-1\nok doc-2\nok doc-12"),
        set(&["doc-1", "doc-2"])
    );
    assert_eq!(
        parse_journal("ok doc-1\nok doc-2\nok"),
        set(&["doc-1", "doc-2"])
    );
    assert_eq!(
        parse_journal("ok only"),
        set(&[]),
        "one line without its \\n is torn too"
    );
    assert_eq!(
        parse_journal("ok doc-1\nok doc-1"),
        set(&["doc-1"]),
        "a torn line is ignored even if its name is also on a complete line"
    );
}

#[test]
fn duplicates_and_unknown_lines_are_harmless() {
    let text = "ok a\n\nok a\n# a comment\nfailed b\nok\nok \nOK c\n ok d\nokay e\nok f\nok a\n";
    assert_eq!(parse_journal(text), set(&["a", "f"]));
    // `ok ` with only the `\r` of a CRLF line after it has no name either.
    assert_eq!(parse_journal("ok \r\nok g\r\n\r\n"), set(&["g"]));
}

#[test]
fn journals_at_the_edges() {
    assert_eq!(parse_journal("\n"), set(&[]), "one empty line");
    assert_eq!(
        parse_journal("ok a\n"),
        set(&["a"]),
        "a single complete line"
    );
    assert_eq!(
        parse_journal("ok a\r"),
        set(&[]),
        "a line without its \\n is torn, even if it ends in \\r"
    );
    assert_eq!(
        parse_journal("ok a\nok b\r"),
        set(&["a"]),
        "the torn line is the last one"
    );
}

#[test]
fn a_name_is_everything_after_ok_and_a_space_spaces_included() {
    assert_eq!(
        parse_journal("ok  padded \nok ok\nok tab\there\n"),
        set(&[" padded ", "ok", "tab\there"]),
        "nothing is trimmed from a name but the \\r of a CRLF line"
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
        record_done(&mut journal, name).unwrap();
    }
    let text = String::from_utf8(journal).unwrap();
    assert_eq!(parse_journal(&text), set(&names), "journal: {text:?}");
}

#[test]
fn still_to_fetch_keeps_the_order_and_skips_what_is_done() {
    let all = ["a", "b", "c", "d", "e"];
    let done = set(&["b", "d", "zzz"]);
    assert_eq!(still_to_fetch(&all, &done), ["a", "c", "e"]);
    assert_eq!(still_to_fetch(&all, &set(&[])), all);
    assert_eq!(still_to_fetch(&all, &set(&all)), Vec::<&str>::new());
    assert_eq!(still_to_fetch(&[], &done), Vec::<&str>::new());
}

#[test]
fn a_name_listed_twice_is_fetched_once() {
    let all = ["a", "b", "a", "c", "b", "a"];
    assert_eq!(still_to_fetch(&all, &set(&[])), ["a", "b", "c"]);
    assert_eq!(still_to_fetch(&all, &set(&["a"])), ["b", "c"]);
}

#[test]
fn the_journal_of_a_killed_run_resumes_it() {
    let all = ["p1", "p2", "p3", "p4", "p5"];
    // The first run saved p1, p3 (twice) and was killed while recording p4.
    let mut journal = Vec::new();
    for name in ["p1", "p3", "p3"] {
        record_done(&mut journal, name).unwrap();
    }
    journal.extend_from_slice(b"ok p");
    let text = String::from_utf8(journal.clone()).unwrap();
    assert!(
        text.starts_with("ok p1\nok p3\n"),
        "record_done writes `ok <name>\\n`: {text:?}"
    );
    let done = parse_journal(&text);
    assert_eq!(done, set(&["p1", "p3"]));
    assert_eq!(still_to_fetch(&all, &done), ["p2", "p4", "p5"]);
}

#[test]
fn record_done_writes_one_line_or_nothing() {
    let mut journal = Vec::new();
    record_done(&mut journal, "sub/a b.html").unwrap();
    assert_eq!(journal, b"ok sub/a b.html\n");
    for bad in ["", "x\nok forged", "cut\r", "\n"] {
        let err = record_done(&mut journal, bad).expect_err(bad);
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{bad:?}");
    }
    assert_eq!(
        journal, b"ok sub/a b.html\n",
        "a refused name writes nothing"
    );
    assert_eq!(
        parse_journal(std::str::from_utf8(&journal).unwrap()),
        set(&["sub/a b.html"])
    );
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

#[test]
fn record_done_writes_the_line_with_one_call() {
    // A writer that takes everything: one write_all of the line is one `write` of it.
    // Several calls ("ok ", then the name, then "\n", as `writeln!` makes) let another
    // writer's line land in between, in a journal shared by two processes.
    let mut out = Calls::default();
    record_done(&mut out, "page-7.html").unwrap();
    assert_eq!(
        out.writes,
        [b"ok page-7.html\n".to_vec()],
        "the whole line in one write_all call"
    );
    let mut out = Calls::default();
    for bad in ["", "a\nb", "c\r"] {
        record_done(&mut out, bad).expect_err(bad);
    }
    assert!(
        out.writes.is_empty(),
        "a refused name makes no write call at all: {:?}",
        out.writes
    );
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
    let mut out = Trickle::default();
    record_done(&mut out, "document-42.html").unwrap();
    assert_eq!(out.bytes, b"ok document-42.html\n");
}
