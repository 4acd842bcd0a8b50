//! Claims that can fail: a statement, the figures that decide it, and the world where it
//! is false.
//!
//! A lesson's claim ("a thread is at least 4x cheaper to start than a process") is worth
//! something only if a wrong world would make it fail. So every claim here is three
//! things, written side by side in the lesson's `claims.rs`:
//!
//! - a **decision**: a pure function from named figures to a verdict. It reads nothing
//!   else (no clock, no global), so it can be run on figures that did not come from an
//!   experiment: the reference run's, or made-up ones;
//! - its **wrong world**: the figures a wrong implementation or the wrong theory would
//!   produce (a pool with 2 workers instead of 4; 1,000 threads that really were faster),
//!   with one line saying what it models;
//! - the tour, which measures the figures and hands them to the decision.
//!
//! `cargo xtask claims --falsify` runs every decision on its wrong world and requires it
//! to fail: a claim that cannot fail teaches nothing.
//!
//! ## Three verdicts
//!
//! Two figures measured on a shared machine differ from run to run. When an experiment
//! measures a figure in several rounds, the figure carries every round, and a comparison
//! is decided over the rounds: **held** when even the least favourable pairing of rounds
//! clears the bar, **failed** when even the most favourable one does not, and **too close
//! to call** in between: the difference is inside the noise measured in this very run.
//! Too close to call is reported with its figures and fails nothing; only an effect
//! larger than the noise is called held.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::figure::{Figure, fmt_ratio, fmt_value};

/// What the figures of one run say about a claim.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum Verdict {
    #[serde(rename = "held")]
    Held,
    #[serde(rename = "failed")]
    Failed,
    /// The difference is inside the spread of the rounds measured in this run.
    #[serde(rename = "too close to call")]
    TooClose,
}

impl Verdict {
    /// How the verdict is printed: "held", "FAILED", "too close to call".
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Held => "held",
            Verdict::Failed => "FAILED",
            Verdict::TooClose => "too close to call",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.word())
    }
}

/// A claim as a tour reports it: decided, with the figures that decided it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claim {
    pub id: String,
    pub statement: String,
    pub verdict: Verdict,
    /// The deciding comparison in words, e.g. "9.1x (>= 3x required)".
    pub decided_by: String,
    /// Every figure the decision read, as it read them.
    pub figures: Vec<Figure>,
}

/// The named figures a decision reads.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Inputs(pub Vec<Figure>);

impl Inputs {
    pub fn new() -> Inputs {
        Inputs(Vec::new())
    }

    /// Adds a figure measured once.
    pub fn with(mut self, name: &str, value: f64, unit: &str) -> Inputs {
        self.0.push(Figure::new(name, value, unit));
        self
    }

    /// Adds a figure measured in rounds: its value is their median, and a comparison
    /// with it is decided over all of them.
    pub fn with_rounds(mut self, name: &str, rounds: &[f64], unit: &str) -> Inputs {
        self.0.push(Figure::from_rounds(name, rounds, unit));
        self
    }

    /// The figure called `name`, or an error naming it.
    pub fn get(&self, name: &str) -> Result<&Figure, MissingFigure> {
        self.0
            .iter()
            .find(|f| f.name == name)
            .ok_or_else(|| MissingFigure(name.to_string()))
    }

    /// The value of the figure called `name`.
    pub fn value(&self, name: &str) -> Result<f64, MissingFigure> {
        self.get(name).map(|f| f.value)
    }
}

/// A claim could not be decided: a figure it reads was not measured in this run (its
/// experiment failed, or the report is of another version). The claim then fails.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("the figure `{0}` was not measured")]
pub struct MissingFigure(pub String);

/// A decision: the statement (which may name figures, like a core count), the verdict,
/// and the comparison in words.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub statement: String,
    pub verdict: Verdict,
    pub decided_by: String,
}

impl Decision {
    pub fn new(statement: impl Into<String>, (verdict, decided_by): (Verdict, String)) -> Self {
        Decision {
            statement: statement.into(),
            verdict,
            decided_by,
        }
    }
}

