//! The rows as they fill up, round after round, and the targets judged from them.

use procs::measure::{Stats, ratio};

use crate::error::PeersError;
use crate::plan::{COMPARISONS, Metric, ROWS};
use crate::report::{Comparison, Figure, Measurement, Outcome};

/// One round of one client.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub per_sec: f64,
    pub cpu_us_per_doc: Option<f64>,
}

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

/// The median of the rounds.
fn figure_of(samples: &[Sample]) -> Figure {
    let per_sec: Vec<f64> = samples.iter().map(|s| s.per_sec).collect();
    let Some(stats) = Stats::from_samples(per_sec.clone()) else {
        return Figure::Skipped {
            reason: "not measured".into(),
        };
    };
    let cpu: Option<Vec<f64>> = samples.iter().map(|s| s.cpu_us_per_doc).collect();
    let cpu = cpu.and_then(Stats::from_samples).map(|s| s.median);
    Figure::Measured {
        per_sec: stats.median,
        samples: per_sec,
        cpu_us_per_doc: cpu,
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
            let (ratio, outcome) = match (find(ours), find(theirs), base) {
                (Some(a), Some(b), None) => judge(&a.figure, &b.figure, None, metric, target),
                (Some(a), Some(b), Some(Some(c))) => {
                    judge(&a.figure, &b.figure, Some(&c.figure), metric, target)
                }
                _ => (
                    None,
                    Outcome::Failed {
                        error: "no such measurement".into(),
                    },
                ),
            };
            Comparison {
                name: name.to_string(),
                ours: ours.to_string(),
                theirs: theirs.to_string(),
                base: base_of(metric).map(str::to_string),
                metric,
                target,
                note: note(metric, ratio, &outcome),
                ratio,
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

/// What the ratio column cannot say: a target of added CPU met without a ratio is ours
/// costing no more than the base (see [`judge`]).
fn note(metric: Metric, ratio: Option<f64>, outcome: &Outcome) -> Option<String> {
    match (metric, ratio, outcome) {
        (Metric::AddedCpuPerDoc { .. }, None, Outcome::Met) => Some(
            "adds no CPU per document over the base (difference ≤ 0): nothing to divide by".into(),
        ),
        _ => None,
    }
}

/// The ratio `metric` reads against `target`; a failure outranks a skip, which outranks
/// a figure, and the peer's reason to be skipped (its tool is missing) is the one told.
/// `base` is the third row of [`Metric::AddedCpuPerDoc`] (`None` for the others; if it
/// is `None` there, the comparison fails).
fn judge(
    ours: &Figure,
    theirs: &Figure,
    base: Option<&Figure>,
    metric: Metric,
    target: f64,
) -> (Option<f64>, Outcome) {
    let mut failed = [Some(ours), Some(theirs), base].into_iter().flatten();
    if let Some(error) = failed.find_map(|f| match f {
        Figure::Failed { error } => Some(error.clone()),
        _ => None,
    }) {
        return (None, Outcome::Failed { error });
    }
    // Theirs first: the peer's reason (its tool is missing) is the one told.
    let mut skipped = [Some(theirs), Some(ours), base].into_iter().flatten();
    if let Some(reason) = skipped.find_map(|f| match f {
        Figure::Skipped { reason } => Some(reason.clone()),
        _ => None,
    }) {
        return (None, Outcome::Skipped { reason });
    }
    let no_cpu = || {
        let reason = "the kernel did not tell the CPU time".to_string();
        (None, Outcome::Skipped { reason })
    };
    let r = match metric {
        Metric::PerSec => ratio(per_sec(ours), per_sec(theirs)),
        // Less CPU is better: theirs / ours, so that at or above the target is good too.
        Metric::CpuPerDoc => match (cpu_us_per_doc(theirs), cpu_us_per_doc(ours)) {
            (Some(theirs), Some(ours)) => ratio(theirs, ours),
            _ => return no_cpu(),
        },
        // What ours adds to the base, against theirs: theirs / (ours − base).
        Metric::AddedCpuPerDoc { .. } => {
            let Some(base) = base else {
                let error = "no base measurement".to_string();
                return (None, Outcome::Failed { error });
            };
            match (
                cpu_us_per_doc(theirs),
                cpu_us_per_doc(ours),
                cpu_us_per_doc(base),
            ) {
                // Nothing added (within the noise of the two rows): met, with no ratio.
                (Some(_), Some(ours), Some(base)) if ours - base <= 0.0 => {
                    return (None, Outcome::Met);
                }
                (Some(theirs), Some(ours), Some(base)) => ratio(theirs, ours - base),
                _ => return no_cpu(),
            }
        }
    };
    // NaN (nothing measured on the dividing side) is not >= anything: missed.
    let outcome = if r >= target {
        Outcome::Met
    } else {
        Outcome::Missed
    };
    (r.is_finite().then_some(r), outcome)
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
        super::judge(ours, theirs, None, metric, target)
    }

    /// What `--out` adds (ours less base) against the write floor (theirs).
    fn judge_added(ours: &Figure, theirs: &Figure, base: &Figure) -> (Option<f64>, Outcome) {
        super::judge(ours, theirs, Some(base), ADDED, 0.5)
    }

    fn measured(per_sec: f64) -> Figure {
        Figure::Measured {
            per_sec,
            samples: vec![per_sec],
            cpu_us_per_doc: None,
        }
    }

    fn with_cpu(per_sec: f64, cpu_us_per_doc: f64) -> Figure {
        Figure::Measured {
            per_sec,
            samples: vec![per_sec],
            cpu_us_per_doc: Some(cpu_us_per_doc),
        }
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
        let (r, outcome) = super::judge(&fine, &fine, None, ADDED, 0.5);
        assert_eq!(r, None);
        assert!(matches!(outcome, Outcome::Failed { .. }));
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
