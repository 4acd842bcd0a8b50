//! `cargo xtask claims --falsify`: proof that every claim of the course can fail.
//!
//! Each lesson declares its claims in `src/claims.rs`: a decision over named figures,
//! and the figures of a wrong world (a pool with 2 workers instead of 4; 1,000 threads
//! that really were faster). Each tour binary, run with `--falsify`, decides every claim
//! on its wrong world without running an experiment, and on the figures of the lesson's
//! reference run (`docs/src/record/<lesson>.json`, written by `cargo xtask book
//! --record`) when there is one. This verb gathers those answers into one table and
//! exits non-zero when any claim does not fail on its wrong world, or when the reference
//! run, decided again, no longer gives the verdict it recorded (a decision changed since
//! the book's figures were recorded).
//!
//! It runs in seconds and is deterministic: it, not a live run on a busy machine, is
//! CI's gate on the claims.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::Value;

use crate::error::Error;
use crate::format::tail;
use crate::format::{Row, render_table};
use crate::lessons::{LESSONS, Lesson};
use crate::progress::{Progress, StepKind};
use crate::workspace;

/// Where a lesson's reference run is recorded (see `book --record`).
pub fn reference_report(root: &Path, lesson: &Lesson) -> PathBuf {
    root.join("docs")
        .join("src")
        .join("record")
        .join(format!("{}.json", lesson.name))
}

/// One claim, decided on its wrong world and on its reference run.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    pub lesson: String,
    pub id: String,
    pub wrong: String,
    /// The verdict on the wrong world: it must be "failed".
    pub on_wrong_world: String,
    pub decided_by: String,
    /// The reference run's figures decided again, and the verdict it recorded.
    pub reference: Option<(String, String)>,
}

impl Checked {
    fn fails_in_wrong_world(&self) -> bool {
        self.on_wrong_world == "failed"
    }

    /// The reference run, decided again, agrees with what it recorded.
    fn reference_agrees(&self) -> bool {
        self.reference
            .as_ref()
            .is_none_or(|(again, recorded)| again == recorded)
    }
}

/// The entry point.
pub fn falsify() -> ExitCode {
    let root = workspace::root();
    let mut progress = Progress::new();
    let mut checked = Vec::new();
    let mut problems = Vec::new();
    for lesson in LESSONS.iter().filter(|l| l.is_written(&root)) {
        match lesson_claims(&root, lesson, &mut progress) {
            Ok((mut found, mut more)) => {
                checked.append(&mut found);
                problems.append(&mut more);
            }
            Err(e) => problems.push(format!("{}: {e}", lesson.name)),
        }
    }
    println!("\n{}", table(&checked));
    let failing = checked.iter().filter(|c| c.fails_in_wrong_world()).count();
    for c in checked.iter().filter(|c| !c.fails_in_wrong_world()) {
        problems.push(format!(
            "{} `{}` does not fail in its wrong world ({}): {} ({})",
            c.lesson, c.id, c.wrong, c.on_wrong_world, c.decided_by
        ));
    }
    for c in checked.iter().filter(|c| !c.reference_agrees()) {
        if let Some((again, recorded)) = &c.reference {
            problems.push(format!(
                "{} `{}`: its reference run recorded `{recorded}`, but its figures decided \
                 again give `{again}`: the decision changed since the record; run `cargo \
                 xtask book --record` again",
                c.lesson, c.id
            ));
        }
    }
    let unrecorded = checked.iter().filter(|c| c.reference.is_none()).count();
    println!(
        "\n{failing} of {} claims fail on their wrong world",
        checked.len()
    );
    if unrecorded > 0 {
        println!(
            "{unrecorded} claim(s) have no reference run yet (`cargo xtask book --record` \
             records one)"
        );
    }
    if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        println!();
        for problem in &problems {
            println!("error: {problem}");
        }
        ExitCode::FAILURE
    }
}

