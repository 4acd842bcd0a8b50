//! Measured figures in the book's prose, checked against the recorded run.
//!
//! The book shows the tours' output by including the recorded run (`docs/src/record/`,
//! written by `cargo xtask book --record`). When the prose quotes a measured figure, it
//! marks it, right after the number, with an HTML comment that names where it comes from:
//!
//! ```text
//! fork+exec+wait took 549 µs<!-- fig procs/spawn-cost/fork + exec + wait (/bin/true) -->
//! a thread is 14.6x cheaper<!-- fig threads/thread-cheaper -->
//! nginx serves 120,000 requests/s<!-- ref: nginx.org, "Tuning NGINX", 2024 -->
//! ```
//!
//! - `fig LESSON/ID/NAME`: the figure NAME of experiment (or claim) ID in the lesson's
//!   record; the number before the marker must read exactly as the record has it.
//! - `fig LESSON/CLAIM`: a claim's deciding comparison; the number before the marker
//!   must appear in it (a ratio, say).
//! - `ref: SOURCE`: a figure from elsewhere, with its source.
//! - `set`: a figure the course chooses (a stack size, a timeout), not one it measured.
//!
//! The comments are invisible in the rendered book and harmless in the raw Markdown.
//! The check fails on a marker whose figure is missing or reads differently, and on a
//! number with a unit (a time, a rate, a ratio, a size, a share) in a paragraph that
//! says it was measured ("measured", "in the run above", "this run", "on this machine")
//! without a marker: such a number would drift from the record unseen. `book --record`
//! rewrites each marked number to the newly recorded value.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use crate::error::Error;

/// Where the record lives, relative to the book's `src/`.
pub const RECORD_DIR: &str = "record";

/// Phrases that say a paragraph quotes this course's measurements.
const SAYS_MEASURED: &[&str] = &[
    "measured",
    "in the run above",
    "the run above",
    "this run",
    "on this machine",
    "the recorded run",
];

/// Units that make a number a measurement rather than a count.
const UNITS: &[&str] = &[
    "ns",
    "µs",
    "ms",
    "s",
    "x",
    "%",
    "KiB",
    "MiB",
    "GiB",
    "docs/s",
    "units/s",
    "req/s",
    "requests/s",
    "documents/s",
];

/// The recorded reports, by lesson.
#[derive(Debug, Default)]
pub struct Records {
    reports: HashMap<String, Value>,
}

impl Records {
    /// Reads every `<lesson>.json` in the record folder (none yet: no records).
    pub fn load(dir: &Path) -> Result<Records, Error> {
        let mut records = Records::default();
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Ok(records);
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let text = std::fs::read_to_string(&path).map_err(Error::read(&path))?;
            let report: Value = serde_json::from_str(&text).map_err(|source| Error::Json {
                path: path.clone(),
                what: "a tour's report",
                source,
            })?;
            if let Some(lesson) = report["lesson"].as_str() {
                records.reports.insert(lesson.to_string(), report);
            }
        }
        Ok(records)
    }

    #[cfg(test)]
    pub fn from(reports: Vec<Value>) -> Records {
        Records {
            reports: reports
                .into_iter()
                .filter_map(|r| Some((r["lesson"].as_str()?.to_string(), r)))
                .collect(),
        }
    }

    /// What a `fig` marker names: a figure's text, or a claim's deciding comparison.
    fn lookup(&self, path: &str) -> Result<Found, Unrecorded> {
        let mut parts = path.splitn(3, '/');
        let (lesson, id, name) = (parts.next().unwrap_or(""), parts.next(), parts.next());
        let Some(report) = self.reports.get(lesson) else {
            return Err(Unrecorded::Lesson(lesson.to_string()));
        };
        let Some(id) = id else {
            return Err(Unrecorded::Marker);
        };
        let in_list = |key: &str| {
            report[key]
                .as_array()
                .and_then(|list| list.iter().find(|x| x["id"] == id))
        };
        match name {
            Some(name) => {
                for holder in [in_list("experiments"), in_list("claims")]
                    .into_iter()
                    .flatten()
                {
                    let figure = holder["figures"]
                        .as_array()
                        .and_then(|f| f.iter().find(|f| f["name"] == name));
                    if let Some(text) = figure.and_then(|f| f["text"].as_str()) {
                        return Ok(Found::Figure(text.to_string()));
                    }
                }
                Err(Unrecorded::Figure {
                    lesson: lesson.to_string(),
                    id: id.to_string(),
                    name: name.to_string(),
                })
            }
            None => in_list("claims")
                .and_then(|c| c["decided_by"].as_str())
                .map(|d| Found::Claim(d.to_string()))
                .ok_or_else(|| Unrecorded::Claim {
                    lesson: lesson.to_string(),
                    id: id.to_string(),
                }),
        }
    }
}