/// A claim of a lesson: its id, its decision and its wrong world.
#[derive(Debug, Clone, Copy)]
pub struct ClaimDef {
    pub id: &'static str,
    /// Decides from the figures alone. An `Err` (a figure missing) fails the claim.
    pub decide: fn(&Inputs) -> Result<Decision, MissingFigure>,
    /// What the wrong world models, in one line.
    pub wrong: &'static str,
    /// The figures a wrong implementation or the wrong theory would give.
    pub wrong_world: fn() -> Inputs,
}

impl ClaimDef {
    /// Decides the claim on `inputs` and keeps them as its figures.
    pub fn judge(&self, inputs: Inputs) -> Claim {
        let decision = (self.decide)(&inputs).unwrap_or_else(|why| Decision {
            statement: self.id.to_string(),
            verdict: Verdict::Failed,
            decided_by: why.to_string(),
        });
        Claim {
            id: self.id.to_string(),
            statement: decision.statement,
            verdict: decision.verdict,
            decided_by: decision.decided_by,
            figures: inputs.0,
        }
    }

    /// Decides the claim on its wrong world.
    pub fn in_wrong_world(&self) -> Claim {
        self.judge((self.wrong_world)())
    }
}

// ANCHOR: over_rounds
/// The lowest and highest a figure was seen at: its rounds when it has them, else its
/// value alone.
pub fn range(figure: &Figure) -> (f64, f64) {
    if figure.rounds.is_empty() {
        return (figure.value, figure.value);
    }
    let low = figure.rounds.iter().copied().fold(f64::INFINITY, f64::min);
    let high = figure
        .rounds
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    (low, high)
}

/// The ratio `a / b` as a range over the rounds: from the least favourable pairing of
/// rounds (a's lowest over b's highest) to the most favourable. A ratio with a zero or
/// negative `b`, or a figure that is not a number, is NaN: no claim holds on it.
pub fn ratio_range(a: &Figure, b: &Figure) -> (f64, f64) {
    let ((a_low, a_high), (b_low, b_high)) = (range(a), range(b));
    if !(b_low > 0.0 && a_low.is_finite() && a_high.is_finite() && b_high.is_finite()) {
        return (f64::NAN, f64::NAN);
    }
    (a_low / b_high, a_high / b_low)
}

/// Decides "`low..=high` lies at or above `bar`": held when all of it does, failed when
/// none of it does, too close to call otherwise. NaN fails.
pub fn at_or_above(low: f64, high: f64, bar: f64) -> Verdict {
    if low.is_nan() || high.is_nan() {
        Verdict::Failed
    } else if low >= bar {
        Verdict::Held
    } else if high < bar {
        Verdict::Failed
    } else {
        Verdict::TooClose
    }
}
// ANCHOR_END: over_rounds

/// "`big` is at least `min` times `small`": the most common claim of the course.
pub fn ratio_at_least(big: &Figure, small: &Figure, min: f64) -> (Verdict, String) {
    let (low, high) = ratio_range(big, small);
    let verdict = at_or_above(low, high, min);
    (
        verdict,
        format!(
            "{} / {} = {} (>= {} required){}",
            big.text,
            small.text,
            fmt_ratio(big.value / small.value),
            fmt_ratio(min),
            over_rounds(big, small, low, high)
        ),
    )
}

/// "`a` is at most `max` times `b`".
pub fn ratio_at_most(a: &Figure, b: &Figure, max: f64) -> (Verdict, String) {
    let (low, high) = ratio_range(a, b);
    // a/b <= max is -(a/b) >= -max: the same decision, mirrored.
    let verdict = at_or_above(-high, -low, -max);
    (
        verdict,
        format!(
            "{} / {} = {} (at most {} allowed){}",
            a.text,
            b.text,
            fmt_ratio(a.value / b.value),
            fmt_ratio(max),
            over_rounds(a, b, low, high)
        ),
    )
}

