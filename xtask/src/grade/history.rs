//! The last results, kept under the target folder, and where each exercise stands by
//! them (its [`Standing`]): what `cargo xtask list` and `next` show, and the line that
//! names the next exercise after a grade where everything passed.

use super::*;

/// Where cargo builds: the explicit folder, else `CARGO_TARGET_DIR`, else `target/`.
pub fn target_dir(root: &Path, explicit: Option<&Path>) -> PathBuf {
    if let Some(dir) = explicit {
        return dir.to_path_buf();
    }
    match std::env::var_os("CARGO_TARGET_DIR").filter(|d| !d.is_empty()) {
        // Cargo reads a relative CARGO_TARGET_DIR from where it runs: the root, for us.
        Some(dir) => root.join(dir),
        None => root.join("target"),
    }
}

/// The last results, kept for `cargo xtask list`.
pub fn last_results_file(root: &Path) -> PathBuf {
    target_dir(root, None).join("xtask").join("grade-last.json")
}

/// An exercise's result as the last `grade` recorded it.
#[derive(Debug, Clone, PartialEq)]
pub struct LastResult {
    pub status: Status,
    pub passed: u64,
    pub total: u64,
    /// When that grading started: a file changed after it may grade differently now.
    pub graded_at: SystemTime,
}

/// Keeps `grade`'s results for `list`: the same JSON as `--json`, each exercise with the
/// time its grading started (`graded_at`, seconds since 1970), and under `earlier` the
/// exercises graded by an earlier run but not this one, so grading one exercise does
/// not make `list` forget the others.
pub fn remember(root: &Path, grade: &Grade, started: SystemTime) -> std::io::Result<PathBuf> {
    let path = last_results_file(root);
    let at = started
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    let mut results = results_json(grade);
    for entry in &mut results.exercises {
        entry.graded_at = Some(at);
    }
    let graded_now: Vec<&str> = results.exercises.iter().map(|e| e.id).collect();
    let earlier: Vec<Value> = previous_entries(&path)
        .into_iter()
        .filter(|e| e["id"].as_str().is_some_and(|id| !graded_now.contains(&id)))
        .collect();
    results.earlier = Some(earlier);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    // A temporary file renamed into place, as lesson 5's store does: `grade` and `watch`
    // may write at once, and a crash half-way must not lose the earlier results.
    let temp = path.with_extension(format!("json.tmp-{}", std::process::id()));
    std::fs::write(&temp, to_text(&results)?)?;
    std::fs::rename(&temp, &path).inspect_err(|_| {
        let _ = std::fs::remove_file(&temp);
    })?;
    Ok(path)
}

/// Every exercise entry of a results file, current and earlier.
pub(crate) fn previous_entries(path: &Path) -> Vec<Value> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    let Ok(doc) = serde_json::from_str::<Value>(&text) else {
        return Vec::new();
    };
    ["exercises", "earlier"]
        .iter()
        .filter_map(|key| doc[*key].as_array())
        .flatten()
        .cloned()
        .collect()
}

/// The last recorded result of each exercise, by id (empty when nothing was graded yet).
pub fn last_results(root: &Path) -> HashMap<String, LastResult> {
    results_in(&last_results_file(root))
}

/// [`last_results`] from the results file at `path`.
pub(crate) fn results_in(path: &Path) -> HashMap<String, LastResult> {
    let mut found = HashMap::new();
    for entry in previous_entries(path) {
        let status = match entry["status"].as_str() {
            Some("pass") => Status::Pass,
            Some("fail") => Status::Fail,
            Some("error") => Status::Error,
            _ => continue,
        };
        let (Some(id), Some(passed), Some(total), Some(at)) = (
            entry["id"].as_str(),
            entry["passed"].as_u64(),
            entry["total"].as_u64(),
            entry["graded_at"].as_f64(),
        ) else {
            continue;
        };
        // The file may have been edited or damaged: a time no clock can hold makes the
        // entry unknown, not a panic of every command that reads it.
        let Some(graded_at) = Duration::try_from_secs_f64(at.max(0.0))
            .ok()
            .and_then(|since| UNIX_EPOCH.checked_add(since))
        else {
            continue;
        };
        found.entry(id.to_string()).or_insert(LastResult {
            status,
            passed,
            total,
            graded_at,
        });
    }
    found
}

/// Where an exercise stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    /// Its function body is still the `todo!()` stub.
    Todo,
    /// Never graded (or its results were cleaned away with `target/`).
    Ungraded,
    /// Edited since it was last graded: the old result may no longer hold.
    Changed,
    /// Every graded test passed at the last grade.
    Done,
    /// Some tests failed at the last grade: `passed` of `total` passed.
    Failing { passed: u64, total: u64 },
    /// The lesson did not compile at the last grade.
    Broken,
}

impl Standing {
    pub fn label(&self) -> String {
        match self {
            Standing::Todo => "todo".to_string(),
            Standing::Ungraded => "ungraded".to_string(),
            Standing::Changed => "changed".to_string(),
            Standing::Done => "done".to_string(),
            Standing::Failing { passed, total } => format!("failing {passed}/{total}"),
            Standing::Broken => "failing (did not compile)".to_string(),
        }
    }
}

/// Decides an exercise's standing from its file and the last results.
///
/// The `todo!()` check comes first: a stub cannot be done, whatever an old result says.
/// A result counts only if the file was not modified after that grading started.
pub fn standing(
    exercise: &Exercise,
    source: &str,
    modified: Option<SystemTime>,
    last: Option<&LastResult>,
) -> Standing {
    if source.contains(&format!("todo!(\"{}", exercise.id)) {
        return Standing::Todo;
    }
    let Some(last) = last else {
        return Standing::Ungraded;
    };
    // A file whose time cannot be read is treated as changed: better to ask for a
    // grade again than to show a result that may be stale.
    if modified.is_none_or(|m| m > last.graded_at) {
        return Standing::Changed;
    }
    match last.status {
        Status::Pass => Standing::Done,
        Status::Fail => Standing::Failing {
            passed: last.passed,
            total: last.total,
        },
        Status::Error => Standing::Broken,
    }
}

pub fn standing_of(
    root: &Path,
    exercise: &Exercise,
    last: &HashMap<String, LastResult>,
) -> Standing {
    let path = root.join(&exercise.file);
    let source = std::fs::read_to_string(&path).unwrap_or_default();
    let modified = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
    standing(exercise, &source, modified, last.get(&exercise.id))
}

/// The first exercise, in the course's order, that is not done, with its standing.
pub fn first_unfinished(standings: &[(&Exercise, Standing)]) -> Option<usize> {
    standings.iter().position(|(_, s)| *s != Standing::Done)
}

/// After a grade in which every exercise passed: the line that names the next exercise
/// not done yet (by the results just kept), so a learner goes on without looking it up.
pub fn next_line(root: &std::path::Path, exercises: &[Exercise]) -> String {
    let last = last_results(root);
    let standings: Vec<(&Exercise, Standing)> = exercises
        .iter()
        .map(|e| (e, standing_of(root, e, &last)))
        .collect();
    match first_unfinished(&standings) {
        Some(k) => {
            let e = standings[k].0;
            format!(
                "Next: {} ({}): `cargo xtask hint {}` for its task and a first hint.",
                e.id, e.title, e.id
            )
        }
        None => format!(
            "Every exercise is done: {} of {}.",
            standings.len(),
            standings.len()
        ),
    }
}
