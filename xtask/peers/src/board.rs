//! The rows as they fill up, round after round, and the targets judged from them.

use procs::measure::{Stats, ratio};

use crate::error::PeersError;
use crate::plan::{COMPARISONS, Metric, ROWS};
use crate::report::{Comparison, Figure, Measurement, Outcome, RoundRange};

use crate::plan::Sample;

/// The rows as they fill up.
#[derive(Debug)]
pub struct Board {
    rows: Vec<(&'static str, &'static str, Row)>,
}

#[derive(Debug)]
enum Row {
    Open(Vec<Sample>),
    Skipped(String),
    Failed(String),
}

impl Board {
    pub fn new() -> Board {
        Board {
            rows: ROWS
                .iter()
                .map(|&(name, unit)| (name, unit, Row::Open(Vec::new())))
                .collect(),
        }
    }

    fn row(&mut self, name: &str) -> Option<&mut Row> {
        self.rows
            .iter_mut()
            .find(|(n, _, _)| *n == name)
            .map(|(_, _, row)| row)
    }

    /// Whether `name` is still to be measured (not skipped, not failed).
    pub fn wants(&self, name: &str) -> bool {
        self.rows
            .iter()
            .any(|(n, _, row)| *n == name && matches!(row, Row::Open(_)))
    }

    pub fn skip(&mut self, name: &str, reason: impl std::fmt::Display) {
        if let Some(row @ Row::Open(_)) = self.row(name) {
            *row = Row::Skipped(reason.to_string());
        }
    }

    /// The first failure is kept: the later ones are usually its consequences.
    pub fn fail(&mut self, name: &str, error: impl std::fmt::Display) {
        if let Some(row @ Row::Open(_)) = self.row(name) {
            *row = Row::Failed(error.to_string());
        }
    }

    pub fn record(
        &mut self,
        name: &str,
        sample: Result<Sample, PeersError>,
        round: usize,
        log: &mut dyn FnMut(&str),
    ) {
        let unit = ROWS
            .iter()
            .find(|(n, _)| *n == name)
            .map_or("", |(_, unit)| unit);
        match sample {
            Ok(sample) => {
                let cpu = sample
                    .cpu_us_per_doc
                    .map_or(String::new(), |us| format!(", {us:.1} µs CPU/doc"));
                log(&format!(
                    "[round {round}] {name}: {:.0} {unit}{cpu}",
                    sample.per_sec
                ));
                if let Some(Row::Open(samples)) = self.row(name) {
                    samples.push(sample);
                }
            }
            Err(error) => {
                log(&format!("[round {round}] {name}: FAILED: {error}"));
                self.fail(name, &error);
            }
        }
    }

    pub fn into_measurements(self) -> Vec<Measurement> {
        self.rows
            .into_iter()
            .map(|(name, unit, row)| {
                let figure = match row {
                    Row::Skipped(reason) => Figure::Skipped { reason },
                    Row::Failed(error) => Figure::Failed { error },
                    Row::Open(samples) => figure_of(&samples),
                };
                Measurement {
                    name: name.to_string(),
                    unit: unit.to_string(),
                    figure,
                }
            })
            .collect()
    }
}

/// The median of the rounds, and every round kept, so that the comparisons can set each
/// round against the same round of another row.
fn figure_of(samples: &[Sample]) -> Figure {
    let per_sec: Vec<f64> = samples.iter().map(|s| s.per_sec).collect();
    let Some(stats) = Stats::from_samples(per_sec.clone()) else {
        return Figure::Skipped {
            reason: "not measured".into(),
        };
    };
    let cpu: Option<Vec<f64>> = samples.iter().map(|s| s.cpu_us_per_doc).collect();
    let median_cpu = cpu.clone().and_then(Stats::from_samples).map(|s| s.median);
    Figure::Measured {
        per_sec: stats.median,
        samples: per_sec,
        cpu_us_per_doc: median_cpu,
        cpu_samples: cpu,
    }
}

