//! The end of a run: one table, then every failure, then JSON for machines.
//!
//! The live progress above the table is for watching; this is for reading afterwards.
//! The table answers "how did each lesson do" at a glance, the failures section answers
//! "what exactly do I fix" without scrolling back through the log, and the JSON answers
//! the same for a program (a CI page, a grading script).

use serde_json::{Value, json};

use crate::format::{Row, duration, render_table};
use crate::run::{LessonResult, Run};

/// The summary table, the book's line under it, and the verdict.
pub fn table(run: &Run) -> String {
    let header = [
        "lesson",
        "tests",
        "claims",
        "headline figures",
        "time",
        "result",
    ];
    let rows: Vec<Row> = run.lessons.iter().map(lesson_row).collect();
    let mut out = format!(
        "Summary{}\n\n{}\n",
        if run.quick { " (quick run)" } else { "" },
        render_table(&header, &rows)
    );
    if let Some(docs) = &run.docs {
        let check = &docs.check;
        let verdict = if check.passed() {
            "ok".to_string()
        } else {
            format!("FAILED, {} problem(s)", check.problems.len())
        };
        out.push_str(&format!(
            "\n  book: {verdict} ({}, {})\n",
            check.counts(),
            duration(docs.seconds)
        ));
    }
    out
}

fn lesson_row(result: &LessonResult) -> Row {
    let lesson = format!("{} {}", result.lesson.number, result.lesson.name);
    if !result.written {
        return Row::Span(lesson, "not written yet".to_string());
    }
    let tests = match &result.tests {
        None => "did not run".to_string(),
        Some(t) if t.binaries == 0 && !result.errors.is_empty() => "no results".to_string(),
        Some(t) if t.failed > 0 => format!("{} passed, {} FAILED", t.passed, t.failed),
        Some(t) => format!("{} passed", t.passed),
    };
    let (claims, figures) = match &result.tour {
        None => ("no report".to_string(), String::new()),
        Some(tour) => {
            let mut claims = format!("{} held", tour.held);
            if tour.too_close > 0 {
                claims.push_str(&format!(", {} too close", tour.too_close));
            }
            if tour.failed > 0 {
                claims.push_str(&format!(", {} FAILED", tour.failed));
            }
            let figures = tour
                .headline
                .iter()
                .map(|f| f.display())
                .collect::<Vec<_>>()
                .join(", ");
            (claims, figures)
        }
    };
    let verdict = if result.passed() { "ok" } else { "FAILED" };
    Row::Cells(vec![
        lesson,
        tests,
        claims,
        figures,
        duration(result.seconds),
        verdict.to_string(),
    ])
}

/// How many of the slowest tests the summary lists.
pub const SLOWEST: usize = 10;

/// The slowest tests of the run, slowest first, with their times: where a wait for
/// feedback goes. `None` when no test ran.
pub fn slowest(run: &Run) -> Option<String> {
    let mut times: Vec<&(String, f64)> = run.lessons.iter().flat_map(|l| &l.test_times).collect();
    if times.is_empty() {
        return None;
    }
    times.sort_by(|a, b| b.1.total_cmp(&a.1));
    let total: f64 = times.iter().map(|t| t.1).sum();
    let mut out = format!(
        "The {} slowest tests (of {}, {} of test time in all)\n",
        SLOWEST.min(times.len()),
        times.len(),
        duration(total)
    );
    for (name, seconds) in times.into_iter().take(SLOWEST) {
        out.push_str(&format!("  {:>8}  {name}\n", duration(*seconds)));
    }
    Some(out)
}

/// The claims too close to call and the busy-machine warnings, which fail nothing but
/// must be seen: `None` when there are none.
pub fn too_close(run: &Run) -> Option<String> {
    let mut out = String::new();
    for result in run.lessons.iter().filter(|l| l.written) {
        let Some(tour) = &result.tour else { continue };
        if let Some(warning) = &tour.busy_warning {
            out.push_str(&format!("  {}: warning: {warning}\n", result.lesson.name));
        }
        for claim in &tour.close_claims {
            out.push_str(&format!(
                "  {}: too close to call: {} [{}]\n      decided by: {}\n",
                result.lesson.name, claim.statement, claim.id, claim.decided_by
            ));
        }
    }
    (!out.is_empty()).then(|| {
        format!(
            "Too close to call (no failure: the difference was inside the spread measured \
             in the same run; a busy machine widens it, so run the lesson again when it is \
             quieter)\n{out}"
        )
    })
}

