//! `kit --verify`'s verdict: one row per exercise (its stub, its solution, its
//! mutants), the table of them, and what is wrong, said per exercise.

use crate::format::{tail, width};
use crate::grade::{ExerciseResult, Grade, Status};
use crate::registry::Exercise;

use super::mutants::{MIN_MUTANTS, MutantResult, Outcome};

/// One exercise's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub id: String,
    /// Tests that failed on the stub, out of those that ran; `None` when not graded.
    pub failing_on_stub: Option<(usize, usize)>,
    /// Tests that passed on the reference solution, out of those that ran.
    pub passing_on_solution: (usize, usize),
    /// What is wrong with the kit (found on the stub).
    pub stub_defects: Vec<String>,
    /// What is wrong with the course (found on the solution).
    pub solution_defects: Vec<String>,
    /// Mutants rejected, out of those declared; `None` when they were not graded (the
    /// solution itself fails).
    pub mutants_rejected: Option<(usize, usize)>,
    /// Mutants that survived, broke, or too few of them.
    pub mutant_defects: Vec<String>,
}

impl Row {
    pub fn ok(&self) -> bool {
        self.stub_defects.is_empty()
            && self.solution_defects.is_empty()
            && self.mutant_defects.is_empty()
    }
}

/// Mutants rejected and graded, over all rows.
pub(super) fn mutant_counts(rows: &[Row]) -> (usize, usize) {
    rows.iter()
        .filter_map(|r| r.mutants_rejected)
        .fold((0, 0), |(a, b), (r, n)| (a + r, b + n))
}

/// Adds the mutants' verdicts to the rows: each exercise needs `MIN_MUTANTS`, and every
/// one rejected. `graded` is `None` when grading could not start.
pub(super) fn judge_mutants(
    rows: &mut [Row],
    exercises: &[Exercise],
    graded: Option<&[MutantResult]>,
) {
    for row in rows.iter_mut() {
        let Some(exercise) = exercises.iter().find(|e| e.id == row.id) else {
            continue;
        };
        let declared = exercise.mutants.len();
        if declared < MIN_MUTANTS {
            row.mutant_defects.push(format!(
                "has {declared} mutant(s); at least {MIN_MUTANTS} plausible wrong solutions \
                 are needed ([[exercise.mutant]] in its exercises.toml)"
            ));
        }
        let Some(graded) = graded else { continue };
        let mine: Vec<&MutantResult> = graded.iter().filter(|m| m.exercise == row.id).collect();
        if mine.is_empty() && declared > 0 {
            // Not graded: its solution fails, which is already a defect of the row.
            continue;
        }
        let rejected = mine
            .iter()
            .filter(|m| matches!(m.outcome, Outcome::Rejected { .. }))
            .count();
        row.mutants_rejected = Some((rejected, mine.len()));
        for m in mine {
            match &m.outcome {
                Outcome::Rejected { .. } => {}
                Outcome::Survived => row.mutant_defects.push(format!(
                    "mutant `{}` SURVIVED: every graded test passes on it, yet it is wrong: {}",
                    m.name, m.wrong
                )),
                Outcome::Broken(why) => row.mutant_defects.push(format!(
                    "mutant `{}` could not be graded: {}",
                    m.name,
                    tail(why, 12)
                )),
            }
        }
    }
}

/// One row per course exercise, from the grade on the stubs (`None`: not graded, the
/// kit did not build) and the grade in the course.
pub fn judge(exercises: &[Exercise], stub: Option<&Grade>, course: &Grade) -> Vec<Row> {
    let find = |grade: &Grade, id: &str| -> Option<ExerciseResult> {
        grade
            .exercises
            .iter()
            .find(|r| r.exercise.id == id)
            .cloned()
    };
    exercises
        .iter()
        .map(|exercise| {
            let mut row = Row {
                id: exercise.id.clone(),
                failing_on_stub: None,
                passing_on_solution: (0, 0),
                stub_defects: Vec::new(),
                solution_defects: Vec::new(),
                mutants_rejected: None,
                mutant_defects: Vec::new(),
            };
            if let Some(stub) = stub {
                let result = find(stub, &exercise.id);
                row.failing_on_stub = Some(judge_stub(result.as_ref(), &mut row.stub_defects));
            }
            let result = find(course, &exercise.id);
            row.passing_on_solution = judge_solution(result.as_ref(), &mut row.solution_defects);
            row
        })
        .collect()
}

