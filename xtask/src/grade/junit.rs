//! The grade as JUnit XML, which CI systems show as test reports.

use super::*;
use crate::xml::{xml_attr, xml_text};

/// The results as JUnit XML: one `<testsuite>` per exercise, one `<testcase>` per test.
pub fn to_junit(grade: &Grade) -> String {
    let count = |r: &ExerciseResult, s: Status| r.tests.iter().filter(|t| t.status == s).count();
    let time = |r: &ExerciseResult| r.tests.iter().map(|t| t.seconds).sum::<f64>();
    let failures: usize = grade.exercises.iter().map(|r| count(r, Status::Fail)).sum();
    let errors: usize = grade
        .exercises
        .iter()
        .map(|r| count(r, Status::Error))
        .sum();
    let total_time: f64 = grade.exercises.iter().map(time).sum();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites name=\"cargo xtask grade\" tests=\"{}\" failures=\"{failures}\" \
         errors=\"{errors}\" time=\"{total_time:.3}\">\n",
        grade.tests_total()
    ));
    for r in &grade.exercises {
        let id = xml_attr(&r.exercise.id);
        out.push_str(&format!(
            "  <testsuite name=\"{id}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" \
             skipped=\"0\" time=\"{:.3}\">\n",
            r.total(),
            count(r, Status::Fail),
            count(r, Status::Error),
            time(r)
        ));
        out.push_str("    <properties>\n");
        for (name, value) in [
            ("title", r.exercise.title.clone()),
            ("points", show_points(r.points)),
            ("max_points", r.exercise.points.to_string()),
        ] {
            out.push_str(&format!(
                "      <property name=\"{name}\" value=\"{}\"/>\n",
                xml_attr(&value)
            ));
        }
        out.push_str("    </properties>\n");
        for t in &r.tests {
            let head = format!(
                "    <testcase classname=\"{id}\" name=\"{}\" time=\"{:.3}\"",
                xml_attr(&t.name),
                t.seconds
            );
            let (tag, body) = match t.status {
                Status::Pass => {
                    out.push_str(&head);
                    out.push_str("/>\n");
                    continue;
                }
                Status::Fail => ("failure", join_nonempty(&t.message, &t.output)),
                Status::Error => (
                    "error",
                    join_nonempty(&t.message, r.error.as_deref().unwrap_or("")),
                ),
            };
            out.push_str(&format!(
                "{head}>\n      <{tag} message=\"{}\">{}</{tag}>\n    </testcase>\n",
                xml_attr(first_line(&t.message)),
                xml_text(&body)
            ));
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

pub(crate) fn join_nonempty(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (_, true) => a.to_string(),
        (true, false) => b.to_string(),
        (false, false) => format!("{a}\n\n{b}"),
    }
}
