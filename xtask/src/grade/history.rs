//! The last results, kept under the target folder, so `cargo xtask list` can tell which
//! exercises are done.

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