/// "`a / b` lies between `min` and `max`".
pub fn ratio_within(a: &Figure, b: &Figure, min: f64, max: f64) -> (Verdict, String) {
    let (low, high) = ratio_range(a, b);
    let verdict = both(at_or_above(low, high, min), at_or_above(-high, -low, -max));
    (
        verdict,
        format!(
            "{} / {} = {} ({}..{} required){}",
            a.text,
            b.text,
            fmt_ratio(a.value / b.value),
            fmt_ratio(min),
            fmt_ratio(max),
            over_rounds(a, b, low, high)
        ),
    )
}

/// "`figure` is at least `min`" (a count, a share: never a typed-in time).
pub fn at_least(figure: &Figure, min: f64) -> (Verdict, String) {
    let (low, high) = range(figure);
    (
        at_or_above(low, high, min),
        format!(
            "{} (at least {} required){}",
            figure.text,
            fmt_value(min, &figure.unit),
            spread_of(figure)
        ),
    )
}

/// "`figure` is below `max`" (strictly).
pub fn below(figure: &Figure, max: f64) -> (Verdict, String) {
    let (low, high) = range(figure);
    let verdict = if low.is_nan() || high.is_nan() {
        Verdict::Failed
    } else if high < max {
        Verdict::Held
    } else if low >= max {
        Verdict::Failed
    } else {
        Verdict::TooClose
    };
    (
        verdict,
        format!(
            "{} (below {} required){}",
            figure.text,
            fmt_value(max, &figure.unit),
            spread_of(figure)
        ),
    )
}

/// "`figure` lies between `min` and `max`".
pub fn within(figure: &Figure, min: f64, max: f64) -> (Verdict, String) {
    let (low, high) = range(figure);
    let verdict = both(at_or_above(low, high, min), at_or_above(-high, -low, -max));
    (
        verdict,
        format!(
            "{} ({}..{} required){}",
            figure.text,
            fmt_value(min, &figure.unit),
            fmt_value(max, &figure.unit),
            spread_of(figure)
        ),
    )
}

/// "`figure` is exactly `want`" (a count).
pub fn equals(figure: &Figure, want: f64) -> (Verdict, String) {
    (
        fact(figure.value == want),
        format!(
            "{} ({} required)",
            figure.text,
            fmt_value(want, &figure.unit)
        ),
    )
}

/// A fact that is true or not (a count that matched, a state that was seen).
pub fn fact(held: bool) -> Verdict {
    if held { Verdict::Held } else { Verdict::Failed }
}

/// Two conditions that must both hold: failed if either failed, held if both held,
/// too close to call otherwise.
pub fn both(a: Verdict, b: Verdict) -> Verdict {
    match (a, b) {
        (Verdict::Failed, _) | (_, Verdict::Failed) => Verdict::Failed,
        (Verdict::Held, Verdict::Held) => Verdict::Held,
        _ => Verdict::TooClose,
    }
}

/// Several conditions, all required.
pub fn all(verdicts: impl IntoIterator<Item = Verdict>) -> Verdict {
    verdicts.into_iter().fold(Verdict::Held, both)
}

/// "; over 5 rounds 2.9x..3.4x" when either figure has rounds.
fn over_rounds(a: &Figure, b: &Figure, low: f64, high: f64) -> String {
    let rounds = a.rounds.len().max(b.rounds.len());
    if rounds == 0 {
        String::new()
    } else {
        format!(
            "; over {rounds} rounds {}..{}",
            fmt_ratio(low),
            fmt_ratio(high)
        )
    }
}

fn spread_of(figure: &Figure) -> String {
    if figure.rounds.is_empty() {
        return String::new();
    }
    let (low, high) = range(figure);
    format!(
        "; over {} rounds {}..{}",
        figure.rounds.len(),
        fmt_value(low, &figure.unit),
        fmt_value(high, &figure.unit)
    )
}

/// What `--falsify` found for one claim.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Falsified {
    pub id: String,
    /// What the wrong world models.
    pub wrong: String,
    /// The claim decided on its wrong world: it must be `failed`.
    pub on_wrong_world: Claim,
    /// The claim decided again on the figures of the reference run, when one was given
    /// and holds this claim.
    pub on_reference: Option<Claim>,
    /// The verdict the reference run itself recorded.
    pub recorded: Option<Verdict>,
}

