//! The grade as Exercism's test-runner `results.json` (v3), which GitHub Classroom and
//! other autograders read.

use super::*;

/// Exercism asks for at most 500 characters of a test's output.
pub(crate) const EXERCISM_OUTPUT_CHARS: usize = 500;

/// At most 500 characters; a longer output is cut, and ends with the message the spec
/// gives for that.
pub(crate) fn exercism_output(text: &str) -> String {
    if text.chars().count() <= EXERCISM_OUTPUT_CHARS {
        return text.to_string();
    }
    let note = "\nOutput was truncated. Please limit to 500 chars";
    let kept: String = text
        .chars()
        .take(EXERCISM_OUTPUT_CHARS - note.chars().count())
        .collect();
    format!("{kept}{note}")
}

pub(crate) fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The overall status and, for an error, why: Exercism's top-level `status` and
/// `message`.
pub(crate) fn overall(grade: &Grade) -> (&'static str, Option<String>) {
    let mut errors: Vec<String> = Vec::new();
    for r in &grade.exercises {
        if let Some(e) = &r.error {
            let line = format!("{}: {e}", r.exercise.lesson.name);
            if !errors.contains(&line) {
                errors.push(line);
            }
        }
    }
    if grade.exercises.is_empty() {
        return ("error", Some("no exercise was graded".to_string()));
    }
    // `error` only when no test ran at all; a lesson that did not compile next to one
    // that did is a `fail`, its tests reported one by one as errors.
    let ran = grade
        .exercises
        .iter()
        .flat_map(|r| &r.tests)
        .any(|t| t.status != Status::Error);
    if !ran {
        let why = if errors.is_empty() {
            "no graded test could run".to_string()
        } else {
            errors.join("\n\n")
        };
        return ("error", Some(why));
    }
    if grade.passed() {
        ("pass", None)
    } else {
        ("fail", None)
    }
}

/// The results in Exercism's results.json (version 3) shape, which autograders read,
/// with the points added: `points`, `max_points`, and one entry per exercise. A test's
/// `task_id` is its exercise's position in `exercises`, counting from 1.
///
/// Typed structs rather than `json!`: they keep the fields in this order in the file
/// (version and status first), which is the order a person reads them in.
#[derive(Debug, Serialize)]
pub(crate) struct ResultsJson<'a> {
    pub(crate) version: u32,
    pub(crate) status: &'static str,
    pub(crate) message: Option<String>,
    pub(crate) tests: Vec<TestJson>,
    pub(crate) points: f64,
    pub(crate) max_points: u32,
    pub(crate) exercises: Vec<ExerciseJson<'a>>,
    /// Only in the kept copy for `list`: exercises graded by earlier runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) earlier: Option<Vec<Value>>,
}

#[derive(Debug, Serialize)]
pub(crate) struct TestJson {
    pub(crate) name: String,
    pub(crate) status: &'static str,
    pub(crate) message: Option<String>,
    pub(crate) output: Option<String>,
    pub(crate) test_code: String,
    pub(crate) task_id: usize,
}

#[derive(Debug, Serialize)]
pub(crate) struct ExerciseJson<'a> {
    pub(crate) id: &'a str,
    pub(crate) title: &'a str,
    pub(crate) points: f64,
    pub(crate) max_points: u32,
    pub(crate) passed: usize,
    pub(crate) total: usize,
    pub(crate) status: &'static str,
    /// Only in the kept copy for `list`: when this grading started (seconds since 1970).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) graded_at: Option<f64>,
}

pub(crate) fn results_json(grade: &Grade) -> ResultsJson<'_> {
    let (status, message) = overall(grade);
    let mut tests = Vec::new();
    let root = crate::workspace::root();
    for (i, r) in grade.exercises.iter().enumerate() {
        let bodies = test_bodies(&source_of(&root, &r.exercise));
        for t in &r.tests {
            tests.push(TestJson {
                name: format!("{}: {}", r.exercise.id, t.name),
                status: t.status.word(),
                message: (t.status != Status::Pass && !t.message.is_empty())
                    .then(|| t.message.clone()),
                output: (!t.output.is_empty()).then(|| exercism_output(&t.output)),
                test_code: bodies.get(&t.name).cloned().unwrap_or_default(),
                task_id: i + 1,
            });
        }
    }
    let exercises: Vec<ExerciseJson<'_>> = grade
        .exercises
        .iter()
        .map(|r| ExerciseJson {
            id: &r.exercise.id,
            title: &r.exercise.title,
            points: round2(r.points),
            max_points: r.exercise.points,
            passed: r.passed(),
            total: r.total(),
            status: r.status().word(),
            graded_at: None,
        })
        .collect();
    // The total is the sum of the rounded parts, so the file adds up as printed.
    let points = round2(exercises.iter().map(|e| e.points).sum());
    ResultsJson {
        version: 3,
        status,
        message,
        tests,
        points,
        max_points: grade.max_points(),
        exercises,
        earlier: None,
    }
}

/// The results as JSON text, as `--json` writes them.
pub fn json_text(grade: &Grade) -> serde_json::Result<String> {
    to_text(&results_json(grade))
}

pub(crate) fn to_text(results: &ResultsJson<'_>) -> serde_json::Result<String> {
    Ok(serde_json::to_string_pretty(results)? + "\n")
}

/// The same results as a JSON value.
#[cfg(test)]
pub(crate) fn to_json(grade: &Grade) -> Value {
    serde_json::from_str(&json_text(grade).unwrap()).unwrap()
}