/// On the stub every test must fail: by an assertion (`Fail`) or by the stub's panic
/// (which a grader may count as `Error`). An `Error` because the tests did not build is
/// not a failing test: it is a kit that does not compile.
fn judge_stub(result: Option<&ExerciseResult>, defects: &mut Vec<String>) -> (usize, usize) {
    let Some(result) = result else {
        defects.push("was not graded on the stub".into());
        return (0, 0);
    };
    if let Some(error) = &result.error {
        defects.push(format!(
            "its graded tests do not build on the stub:\n{}",
            tail(error, 15)
        ));
        return (0, result.tests.len());
    }
    if result.tests.is_empty() {
        defects.push("no graded test ran on the stub: an exercise needs at least one".into());
    }
    let mut failing = 0;
    for test in &result.tests {
        match test.status {
            Status::Pass => defects.push(format!(
                "`{}` passes on the stub: it cannot fail, so it grades nothing",
                test.name
            )),
            Status::Fail | Status::Error => failing += 1,
        }
    }
    (failing, result.tests.len())
}

/// On the reference solution every test must pass.
fn judge_solution(result: Option<&ExerciseResult>, defects: &mut Vec<String>) -> (usize, usize) {
    let Some(result) = result else {
        defects.push("was not graded in the course".into());
        return (0, 0);
    };
    if let Some(error) = &result.error {
        defects.push(format!(
            "its graded tests do not build in the course:\n{}",
            tail(error, 15)
        ));
        return (0, result.tests.len());
    }
    if result.tests.is_empty() {
        defects.push("has no graded test: an exercise needs at least one".into());
    }
    let mut passing = 0;
    for test in &result.tests {
        match test.status {
            Status::Pass => passing += 1,
            status => {
                let how = if status == Status::Fail {
                    "fails"
                } else {
                    "errors"
                };
                let why = test.message.lines().next().unwrap_or("").trim();
                defects.push(format!(
                    "`{}` {how} on the reference solution: {why}",
                    test.name
                ));
            }
        }
    }
    (passing, result.tests.len())
}

/// The per-exercise table.
pub fn table(rows: &[Row]) -> String {
    let header = [
        "exercise",
        "tests",
        "fail on stub",
        "pass on solution",
        "mutants rejected",
        "verdict",
    ];
    let cells: Vec<[String; 6]> = rows
        .iter()
        .map(|r| {
            let (passing, total) = r.passing_on_solution;
            [
                r.id.clone(),
                total.to_string(),
                match r.failing_on_stub {
                    Some((failing, ran)) => format!("{failing}/{ran}"),
                    None => "not run".to_string(),
                },
                format!("{passing}/{total}"),
                match r.mutants_rejected {
                    Some((rejected, n)) => format!("{rejected}/{n}"),
                    None => "not run".to_string(),
                },
                if r.ok() {
                    "ok".to_string()
                } else {
                    "DEFECT".to_string()
                },
            ]
        })
        .collect();
    let mut widths = header.map(width);
    for row in &cells {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(width(cell));
        }
    }
    let line = |cells: [&str; 6]| {
        let mut text = format!("{:<w$}", cells[0], w = widths[0]);
        for i in 1..5 {
            text.push_str(&format!("  {:>w$}", cells[i], w = widths[i]));
        }
        text.push_str(&format!("  {}", cells[5]));
        text
    };
    let mut out = line(header);
    for row in &cells {
        out.push('\n');
        out.push_str(&line(row.each_ref().map(String::as_str)));
    }
    out
}