/// Each target, checked against this run's figures.
pub fn compare(measurements: &[Measurement]) -> Vec<Comparison> {
    let find = |name: &str| measurements.iter().find(|m| m.name == name);
    COMPARISONS
        .iter()
        .map(|&(name, ours, theirs, metric, target)| {
            // A third row for the comparisons of what one row adds to another.
            let base = base_of(metric).map(find);
            let judged = match (find(ours), find(theirs), base) {
                (Some(a), Some(b), None) => judge(&a.figure, &b.figure, None, metric, target),
                (Some(a), Some(b), Some(Some(c))) => {
                    judge(&a.figure, &b.figure, Some(&c.figure), metric, target)
                }
                _ => Judged::only(Outcome::Failed {
                    error: "no such measurement".into(),
                }),
            };
            let Judged {
                ratio,
                per_round,
                rounds_note,
                outcome,
            } = judged;
            let note = [note(metric, ratio, &outcome), rounds_note]
                .into_iter()
                .flatten()
                .reduce(|a, b| format!("{a}; {b}"));
            Comparison {
                name: name.to_string(),
                ours: ours.to_string(),
                theirs: theirs.to_string(),
                base: base_of(metric).map(str::to_string),
                metric,
                target,
                note,
                ratio,
                per_round,
                outcome,
            }
        })
        .collect()
}

/// The row a comparison subtracts from ours, if it has one.
fn base_of(metric: Metric) -> Option<&'static str> {
    match metric {
        Metric::AddedCpuPerDoc { base } => Some(base),
        Metric::PerSec | Metric::CpuPerDoc => None,
    }
}

/// What the ratio column cannot say: a target of added CPU met (or too close to call)
/// without a ratio is ours costing no more than the base (see [`judge`]).
fn note(metric: Metric, ratio: Option<f64>, outcome: &Outcome) -> Option<String> {
    match (metric, ratio, outcome) {
        (Metric::AddedCpuPerDoc { .. }, None, Outcome::Met | Outcome::TooCloseToCall) => Some(
            "adds no CPU per document over the base (difference ≤ 0): nothing to divide by".into(),
        ),
        _ => None,
    }
}

/// A comparison judged: the ratio of the medians, the spread of the rounds' own ratios,
/// and what they say together.
#[derive(Debug, Clone, PartialEq)]
struct Judged {
    ratio: Option<f64>,
    per_round: Option<RoundRange>,
    /// Why the rounds were not read, when there were several (see [`per_round`]).
    rounds_note: Option<String>,
    outcome: Outcome,
}

impl Judged {
    /// An outcome without figures: a failure, a skip.
    fn only(outcome: Outcome) -> Judged {
        Judged {
            ratio: None,
            per_round: None,
            rounds_note: None,
            outcome,
        }
    }
}

/// The ratio `metric` reads against `target`; a failure outranks a skip, which outranks
/// a figure, and the peer's reason to be skipped (its tool is missing) is the one told.
/// `base` is the third row of [`Metric::AddedCpuPerDoc`] (`None` for the others; if it
/// is `None` there, the comparison fails).
///
/// The medians' ratio says met or missed, unless the target lies within the ratios the
/// rounds give one by one: then the difference is inside the run's own noise, and the
/// target is too close to call.
fn judge(
    ours: &Figure,
    theirs: &Figure,
    base: Option<&Figure>,
    metric: Metric,
    target: f64,
) -> Judged {
    let mut failed = [Some(ours), Some(theirs), base].into_iter().flatten();
    if let Some(error) = failed.find_map(|f| match f {
        Figure::Failed { error } => Some(error.clone()),
        _ => None,
    }) {
        return Judged::only(Outcome::Failed { error });
    }
    // Theirs first: the peer's reason (its tool is missing) is the one told.
    let mut skipped = [Some(theirs), Some(ours), base].into_iter().flatten();
    if let Some(reason) = skipped.find_map(|f| match f {
        Figure::Skipped { reason } => Some(reason.clone()),
        _ => None,
    }) {
        return Judged::only(Outcome::Skipped { reason });
    }
    if matches!(metric, Metric::AddedCpuPerDoc { .. }) && base.is_none() {
        let error = "no base measurement".to_string();
        return Judged::only(Outcome::Failed { error });
    }
    let (ratio, outcome) = match read(metric, median(ours), median(theirs), base.map(median)) {
        Reading::NoCpu => {
            let reason = "the kernel did not tell the CPU time".to_string();
            return Judged::only(Outcome::Skipped { reason });
        }
        // Nothing added (within the noise of the two rows): met, with no ratio.
        Reading::NothingAdded => (None, Outcome::Met),
        // NaN (nothing measured on the dividing side) is not >= anything: missed.
        Reading::Ratio(r) if r >= target => (Some(r), Outcome::Met),
        Reading::Ratio(r) => (r.is_finite().then_some(r), Outcome::Missed),
    };
    let (per_round, rounds_note) = match per_round(ours, theirs, base, metric) {
        Ok(range) => (range, None),
        Err(note) => (None, Some(note)),
    };
    let outcome = match per_round {
        Some(range) if range.holds(target) => Outcome::TooCloseToCall,
        _ => outcome,
    };
    Judged {
        ratio,
        per_round,
        rounds_note,
        outcome,
    }
}

