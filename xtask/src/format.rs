//! How durations and long outputs are written for a person.
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
