//! How figures and durations are written for a person.
//!
//! The tours format their figures with `procs::tour::fmt_value`; xtask cannot use that
//! function (it must build even when a lesson does not), so the same rules are repeated
//! here: three significant digits, thousands separated, binary units for bytes. The
//! summary table then reads exactly like the tours' own output.

/// "549 µs", "512 MiB", "14.6x", "1,234,567 docs".
pub fn value(value: f64, unit: &str) -> String {
    if !value.is_finite() {
        return format!("{value} {unit}").trim_end().to_string();
    }
    match unit {
        "bytes" => bytes(value),
        "" => number(value),
        "x" => format!("{}x", number(value)),
        _ => format!("{} {unit}", number(value)),
    }
}

/// Three significant digits below 1,000; whole numbers with separators above.
pub fn number(v: f64) -> String {
    let a = v.abs();
    if a >= 1000.0 {
        let whole = v.round() as i64;
        let digits = whole.unsigned_abs().to_string();
        let mut out = String::new();
        if whole < 0 {
            out.push('-');
        }
        for (i, ch) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(ch);
        }
        out
    } else if a >= 100.0 || a == 0.0 || v.fract() == 0.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// Sizes in powers of two, as the kernel counts them.
pub fn bytes(bytes: f64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes;
    let mut unit = 0;
    while v.abs() >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    format!("{} {}", number(v), UNITS[unit])
}

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
    fn values_read_like_the_tours_print_them() {
        assert_eq!(value(549.2, "µs"), "549 µs");
        assert_eq!(value(14.63, "x"), "14.6x");
        assert_eq!(value(512.0 * 1024.0 * 1024.0, "bytes"), "512 MiB");
        assert_eq!(value(1_234_567.0, "docs"), "1,234,567 docs");
        assert_eq!(value(-1234.4, ""), "-1,234");
        assert_eq!(value(0.01234, "s"), "0.012 s");
        assert_eq!(value(9.126, "ms"), "9.13 ms");
        assert_eq!(value(f64::NAN, "ms"), "NaN ms");
    }

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