/// What a `fig` marker names that the recorded run does not have.
#[derive(Debug, thiserror::Error)]
enum Unrecorded {
    #[error("no recorded run of lesson `{0}`")]
    Lesson(String),
    #[error("a marker names LESSON/ID or LESSON/ID/FIGURE")]
    Marker,
    #[error("the recorded run of `{lesson}` has no figure `{name}` in `{id}`")]
    Figure {
        lesson: String,
        id: String,
        name: String,
    },
    #[error("the recorded run of `{lesson}` has no claim `{id}`")]
    Claim { lesson: String, id: String },
}

#[derive(Debug, Clone, PartialEq)]
enum Found {
    Figure(String),
    Claim(String),
}

/// A marker in a page.
#[derive(Debug, Clone, PartialEq)]
struct Marker {
    /// Byte range of the whole comment.
    start: usize,
    end: usize,
    kind: MarkerKind,
}

#[derive(Debug, Clone, PartialEq)]
enum MarkerKind {
    Fig(String),
    Ref,
    Set,
    Other,
}

/// Every `<!-- ... -->` outside code fences.
fn markers(text: &str) -> Vec<Marker> {
    let mut found = Vec::new();
    for (offset, line) in prose_lines(text) {
        let mut from = 0;
        while let Some(open) = line[from..].find("<!--") {
            let start = from + open;
            let Some(close) = line[start..].find("-->") else {
                break;
            };
            let end = start + close + 3;
            let body = line[start + 4..start + close].trim();
            let kind = if let Some(path) = body.strip_prefix("fig ") {
                MarkerKind::Fig(path.trim().to_string())
            } else if body.starts_with("ref:") {
                MarkerKind::Ref
            } else if body == "set" {
                MarkerKind::Set
            } else {
                MarkerKind::Other
            };
            found.push(Marker {
                start: offset + start,
                end: offset + end,
                kind,
            });
            from = end;
        }
    }
    found
}

/// (byte offset, line) of every line outside fenced code blocks.
fn prose_lines(text: &str) -> Vec<(usize, &str)> {
    let mut lines = Vec::new();
    let mut fenced = false;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            fenced = !fenced;
        } else if !fenced {
            lines.push((offset, line.trim_end_matches('\n')));
        }
        offset += line.len();
    }
    lines
}

/// The byte range, within `before`, of the number (with its unit) that ends it, after
/// any emphasis (`**`, `_`, backticks) or space.
fn number_before(before: &str) -> Option<(usize, usize)> {
    let end = before.trim_end_matches([' ', '*', '_', '`']).len();
    let t = &before[..end];
    let unit_start = t
        .char_indices()
        .rev()
        .find(|&(_, c)| !(c.is_alphabetic() || c == 'µ' || c == '%' || c == '/'))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let num_end = if unit_start < end && t[..unit_start].ends_with(' ') {
        unit_start - 1
    } else {
        unit_start
    };
    let num_start = t[..num_end]
        .char_indices()
        .rev()
        .find(|&(_, c)| !(c.is_ascii_digit() || c == ',' || c == '.'))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let num = &t[num_start..num_end];
    let digits_at_ends = num.starts_with(|c: char| c.is_ascii_digit())
        && num.ends_with(|c: char| c.is_ascii_digit());
    digits_at_ends.then_some((num_start, end))
}

/// One problem: 1-based line and message.
pub type Problem = (usize, String);

/// How many `fig` markers a page has.
pub fn count(text: &str) -> usize {
    markers(text)
        .iter()
        .filter(|m| matches!(m.kind, MarkerKind::Fig(_)))
        .count()
}