/// The last line: what passed, or what failed, and how long it all took.
pub fn verdict(run: &Run) -> String {
    let written = run.lessons.iter().filter(|l| l.written).count();
    let unwritten = run.lessons.len() - written;
    let mut ran = format!(
        "{written} lesson{} run",
        if written == 1 { "" } else { "s" }
    );
    if unwritten > 0 {
        ran.push_str(&format!(", {unwritten} not written yet"));
    }
    let took = duration(run.seconds);
    if run.passed() {
        return format!("PASSED: {ran}, in {took}.");
    }
    let mut failed: Vec<String> = run
        .lessons
        .iter()
        .filter(|l| l.written && !l.passed())
        .map(|l| l.lesson.name.to_string())
        .collect();
    if run.docs.as_ref().is_some_and(|d| !d.check.passed()) {
        failed.push("the book".to_string());
    }
    format!(
        "FAILED: {} (the failures are listed above). {ran}, in {took}.",
        failed.join(", ")
    )
}

/// Every failure, grouped by lesson, with what is needed to act on it. `None` when
/// nothing failed.
pub fn failures(run: &Run) -> Option<String> {
    let mut out = String::new();
    if let Some(docs) = run.docs.as_ref().filter(|d| !d.check.passed()) {
        out.push_str("\nthe book (cargo xtask docs-check)\n");
        for problem in &docs.check.problems {
            out.push_str(&format!("  {problem}\n"));
        }
    }
    for result in run.lessons.iter().filter(|l| l.written && !l.passed()) {
        out.push_str(&format!(
            "\n{} (cargo xtask lesson {})\n",
            result.lesson.name, result.lesson.name
        ));
        lesson_failures(result, &mut out);
    }
    if out.is_empty() {
        None
    } else {
        Some(format!("Failures\n{out}"))
    }
}

fn lesson_failures(result: &LessonResult, out: &mut String) {
    for (name, message) in &result.test_failures {
        out.push_str(&format!(
            "  test failed: {name}\n      {}\n",
            indent_rest(message)
        ));
    }
    if let Some(tests) = &result.tests {
        let unnamed = tests
            .failed
            .saturating_sub(result.test_failures.len() as u64);
        if unnamed > 0 {
            out.push_str(&format!(
                "  test failed: {unnamed} more, whose names were not found in the output\n"
            ));
        }
    }
    if let Some(tour) = &result.tour {
        for claim in &tour.failed_claims {
            out.push_str(&format!(
                "  claim failed: {} [{}]\n      decided by: {}\n",
                claim.statement, claim.id, claim.decided_by
            ));
        }
        for exp in &tour.experiment_errors {
            out.push_str(&format!(
                "  experiment could not run: {} [{}]: {}\n",
                exp.title, exp.id, exp.error
            ));
        }
    }
    for error in &result.errors {
        out.push_str(&format!(
            "  {} step: {}\n",
            error.step,
            indent_rest(&error.message)
        ));
    }
}

/// Indents every line after the first, so a multi-line message stays under its item.
fn indent_rest(message: &str) -> String {
    message.lines().collect::<Vec<_>>().join("\n    ")
}

