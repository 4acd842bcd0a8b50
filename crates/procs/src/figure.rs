//! A measured figure, and how a person reads one: the unit every tour and claim of the
//! course speaks in.
//!
//! It has a module of its own because both the tour (which prints and reports figures)
//! and the claims (which decide over them) need it, and neither should need the other
//! for it.

use serde::{Deserialize, Serialize};

/// One measured quantity, always with its unit.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Figure {
    pub name: String,
    /// Not a number when it could not be measured (JSON `null`).
    #[serde(deserialize_with = "number_or_null")]
    pub value: f64,
    pub unit: String,
    /// The value as a person reads it ("549 µs", "512 MiB"), so that every reader of the
    /// JSON report (xtask's summary, a chart) shows it the way the tour does.
    pub text: String,
    /// Each round's value, for a figure measured in rounds (its value is their median):
    /// claims decide over them, so noise shows as "too close to call".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rounds: Vec<f64>,
}

impl Figure {
    pub fn new(name: impl Into<String>, value: f64, unit: impl Into<String>) -> Self {
        let unit = unit.into();
        Figure {
            name: name.into(),
            text: fmt_value(value, &unit),
            value,
            unit,
            rounds: Vec::new(),
        }
    }

    /// A figure measured in rounds: the median of `rounds`, keeping each.
    pub fn from_rounds(name: impl Into<String>, rounds: &[f64], unit: impl Into<String>) -> Self {
        let median = crate::measure::Stats::median_of(rounds.to_vec());
        Figure {
            rounds: rounds.to_vec(),
            ..Figure::new(name, median, unit)
        }
    }
}

/// serde_json writes NaN as `null`; read it back as NaN.
fn number_or_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// Formats a value with its unit the way a person reads it: 3 significant digits,
/// thousands separated, binary units for bytes.
pub fn fmt_value(value: f64, unit: &str) -> String {
    if !value.is_finite() {
        return format!("{value} {unit}");
    }
    match unit {
        "bytes" => fmt_bytes(value),
        "" => fmt_number(value),
        "x" => fmt_ratio(value),
        _ => format!("{} {unit}", fmt_number(value)),
    }
}

/// "14.6x"
pub fn fmt_ratio(ratio: f64) -> String {
    if ratio.is_finite() {
        format!("{}x", fmt_number(ratio))
    } else {
        "n/a".to_string()
    }
}

/// 3 significant digits below 1,000; whole numbers with separators above.
pub fn fmt_number(v: f64) -> String {
    let a = v.abs();
    if a >= 1000.0 {
        let whole = v.round() as i64;
        let digits = whole.unsigned_abs().to_string();
        let mut out = String::new();
        for (i, ch) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(ch);
        }
        if whole < 0 {
            out.insert(0, '-');
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

/// "512 MiB", "9.8 KiB": sizes in powers of two, as the kernel counts them.
pub fn fmt_bytes(bytes: f64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes;
    let mut unit = 0;
    while v.abs() >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    format!("{} {}", fmt_number(v), UNITS[unit])
}
