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

// ANCHOR: exercism
/// Exercism's test-runner `results.json`, version 3, to the letter: these keys and no
/// other, `message` only when it says something. A lesson is Exercism's unit (one
/// "exercise" of theirs), and its exercises are its tasks: a test's `task_id` is its
/// exercise's number in the lesson, in the order of `exercises.toml` and of the
/// chapter's table of exercises, counting from 1.
#[derive(Debug, Serialize)]
pub(crate) struct ExercismResults {
    pub(crate) version: u32,
    pub(crate) status: &'static str,
    /// Why nothing could run: only with `status: error`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) message: Option<String>,
    pub(crate) tests: Vec<TestJson>,
}

/// One test, in the order it is written in its file.
#[derive(Debug, Serialize)]
pub(crate) struct TestJson {
    pub(crate) name: String,
    /// The test's body, as the spec's "Test Code" shows it beside the result.
    pub(crate) test_code: String,
    pub(crate) status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) message: Option<String>,
    /// What the test printed, at most 500 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) output: Option<String>,
    pub(crate) task_id: usize,
}
// ANCHOR_END: exercism

/// The same results with the points added, for GitHub Classroom and `cargo xtask list`
/// (`grade --json`): Exercism's keys, then `points`, `max_points` and one entry per
/// exercise.
///
/// Typed structs rather than `json!`: they keep the fields in this order in the file
/// (version and status first), which is the order a person reads them in.
#[derive(Debug, Serialize)]
pub(crate) struct ResultsJson<'a> {
    #[serde(flatten)]
    pub(crate) results: ExercismResults,
    pub(crate) points: f64,
    pub(crate) max_points: u32,
    pub(crate) exercises: Vec<ExerciseJson<'a>>,
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
}

/// Each exercise's number in its lesson (1 for the first of `exercises.toml`), read from
/// the registries; an exercise not found there (a test's made-up one) gets its place in
/// `grade` among those of its lesson.
fn task_numbers(root: &Path, grade: &Grade) -> HashMap<String, usize> {
    let mut numbers = HashMap::new();
    for r in &grade.exercises {
        let lesson = r.exercise.lesson;
        if let Ok(list) = registry::load_lesson(root, lesson) {
            for (i, e) in list.iter().enumerate() {
                numbers.entry(e.id.clone()).or_insert(i + 1);
            }
        }
        if !numbers.contains_key(&r.exercise.id) {
            let place = grade
                .exercises
                .iter()
                .filter(|o| o.exercise.lesson == lesson)
                .position(|o| o.exercise.id == r.exercise.id)
                .map_or(1, |p| p + 1);
            numbers.insert(r.exercise.id.clone(), place);
        }
    }
    numbers
}

/// The grade as Exercism's `results.json`, version 3.
pub(crate) fn exercism_results(grade: &Grade) -> ExercismResults {
    let (status, message) = overall(grade);
    let root = crate::workspace::root();
    let numbers = task_numbers(&root, grade);
    let mut tests = Vec::new();
    for r in &grade.exercises {
        let bodies = test_bodies(&source_of(&root, &r.exercise));
        for t in &r.tests {
            tests.push(TestJson {
                name: format!("{}: {}", r.exercise.id, t.name),
                test_code: bodies.get(&t.name).cloned().unwrap_or_default(),
                status: t.status.word(),
                message: (t.status != Status::Pass && !t.message.is_empty())
                    .then(|| t.message.clone()),
                output: (!t.output.is_empty()).then(|| exercism_output(&t.output)),
                task_id: numbers.get(&r.exercise.id).copied().unwrap_or(1),
            });
        }
    }
    ExercismResults {
        version: 3,
        status,
        message,
        tests,
    }
}

/// `grade --format exercism`: Exercism's `results.json` and nothing else.
pub fn exercism_text(grade: &Grade) -> serde_json::Result<String> {
    Ok(serde_json::to_string_pretty(&exercism_results(grade))? + "\n")
}

pub(crate) fn results_json(grade: &Grade) -> ResultsJson<'_> {
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
        })
        .collect();
    // The total is the sum of the rounded parts, so the file adds up as printed.
    let points = round2(exercises.iter().map(|e| e.points).sum());
    ResultsJson {
        results: exercism_results(grade),
        points,
        max_points: grade.max_points(),
        exercises,
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