/// What one comparison reads from its rows' figures (the medians, or one round's).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Reading {
    /// NaN when there is nothing to divide by.
    Ratio(f64),
    /// Ours costs no more than the base ([`Metric::AddedCpuPerDoc`]): no ratio to take.
    NothingAdded,
    /// A CPU figure is missing.
    NoCpu,
}

/// The ratio `metric` takes of these figures: higher is better, whichever way it reads.
/// `base` is `Some` for [`Metric::AddedCpuPerDoc`] (else [`Reading::NoCpu`]).
fn read(metric: Metric, ours: Sample, theirs: Sample, base: Option<Sample>) -> Reading {
    match metric {
        Metric::PerSec => Reading::Ratio(ratio(ours.per_sec, theirs.per_sec)),
        // Less CPU is better: theirs / ours, so that at or above the target is good too.
        Metric::CpuPerDoc => match (theirs.cpu_us_per_doc, ours.cpu_us_per_doc) {
            (Some(theirs), Some(ours)) => Reading::Ratio(ratio(theirs, ours)),
            _ => Reading::NoCpu,
        },
        // What ours adds to the base, against theirs: theirs / (ours − base).
        Metric::AddedCpuPerDoc { .. } => match (
            theirs.cpu_us_per_doc,
            ours.cpu_us_per_doc,
            base.and_then(|b| b.cpu_us_per_doc),
        ) {
            (Some(_), Some(ours), Some(base)) if ours - base <= 0.0 => Reading::NothingAdded,
            (Some(theirs), Some(ours), Some(base)) => Reading::Ratio(ratio(theirs, ours - base)),
            _ => Reading::NoCpu,
        },
    }
}

/// The lowest and highest ratio of the rounds, each round of ours read against the same
/// round of theirs (and of the base): the rows are measured in turns within a round, so
/// a round's figures share the machine's state. `Ok(None)` with a single round (one
/// round cannot tell noise; the report says so once); `Err` with a note when the rounds
/// cannot be set side by side, and the medians alone are judged.
fn per_round(
    ours: &Figure,
    theirs: &Figure,
    base: Option<&Figure>,
    metric: Metric,
) -> Result<Option<RoundRange>, String> {
    let rows = [Some(ours), Some(theirs), base];
    let counts: Vec<usize> = rows.into_iter().flatten().map(rounds_of).collect();
    if counts.windows(2).any(|pair| pair[0] != pair[1]) {
        let counts: Vec<String> = counts.iter().map(usize::to_string).collect();
        return Err(format!(
            "the rows' rounds do not line up ({}): judged on the medians alone",
            counts.join(" against ")
        ));
    }
    let rounds = counts[0];
    if rounds < 2 {
        return Ok(None);
    }
    let mut ratios = Vec::with_capacity(rounds);
    for i in 0..rounds {
        let round = |figure: &Figure| round_of(figure, i);
        match read(metric, round(ours), round(theirs), base.map(round)) {
            Reading::Ratio(r) if r.is_finite() => ratios.push(r),
            // Nothing added is better than any ratio: the range has no top.
            Reading::NothingAdded => ratios.push(f64::INFINITY),
            Reading::Ratio(_) | Reading::NoCpu => {
                return Err(format!(
                    "round {} gives no ratio: judged on the medians alone",
                    i + 1
                ));
            }
        }
    }
    let low = ratios.iter().copied().fold(f64::INFINITY, f64::min);
    let high = ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Ok(Some(RoundRange {
        low,
        high: high.is_finite().then_some(high),
    }))
}

/// A row's medians, as one sample.
fn median(figure: &Figure) -> Sample {
    Sample {
        per_sec: per_sec(figure),
        cpu_us_per_doc: cpu_us_per_doc(figure),
    }
}

/// How many rounds a row holds (0 when it was not measured).
fn rounds_of(figure: &Figure) -> usize {
    match figure {
        Figure::Measured { samples, .. } => samples.len(),
        _ => 0,
    }
}