/// The results as JSON (see `--json` in the help). An unwritten lesson has
/// `"passed": null`: it neither passed nor failed, it did not run.
pub fn to_json(run: &Run) -> Value {
    let lessons: Vec<Value> = run.lessons.iter().map(lesson_json).collect();
    let docs = run.docs.as_ref().map(|d| {
        json!({
            "passed": d.check.passed(),
            "pages": d.check.pages,
            "includes": d.check.includes,
            "summary_links": d.check.summary_links,
            "problems": d.check.problems.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
            "seconds": d.seconds,
        })
    });
    let mut times: Vec<&(String, f64)> = run.lessons.iter().flat_map(|l| &l.test_times).collect();
    times.sort_by(|a, b| b.1.total_cmp(&a.1));
    let slowest: Vec<Value> = times
        .into_iter()
        .take(SLOWEST)
        .map(|(name, seconds)| json!({ "test": name, "seconds": seconds }))
        .collect();
    json!({
        "passed": run.passed(),
        "quick": run.quick,
        "seconds": run.seconds,
        "docs": docs,
        "lessons": lessons,
        "slowest_tests": slowest,
    })
}

fn lesson_json(result: &LessonResult) -> Value {
    let (passed_tests, failed_tests, failing) = match &result.tests {
        Some(t) => (t.passed, t.failed, t.failing.clone()),
        None => (0, 0, Vec::new()),
    };
    let (held, failed_claims, too_close) = result
        .tour
        .as_ref()
        .map_or((0, 0, 0), |t| (t.held, t.failed, t.too_close));
    json!({
        "name": result.lesson.name,
        "number": result.lesson.number,
        "title": result.lesson.title,
        "written": result.written,
        "tests": { "passed": passed_tests, "failed": failed_tests, "failing": failing },
        "claims": { "held": held, "failed": failed_claims, "too_close_to_call": too_close },
        "busy_warning": result.tour.as_ref().and_then(|t| t.busy_warning.clone()),
        "seconds": result.seconds,
        "passed": if result.written { Value::Bool(result.passed()) } else { Value::Null },
        "report": result.tour.as_ref().map_or(Value::Null, |t| t.report.clone()),
        "errors": result
            .errors
            .iter()
            .map(|e| format!("{}: {}", e.step, e.message))
            .collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cargo_test::TestCounts;
    use crate::lessons::LESSONS;
    use crate::run::StepError;
    use crate::tour_report;

    /// Where each column starts on a line, given the header's column names.
    fn column_starts(line: &str, cells: &[&str]) -> Vec<usize> {
        let mut starts = Vec::new();
        let mut from = 0;
        for cell in cells {
            let byte = from + line[from..].find(cell).expect(cell);
            starts.push(line[..byte].chars().count());
            from = byte + cell.len();
        }
        starts
    }

    #[test]
    fn table_columns_line_up_even_with_wide_characters() {
        let rows = vec![
            Row::Cells(vec![
                "1 procs".into(),
                "12 passed".into(),
                "fork+exec 549 µs".into(),
                "4.2s".into(),
            ]),
            Row::Span("2 threads".into(), "not written yet".into()),
            Row::Cells(vec![
                "3 sockets".into(),
                "1 passed, 1 FAILED".into(),
                "x".into(),
                "1m 05s".into(),
            ]),
        ];
        let text = render_table(&["lesson", "tests", "figures", "time"], &rows);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4);
        let header = column_starts(lines[0], &["lesson", "tests", "figures", "time"]);
        assert_eq!(header, [2, 13, 33, 51]);
        assert_eq!(
            column_starts(
                lines[1],
                &["1 procs", "12 passed", "fork+exec 549 µs", "4.2s"]
            ),
            header
        );
        assert_eq!(
            column_starts(
                lines[3],
                &["3 sockets", "1 passed, 1 FAILED", "x", "1m 05s"]
            ),
            header
        );
        assert_eq!(lines[2], "  2 threads  not written yet");
        assert!(lines.iter().all(|l| !l.ends_with(' ')));
    }

    fn sample_run() -> Run {
        let report = r#"{"schema":1,"lesson":"procs","experiments":[
            {"id":"big","title":"fork cost vs memory","error":"mmap failed"}],
            "claims":[{"verdict":"held"},{"id":"grows","statement":"fork slows with memory",
            "verdict":"failed","decided_by":"1.2x (>= 3x required)"},
            {"id":"near","statement":"a is faster than b","verdict":"too close to call",
            "decided_by":"1.1x; over 3 rounds 0.9x..1.3x"}],
            "headline":[{"name":"fork+exec","value":549.2,"unit":"µs","text":"549 µs"}]}"#;
        Run {
            quick: true,
            docs: None,
            seconds: 12.0,
            lessons: vec![
                LessonResult {
                    lesson: &LESSONS[0],
                    written: true,
                    tests: Some(TestCounts {
                        passed: 11,
                        failed: 2,
                        failing: vec!["exercise_wait_all".into()],
                        binaries: 3,
                        failed_binaries: 1,
                    }),
                    test_times: vec![
                        ("procs tour::protocol".into(), 0.5),
                        ("procs exercise_wait_all::reaps".into(), 7.25),
                    ],
                    test_failures: vec![(
                        "exercise_wait_all · reaps".into(),
                        "assertion failed: left == right".into(),
                    )],
                    tour: Some(tour_report::parse(report).unwrap()),
                    errors: vec![StepError {
                        step: "tour",
                        message: "it ended badly\n    | last line".into(),
                    }],
                    seconds: 11.5,
                },
                LessonResult {
                    lesson: &LESSONS[1],
                    written: false,
                    tests: None,
                    test_times: vec![],
                    test_failures: vec![],
                    tour: None,
                    errors: vec![],
                    seconds: 0.0,
                },
            ],
        }
    }

    #[test]
    fn the_summary_shows_counts_figures_and_unwritten_lessons() {
        let run = sample_run();
        let text = table(&run);
        assert!(text.starts_with("Summary (quick run)"), "{text}");
        let procs = text.lines().find(|l| l.contains("1 procs")).unwrap();
        for part in [
            "11 passed, 2 FAILED",
            "1 held, 1 too close, 1 FAILED",
            "fork+exec 549 µs",
            "11.5s",
            "FAILED",
        ] {
            assert!(procs.contains(part), "{part} missing in {procs}");
        }
        assert!(text.contains("2 threads  not written yet"), "{text}");
        assert!(
            verdict(&run).starts_with("FAILED: procs"),
            "{}",
            verdict(&run)
        );
    }

    #[test]
    fn the_slowest_tests_come_first_with_their_times() {
        let text = slowest(&sample_run()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("The 2 slowest tests (of 2"), "{text}");
        assert!(
            lines[1].contains("procs exercise_wait_all::reaps"),
            "{text}"
        );
        assert!(lines[1].contains("7.2"), "{text}");
        assert!(lines[2].contains("procs tour::protocol"), "{text}");
        let json = to_json(&sample_run());
        assert_eq!(json["slowest_tests"][0]["seconds"], 7.25);
    }

    #[test]
    fn failures_name_every_test_claim_error_and_step() {
        let text = failures(&sample_run()).unwrap();
        for part in [
            "test failed: exercise_wait_all · reaps\n      assertion failed: left == right",
            "test failed: 1 more",
            "claim failed: fork slows with memory [grows]\n      decided by: 1.2x (>= 3x required)",
            "experiment could not run: fork cost vs memory [big]: mmap failed",
            "tour step: it ended badly\n        | last line",
        ] {
            assert!(text.contains(part), "{part:?} missing in:\n{text}");
        }
        assert!(!text.contains("threads"), "{text}");
    }

    #[test]
    fn the_json_has_the_documented_shape() {
        let v = to_json(&sample_run());
        assert_eq!(v["passed"], false);
        assert_eq!(v["quick"], true);
        let procs = &v["lessons"][0];
        assert_eq!(procs["tests"]["failing"][0], "exercise_wait_all");
        assert_eq!(procs["claims"]["failed"], 1);
        assert_eq!(procs["claims"]["too_close_to_call"], 1);
        let close = too_close(&sample_run()).unwrap();
        assert!(
            close.contains("procs: too close to call: a is faster than b [near]"),
            "{close}"
        );
        assert_eq!(procs["report"]["lesson"], "procs");
        assert_eq!(procs["errors"][0], "tour: it ended badly\n    | last line");
        let threads = &v["lessons"][1];
        assert_eq!(threads["written"], false);
        assert_eq!(threads["passed"], Value::Null);
        assert_eq!(threads["report"], Value::Null);
    }
}