/// Checks a page's markers against the records, and its measured paragraphs for numbers
/// without a marker.
pub fn check_page(text: &str, records: &Records) -> Vec<Problem> {
    let line_of = |at: usize| text[..at].matches('\n').count() + 1;
    let mut problems = Vec::new();
    let found = markers(text);
    for marker in &found {
        let MarkerKind::Fig(path) = &marker.kind else {
            continue;
        };
        let line_start = text[..marker.start].rfind('\n').map_or(0, |i| i + 1);
        let before = &text[line_start..marker.start];
        let Some((a, b)) = number_before(before) else {
            problems.push((
                line_of(marker.start),
                format!("`fig {path}` follows no number"),
            ));
            continue;
        };
        let written = &before[a..b];
        match records.lookup(path) {
            Err(why) => problems.push((line_of(marker.start), format!("`fig {path}`: {why}"))),
            Ok(Found::Figure(recorded)) if recorded != written => problems.push((
                line_of(marker.start),
                format!(
                    "`{written}` is marked as `fig {path}`, but the recorded run has `{recorded}` \
                     (`cargo xtask book --record` rewrites marked numbers)"
                ),
            )),
            Ok(Found::Claim(decided_by)) if !decided_by.contains(written) => problems.push((
                line_of(marker.start),
                format!(
                    "`{written}` is marked as `fig {path}`, but that claim was decided by \
                     `{decided_by}` in the recorded run"
                ),
            )),
            Ok(_) => {}
        }
    }
    for (start, paragraph) in paragraphs(text) {
        // The markers' own text (a figure's name, a source) is not prose: "64 KiB stack"
        // in a marker is a name, and "the recorded run" in a `ref:` says nothing of the
        // paragraph.
        let paragraph = &without_comments(paragraph);
        let lower = paragraph.to_lowercase();
        if !SAYS_MEASURED.iter().any(|p| lower.contains(p)) {
            continue;
        }
        for (at, number) in measured_numbers(paragraph) {
            let marked = found.iter().any(|m| {
                m.start >= start + at
                    && text[start + at..m.start].len() <= number.len() + 3
                    && m.kind != MarkerKind::Other
            });
            if !marked {
                problems.push((
                    line_of(start + at),
                    format!(
                        "`{number}` in a paragraph that says it was measured, but it is not \
                         from the record: mark it `<!-- fig LESSON/ID/FIGURE -->`, or \
                         `<!-- ref: SOURCE -->` if it comes from elsewhere, or `<!-- set -->` \
                         if the course chose it"
                    ),
                ));
            }
        }
    }
    problems
}

/// `text` with every `<!-- ... -->` turned into spaces, byte for byte, so that offsets
/// into it are offsets into `text`.
fn without_comments(text: &str) -> String {
    let mut bytes = text.as_bytes().to_vec();
    let mut from = 0;
    while let Some(open) = text[from..].find("<!--") {
        let start = from + open;
        let end = text[start..]
            .find("-->")
            .map_or(text.len(), |c| start + c + 3);
        bytes[start..end].fill(b' ');
        from = end;
    }
    // Only whole comments were blanked, and they begin and end with ASCII: still UTF-8.
    String::from_utf8(bytes).unwrap_or_default()
}

/// Paragraphs of prose (outside code fences): (byte offset, text).
fn paragraphs(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut current: Option<(usize, usize)> = None;
    for (offset, line) in prose_lines(text) {
        let blank = line.trim().is_empty() || line.trim_start().starts_with("{{#");
        match (&mut current, blank) {
            (Some((_, end)), false) if text[*end..offset].trim().is_empty() => {
                *end = offset + line.len();
            }
            (_, false) => {
                if let Some((s, e)) = current.take() {
                    out.push((s, &text[s..e]));
                }
                current = Some((offset, offset + line.len()));
            }
            (_, true) => {
                if let Some((s, e)) = current.take() {
                    out.push((s, &text[s..e]));
                }
            }
        }
    }
    if let Some((s, e)) = current {
        out.push((s, &text[s..e]));
    }
    out
}

/// Numbers with a measurement unit in a paragraph, outside inline code: (offset, text).
fn measured_numbers(paragraph: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let bytes = paragraph.as_bytes();
    let mut in_code = false;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'`' {
            in_code = !in_code;
            i += 1;
            continue;
        }
        let starts_number = c.is_ascii_digit()
            && (i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'.'));
        if in_code || !starts_number {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < bytes.len() && (bytes[j].is_ascii_digit() || bytes[j] == b',' || bytes[j] == b'.')
        {
            j += 1;
        }
        while j > i && !bytes[j - 1].is_ascii_digit() {
            j -= 1;
        }
        let rest = &paragraph[j..];
        let rest_trimmed = rest.strip_prefix(' ').unwrap_or(rest);
        let unit = UNITS.iter().filter(|u| {
            rest_trimmed.starts_with(**u)
                && !rest_trimmed[u.len()..].starts_with(|c: char| c.is_alphanumeric())
        });
        if let Some(unit) = unit.max_by_key(|u| u.len()) {
            let len = rest.len() - rest_trimmed.len() + unit.len();
            found.push((i, paragraph[i..j + len].to_string()));
            i = j + len;
        } else {
            i = j.max(i + 1);
        }
    }
    found
}

