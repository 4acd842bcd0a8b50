//! The grade as a Markdown summary, for a GitHub Actions run page.

use super::*;

/// A Markdown summary for a GitHub Actions run page: points per exercise, then the
/// failing tests with their messages.
pub fn to_markdown(grade: &Grade) -> String {
    let mut out = format!(
        "## Exercises: {} / {} points\n\n",
        show_points(grade.points()),
        grade.max_points()
    );
    out.push_str("| Exercise | Title | Tests | Points | Status |\n|---|---|---|---|---|\n");
    for r in &grade.exercises {
        let icon = match r.status() {
            Status::Pass => "✅ pass",
            Status::Fail => "❌ fail",
            Status::Error => "⚠️ error",
        };
        out.push_str(&format!(
            "| `{}` | {} | {}/{} | {} / {} | {icon} |\n",
            r.exercise.id,
            markdown_cell(&r.exercise.title),
            r.passed(),
            r.total(),
            show_points(r.points),
            r.exercise.points
        ));
    }
    out.push_str(&format!(
        "| **Total** | | {}/{} | **{} / {}** | |\n",
        grade.tests_passed(),
        grade.tests_total(),
        show_points(grade.points()),
        grade.max_points()
    ));
    let mut failing = String::new();
    let mut shown_errors: Vec<&str> = Vec::new();
    for r in &grade.exercises {
        if let Some(error) = &r.error {
            if !shown_errors.contains(&error.as_str()) {
                shown_errors.push(error);
                failing.push_str(&format!(
                    "\n**`{}`** did not build:\n\n{}\n",
                    r.exercise.id,
                    fenced(error)
                ));
            }
            continue;
        }
        for t in r.tests.iter().filter(|t| t.status != Status::Pass) {
            failing.push_str(&format!(
                "\n**`{}`** · `{}`\n\n{}\n",
                r.exercise.id,
                t.name,
                fenced(&t.message)
            ));
        }
    }
    if !failing.is_empty() {
        out.push_str("\n### Failing tests\n");
        out.push_str(&failing);
    }
    out
}

pub(crate) fn markdown_cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// A code block whose fence is longer than any run of backticks inside it.
pub(crate) fn fenced(text: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest.max(2) + 1);
    format!("{fence}text\n{text}\n{fence}")
}
