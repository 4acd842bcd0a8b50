//! Our response head parser against httparse, a parser that all of hyper relies on.
//!
//! Two independent parsers that agree on thousands of inputs, valid and damaged, are
//! stronger evidence than either one's own tests. They are compared where both give a
//! definite answer: httparse stops at the first bad byte, ours at the end of the line
//! holding it, so on a cut-off input one may say "incomplete" while the other already
//! says "invalid"; those cases are not compared.
//!
//! One difference is deliberate and checked as such: httparse accepts any three digits
//! as a status code, ours refuses codes below 100 (RFC 9110, section 15: they are not
//! status codes). And httparse returns an empty reason phrase when it holds bytes above
//! 0x7f, so reasons are compared only when they are ASCII.
//!
//! Folded header lines (`obs-fold`) are read as a user agent must read them (RFC 9112,
//! section 5.2): httparse is told to accept them in responses, which it does by keeping
//! the fold's bytes in the value, and its value is compared after each fold is replaced
//! with one space, as ours does.

mod rfc9112;

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use sockets::http::{HttpError, Limits, Method, Parsed, ResponseParser};

/// The header slots given to httparse, and our `max_headers`: both must refuse the
/// same head for having too many.
const MAX_HEADERS: usize = 32;

#[derive(Debug, PartialEq, Eq)]
struct Head {
    version_minor: u8,
    status: u16,
    reason: String,
    headers: Vec<(String, String)>,
    used: usize,
}

#[derive(Debug)]
enum Verdict {
    Accepted(Head),
    Rejected(String),
    Incomplete,
}

/// Header values are bytes to httparse; ours keeps them as text by this rule.
fn text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