/// Round `i` of a row (counted from 0).
fn round_of(figure: &Figure, i: usize) -> Sample {
    match figure {
        Figure::Measured {
            samples,
            cpu_samples,
            ..
        } => Sample {
            per_sec: samples.get(i).copied().unwrap_or(f64::NAN),
            cpu_us_per_doc: cpu_samples.as_ref().and_then(|cpu| cpu.get(i).copied()),
        },
        _ => Sample {
            per_sec: f64::NAN,
            cpu_us_per_doc: None,
        },
    }
}

fn per_sec(figure: &Figure) -> f64 {
    match figure {
        Figure::Measured { per_sec, .. } => *per_sec,
        _ => f64::NAN,
    }
}

fn cpu_us_per_doc(figure: &Figure) -> Option<f64> {
    match figure {
        Figure::Measured { cpu_us_per_doc, .. } => *cpu_us_per_doc,
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{
        AIOHTTP_NGINX2, CURRENT_NGINX2, CURRENT_OUT, MULTI_NGINX2, WRITE_FLOOR, WRK_NGINX2,
    };

    const PER_SEC: Metric = Metric::PerSec;
    const ADDED: Metric = Metric::AddedCpuPerDoc {
        base: CURRENT_NGINX2,
    };

    /// The comparisons of two rows: no base.
    fn judge(
        ours: &Figure,
        theirs: &Figure,
        metric: Metric,
        target: f64,
    ) -> (Option<f64>, Outcome) {
        let judged = super::judge(ours, theirs, None, metric, target);
        (judged.ratio, judged.outcome)
    }

    /// What `--out` adds (ours less base) against the write floor (theirs).
    fn judge_added(ours: &Figure, theirs: &Figure, base: &Figure) -> (Option<f64>, Outcome) {
        let judged = super::judge(ours, theirs, Some(base), ADDED, 0.5);
        (judged.ratio, judged.outcome)
    }

    fn measured(per_sec: f64) -> Figure {
        Figure::Measured {
            per_sec,
            samples: vec![per_sec],
            cpu_us_per_doc: None,
            cpu_samples: None,
        }
    }

    fn with_cpu(per_sec: f64, cpu_us_per_doc: f64) -> Figure {
        Figure::Measured {
            per_sec,
            samples: vec![per_sec],
            cpu_us_per_doc: Some(cpu_us_per_doc),
            cpu_samples: Some(vec![cpu_us_per_doc]),
        }
    }

    /// A row measured in rounds, documents per second only, as the board makes it.
    fn rounds(per_sec: &[f64]) -> Figure {
        let samples: Vec<Sample> = per_sec
            .iter()
            .map(|&per_sec| Sample {
                per_sec,
                cpu_us_per_doc: None,
            })
            .collect();
        figure_of(&samples)
    }

    /// A row measured in rounds with its CPU per document (at 1,000 documents/s).
    fn cpu_rounds(cpu_us_per_doc: &[f64]) -> Figure {
        let samples: Vec<Sample> = cpu_us_per_doc
            .iter()
            .map(|&cpu| Sample {
                per_sec: 1000.0,
                cpu_us_per_doc: Some(cpu),
            })
            .collect();
        figure_of(&samples)
    }

    /// The range a judgement found, as (low, high), `high` `None` when unbounded.
    fn range(judged: &Judged) -> Option<(f64, Option<f64>)> {
        judged.per_round.map(|r| (r.low, r.high))
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn rounds_on_both_sides_of_the_target_are_too_close_to_call() {
        // Round by round: 1.20, 1.30, 1.25 against 1.25 wanted. The medians' 1.25 alone
        // would say met; the rounds say the run cannot tell.
        let judged = super::judge(
            &rounds(&[120.0, 130.0, 125.0]),
            &rounds(&[100.0, 100.0, 100.0]),
            None,
            PER_SEC,
            1.25,
        );
        assert_eq!(judged.outcome, Outcome::TooCloseToCall);
        assert_eq!(judged.ratio, Some(1.25));
        let (low, high) = range(&judged).unwrap();
        assert!(close(low, 1.2) && close(high.unwrap(), 1.3), "{judged:?}");
        assert_eq!(judged.rounds_note, None);
    }

    #[test]
    fn rounds_all_above_the_target_meet_it() {
        let judged = super::judge(
            &rounds(&[130.0, 140.0, 135.0]),
            &rounds(&[100.0, 100.0, 100.0]),
            None,
            PER_SEC,
            1.25,
        );
        assert_eq!(judged.outcome, Outcome::Met);
        assert_eq!(judged.ratio, Some(1.35));
        let (low, high) = range(&judged).unwrap();
        assert!(close(low, 1.3) && close(high.unwrap(), 1.4), "{judged:?}");
    }

    #[test]
    fn rounds_all_below_the_target_miss_it() {
        let judged = super::judge(
            &rounds(&[110.0, 120.0, 115.0]),
            &rounds(&[100.0, 100.0, 100.0]),
            None,
            PER_SEC,
            1.25,
        );
        assert_eq!(judged.outcome, Outcome::Missed);
        let (low, high) = range(&judged).unwrap();
        assert!(close(low, 1.1) && close(high.unwrap(), 1.2), "{judged:?}");
    }

    #[test]
    fn each_round_is_set_against_the_same_round_of_the_other_row() {
        // Both rows slower in round 2 (a busy machine): round by round, ours is 1.3
        // times theirs every time; set against another round's figures it would not be.
        let judged = super::judge(
            &rounds(&[130.0, 65.0, 130.0]),
            &rounds(&[100.0, 50.0, 100.0]),
            None,
            PER_SEC,
            1.25,
        );
        assert_eq!(judged.outcome, Outcome::Met);
        let (low, high) = range(&judged).unwrap();
        assert!(close(low, 1.3) && close(high.unwrap(), 1.3), "{judged:?}");
    }

    #[test]
    fn cpu_rounds_on_both_sides_of_the_target_are_too_close_to_call() {
        // The floor's 10 µs against ours 10, 12, 11: theirs / ours = 1.00, 0.83, 0.91,
        // around the 0.9 wanted (the medians' 10/11 = 0.91 alone would say met).
        let judged = super::judge(
            &cpu_rounds(&[10.0, 12.0, 11.0]),
            &cpu_rounds(&[10.0, 10.0, 10.0]),
            None,
            Metric::CpuPerDoc,
            0.9,
        );
        assert_eq!(judged.outcome, Outcome::TooCloseToCall);
        assert!(close(judged.ratio.unwrap(), 10.0 / 11.0));
        let (low, high) = range(&judged).unwrap();
        assert!(
            close(low, 10.0 / 12.0) && close(high.unwrap(), 1.0),
            "{judged:?}"
        );
        // Ours at 8, 9, 10 µs: 1.25, 1.11, 1.00, all above: met.
        let judged = super::judge(
            &cpu_rounds(&[8.0, 9.0, 10.0]),
            &cpu_rounds(&[10.0, 10.0, 10.0]),
            None,
            Metric::CpuPerDoc,
            0.9,
        );
        assert_eq!(judged.outcome, Outcome::Met);
    }

    #[test]
    fn what_out_adds_round_by_round_can_be_too_close_to_call() {
        // The write floor at 10 µs, the engine without --out at 10, with it 28, 32, 30:
        // it adds 18, 22, 20, so 10/18 = 0.56, 10/22 = 0.45, 10/20 = 0.50, around 0.5.
        let floor = cpu_rounds(&[10.0, 10.0, 10.0]);
        let base = cpu_rounds(&[10.0, 10.0, 10.0]);
        let judged = super::judge(
            &cpu_rounds(&[28.0, 32.0, 30.0]),
            &floor,
            Some(&base),
            ADDED,
            0.5,
        );
        assert_eq!(judged.outcome, Outcome::TooCloseToCall);
        assert!(close(judged.ratio.unwrap(), 0.5));
        let (low, high) = range(&judged).unwrap();
        assert!(close(low, 10.0 / 22.0) && close(high.unwrap(), 10.0 / 18.0));
        // The base's rounds count as much as ours: a base of 8, 12, 10 against ours
        // 18, 22, 20 adds 10 every round: 1.0, met however the base moved.
        let judged = super::judge(
            &cpu_rounds(&[18.0, 22.0, 20.0]),
            &floor,
            Some(&cpu_rounds(&[8.0, 12.0, 10.0])),
            ADDED,
            0.5,
        );
        assert_eq!(judged.outcome, Outcome::Met);
        assert_eq!(range(&judged), Some((1.0, Some(1.0))));
        // A round that adds nothing has no ratio: the range has no top. Rounds adding
        // nothing, 30 and 20 (0.33, 0.5): too close to call.
        let judged = super::judge(
            &cpu_rounds(&[9.0, 40.0, 30.0]),
            &floor,
            Some(&base),
            ADDED,
            0.5,
        );
        assert_eq!(judged.outcome, Outcome::TooCloseToCall);
        let (low, high) = range(&judged).unwrap();
        assert!(close(low, 10.0 / 30.0) && high.is_none(), "{judged:?}");
    }

    #[test]
    fn rounds_that_do_not_line_up_leave_the_medians_alone() {
        // Ours 3 rounds, theirs 2 (a run cut short): no range, the medians' 1.25 met,
        // and a note says why.
        let judged = super::judge(
            &rounds(&[120.0, 130.0, 125.0]),
            &rounds(&[100.0, 100.0]),
            None,
            PER_SEC,
            1.25,
        );
        assert_eq!((judged.ratio, &judged.outcome), (Some(1.25), &Outcome::Met));
        assert_eq!(judged.per_round, None);
        assert!(judged.rounds_note.unwrap().contains("3 against 2"));
        // The base counts too.
        let judged = super::judge(
            &cpu_rounds(&[28.0, 32.0, 30.0]),
            &cpu_rounds(&[10.0, 10.0, 10.0]),
            Some(&cpu_rounds(&[10.0, 10.0])),
            ADDED,
            0.5,
        );
        assert_eq!(judged.outcome, Outcome::Met);
        assert_eq!(judged.per_round, None);
        assert!(judged.rounds_note.is_some());
    }

    #[test]
    fn one_round_is_judged_on_its_figures_without_a_range() {
        let judged = super::judge(&rounds(&[125.0]), &rounds(&[100.0]), None, PER_SEC, 1.25);
        assert_eq!(judged.outcome, Outcome::Met);
        assert_eq!((judged.per_round, judged.rounds_note), (None, None));
    }

    #[test]
    fn a_cpu_ratio_is_the_floors_cpu_over_ours() {
        // 11 µs against the floor's 10: 10/11 = 0.909, within the 0.9 wanted.
        let (r, outcome) = judge(
            &with_cpu(50_000.0, 11.0),
            &with_cpu(60_000.0, 10.0),
            Metric::CpuPerDoc,
            0.9,
        );
        assert_eq!(outcome, Outcome::Met);
        assert!((r.unwrap() - 10.0 / 11.0).abs() < 1e-9);
        // 20 µs against 10: half as good, however many documents per second.
        let (r, outcome) = judge(
            &with_cpu(90_000.0, 20.0),
            &with_cpu(60_000.0, 10.0),
            Metric::CpuPerDoc,
            0.9,
        );
        assert_eq!((r, outcome), (Some(0.5), Outcome::Missed));
        // Less CPU than the floor is a ratio above 1.
        let (r, _) = judge(
            &with_cpu(1.0, 5.0),
            &with_cpu(1.0, 10.0),
            Metric::CpuPerDoc,
            0.9,
        );
        assert_eq!(r, Some(2.0));
    }

    #[test]
    fn a_cpu_ratio_without_both_cpu_figures_is_skipped_and_nothing_to_divide_by_missed() {
        let (r, outcome) = judge(&measured(1.0), &with_cpu(1.0, 10.0), Metric::CpuPerDoc, 0.9);
        assert_eq!(r, None);
        assert!(matches!(outcome, Outcome::Skipped { .. }));
        // As for documents per second, a zero to divide by is no ratio, and no success.
        let (r, outcome) = judge(
            &with_cpu(1.0, 0.0),
            &with_cpu(1.0, 10.0),
            Metric::CpuPerDoc,
            0.9,
        );
        assert_eq!((r, outcome), (None, Outcome::Missed));
    }

    #[test]
    fn what_out_adds_is_set_against_the_write_floor() {
        // The floor saves at 10 µs a document; --out costs 25 against 10 without it:
        // it adds 15, 1.5 times the floor's 10: 10/15 = 0.67, within the 0.5 wanted.
        let (r, outcome) = judge_added(
            &with_cpu(40_000.0, 25.0),
            &with_cpu(100_000.0, 10.0),
            &with_cpu(60_000.0, 10.0),
        );
        assert_eq!(outcome, Outcome::Met);
        assert!((r.unwrap() - 10.0 / 15.0).abs() < 1e-9);
        // Exactly twice the floor is the limit, still met.
        let (r, outcome) = judge_added(
            &with_cpu(1.0, 30.0),
            &with_cpu(1.0, 10.0),
            &with_cpu(1.0, 10.0),
        );
        assert_eq!((r, outcome), (Some(0.5), Outcome::Met));
        // It adds 30, three times the floor: 0.33, missed, however fast either runs.
        let (r, outcome) = judge_added(
            &with_cpu(90_000.0, 40.0),
            &with_cpu(100_000.0, 10.0),
            &with_cpu(60_000.0, 10.0),
        );
        assert_eq!(outcome, Outcome::Missed);
        assert!((r.unwrap() - 10.0 / 30.0).abs() < 1e-9);
    }

    #[test]
    fn out_adding_nothing_is_met_without_a_ratio_and_with_a_note() {
        for ours in [10.0, 9.5] {
            let (r, outcome) = judge_added(
                &with_cpu(1.0, ours),
                &with_cpu(1.0, 10.0),
                &with_cpu(1.0, 10.0),
            );
            assert_eq!((r, outcome.clone()), (None, Outcome::Met), "{ours}");
            assert!(note(ADDED, r, &outcome).is_some());
        }
        // Other comparisons, and a ratio, need no note.
        assert_eq!(note(ADDED, Some(0.7), &Outcome::Met), None);
        assert_eq!(note(Metric::CpuPerDoc, None, &Outcome::Missed), None);
    }

    #[test]
    fn what_out_adds_without_one_of_its_three_figures_is_not_judged() {
        let skipped = Figure::Skipped {
            reason: "nginx not installed".into(),
        };
        let failed = Figure::Failed {
            error: "cannot write /dev/shm".into(),
        };
        let fine = with_cpu(1.0, 10.0);
        // Any of the three failed: failed; skipped: skipped, with its reason.
        for (ours, theirs, base) in [
            (&failed, &fine, &fine),
            (&fine, &failed, &fine),
            (&fine, &fine, &failed),
            (&skipped, &fine, &failed),
        ] {
            let (r, outcome) = judge_added(ours, theirs, base);
            assert_eq!(r, None);
            assert_eq!(
                outcome,
                Outcome::Failed {
                    error: "cannot write /dev/shm".into()
                }
            );
        }
        for (ours, theirs, base) in [
            (&skipped, &fine, &fine),
            (&fine, &skipped, &fine),
            (&fine, &fine, &skipped),
        ] {
            let (r, outcome) = judge_added(ours, theirs, base);
            assert_eq!(r, None);
            assert_eq!(
                outcome,
                Outcome::Skipped {
                    reason: "nginx not installed".into()
                }
            );
        }
        // A row without its CPU figure: skipped, as for CPU per document.
        for (ours, theirs, base) in [
            (&measured(1.0), &fine, &fine),
            (&fine, &measured(1.0), &fine),
            (&fine, &fine, &measured(1.0)),
        ] {
            let (r, outcome) = judge_added(ours, theirs, base);
            assert_eq!(r, None);
            assert!(matches!(outcome, Outcome::Skipped { .. }), "{outcome:?}");
        }
        // No base given at all: a bug of the table, told as a failure.
        let judged = super::judge(&fine, &fine, None, ADDED, 0.5);
        assert_eq!(judged.ratio, None);
        assert!(matches!(judged.outcome, Outcome::Failed { .. }));
    }

    #[test]
    fn the_out_comparison_reads_its_three_rows() {
        let mut board = Board::new();
        let mut quiet = |_: &str| {};
        for (name, cpu) in [
            (CURRENT_OUT, 22.0),
            (WRITE_FLOOR, 8.0),
            (CURRENT_NGINX2, 12.0),
        ] {
            let sample = Sample {
                per_sec: 1000.0,
                cpu_us_per_doc: Some(cpu),
            };
            board.record(name, Ok(sample), 1, &mut quiet);
        }
        let mut measurements = board.into_measurements();
        let out = |comparisons: Vec<Comparison>| {
            comparisons
                .into_iter()
                .find(|c| matches!(c.metric, Metric::AddedCpuPerDoc { .. }))
                .unwrap()
        };
        let c = out(compare(&measurements));
        // 8 / (22 - 12) = 0.8.
        assert_eq!((c.ratio, c.outcome), (Some(0.8), Outcome::Met));
        assert_eq!(c.base.as_deref(), Some(CURRENT_NGINX2));
        assert_eq!(c.note, None);
        // Without the base row, as without either other one: no such measurement.
        measurements.retain(|m| m.name != CURRENT_NGINX2);
        let c = out(compare(&measurements));
        assert_eq!(
            c.outcome,
            Outcome::Failed {
                error: "no such measurement".into()
            }
        );
    }

    #[test]
    fn a_comparison_carries_its_rounds_range_and_says_when_they_do_not_line_up() {
        let mut board = Board::new();
        let mut quiet = |_: &str| {};
        // Two rounds each: 1.1 and 1.3 round by round, around the 1.2 wanted.
        for (round, (ours, theirs)) in [(110.0, 100.0), (130.0, 100.0)].into_iter().enumerate() {
            for (name, per_sec) in [(MULTI_NGINX2, ours), (WRK_NGINX2, theirs)] {
                let sample = Sample {
                    per_sec,
                    cpu_us_per_doc: None,
                };
                board.record(name, Ok(sample), round + 1, &mut quiet);
            }
        }
        // A third round of ours alone, as when a run is cut short: no longer in line.
        let sample = Sample {
            per_sec: 130.0,
            cpu_us_per_doc: None,
        };
        board.record(CURRENT_NGINX2, Ok(sample), 1, &mut quiet);
        let comparisons = compare(&board.into_measurements());
        let find = |ours: &str, theirs: &str| {
            comparisons
                .iter()
                .find(|c| c.ours == ours && c.theirs == theirs)
                .unwrap()
        };
        let c = find(MULTI_NGINX2, WRK_NGINX2);
        assert_eq!(c.outcome, Outcome::TooCloseToCall);
        let range = c.per_round.unwrap();
        assert!(
            close(range.low, 1.1) && close(range.high.unwrap(), 1.3),
            "{c:?}"
        );
        let c = find(CURRENT_NGINX2, WRK_NGINX2);
        assert_eq!(
            (c.ratio, &c.outcome, c.per_round),
            (Some(1.3), &Outcome::Met, None)
        );
        assert!(c.note.as_deref().unwrap().contains("1 against 2"), "{c:?}");
    }

    #[test]
    fn ratios_come_from_the_figures() {
        let (r, outcome) = judge(&measured(65_000.0), &measured(50_000.0), PER_SEC, 1.25);
        assert_eq!((r, outcome), (Some(1.3), Outcome::Met));
        let (r, outcome) = judge(&measured(60_000.0), &measured(50_000.0), PER_SEC, 1.25);
        assert_eq!((r, outcome), (Some(1.2), Outcome::Missed));
        let (r, outcome) = judge(&measured(60_000.0), &measured(0.0), PER_SEC, 1.25);
        assert_eq!((r, outcome), (None, Outcome::Missed));
    }

    #[test]
    fn a_failure_outranks_a_skip_which_outranks_a_figure() {
        let skipped = Figure::Skipped {
            reason: "wrk not installed".into(),
        };
        let failed = Figure::Failed {
            error: "boom".into(),
        };
        assert_eq!(
            judge(&measured(1.0), &skipped, PER_SEC, 1.0).1,
            Outcome::Skipped {
                reason: "wrk not installed".into()
            }
        );
        assert_eq!(
            judge(&skipped, &failed, Metric::CpuPerDoc, 1.0).1,
            Outcome::Failed {
                error: "boom".into()
            }
        );
    }

    #[test]
    fn every_comparison_names_a_row() {
        let board = Board::new();
        let measurements = board.into_measurements();
        for c in compare(&measurements) {
            assert_ne!(
                c.outcome,
                Outcome::Failed {
                    error: "no such measurement".into()
                },
                "{}",
                c.name
            );
        }
    }

    #[test]
    fn a_board_keeps_the_first_failure_and_the_median() {
        let mut board = Board::new();
        let mut quiet = |_: &str| {};
        for per_sec in [3.0, 1.0, 2.0] {
            let sample = Sample {
                per_sec,
                cpu_us_per_doc: Some(per_sec * 10.0),
            };
            board.record(MULTI_NGINX2, Ok(sample), 1, &mut quiet);
        }
        board.record(
            WRK_NGINX2,
            Err(PeersError::Nginx("first".into())),
            1,
            &mut quiet,
        );
        board.fail(WRK_NGINX2, "second");
        board.skip(AIOHTTP_NGINX2, "no aiohttp");
        assert!(!board.wants(WRK_NGINX2));
        let rows = board.into_measurements();
        let row = |name: &str| {
            rows.iter()
                .find(|m| m.name == name)
                .map(|m| m.figure.clone())
        };
        assert!(matches!(
            row(MULTI_NGINX2),
            Some(Figure::Measured { per_sec, cpu_us_per_doc: Some(cpu), .. }) if per_sec == 2.0 && cpu == 20.0
        ));
        assert!(
            matches!(row(WRK_NGINX2), Some(Figure::Failed { error }) if error == "nginx: first")
        );
        assert!(matches!(row(AIOHTTP_NGINX2), Some(Figure::Skipped { .. })));
    }
}
