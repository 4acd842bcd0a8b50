//! The learner's progress, kept in `progress.toml` at the root of their repository, and
//! where each exercise stands by it (its [`Standing`]): what `cargo xtask list` and
//! `next` show, and the line that names the next exercise after a grade where everything
//! passed.
//!
//! The file lives beside the work, not under `target/`, the way rustlings keeps its
//! state: `cargo clean`, another `CARGO_TARGET_DIR` or a fresh clone on another machine
//! lose nothing, and the learner commits it with their code. It is small TOML, one table
//! per exercise, so a commit's diff shows what changed. Whether a result still holds is
//! decided by a fingerprint of the exercise file as it was graded, not by file times,
//! which a clone or a checkout resets.
//!
//! In the course repository (the one with the solutions) the file is ignored by git, so
//! an instructor's grading never lands in a kit; the kit's `.gitignore` drops that line.

use super::*;

/// The progress file's name, at the root of the workspace.
pub const PROGRESS_FILE: &str = "progress.toml";

/// The progress file of the workspace at `root`.
pub fn progress_file(root: &Path) -> PathBuf {
    root.join(PROGRESS_FILE)
}

/// What the file says at its top, for a learner who opens it.
const PROGRESS_HEADER: &str = "\
# Your progress through the exercises, kept by `cargo xtask grade` (and `watch`, `hint`).
# Commit it with your work: `cargo clean` or a fresh clone keeps it. `cargo xtask list`
# reads it. `source` is a fingerprint of the exercise file as it was graded: once you
# edit the file, its result shows as \"changed\" until you grade it again.
";

/// An exercise's result as the last `grade` recorded it.
#[derive(Debug, Clone, PartialEq)]
pub struct LastResult {
    pub status: Status,
    pub passed: u64,
    pub total: u64,
    /// The fingerprint of the exercise file that was graded ([`fingerprint`]).
    pub source: String,
}

/// One exercise's entry in the progress file. Every field is optional: a learner who
/// asked for a hint but never graded has only `hints_seen`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Entry {
    /// `pass`, `fail` or `error` (the graded tests did not build).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub passed: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// How many of the exercise's hints `cargo xtask hint` has shown.
    #[serde(skip_serializing_if = "is_zero")]
    pub hints_seen: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The progress file's contents: an entry per exercise id, in id order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ProgressFile {
    pub exercises: BTreeMap<String, Entry>,
}

