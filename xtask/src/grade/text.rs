//! The grade for people: a table per lesson, the failures with what they said, and
//! the verdict line.

use super::*;

pub fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}

/// Points with at most one decimal: "10", "7.5", "6.7".
pub fn show_points(points: f64) -> String {
    let tenths = (points * 10.0).round() / 10.0;
    if tenths.fract() == 0.0 {
        format!("{tenths:.0}")
    } else {
        format!("{tenths:.1}")
    }
}

pub(crate) fn status_label(result: &ExerciseResult) -> &'static str {
    match result.status() {
        Status::Pass => "pass",
        Status::Fail => "FAIL",
        Status::Error if result.error.is_some() => "ERROR (did not build)",
        Status::Error => "ERROR",
    }
}

/// A table per lesson with its total, then the grand total.
pub fn report(grade: &Grade) -> String {
    let mut out = String::new();
    let mut lessons: Vec<&Lesson> = Vec::new();
    for r in &grade.exercises {
        if !lessons.contains(&r.exercise.lesson) {
            lessons.push(r.exercise.lesson);
        }
    }
    let header = ["exercise", "title", "tests", "points", "status"];
    for lesson in lessons {
        let results: Vec<&ExerciseResult> = grade
            .exercises
            .iter()
            .filter(|r| r.exercise.lesson == lesson)
            .collect();
        let mut rows: Vec<Row> = results
            .iter()
            .map(|r| {
                Row::Cells(vec![
                    r.exercise.id.clone(),
                    cut(&r.exercise.title, 40),
                    format!("{}/{}", r.passed(), r.total()),
                    format!("{}/{}", show_points(r.points), r.exercise.points),
                    status_label(r).to_string(),
                ])
            })
            .collect();
        let (got, max): (f64, u32) = results
            .iter()
            .fold((0.0, 0), |(g, m), r| (g + r.points, m + r.exercise.points));
        let (passed, total): (usize, usize) = results
            .iter()
            .fold((0, 0), |(p, t), r| (p + r.passed(), t + r.total()));
        rows.push(Row::Cells(vec![
            "total".to_string(),
            String::new(),
            format!("{passed}/{total}"),
            format!("{}/{max}", show_points(got)),
        ]));
        out.push_str(&format!(
            "Lesson {} · {}: {}\n\n{}\n\n",
            lesson.number,
            lesson.name,
            lesson.title,
            render_table(&header, &rows)
        ));
    }
    out.push_str(&verdict(grade));
    out
}

/// The last line: points, tests, and pass or fail.
pub fn verdict(grade: &Grade) -> String {
    let max = grade.max_points();
    let percent = if max == 0 {
        0.0
    } else {
        100.0 * grade.points() / f64::from(max)
    };
    let outcome = if grade.passed() { "PASSED" } else { "FAILED" };
    format!(
        "{outcome}: {} of {max} points ({percent:.0}%), {} of {} graded tests passed.",
        show_points(grade.points()),
        grade.tests_passed(),
        grade.tests_total()
    )
}

/// Every failing test with its message, and every exercise that did not build. `None`
/// when everything passed.
pub fn failures(grade: &Grade) -> Option<String> {
    let mut out = String::new();
    let mut shown_errors: Vec<&str> = Vec::new();
    for r in &grade.exercises {
        let id = &r.exercise.id;
        if let Some(error) = &r.error {
            // A lesson that does not compile gives every exercise the same error: once.
            if shown_errors.contains(&error.as_str()) {
                out.push_str(&format!("\n{id}: did not build (the error is above)\n"));
            } else {
                shown_errors.push(error);
                out.push_str(&format!("\n{id}: did not build\n{}\n", indent(error, 4)));
            }
            continue;
        }
        for t in r.tests.iter().filter(|t| t.status != Status::Pass) {
            out.push_str(&format!("\n{id} · {}\n{}\n", t.name, indent(&t.message, 4)));
        }
    }
    if out.is_empty() {
        return None;
    }
    let ids: Vec<&str> = grade
        .exercises
        .iter()
        .filter(|r| r.status() != Status::Pass)
        .map(|r| r.exercise.id.as_str())
        .collect();
    let example = ids.first().copied().unwrap_or("ID");
    out.push_str(&format!(
        "\nStuck? `cargo xtask hint {example}` prints the task and a hint; \
         `cargo xtask grade --exercise {example}` grades one exercise.\n"
    ));
    Some(format!("Failures\n{out}"))
}

pub(crate) fn indent(text: &str, by: usize) -> String {
    let pad = " ".repeat(by);
    text.lines()
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("{pad}{l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// At most `max` characters, with "..." when cut.
pub(crate) fn cut(text: &str, max: usize) -> String {
    if width(text) <= max {
        text.to_string()
    } else {
        let kept: String = text.chars().take(max.saturating_sub(3)).collect();
        format!("{}...", kept.trim_end())
    }
}