/// Rewrites every marked number to the recorded value; returns the new text and how many
/// numbers changed.
pub fn refresh_page(text: &str, records: &Records) -> (String, usize) {
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut changed = 0;
    for marker in markers(text) {
        let MarkerKind::Fig(path) = &marker.kind else {
            continue;
        };
        let Ok(Found::Figure(recorded)) = records.lookup(path) else {
            continue;
        };
        let line_start = text[..marker.start].rfind('\n').map_or(0, |i| i + 1);
        let Some((a, b)) = number_before(&text[line_start..marker.start]) else {
            continue;
        };
        let (a, b) = (line_start + a, line_start + b);
        if a < copied {
            continue;
        }
        if text[a..b] != recorded {
            changed += 1;
        }
        out.push_str(&text[copied..a]);
        out.push_str(&recorded);
        copied = b;
    }
    out.push_str(&text[copied..]);
    (out, changed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn records() -> Records {
        Records::from(vec![json!({
            "lesson": "procs",
            "experiments": [{ "id": "spawn-cost", "figures": [
                { "name": "fork + exec + wait (/bin/true)", "text": "549 µs" },
                { "name": "fork + _exit + wait", "text": "80.1 µs" }
            ]}],
            "claims": [{ "id": "exec-costs", "decided_by": "549 µs / 80.1 µs = 6.85x (>= 2x required)",
                         "figures": [] }]
        })])
    }

    #[test]
    fn the_number_before_a_marker_is_found_with_its_unit() {
        fn find(s: &str) -> Option<&str> {
            number_before(s).map(|(a, b)| &s[a..b])
        }
        assert_eq!(find("it took **549 µs**"), Some("549 µs"));
        assert_eq!(find("6.85x"), Some("6.85x"));
        assert_eq!(find("about 46,000 docs/s "), Some("46,000 docs/s"));
        assert_eq!(find("and 1,295"), Some("1,295"));
        assert_eq!(find("no number here"), None);
    }

    #[test]
    fn a_marked_figure_must_read_as_recorded() {
        let good = "fork+exec took 549 µs<!-- fig procs/spawn-cost/fork + exec + wait (/bin/true) -->, \
                    6.85x<!-- fig procs/exec-costs --> fork alone.\n";
        assert_eq!(check_page(good, &records()), []);
        let stale = good.replace("549 µs<", "620 µs<");
        let problems = check_page(&stale, &records());
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].1.contains("recorded run has `549 µs`"),
            "{problems:?}"
        );
        let wrong_ratio = good.replace("6.85x<", "7.1x<");
        assert!(
            check_page(&wrong_ratio, &records())[0]
                .1
                .contains("decided by")
        );
        let missing = "it took 3 µs<!-- fig procs/spawn-cost/nothing -->\n";
        assert!(
            check_page(missing, &records())[0]
                .1
                .contains("no figure `nothing`")
        );
        let no_lesson = "3 µs<!-- fig sockets/x/y -->\n";
        assert!(
            check_page(no_lesson, &records())[0]
                .1
                .contains("no recorded run")
        );
    }

    #[test]
    fn an_unrecorded_number_in_a_measured_paragraph_is_caught() {
        let page = "In the run above, fork+exec took 620 µs and the copy 4.63 MiB.\n\n\
                    A 64 KiB stack is what we ask for.\n\n\
                    ```text\nmeasured 12 ms in a listing\n```\n";
        let problems = check_page(page, &records());
        let numbers: Vec<&str> = problems
            .iter()
            .map(|(_, m)| m.split('`').nth(1).unwrap_or(""))
            .collect();
        assert_eq!(numbers, ["620 µs", "4.63 MiB"], "{problems:?}");
        assert_eq!(problems[0].0, 1);
        let marked = "In the run above, fork+exec took 549 µs<!-- fig procs/spawn-cost/fork + exec + wait (/bin/true) --> \
                      and nginx 120 µs<!-- ref: nginx.org --> with a 64 KiB<!-- set --> stack.\n";
        assert_eq!(check_page(marked, &records()), []);
    }

    #[test]
    fn the_text_of_a_marker_is_not_prose() {
        let page = "Measured: 549 µs<!-- fig procs/spawn-cost/fork + exec + wait (/bin/true) -->.\n\n\
                    Nothing here<!-- ref: not the recorded run, 64 KiB stack, 5 ms -->.\n";
        assert_eq!(check_page(page, &records()), []);
    }

    #[test]
    fn recording_rewrites_marked_numbers_only() {
        let page = "took **620 µs**<!-- fig procs/spawn-cost/fork + exec + wait (/bin/true) --> \
                    and 3 ms, then 81 µs<!-- fig procs/spawn-cost/fork + _exit + wait -->.\n";
        let (text, changed) = refresh_page(page, &records());
        assert_eq!(changed, 2);
        assert_eq!(
            text,
            "took **549 µs**<!-- fig procs/spawn-cost/fork + exec + wait (/bin/true) --> \
             and 3 ms, then 80.1 µs<!-- fig procs/spawn-cost/fork + _exit + wait -->.\n"
        );
        assert_eq!(refresh_page(&text, &records()).1, 0);
    }
}