impl ProgressFile {
    /// Reads the file at `path`. A missing file is no progress yet; a file that cannot be
    /// read or parsed (a merge left conflict markers in it) is an error that says so.
    pub fn read(path: &Path) -> Result<ProgressFile, String> {
        match std::fs::read_to_string(path) {
            Ok(text) => toml::from_str(&text).map_err(|e| {
                format!(
                    "{} cannot be read as progress ({}); fix it, or delete it and grade \
                     again",
                    path.display(),
                    e.message()
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ProgressFile::default()),
            Err(e) => Err(format!("cannot read {}: {e}", path.display())),
        }
    }

    /// Writes the file whole: a temporary file renamed into place, as lesson 5's store
    /// does, since `grade` and `watch` may write at once and a crash half-way must not
    /// lose the earlier results.
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let body = toml::to_string(self).map_err(std::io::Error::other)?;
        let temp = path.with_extension(format!("toml.tmp-{}", std::process::id()));
        std::fs::write(&temp, format!("{PROGRESS_HEADER}\n{body}"))?;
        std::fs::rename(&temp, path).inspect_err(|_| {
            let _ = std::fs::remove_file(&temp);
        })
    }

    /// The last recorded result of each exercise that has one, by id.
    pub fn results(&self) -> HashMap<String, LastResult> {
        let mut found = HashMap::new();
        for (id, entry) in &self.exercises {
            let status = match entry.result.as_deref() {
                Some("pass") => Status::Pass,
                Some("fail") => Status::Fail,
                Some("error") => Status::Error,
                _ => continue,
            };
            let (Some(passed), Some(total), Some(source)) =
                (entry.passed, entry.total, entry.source.clone())
            else {
                continue;
            };
            found.insert(
                id.clone(),
                LastResult {
                    status,
                    passed,
                    total,
                    source,
                },
            );
        }
        found
    }

    /// How many hints of exercise `id` were shown.
    pub fn hints_seen(&self, id: &str) -> u64 {
        self.exercises.get(id).map_or(0, |e| e.hints_seen)
    }
}

/// A fingerprint of an exercise file's bytes ([`crate::fnv`]): the same bytes give the
/// same fingerprint on every machine and Rust version.
pub use crate::fnv::fingerprint;

/// The fingerprints of the exercises' files now, by id (before grading starts, so that a
/// file saved during the grading shows as changed afterwards).
pub fn fingerprints(root: &Path, exercises: &[Exercise]) -> HashMap<String, String> {
    exercises
        .iter()
        .map(|e| {
            let bytes = std::fs::read(root.join(&e.file)).unwrap_or_default();
            (e.id.clone(), fingerprint(&bytes))
        })
        .collect()
}

/// Keeps `grade`'s results in the progress file: each exercise graded now gets its
/// result and the fingerprint of its file as graded; the others, and every hint count,
/// are kept as they were.
pub fn remember(
    root: &Path,
    grade: &Grade,
    sources: &HashMap<String, String>,
) -> Result<PathBuf, String> {
    let path = progress_file(root);
    let mut progress = ProgressFile::read(&path)?;
    for r in &grade.exercises {
        let entry = progress.exercises.entry(r.exercise.id.clone()).or_default();
        entry.result = Some(r.status().word().to_string());
        entry.passed = Some(r.passed() as u64);
        entry.total = Some(r.total() as u64);
        entry.source = sources.get(&r.exercise.id).cloned();
    }
    progress
        .write(&path)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}

/// The last recorded result of each exercise, by id (empty when nothing was graded yet,
/// or when the file cannot be read: `list` then says so once).
pub fn last_results(root: &Path) -> HashMap<String, LastResult> {
    ProgressFile::read(&progress_file(root))
        .map(|p| p.results())
        .unwrap_or_default()
}

/// Points earned, counted one way everywhere (`grade`'s table, `list`, the JSON): the
/// exercise's points times the share of its graded tests that passed; none when the
/// tests did not build or there were none.
pub fn earned(points: u32, passed: u64, total: u64, built: bool) -> f64 {
    if total == 0 || !built {
        0.0
    } else {
        f64::from(points) * passed as f64 / total as f64
    }
}

/// Where an exercise stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    /// Its function body is still the `todo!()` stub.
    Todo,
    /// Never graded (no result in the progress file).
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
/// A result counts only for the file it graded: same fingerprint, same bytes.
pub fn standing(exercise: &Exercise, source: &str, last: Option<&LastResult>) -> Standing {
    if source.contains(&format!("todo!(\"{}", exercise.id)) {
        return Standing::Todo;
    }
    let Some(last) = last else {
        return Standing::Ungraded;
    };
    if fingerprint(source.as_bytes()) != last.source {
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
    let source = std::fs::read_to_string(root.join(&exercise.file)).unwrap_or_default();
    standing(exercise, &source, last.get(&exercise.id))
}

/// The first exercise, in the course's order, that is not done, with its standing.
pub fn first_unfinished(standings: &[(&Exercise, Standing)]) -> Option<usize> {
    standings.iter().position(|(_, s)| *s != Standing::Done)
}

/// The first exercise not done that comes after position `after` in the course's
/// order, going round to the start: a learner who just finished an exercise of lesson 4
/// goes on with lesson 4, not with an exercise of lesson 1 left aside.
pub fn next_unfinished_after(
    standings: &[(&Exercise, Standing)],
    after: Option<usize>,
) -> Option<usize> {
    let start = after.map_or(0, |k| k + 1);
    (0..standings.len())
        .map(|i| (start + i) % standings.len())
        .find(|&k| standings[k].1 != Standing::Done)
}

/// After a grade in which every exercise passed: the line that names the next exercise
/// not done yet (by the results just kept), after `graded` (the last exercise graded),
/// so a learner goes on without looking it up.
pub fn next_line(root: &std::path::Path, exercises: &[Exercise], graded: Option<&str>) -> String {
    let last = last_results(root);
    let standings: Vec<(&Exercise, Standing)> = exercises
        .iter()
        .map(|e| (e, standing_of(root, e, &last)))
        .collect();
    let after = graded.and_then(|id| exercises.iter().position(|e| e.id == id));
    match next_unfinished_after(&standings, after) {
        Some(k) => {
            let e = standings[k].0;
            format!(
                "Next: {} ({}): `cargo xtask hint {}` for its task and a hint.",
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