/// Runs one lesson's tour with `--falsify --json` and reads its answers; the second list
/// holds what is wrong with the lesson's claims as a whole.
fn lesson_claims(
    root: &Path,
    lesson: &Lesson,
    progress: &mut Progress,
) -> Result<(Vec<Checked>, Vec<String>), Error> {
    let scope = format!("{} · claims", lesson.name);
    let reference = reference_report(root, lesson);
    let reference_arg = reference.to_string_lossy().into_owned();
    let mut args = vec![
        "run",
        "--release",
        "-p",
        lesson.name,
        "--",
        "--falsify",
        "--json",
    ];
    if reference.is_file() {
        args.extend(["--reference", reference_arg.as_str()]);
    }
    let mut command = std::process::Command::new(workspace::cargo());
    command.args(&args).current_dir(root);
    let out = crate::run::stream(progress, &scope, StepKind::Tour, &mut command)
        .map_err(Error::spawn("cargo"))?;
    let answer: Value = serde_json::from_str(&out.stdout).map_err(|e| {
        Error::answer(
            format!("cargo {}", args.join(" ")),
            format!(
                "printed no JSON ({e}; {}); the end of its output:\n{}",
                out.status_text(),
                tail(&out.combined.join("\n"), 20)
            ),
        )
    })?;
    let mut problems = Vec::new();
    if let Some(repeated) = answer["repeated_ids"].as_array() {
        for id in repeated {
            problems.push(format!("{}: claim id {id} is declared twice", lesson.name));
        }
    }
    let claims = answer["claims"].as_array().ok_or_else(|| {
        Error::answer(
            format!("the tour of {}", lesson.name),
            "its --falsify report has no `claims` list",
        )
    })?;
    let checked: Vec<Checked> = claims
        .iter()
        .map(|c| Checked {
            lesson: lesson.name.to_string(),
            id: text(&c["id"]),
            wrong: text(&c["wrong"]),
            on_wrong_world: text(&c["on_wrong_world"]["verdict"]),
            decided_by: text(&c["on_wrong_world"]["decided_by"]),
            reference: c["on_reference"]["verdict"]
                .as_str()
                .map(|again| (again.to_string(), text(&c["recorded"]))),
        })
        .collect();
    // A claim recorded in the reference run but not declared has no wrong world.
    if reference.is_file() {
        for id in recorded_ids(&reference)? {
            if !checked.iter().any(|c| c.id == id) {
                problems.push(format!(
                    "{}: the reference run has claim `{id}`, which src/claims.rs does not \
                     declare: it has no wrong world",
                    lesson.name
                ));
            }
        }
    }
    let failing = checked.iter().filter(|c| c.fails_in_wrong_world()).count();
    progress.line(
        &scope,
        &format!(
            "{failing} of {} fail on their wrong world ({})",
            checked.len(),
            crate::format::duration(out.seconds)
        ),
    );
    Ok((checked, problems))
}

/// The claim ids of a recorded report.
fn recorded_ids(path: &Path) -> Result<Vec<String>, Error> {
    let text = std::fs::read_to_string(path).map_err(Error::read(path))?;
    let report: Value = serde_json::from_str(&text).map_err(|source| Error::Json {
        path: path.to_path_buf(),
        what: "a tour's JSON report",
        source,
    })?;
    Ok(report["claims"]
        .as_array()
        .map(|list| list.iter().map(|c| self::text(&c["id"])).collect())
        .unwrap_or_default())
}

fn text(value: &Value) -> String {
    value
        .as_str()
        .map_or_else(|| "?".to_string(), str::to_string)
}

/// lesson, claim, wrong world, verdict there, and the reference run.
pub fn table(checked: &[Checked]) -> String {
    let rows: Vec<Row> = checked
        .iter()
        .map(|c| {
            Row::Cells(vec![
                c.lesson.clone(),
                c.id.clone(),
                c.wrong.clone(),
                if c.fails_in_wrong_world() {
                    "fails".to_string()
                } else {
                    format!("HOLDS ({})", c.on_wrong_world)
                },
                match &c.reference {
                    None => "not recorded".to_string(),
                    Some((again, recorded)) if again == recorded => again.clone(),
                    Some((again, recorded)) => format!("{again} (recorded: {recorded})"),
                },
            ])
        })
        .collect();
    render_table(
        &[
            "lesson",
            "claim",
            "wrong world",
            "on the wrong world",
            "reference run",
        ],
        &rows,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked(on_wrong: &str, reference: Option<(&str, &str)>) -> Checked {
        Checked {
            lesson: "threads".into(),
            id: "pool-overlaps".into(),
            wrong: "a pool that starts only 2 of its 4 workers".into(),
            on_wrong_world: on_wrong.into(),
            decided_by: "2 (4 required)".into(),
            reference: reference.map(|(a, b)| (a.into(), b.into())),
        }
    }

    #[test]
    fn a_claim_must_fail_in_its_wrong_world_and_agree_with_its_record() {
        assert!(checked("failed", None).fails_in_wrong_world());
        assert!(!checked("held", None).fails_in_wrong_world());
        assert!(!checked("too close to call", None).fails_in_wrong_world());
        assert!(checked("failed", Some(("held", "held"))).reference_agrees());
        assert!(!checked("failed", Some(("failed", "held"))).reference_agrees());
        let text = table(&[
            checked("failed", Some(("held", "held"))),
            checked("held", None),
            checked("failed", Some(("too close to call", "held"))),
        ]);
        assert!(text.contains("fails"), "{text}");
        assert!(text.contains("HOLDS (held)"), "{text}");
        assert!(text.contains("not recorded"), "{text}");
        assert!(
            text.contains("too close to call (recorded: held)"),
            "{text}"
        );
    }
}