/// An httparse value with each fold replaced as RFC 9112 (section 5.2) says: every
/// line of it trimmed of its whitespace and line ending, the empty ones left out, the
/// rest joined by one space. A value without a fold is unchanged.
fn unfold(value: &[u8]) -> String {
    if !value.contains(&b'\n') {
        return text(value);
    }
    let trim = |mut line: &[u8]| {
        line = line.strip_suffix(b"\r").unwrap_or(line);
        let start = line.iter().position(|&b| b != b' ' && b != b'\t');
        let end = line.iter().rposition(|&b| b != b' ' && b != b'\t');
        match (start, end) {
            (Some(start), Some(end)) => text(&line[start..=end]),
            _ => String::new(),
        }
    };
    value
        .split(|&b| b == b'\n')
        .map(trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn ours(input: &[u8]) -> Verdict {
    let limits = Limits {
        max_headers: MAX_HEADERS,
        ..Limits::default()
    };
    // A response to HEAD has no body: the parser stops at the end of the head.
    match ResponseParser::new(Method::Head, limits).feed(input) {
        Ok(Parsed::Done { message, used }) => Verdict::Accepted(Head {
            version_minor: message.version_minor,
            status: message.status,
            reason: message.reason.into_owned(),
            headers: message
                .headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            used,
        }),
        Ok(Parsed::NeedMore) => Verdict::Incomplete,
        Err(error) => Verdict::Rejected(error_name(&error)),
    }
}

fn error_name(error: &HttpError) -> String {
    format!("{error:?}")
}

fn theirs(input: &[u8]) -> Verdict {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    let parsed = httparse::ParserConfig::default()
        .allow_obsolete_multiline_headers_in_responses(true)
        .parse_response(&mut response, input);
    match parsed {
        Ok(httparse::Status::Complete(used)) => Verdict::Accepted(Head {
            version_minor: response.version.unwrap_or(9),
            status: response.code.unwrap_or(0),
            reason: response.reason.unwrap_or("").to_string(),
            headers: response
                .headers
                .iter()
                .map(|h| (h.name.to_string(), unfold(h.value)))
                .collect(),
            used,
        }),
        Ok(httparse::Status::Partial) => Verdict::Incomplete,
        Err(error) => Verdict::Rejected(format!("{error:?}")),
    }
}

/// httparse's reading of the final head in `input`, after the interim (1xx) heads it
/// returns one by one and ours skips; `used` counts them too, as ours does.
fn theirs_final(input: &[u8]) -> Verdict {
    let mut skipped = 0;
    loop {
        match theirs(&input[skipped..]) {
            Verdict::Accepted(head) if (100..200).contains(&head.status) && head.status != 101 => {
                skipped += head.used;
            }
            Verdict::Accepted(mut head) => {
                head.used += skipped;
                return Verdict::Accepted(head);
            }
            other => return other,
        }
    }
}

/// How a comparison came out.
#[derive(Debug, Default)]
struct Tally {
    both_accepted: usize,
    both_rejected: usize,
    not_compared: usize,
}

/// Compares the two parsers on `input`; panics on a disagreement.
fn compare(input: &[u8], tally: &mut Tally) {
    let shown = String::from_utf8_lossy(input);
    match (ours(input), theirs(input)) {
        (Verdict::Incomplete, _) | (_, Verdict::Incomplete) => tally.not_compared += 1,
        // An interim response: we skip it and wait for the final one, httparse returns it.
        (_, Verdict::Accepted(head)) if (100..200).contains(&head.status) && head.status != 101 => {
            tally.not_compared += 1
        }
        (Verdict::Accepted(mut ours), Verdict::Accepted(theirs)) => {
            if !theirs.reason.is_empty() || ours.reason.is_ascii() {
                assert_eq!(ours, theirs, "the parsers read {shown:?} differently");
            } else {
                ours.reason.clear();
                assert_eq!(ours, theirs, "the parsers read {shown:?} differently");
            }
            tally.both_accepted += 1;
        }
        (Verdict::Rejected(_), Verdict::Rejected(_)) => tally.both_rejected += 1,
        (Verdict::Rejected(why), Verdict::Accepted(head)) if head.status < 100 => {
            assert!(why.starts_with("BadStatusLine"), "{shown:?}: {why}");
            tally.both_rejected += 1;
        }
        (ours, theirs) => {
            panic!("the parsers disagree on {shown:?}: ours {ours:?}, httparse {theirs:?}")
        }
    }
}

#[test]
fn hand_made_heads() {
    let cases: &[&[u8]] = &[
        b"HTTP/1.1 200 OK\r\n\r\n",
        b"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200\r\n\r\n",
        b"HTTP/1.1 200 \r\n\r\n",
        b"HTTP/1.1 200  two  spaces \r\n\r\n",
        b"\r\nHTTP/1.1 200 OK\r\n\r\n",
        b"\n\nHTTP/1.1 200 OK\n\n",
        b"HTTP/1.1 200 OK\nA: b\r\n\n",
        b"HTTP/1.1 200 OK\r\nA:b\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nA:\tb \t\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nA:\r\nB: \r\n\r\n",
        b"HTTP/1.1 200 OK\r\nA: \x80\xff\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nA: caf\xc3\xa9\r\n\r\n",
        b"HTTP/1.1 200 Ok\xe9\r\n\r\n",
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n",
        b"HTTP/1.1 999 Whatever\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nA: b\r\n\r\nthe body follows",
        b"HTTP/1.1 200 OK\r\nA : b\r\n\r\n",
        b" HTTP/1.1 200 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n A: b\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nA: b\x7f\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nA: b\x00\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n:\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n: b\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nA\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nA\x80: b\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n\x00: b\r\n\r\n",
        b"HTTP/1.2 200 OK\r\n\r\n",
        b"HTTP/2 200\r\n\r\n",
        b"HTTP/2.0 200 OK\r\n\r\n",
        b"http/1.1 200 OK\r\n\r\n",
        b"HTTP/1.1 20 OK\r\n\r\n",
        b"HTTP/1.1 2000 OK\r\n\r\n",
        b"HTTP/1.1 2x0 OK\r\n\r\n",
        b"HTTP/1.1  200 OK\r\n\r\n",
        b"HTTP/1.1 200\tOK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nA: b\r\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nA: b\r\n\r\r\n",
        b"HTTP/1.1 200 O\x01K\r\n\r\n",
        b"HTTP/1.1 099 Low\r\n\r\n",
        b"HTTP/1.1 000 Zero\r\n\r\n",
    ];
    let mut tally = Tally::default();
    for input in cases {
        compare(input, &mut tally);
    }
    // Too many headers: both refuse the 33rd.
    let mut many = b"HTTP/1.1 200 OK\r\n".to_vec();
    for i in 0..=MAX_HEADERS {
        many.extend_from_slice(format!("H{i}: v\r\n").as_bytes());
    }
    many.extend_from_slice(b"\r\n");
    compare(&many, &mut tally);
    assert_eq!(tally.not_compared, 0, "{tally:?}");
    assert!(
        tally.both_accepted >= 15 && tally.both_rejected >= 25,
        "{tally:?}"
    );
}

/// A random, valid-looking response head, with some lines ending in a bare LF.
fn head() -> impl Strategy<Value = Vec<u8>> {
    let version = prop_oneof![Just("HTTP/1.1"), Just("HTTP/1.0")];
    let status = prop_oneof![Just(200u16), Just(404), Just(101), 100u16..1000];
    let reason = "[ -~\t]{0,16}";
    let field = (
        "[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}",
        "[ \t]{0,2}",
        "([!-~\u{80}-\u{ff}][ -~\t]{0,16}[!-~])?",
        "[ \t]{0,2}",
    );
    (
        version,
        status,
        reason,
        prop::collection::vec(field, 0..10),
        any::<u32>(),
    )
        .prop_map(|(version, status, reason, fields, bare_lf)| {
            let eol = |i: usize| {
                if bare_lf >> (i % 32) & 1 == 1 {
                    "\n"
                } else {
                    "\r\n"
                }
            };
            let mut out = format!("{version} {status} {reason}{}", eol(0));
            for (i, (name, before, value, after)) in fields.iter().enumerate() {
                out += &format!("{name}:{before}{value}{after}{}", eol(i + 1));
            }
            out += eol(31);
            out.into_bytes()
        })
}

/// The same heads with one to three bytes replaced, inserted or removed, the new
/// bytes drawn mostly from the ones that matter to the grammar.
fn damaged_head() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        4 => prop::sample::select(b"\r\n \t:;,0129HTP/.\x00\x7f\x80\xff\"".to_vec()),
        1 => any::<u8>(),
    ];
    (
        head(),
        prop::collection::vec((any::<Index>(), 0u8..3, byte), 1..4),
    )
        .prop_map(|(mut bytes, damage)| {
            for (at, how, byte) in damage {
                let i = at.index(bytes.len());
                match how {
                    0 => bytes[i] = byte,
                    1 => bytes.insert(i, byte),
                    _ => {
                        bytes.remove(i);
                    }
                }
            }
            bytes
        })
}

