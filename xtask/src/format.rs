//! How durations, long outputs and tables are written for a person.
//!
//! Figures are not formatted here: each tour's report carries its figures' text as the
//! tour printed it (`procs::tour::Figure::text`), and xtask shows that text as it is.

/// "0.4s", "31.0s", "2m 05s": a step's wall time, precise where it is short.
pub fn duration(seconds: f64) -> String {
    if !seconds.is_finite() || seconds < 0.0 {
        return "?".to_string();
    }
    if seconds < 60.0 {
        format!("{seconds:.1}s")
    } else {
        let whole = seconds.round() as u64;
        format!("{}m {:02}s", whole / 60, whole % 60)
    }
}

/// Width of a string as a terminal shows it. Counting `char`s rather than bytes keeps
/// "µs" (two bytes, one column) from pushing a table's columns out of line.
pub fn width(text: &str) -> usize {
    text.chars().count()
}

/// The last `n` lines of `text`, indented to stand apart from the message above them.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let skipped = lines.len().saturating_sub(n);
    let mut out = String::new();
    if skipped > 0 {
        out.push_str(&format!("    | ... ({skipped} earlier lines)\n"));
    }
    for line in &lines[skipped..] {
        out.push_str("    | ");
        out.push_str(line);
        out.push('\n');
    }
    out.truncate(out.trim_end().len());
    out
}

/// A row of a text table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Row {
    /// One cell per column.
    Cells(Vec<String>),
    /// A first cell aligned with the others, then free text across the other columns
    /// (for "not written yet", which has no figures to line up).
    Span(String, String),
}

/// Renders rows under a header with every column aligned. Widths count characters, not
/// bytes, so "µs" does not shift a column. Each line is indented two spaces and has no
/// trailing spaces (they show up as noise in diffs and CI logs).
pub fn render_table(header: &[&str], rows: &[Row]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| width(h)).collect();
    for row in rows {
        match row {
            Row::Cells(cells) => {
                for (i, cell) in cells.iter().enumerate() {
                    if i == widths.len() {
                        widths.push(0);
                    }
                    widths[i] = widths[i].max(width(cell));
                }
            }
            Row::Span(first, _) => widths[0] = widths[0].max(width(first)),
        }
    }
    let line = |cells: &[&str]| {
        let mut out = String::from("  ");
        for (i, cell) in cells.iter().enumerate() {
            out.push_str(cell);
            if i + 1 < cells.len() {
                let pad = widths
                    .get(i)
                    .copied()
                    .unwrap_or(0)
                    .saturating_sub(width(cell));
                out.push_str(&" ".repeat(pad + 2));
            }
        }
        out.trim_end().to_string()
    };
    let mut out = vec![line(header)];
    for row in rows {
        out.push(match row {
            Row::Cells(cells) => line(&cells.iter().map(String::as_str).collect::<Vec<_>>()),
            Row::Span(first, rest) => line(&[first.as_str(), rest.as_str()]),
        });
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_switch_to_minutes_after_one() {
        assert_eq!(duration(4.23), "4.2s");
        assert_eq!(duration(59.94), "59.9s");
        assert_eq!(duration(125.2), "2m 05s");
        assert_eq!(duration(f64::NAN), "?");
    }

    #[test]
    fn width_counts_characters_not_bytes() {
        assert_eq!(width("549 µs"), 6);
    }

    #[test]
    fn tail_keeps_the_last_lines_and_says_how_many_it_dropped() {
        let text = (1..=20)
            .map(|i| format!("line {i}"))
            .collect::<Vec<_>>()
            .join("\n");
        let t = tail(&text, 3);
        assert_eq!(
            t,
            "    | ... (17 earlier lines)\n    | line 18\n    | line 19\n    | line 20"
        );
    }
}
