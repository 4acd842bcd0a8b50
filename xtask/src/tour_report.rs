//! Reading a tour's JSON report (schema 1, documented in `crates/procs/src/tour.rs`).
//!
//! xtask reads the report as an untyped `serde_json::Value` rather than sharing the
//! tour's Rust types: xtask must still build and report clearly when a lesson does not
//! compile, and a report that lacks a field should produce a sentence saying which one,
//! not a deserialisation error about line 1 column 934. Only what the summary needs is
//! taken out; the report itself is kept whole for `--json`.

use serde_json::Value;

use crate::format::tail;

/// The report version this xtask understands; a tour with another one is refused, loudly.
pub const SCHEMA: u64 = 1;

/// How much of a bad stdout to show: enough to see the panic or the stray `println!`.
const TAIL_LINES: usize = 15;

/// What the summary needs from one report.
#[derive(Debug, Clone, PartialEq)]
pub struct TourSummary {
    pub lesson: String,
    pub held: u64,
    pub failed: u64,
    /// Claims whose difference was inside the noise of the run: shown, never a failure.
    pub too_close: u64,
    pub failed_claims: Vec<FailedClaim>,
    pub close_claims: Vec<FailedClaim>,
    /// The tour's warning that the machine was busy before it ran, if any.
    pub busy_warning: Option<String>,
    pub experiment_errors: Vec<ExperimentError>,
    pub headline: Vec<Figure>,
    /// The report exactly as the tour printed it.
    pub report: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FailedClaim {
    pub id: String,
    pub statement: String,
    pub decided_by: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentError {
    pub id: String,
    pub title: String,
    pub error: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub name: String,
    /// The value as the tour formatted it ("549 µs"); `None` when the tour measured
    /// nothing (JSON has no NaN, so serde writes `null` for the value).
    pub text: Option<String>,
}

impl Figure {
    /// "fork+exec 549 µs". The tour formats its own figures (`text`), so the summary
    /// reads exactly like the tour and xtask repeats no formatting rules.
    pub fn display(&self) -> String {
        match &self.text {
            Some(text) => format!("{} {text}", self.name),
            None => format!("{} n/a", self.name),
        }
    }
}

impl TourSummary {
    /// True when every experiment ran and no claim failed (too close to call is no
    /// failure: the machine's noise hid the effect in this run).
    pub fn passed(&self) -> bool {
        self.failed == 0 && self.experiment_errors.is_empty()
    }
}

/// Why a tour's stdout is not a report this xtask reads. Each message is complete for a
/// person: what was wrong, and the end of what the tour printed instead.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("the tour printed nothing on stdout, no JSON report ({0})")]
    Empty(serde_json::Error),
    #[error("the tour's stdout is not a JSON report ({0}); it ended with:\n{1}")]
    NotJson(serde_json::Error, String),
    #[error(
        "the tour's report has schema {0}, but this xtask reads schema {SCHEMA}: update \
         whichever of the two is behind"
    )]
    Schema(u64),
    #[error(
        "the tour's stdout is JSON but has no numeric `schema` field (expected {SCHEMA}); it \
         ended with:\n{0}"
    )]
    NoSchema(String),
    #[error("the tour's report has no `{0}` list (schema {SCHEMA} has one)")]
    NoList(String),
}

/// Parses a tour's stdout.
pub fn parse(stdout: &str) -> Result<TourSummary, ReportError> {
    let report: Value = match serde_json::from_str(stdout) {
        Ok(v) => v,
        Err(e) if stdout.trim().is_empty() => return Err(ReportError::Empty(e)),
        Err(e) => return Err(ReportError::NotJson(e, tail(stdout, TAIL_LINES))),
    };
    match report.get("schema").and_then(Value::as_u64) {
        Some(SCHEMA) => {}
        Some(other) => return Err(ReportError::Schema(other)),
        None => return Err(ReportError::NoSchema(tail(stdout, TAIL_LINES))),
    }
    let claims = list(&report, "claims")?;
    let experiments = list(&report, "experiments")?;

    let mut summary = TourSummary {
        lesson: text(&report, "lesson"),
        held: 0,
        failed: 0,
        too_close: 0,
        failed_claims: Vec::new(),
        close_claims: Vec::new(),
        busy_warning: report
            .get("host")
            .and_then(|h| h.get("warning"))
            .and_then(Value::as_str)
            .map(str::to_string),
        experiment_errors: Vec::new(),
        headline: Vec::new(),
        report: Value::Null,
    };
    for claim in claims {
        let described = || FailedClaim {
            id: text(claim, "id"),
            statement: text(claim, "statement"),
            decided_by: text(claim, "decided_by"),
        };
        // Anything but an explicit "held" or "too close to call" fails: an unknown
        // verdict is not a success.
        match claim.get("verdict").and_then(Value::as_str) {
            Some("held") => summary.held += 1,
            Some("too close to call") => {
                summary.too_close += 1;
                summary.close_claims.push(described());
            }
            _ => {
                summary.failed += 1;
                summary.failed_claims.push(described());
            }
        }
    }
    for exp in experiments {
        match exp.get("error") {
            None | Some(Value::Null) => {}
            Some(error) => summary.experiment_errors.push(ExperimentError {
                id: text(exp, "id"),
                title: text(exp, "title"),
                error: error
                    .as_str()
                    .map_or_else(|| error.to_string(), str::to_string),
            }),
        }
    }
    // The headline is optional decoration: a missing one leaves the column empty.
    if let Some(figures) = report.get("headline").and_then(Value::as_array) {
        summary.headline = figures
            .iter()
            .map(|f| Figure {
                name: text(f, "name"),
                // A value of null means "not measured", whatever the text says.
                text: f
                    .get("value")
                    .and_then(Value::as_f64)
                    .and(f.get("text").and_then(Value::as_str))
                    .map(str::to_string),
            })
            .collect();
    }
    summary.report = report;
    Ok(summary)
}