/// Runs every claim on its wrong world, and on the figures of `reference` (a tour's JSON
/// report) when given.
pub fn falsify(claims: &[ClaimDef], reference: Option<&[Claim]>) -> Vec<Falsified> {
    claims
        .iter()
        .map(|def| {
            let recorded = reference.and_then(|r| r.iter().find(|c| c.id == def.id));
            Falsified {
                id: def.id.to_string(),
                wrong: def.wrong.to_string(),
                on_wrong_world: def.in_wrong_world(),
                on_reference: recorded.map(|c| def.judge(Inputs(c.figures.clone()))),
                recorded: recorded.map(|c| c.verdict),
            }
        })
        .collect()
}

/// What is wrong with a lesson's claims, for its tests: a claim that does not fail in
/// its wrong world, or an id declared twice. Empty when all is well.
pub fn wrong_world_problems(claims: &[ClaimDef]) -> Vec<String> {
    let mut problems: Vec<String> = claims
        .iter()
        .map(|def| (def, def.in_wrong_world()))
        .filter(|(_, decided)| decided.verdict != Verdict::Failed)
        .map(|(def, decided)| {
            format!(
                "{} is {} in its wrong world ({}): {}",
                def.id, decided.verdict, def.wrong, decided.decided_by
            )
        })
        .collect();
    problems.extend(
        duplicate_ids(claims)
            .into_iter()
            .map(|id| format!("claim id {id} is declared twice")),
    );
    problems
}