/// Every defect, per exercise, then those of the kit as a whole.
pub(super) fn problems_text(rows: &[Row], kit_problems: &[String]) -> String {
    let mut out = Vec::new();
    for row in rows {
        for defect in &row.stub_defects {
            out.push(format!("{} (in the kit): {defect}", row.id));
        }
        for defect in &row.solution_defects {
            out.push(format!("{} (in the course): {defect}", row.id));
        }
        for defect in &row.mutant_defects {
            out.push(format!("{} (its tests): {defect}", row.id));
        }
    }
    out.extend(kit_problems.iter().cloned());
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::super::tests::exercises;
    use super::*;
    use crate::grade::TestOutcome;

    fn result(exercise: &Exercise, tests: &[(&str, Status)]) -> ExerciseResult {
        ExerciseResult {
            exercise: exercise.clone(),
            tests: tests
                .iter()
                .map(|(name, status)| TestOutcome {
                    name: name.to_string(),
                    status: *status,
                    message: "assertion failed\nmore".into(),
                    output: String::new(),
                    seconds: 0.0,
                    left_running: Vec::new(),
                })
                .collect(),
            points: 0.0,
            error: None,
        }
    }

    #[test]
    fn a_test_passing_on_the_stub_and_an_exercise_without_tests_are_defects() {
        let list = exercises();
        let stub = Grade {
            exercises: vec![
                result(&list[0], &[("a", Status::Fail), ("b", Status::Pass)]),
                result(&list[1], &[]),
            ],
        };
        let course = Grade {
            exercises: vec![
                result(&list[0], &[("a", Status::Pass), ("b", Status::Pass)]),
                result(&list[1], &[("c", Status::Fail)]),
            ],
        };
        let rows = judge(&list, Some(&stub), &course);
        assert_eq!(rows[0].failing_on_stub, Some((1, 2)));
        assert_eq!(
            rows[0].stub_defects,
            ["`b` passes on the stub: it cannot fail, so it grades nothing"]
        );
        assert!(rows[0].solution_defects.is_empty());
        assert!(rows[1].stub_defects[0].starts_with("no graded test ran on the stub"));
        assert_eq!(
            rows[1].solution_defects,
            ["`c` fails on the reference solution: assertion failed"]
        );
        let text = table(&rows);
        assert!(
            text.contains(
                "procs/first       2           1/2               2/2           not run  DEFECT"
            ),
            "{text}"
        );
        let problems = problems_text(&rows, &["leak: x".into()]);
        assert!(problems.contains("procs/first (in the kit): `b` passes on the stub"));
        assert!(problems.ends_with("leak: x"));
    }

    #[test]
    fn a_panicking_stub_is_failing_but_a_stub_that_does_not_build_is_a_defect() {
        let list = exercises();
        let mut broken = result(&list[1], &[("c", Status::Error)]);
        broken.error = Some("error[E0308]: mismatched types".into());
        let stub = Grade {
            exercises: vec![result(&list[0], &[("a", Status::Error)]), broken],
        };
        let course = Grade {
            exercises: vec![
                result(&list[0], &[("a", Status::Pass)]),
                result(&list[1], &[("c", Status::Pass)]),
            ],
        };
        let rows = judge(&list, Some(&stub), &course);
        assert!(rows[0].ok(), "{:?}", rows[0]);
        assert_eq!(rows[0].failing_on_stub, Some((1, 1)));
        assert!(rows[1].stub_defects[0].contains("do not build on the stub"));
        // Not graded on the stub at all (the kit did not build): only the course counts.
        let rows = judge(&list, None, &course);
        assert!(rows.iter().all(Row::ok));
        assert!(table(&rows).contains("not run"));
    }

    fn mutant(exercise: &str, name: &str, outcome: Outcome) -> MutantResult {
        MutantResult {
            exercise: exercise.into(),
            name: name.into(),
            wrong: format!("{name} is wrong"),
            outcome,
        }
    }

    fn rejected(test: &str) -> Outcome {
        Outcome::Rejected {
            by: vec![test.into()],
            message: format!("{test} failed"),
        }
    }

    #[test]
    fn a_surviving_mutant_or_too_few_mutants_are_defects() {
        let mut list = exercises();
        let declared = |n: usize| {
            (0..n)
                .map(|i| crate::registry::Mutant {
                    file: format!("m{i}.rs").into(),
                    wrong: "w".into(),
                    region: 1,
                })
                .collect::<Vec<_>>()
        };
        list[0].mutants = declared(3);
        list[1].mutants = declared(2);
        let course = Grade {
            exercises: vec![
                result(&list[0], &[("a", Status::Pass)]),
                result(&list[1], &[("c", Status::Pass)]),
            ],
        };
        let mut rows = judge(&list, None, &course);
        let graded = [
            mutant("procs/first", "m0", rejected("a")),
            mutant("procs/first", "m1", Outcome::Survived),
            mutant("procs/first", "m2", Outcome::Broken("error[E0308]".into())),
            mutant("procs/second", "m0", rejected("c")),
            mutant("procs/second", "m1", rejected("c")),
        ];
        judge_mutants(&mut rows, &list, Some(&graded));
        assert_eq!(rows[0].mutants_rejected, Some((1, 3)));
        assert_eq!(
            rows[0].mutant_defects.len(),
            2,
            "{:?}",
            rows[0].mutant_defects
        );
        assert!(rows[0].mutant_defects[0].contains("`m1` SURVIVED"));
        assert!(rows[0].mutant_defects[0].contains("m1 is wrong"));
        assert!(rows[0].mutant_defects[1].contains("`m2` could not be graded"));
        assert_eq!(rows[1].mutants_rejected, Some((2, 2)));
        assert!(rows[1].mutant_defects[0].contains("has 2 mutant(s); at least 3"));
        assert!(!rows[1].ok());
        assert!(table(&rows).contains("1/3"));
    }
}