fn list<'a>(report: &'a Value, key: &str) -> Result<&'a Vec<Value>, ReportError> {
    report
        .get(key)
        .and_then(Value::as_array)
        .ok_or_else(|| ReportError::NoList(key.to_string()))
}

/// A string field, or "?" so that a report missing one still produces a readable line.
fn text(value: &Value, key: &str) -> String {
    match value.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => "?".to_string(),
        Some(other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{
  "schema": 1, "lesson": "procs", "title": "fork, exec, wait", "quick": true, "seconds": 3.2,
  "host": { "os": "Linux", "kernel": "6.8", "arch": "x86_64", "cores": 2,
            "rustc": "rustc 1.95.0", "git_revision": "4d76e27",
            "warning": "the machine was busy before this run" },
  "experiments": [
    { "id": "fork-exec", "title": "fork+exec cost", "shows": "...", "seconds": 0.4,
      "error": null, "figures": [ { "name": "fork+exec", "value": 549.2, "unit": "µs" } ],
      "notes": [] },
    { "id": "fork-big", "title": "fork cost vs memory", "shows": "...", "seconds": 1.0,
      "error": "mmap of 512 MiB failed: ENOMEM", "figures": [], "notes": [] }
  ],
  "claims": [
    { "id": "exec-costs", "statement": "fork+exec costs more than fork", "verdict": "held",
      "decided_by": "549 µs / 80 µs = 6.86x (>= 2x required)", "figures": [] },
    { "id": "fork-grows", "statement": "fork of a big process is slower", "verdict": "failed",
      "decided_by": "1.2 ms / 1.0 ms = 1.2x (>= 3x required)", "figures": [] },
    { "id": "wait-reaps", "statement": "wait reaps every child", "verdict": "held",
      "decided_by": "0 zombies", "figures": [] },
    { "id": "atomic-faster", "statement": "an atomic beats a Mutex",
      "verdict": "too close to call", "decided_by": "1.1x; over 5 rounds 0.9x..1.3x",
      "figures": [] }
  ],
  "headline": [ { "name": "fork+exec", "value": 549.2, "unit": "µs", "text": "549 µs" },
                { "name": "fork 512 MiB", "value": null, "unit": "ms", "text": "NaN ms" } ]
}"#;

    #[test]
    fn claims_errors_and_headline_are_read() {
        let s = parse(SAMPLE).unwrap();
        assert_eq!(s.lesson, "procs");
        assert_eq!((s.held, s.failed, s.too_close), (2, 1, 1));
        assert_eq!(s.close_claims[0].id, "atomic-faster");
        assert_eq!(
            s.busy_warning.as_deref(),
            Some("the machine was busy before this run")
        );
        assert_eq!(
            s.failed_claims,
            [FailedClaim {
                id: "fork-grows".into(),
                statement: "fork of a big process is slower".into(),
                decided_by: "1.2 ms / 1.0 ms = 1.2x (>= 3x required)".into(),
            }]
        );
        assert_eq!(s.experiment_errors.len(), 1);
        assert_eq!(s.experiment_errors[0].id, "fork-big");
        assert!(s.experiment_errors[0].error.contains("ENOMEM"));
        let headline: Vec<String> = s.headline.iter().map(Figure::display).collect();
        assert_eq!(headline, ["fork+exec 549 µs", "fork 512 MiB n/a"]);
        assert!(!s.passed());
        assert_eq!(s.report["host"]["cores"], 2);
    }

    #[test]
    fn a_clean_report_passes_even_with_a_claim_too_close_to_call() {
        let s = parse(r#"{"schema":1,"lesson":"x","experiments":[{"error":null}],"claims":[{"verdict":"held"},{"verdict":"too close to call"}]}"#)
            .unwrap();
        assert!(s.passed());
        assert_eq!((s.held, s.too_close), (1, 1));
        assert_eq!(s.busy_warning, None);
        assert!(s.headline.is_empty());
    }

    #[test]
    fn an_unknown_verdict_is_a_failed_claim() {
        let s = parse(
            r#"{"schema":1,"experiments":[],"claims":[{"verdict":"maybe","statement":"s"}]}"#,
        )
        .unwrap();
        assert_eq!((s.held, s.failed), (0, 1));
        assert_eq!(s.failed_claims[0].decided_by, "?");
    }

    #[test]
    fn text_instead_of_json_is_shown_in_the_error() {
        let stdout = "procs: fork, exec, wait\nhost: Linux\n\n[1/7] fork+exec cost\n";
        let e = parse(stdout).unwrap_err().to_string();
        assert!(e.contains("not a JSON report"), "{e}");
        assert!(e.contains("    | [1/7] fork+exec cost"), "{e}");
        let e = parse("").unwrap_err().to_string();
        assert!(e.contains("printed nothing"), "{e}");
    }

    #[test]
    fn a_wrong_or_missing_schema_is_refused() {
        let e = parse(r#"{"schema":2,"claims":[],"experiments":[]}"#)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("schema 2") && e.contains("reads schema 1"),
            "{e}"
        );
        let e = parse(r#"{"claims":[]}"#).unwrap_err().to_string();
        assert!(e.contains("no numeric `schema`"), "{e}");
        let e = parse(r#"{"schema":1,"experiments":[]}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no `claims` list"), "{e}");
        let e = parse("[1, 2]").unwrap_err().to_string();
        assert!(e.contains("schema"), "{e}");
    }
}