/// Problems with a lesson's list of claims: ids repeated.
pub fn duplicate_ids(claims: &[ClaimDef]) -> Vec<&'static str> {
    let mut seen = Vec::new();
    let mut repeated = Vec::new();
    for def in claims {
        if seen.contains(&def.id) {
            repeated.push(def.id);
        }
        seen.push(def.id);
    }
    repeated
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rounds(name: &str, values: &[f64]) -> Figure {
        Figure::from_rounds(name, values, "µs")
    }

    #[test]
    fn a_ratio_clears_its_bar_only_when_every_pairing_of_rounds_does() {
        let big = rounds("a", &[50.0, 55.0, 60.0]);
        let small = rounds("b", &[20.0, 22.0, 25.0]);
        assert_eq!(ratio_at_least(&big, &small, 1.0).0, Verdict::Held);
        // 50/25 = 2.0 is the least favourable pairing: a bar of 2 is still cleared.
        assert_eq!(ratio_at_least(&big, &small, 2.0).0, Verdict::Held);
        // 60/20 = 3.0 is the most favourable: 2.5 is inside the noise, 3.1 beyond it.
        assert_eq!(ratio_at_least(&big, &small, 2.5).0, Verdict::TooClose);
        assert_eq!(ratio_at_least(&big, &small, 3.1).0, Verdict::Failed);
        let text = ratio_at_least(&big, &small, 2.5).1;
        assert!(text.contains("over 3 rounds 2x..3x"), "{text}");
    }

    #[test]
    fn figures_measured_once_give_two_verdicts() {
        let a = Figure::new("a", 30.0, "µs");
        let b = Figure::new("b", 10.0, "µs");
        assert_eq!(ratio_at_least(&a, &b, 3.0).0, Verdict::Held);
        assert_eq!(ratio_at_least(&a, &b, 3.01).0, Verdict::Failed);
        assert_eq!(ratio_at_most(&a, &b, 3.0).0, Verdict::Held);
        assert_eq!(ratio_at_most(&a, &b, 2.9).0, Verdict::Failed);
        assert_eq!(ratio_within(&a, &b, 2.0, 4.0).0, Verdict::Held);
        assert_eq!(ratio_within(&a, &b, 3.5, 4.0).0, Verdict::Failed);
        assert_eq!(below(&a, 30.0).0, Verdict::Failed);
        assert_eq!(below(&a, 30.1).0, Verdict::Held);
        assert_eq!(within(&a, 29.0, 31.0).0, Verdict::Held);
        assert_eq!(equals(&a, 30.0).0, Verdict::Held);
        assert_eq!(at_least(&a, 31.0).0, Verdict::Failed);
    }

    #[test]
    fn nothing_holds_on_a_zero_or_unmeasurable_figure() {
        let a = Figure::new("a", 1.0, "s");
        let zero = Figure::new("b", 0.0, "s");
        let nan = Figure::new("c", f64::NAN, "s");
        assert_eq!(ratio_at_least(&a, &zero, 1.0).0, Verdict::Failed);
        assert_eq!(ratio_at_most(&a, &zero, 1.0).0, Verdict::Failed);
        assert_eq!(ratio_at_least(&nan, &a, 0.0).0, Verdict::Failed);
        assert_eq!(at_least(&nan, 0.0).0, Verdict::Failed);
        assert_eq!(below(&nan, 1.0).0, Verdict::Failed);
        assert!(ratio_at_least(&a, &zero, 1.0).1.contains("n/a"));
    }

    #[test]
    fn a_range_straddling_a_limit_is_too_close_to_call() {
        let share = Figure::from_rounds("share", &[0.05, 0.12], "");
        assert_eq!(below(&share, 0.10).0, Verdict::TooClose);
        assert_eq!(within(&share, 0.0, 0.2).0, Verdict::Held);
        assert_eq!(within(&share, 0.1, 0.2).0, Verdict::TooClose);
        assert_eq!(within(&share, 0.2, 0.3).0, Verdict::Failed);
    }

    #[test]
    fn verdicts_combine_failed_first_then_too_close() {
        use Verdict::*;
        assert_eq!(both(Held, Held), Held);
        assert_eq!(both(Held, TooClose), TooClose);
        assert_eq!(both(TooClose, Failed), Failed);
        assert_eq!(all([Held, Held, Held]), Held);
        assert_eq!(all([]), Held);
    }

    fn decide_double(inputs: &Inputs) -> Result<Decision, MissingFigure> {
        let a = inputs.get("a")?;
        let b = inputs.get("b")?;
        Ok(Decision::new("a is twice b", ratio_at_least(a, b, 2.0)))
    }

    const DOUBLE: ClaimDef = ClaimDef {
        id: "double",
        decide: decide_double,
        wrong: "a is only as large as b",
        wrong_world: || Inputs::new().with("a", 1.0, "s").with("b", 1.0, "s"),
    };

    #[test]
    fn a_claim_is_decided_on_its_figures_its_wrong_world_and_a_reference() {
        let measured = Inputs::new().with("a", 4.0, "s").with("b", 1.0, "s");
        let claim = DOUBLE.judge(measured.clone());
        assert_eq!(claim.verdict, Verdict::Held);
        assert_eq!(claim.figures, measured.0);
        assert_eq!(DOUBLE.in_wrong_world().verdict, Verdict::Failed);
        // A missing figure fails the claim and says which.
        let missing = DOUBLE.judge(Inputs::new().with("a", 4.0, "s"));
        assert_eq!(missing.verdict, Verdict::Failed);
        assert!(missing.decided_by.contains("`b`"), "{}", missing.decided_by);
        // Falsify: the wrong world, and the reference run's own figures decided again.
        let found = falsify(&[DOUBLE], Some(std::slice::from_ref(&claim)));
        assert_eq!(found[0].on_wrong_world.verdict, Verdict::Failed);
        assert_eq!(
            found[0].on_reference.as_ref().unwrap().verdict,
            Verdict::Held
        );
        assert_eq!(found[0].recorded, Some(Verdict::Held));
        assert!(falsify(&[DOUBLE], None)[0].on_reference.is_none());
        assert_eq!(duplicate_ids(&[DOUBLE, DOUBLE]), ["double"]);
    }

    #[test]
    fn verdicts_serialize_as_the_words_the_report_uses() {
        let json =
            serde_json::to_string(&[Verdict::Held, Verdict::Failed, Verdict::TooClose]).unwrap();
        assert_eq!(json, r#"["held","failed","too close to call"]"#);
    }
}