/// Runs `cases` inputs from `strategy`, from a fixed seed so that a failure repeats.
fn run(strategy: impl Strategy<Value = Vec<u8>>, cases: usize) -> Tally {
    let mut runner = TestRunner::deterministic();
    let mut tally = Tally::default();
    for _ in 0..cases {
        let input = match strategy.new_tree(&mut runner) {
            Ok(tree) => tree.current(),
            Err(reason) => panic!("cannot generate: {reason}"),
        };
        compare(&input, &mut tally);
    }
    tally
}

#[test]
fn generated_heads_are_read_alike() {
    let tally = run(head(), 1000);
    // Nearly every generated head is complete and valid (a few are 1xx, skipped).
    assert!(tally.both_accepted > 900, "{tally:?}");
}

#[test]
fn damaged_heads_are_accepted_and_refused_alike() {
    let tally = run(damaged_head(), 2000);
    // The damage must exercise both outcomes, or this test proves little.
    assert!(
        tally.both_accepted > 250 && tally.both_rejected > 500,
        "{tally:?}"
    );
}

/// The head of every case of the RFC 9112 tables (`rfc9112/mod.rs`), read by both
/// parsers: where both read it, they must see the same status and the same fields in
/// the same order (folds undone); where one refuses what the other reads, the case must
/// be one of the known, deliberate differences.
#[test]
fn every_rfc9112_case_has_the_same_head_in_both_parsers() {
    // httparse takes any three digits for a status code (see the top of this file).
    let deliberate = ["a code below 100"];
    let mut tally = Tally::default();
    let mut differ = Vec::new();
    for (rule, case) in rfc9112::every_case() {
        let shown = format!(
            "{} ({}): {:?}",
            case.name,
            rule.section,
            String::from_utf8_lossy(case.bytes)
        );
        match (ours(case.bytes), theirs_final(case.bytes)) {
            (Verdict::Accepted(ours), Verdict::Accepted(theirs)) => {
                assert_eq!(
                    ours, theirs,
                    "{shown}: the parsers read the head differently"
                );
                tally.both_accepted += 1;
            }
            (Verdict::Rejected(_), Verdict::Rejected(_)) => tally.both_rejected += 1,
            (Verdict::Incomplete, Verdict::Incomplete) => tally.not_compared += 1,
            (ours, theirs) => differ.push((
                case.name,
                format!("{shown}: ours {ours:?}, httparse {theirs:?}"),
            )),
        }
    }
    let names: Vec<&str> = differ.iter().map(|(name, _)| *name).collect();
    assert_eq!(names, deliberate, "{differ:#?}");
    assert!(
        tally.both_accepted >= 100 && tally.both_rejected >= 20,
        "{tally:?}"
    );
}
