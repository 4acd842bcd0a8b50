//! Solution markers: where a reference solution starts and ends inside a function body.
//!
//! ```text
//! pub fn capture(program: &str, args: &[&str]) -> Result<(Exit, Vec<u8>)> {
//!     // BEGIN SOLUTION
//!     ... the reference solution ...
//!     // END SOLUTION
//! }
//! ```
//!
//! The course keeps its solutions in the real source, compiled and tested like any other
//! code, so they cannot rot. The student's copy replaces each region by one line,
//! `todo!("<id>: <task>")`, indented like the markers. A marker must be alone on its line
//! (a comment after code is too easy to miss), regions do not nest, and each BEGIN has
//! its END: anything else is an error naming the file and line, because a half-stripped
//! file would either leak a solution or not compile.

use std::fmt;

/// The marker lines, as they appear (after indentation) in the source.
pub const BEGIN: &str = "// BEGIN SOLUTION";
pub const END: &str = "// END SOLUTION";

/// One solution region: 1-based line numbers of its BEGIN and END markers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    pub begin: usize,
    pub end: usize,
}

/// A malformed marker, with its 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkerError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for MarkerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Finds the solution regions of a source file.
pub fn regions(text: &str) -> Result<Vec<Region>, MarkerError> {
    let mut found = Vec::new();
    let mut open: Option<usize> = None;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let trimmed = line.trim();
        let mentions = trimmed.contains("BEGIN SOLUTION") || trimmed.contains("END SOLUTION");
        if trimmed == BEGIN {
            if let Some(first) = open {
                return Err(MarkerError {
                    line: n,
                    message: format!("BEGIN SOLUTION inside the region opened at line {first}"),
                });
            }
            open = Some(n);
        } else if trimmed == END {
            match open.take() {
                Some(begin) => found.push(Region { begin, end: n }),
                None => {
                    return Err(MarkerError {
                        line: n,
                        message: "END SOLUTION without a BEGIN SOLUTION before it".into(),
                    });
                }
            }
        } else if mentions && trimmed.starts_with("//") {
            return Err(MarkerError {
                line: n,
                message: format!(
                    "a marker must be exactly `{BEGIN}` or `{END}` alone on its line, \
                     found `{trimmed}`"
                ),
            });
        } else if mentions && (trimmed.ends_with(BEGIN) || trimmed.ends_with(END)) {
            return Err(MarkerError {
                line: n,
                message: "a marker must be alone on its line, not after code".into(),
            });
        }
    }
    match open {
        Some(begin) => Err(MarkerError {
            line: begin,
            message: "BEGIN SOLUTION is never closed by END SOLUTION".into(),
        }),
        None => Ok(found),
    }
}

/// The student's version of `text`: every region (markers included) replaced by one
/// `todo!("<message>")` line indented like its BEGIN marker.
pub fn strip(text: &str, message: &str) -> Result<String, MarkerError> {
    let found = regions(text)?;
    let literal = rust_string(message);
    let mut out = String::with_capacity(text.len());
    let mut regions = found.iter().peekable();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        match regions.peek() {
            Some(r) if n == r.begin => {
                let indent: String = line.chars().take_while(|c| c.is_whitespace()).collect();
                out.push_str(&format!("{indent}todo!({literal})\n"));
            }
            Some(r) if n > r.begin && n < r.end => {}
            Some(r) if n == r.end => {
                regions.next();
            }
            _ => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    if !text.ends_with('\n') && out.ends_with('\n') {
        out.pop();
    }
    Ok(out)
}

/// The lines inside the regions (markers excluded): what must never reach a student.
pub fn solution_lines(text: &str) -> Result<Vec<String>, MarkerError> {
    let found = regions(text)?;
    let lines: Vec<&str> = text.lines().collect();
    Ok(found
        .iter()
        .flat_map(|r| lines[r.begin..r.end - 1].iter().map(|l| l.to_string()))
        .collect())
}

/// A Rust string literal for `s`.
fn rust_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push(' '),
            // `todo!` formats its message: braces must be doubled.
            '{' => out.push_str("{{"),
            '}' => out.push_str("}}"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const NESTED: &str = "\
pub fn a() -> u32 {
    // BEGIN SOLUTION
    let x = 1;
    x + 1
    // END SOLUTION
}

impl S {
    fn b(&self) {
        if self.ok {
            // BEGIN SOLUTION
            println!(\"{}\", 1);
            // END SOLUTION
        }
    }
}
";

    #[test]
    fn finds_several_regions_in_nested_blocks() {
        assert_eq!(
            regions(NESTED).unwrap(),
            [Region { begin: 2, end: 5 }, Region { begin: 11, end: 13 }]
        );
    }

    #[test]
    fn strips_each_region_to_an_indented_todo() {
        let out = strip(NESTED, "procs/x: say \"hi\" {now}").unwrap();
        assert_eq!(
            out,
            "\
pub fn a() -> u32 {
    todo!(\"procs/x: say \\\"hi\\\" {{now}}\")
}

impl S {
    fn b(&self) {
        if self.ok {
            todo!(\"procs/x: say \\\"hi\\\" {{now}}\")
        }
    }
}
"
        );
        assert!(!out.contains("SOLUTION"));
        assert_eq!(
            solution_lines(NESTED).unwrap(),
            [
                "    let x = 1;",
                "    x + 1",
                "            println!(\"{}\", 1);"
            ]
        );
    }

    #[test]
    fn malformed_markers_name_their_line() {
        let cases = [
            ("// BEGIN SOLUTION\nx\n", 1, "never closed"),
            ("x\n// END SOLUTION\n", 2, "without a BEGIN"),
            (
                "// BEGIN SOLUTION\n// BEGIN SOLUTION\n",
                2,
                "inside the region opened at line 1",
            ),
            ("// begin solution\n// BEGIN SOLUTION: x\n", 2, "exactly"),
            ("let x = 1; // BEGIN SOLUTION\n", 1, "alone on its line"),
        ];
        for (text, line, want) in cases {
            let err = regions(text).unwrap_err();
            assert_eq!(err.line, line, "{text:?}: {err}");
            assert!(err.message.contains(want), "{text:?}: {err}");
        }
    }

    #[test]
    fn a_file_without_markers_is_unchanged() {
        let text = "fn f() {}\n// a comment about solutions\n";
        assert_eq!(strip(text, "x").unwrap(), text);
        assert_eq!(strip("no newline", "x").unwrap(), "no newline");
    }
}
