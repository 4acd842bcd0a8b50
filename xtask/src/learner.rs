//! `cargo xtask list`, `hint`, `next` and `reset`: where a learner stands, a way forward,
//! and a way back to the start of an exercise.
//!
//! All but `reset` only read: the registry (what the exercises are), the exercise files (is the
//! `todo!()` still there?) and the results the last `cargo xtask grade` kept. Neither
//! compiles nor runs anything, so they answer at once, even when the code is broken.

use std::path::Path;
use std::process::ExitCode;

use crate::cli::HintAsk;
use crate::format::{Row, render_table};
use crate::grade::{self, ProgressFile, Standing, Status, first_unfinished, standing_of};
use crate::registry::{self, Exercise};
use crate::workspace;

fn load_or_report(root: &Path) -> Result<Vec<Exercise>, ExitCode> {
    registry::load(root).map_err(|problems| {
        eprintln!("error: the exercise registry has problems:");
        for problem in problems {
            eprintln!("  {problem}");
        }
        ExitCode::FAILURE
    })
}

pub fn list() -> ExitCode {
    let root = workspace::root();
    let exercises = match load_or_report(&root) {
        Ok(exercises) => exercises,
        Err(code) => return code,
    };
    let progress = read_progress_or_warn(&root);
    let last = progress.results();
    let mut rows = Vec::new();
    let (mut done, mut earned_points, mut all_points) = (0, 0.0, 0);
    for e in &exercises {
        let standing = standing_of(&root, e, &last);
        all_points += e.points;
        if standing == Standing::Done {
            done += 1;
        }
        // The points of the last grade, counted as `grade` counts them; a stub earns
        // none whatever an old result says, and neither does an exercise never graded.
        let points = match (&standing, last.get(&e.id)) {
            (Standing::Todo | Standing::Ungraded, _) | (_, None) => 0.0,
            (_, Some(r)) => grade::earned(e.points, r.passed, r.total, r.status != Status::Error),
        };
        earned_points += points;
        rows.push(Row::Cells(vec![
            e.id.clone(),
            e.title.clone(),
            format!("{}/{}", grade::show_points(points), e.points),
            standing.label(),
        ]));
    }
    println!(
        "{}\n",
        render_table(&["exercise", "title", "points", "status"], &rows)
    );
    println!(
        "Done: {done} of {} exercises; {} of {all_points} points, counted as `cargo xtask \
         grade` counts them (an exercise's points times the share of its tests that passed).",
        exercises.len(),
        grade::show_points(earned_points),
    );
    println!("\n{LEGEND}");
    println!(
        "\nGrade: `cargo xtask grade` (all) or `cargo xtask grade --exercise ID`. \
         A hint: `cargo xtask hint ID`. Progress is kept in {} (commit it with your work).",
        grade::PROGRESS_FILE
    );
    ExitCode::SUCCESS
}

/// What each status of `list` means; a test checks that every [`Standing`] is here.
pub const LEGEND: &str = "\
Status:
  todo                        the function body is still todo!(): start here
  ungraded                    edited, but never graded: run `cargo xtask grade --exercise ID`
  changed                     edited since its last grade: the points shown are from that grade
  failing N/M                 N of its M graded tests passed at the last grade
  failing (did not compile)   its code or tests did not compile at the last grade (0 points)
  done                        every graded test passed at the last grade, on the file as it is";

/// The progress file, or none with a warning when it cannot be read: `list`, `next` and
/// `hint` still answer (as if nothing were graded), and say why.
fn read_progress_or_warn(root: &Path) -> ProgressFile {
    ProgressFile::read(&grade::progress_file(root)).unwrap_or_else(|e| {
        eprintln!("warning: {e}");
        ProgressFile::default()
    })
}

/// What `hint` prints for an exercise: its task and its hints up to step `step` (from
/// 1), and how to ask for the next one.
pub fn hint_text(exercise: &Exercise, step: usize) -> String {
    let id = &exercise.id;
    let all = exercise.hints.len();
    let shown = step.clamp(1, all.max(1));
    let mut hints = String::new();
    for (i, hint) in exercise.hints.iter().take(shown).enumerate() {
        hints.push_str(&format!("Hint {} of {all}:\n{}\n\n", i + 1, indent(hint)));
    }
    if shown < all {
        hints.push_str(&format!(
            "Stuck still? `cargo xtask hint {id}` again gives the next hint, a step \
             closer to a solution.\n\n"
        ));
    } else if all > 1 {
        hints.push_str("That was the last hint.\n\n");
    }
    format!(
        "{id} — {} ({} points)\n\n\
         Task:\n{}\n\n\
         {hints}\
         Edit:   {}\n\
         Tests:  {}\n\
         Grade:  cargo xtask grade --exercise {id}\n\
         Watch:  cargo xtask watch {id}   (grades again on every save)",
        exercise.title,
        exercise.points,
        indent(&exercise.task),
        exercise.file.display(),
        exercise.test_file().display(),
    )
}

/// The step `hint` shows, given how many hints were seen and what was asked: one more
/// than seen (the first, the first time), or the first N. (The caller stops at the last.)
pub fn hint_step(seen: usize, ask: HintAsk) -> usize {
    match ask {
        HintAsk::Next => seen + 1,
        HintAsk::UpTo(n) => n,
    }
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.trim().is_empty() {
                String::new()
            } else {
                format!("  {l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `cargo xtask next`: the first exercise not done yet, with its task and hint.
pub fn next() -> ExitCode {
    let root = workspace::root();
    let exercises = match load_or_report(&root) {
        Ok(exercises) => exercises,
        Err(code) => return code,
    };
    let progress = read_progress_or_warn(&root);
    let last = progress.results();
    let standings: Vec<(&Exercise, Standing)> = exercises
        .iter()
        .map(|e| (e, standing_of(&root, e, &last)))
        .collect();
    match first_unfinished(&standings) {
        Some(k) => {
            let (exercise, standing) = &standings[k];
            println!(
                "Next: {} ({}; exercise {} of {})\n",
                exercise.id,
                standing.label(),
                k + 1,
                standings.len()
            );
            // The hints seen so far: `next` shows where the learner is, it reveals nothing.
            let seen = progress.hints_seen(&exercise.id) as usize;
            println!("{}", hint_text(exercise, seen));
        }
        None => println!(
            "Every exercise is done: {} of {}, as the last `cargo xtask grade` found.",
            standings.len(),
            standings.len()
        ),
    }
    ExitCode::SUCCESS
}

/// What `reset` found to do, before it asks.
#[derive(Debug, PartialEq, Eq)]
pub enum ResetPlan {
    /// Not a students' copy: there are no stubs to go back to.
    NoStubs,
    /// The file already is the stub.
    AlreadyStub,
    /// Copy the stub over the file.
    Restore { stub: Vec<u8> },
}

/// Decides what `reset` of `exercise` would do in the workspace at `root`.
pub fn reset_plan(root: &Path, exercise: &Exercise) -> ResetPlan {
    let stub_path = root.join(crate::kit::STUBS_DIR).join(&exercise.file);
    let Ok(stub) = std::fs::read(&stub_path) else {
        return ResetPlan::NoStubs;
    };
    if std::fs::read(root.join(&exercise.file)).is_ok_and(|now| now == stub) {
        return ResetPlan::AlreadyStub;
    }
    ResetPlan::Restore { stub }
}

/// `cargo xtask reset <ID>`: puts an exercise's file back as it was handed out, after
/// asking (or at once with `--yes`).
pub fn reset(id: &str, yes: bool) -> ExitCode {
    let root = workspace::root();
    let exercises = match load_or_report(&root) {
        Ok(exercises) => exercises,
        Err(code) => return code,
    };
    let exercise = match registry::find(&exercises, id) {
        Ok(exercise) => exercise,
        Err(message) => {
            eprintln!("error: {message}");
            return crate::cli::Exit::Usage.into();
        }
    };
    let file = exercise.file.display();
    let stub = match reset_plan(&root, exercise) {
        ResetPlan::NoStubs => {
            eprintln!(
                "error: there is no stub of {file} to go back to: `reset` works in the \
                 students' copy that `cargo xtask kit --out DIR` writes (this looks like the \
                 course repository, which holds the solutions)"
            );
            return crate::cli::Exit::Usage.into();
        }
        ResetPlan::AlreadyStub => {
            println!("{file} already is the stub it was handed out as: nothing to do.");
            return ExitCode::SUCCESS;
        }
        ResetPlan::Restore { stub } => stub,
    };
    // Every exercise of the file goes back, not only this one.
    let sharing: Vec<&str> = exercises
        .iter()
        .filter(|e| e.file == exercise.file)
        .map(|e| e.id.as_str())
        .collect();
    if !yes {
        let question = format!(
            "Put {file} back as it was handed out ({})? Everything written in it is lost. [y/N] ",
            sharing.join(", ")
        );
        match confirmed(&question) {
            Some(true) => {}
            Some(false) => {
                println!("Nothing changed.");
                return ExitCode::SUCCESS;
            }
            None => {
                eprintln!(
                    "error: there is no terminal to ask on, so nothing changed: add --yes to \
                     confirm ({question})"
                );
                return crate::cli::Exit::Usage.into();
            }
        }
    }
    match std::fs::write(root.join(&exercise.file), stub) {
        Ok(()) => {
            println!("{file} is the stub again. Start over with `cargo xtask hint {id}`.");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: cannot write {file}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Asks `question` on the terminal: yes only for an answer starting with y or Y, and
/// `None` when there is no terminal to ask on (a script, CI: `--yes` is for them).
fn confirmed(question: &str) -> Option<bool> {
    use std::io::{BufRead, IsTerminal, Write};
    if !std::io::stdin().is_terminal() {
        return None;
    }
    print!("{question}");
    let _ = std::io::stdout().flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    Some(answer.trim_start().starts_with(['y', 'Y']))
}

pub fn hint(id: &str, ask: HintAsk) -> ExitCode {
    let root = workspace::root();
    let exercises = match load_or_report(&root) {
        Ok(exercises) => exercises,
        Err(code) => return code,
    };
    let exercise = match registry::find(&exercises, id) {
        Ok(exercise) => exercise,
        Err(message) => {
            eprintln!("error: {message}");
            return crate::cli::Exit::Usage.into();
        }
    };
    let path = grade::progress_file(&root);
    let progress = ProgressFile::read(&path);
    let seen = progress
        .as_ref()
        .map_or(0, |p| p.hints_seen(&exercise.id) as usize);
    let step = hint_step(seen, ask).clamp(1, exercise.hints.len().max(1));
    println!("{}", hint_text(exercise, step));
    // Keep how far the learner has gone, so the next `hint` starts there. A file that
    // cannot be read is not overwritten: it may hold results worth repairing.
    match progress {
        Ok(mut progress) if step > seen => {
            progress
                .exercises
                .entry(exercise.id.clone())
                .or_default()
                .hints_seen = step as u64;
            if let Err(e) = progress.write(&path) {
                eprintln!(
                    "warning: cannot keep the hints seen in {}: {e}",
                    path.display()
                );
            }
        }
        Ok(_) => {}
        Err(e) => eprintln!("warning: {e}"),
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grade::{LastResult, fingerprint, standing};
    use crate::lessons::LESSONS;
    use std::path::PathBuf;

    fn exercise() -> Exercise {
        Exercise {
            lesson: &LESSONS[0],
            id: "procs/reap".into(),
            title: "Reap every child".into(),
            points: 10,
            file: PathBuf::from("crates/procs/exercises/reap/reap.rs"),
            test: "exercise_reap".into(),
            task: "Wait for all children.\nIn order.".into(),
            hints: vec!["Wait for any child.".into(), "waitpid(None, None).".into()],
            declared_at: "crates/procs/exercises.toml:40".into(),
            mutants: Vec::new(),
        }
    }

    fn last(status: Status, passed: u64, source: &str) -> LastResult {
        LastResult {
            status,
            passed,
            total: 3,
            source: fingerprint(source.as_bytes()),
        }
    }

    #[test]
    fn reset_goes_back_to_the_stub_only_in_a_students_copy() {
        let root = std::env::temp_dir().join(format!("xtask-reset-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let e = exercise();
        let file = root.join(&e.file);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, "my work\n").unwrap();
        // The course repository has no stubs.
        assert_eq!(reset_plan(&root, &e), ResetPlan::NoStubs);
        let stub = root.join(crate::kit::STUBS_DIR).join(&e.file);
        std::fs::create_dir_all(stub.parent().unwrap()).unwrap();
        std::fs::write(&stub, "todo!()\n").unwrap();
        assert_eq!(
            reset_plan(&root, &e),
            ResetPlan::Restore {
                stub: b"todo!()\n".to_vec()
            }
        );
        std::fs::write(&file, "todo!()\n").unwrap();
        assert_eq!(reset_plan(&root, &e), ResetPlan::AlreadyStub);
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn next_is_the_first_exercise_not_done_in_the_course_order() {
        let (a, b, c) = (exercise(), exercise(), exercise());
        let failing = Standing::Failing {
            passed: 1,
            total: 3,
        };
        let course = [
            (&a, Standing::Done),
            (&b, failing.clone()),
            (&c, Standing::Todo),
        ];
        assert_eq!(first_unfinished(&course), Some(1));
        let changed = [(&a, Standing::Done), (&b, Standing::Changed)];
        assert_eq!(first_unfinished(&changed), Some(1));
        assert_eq!(
            first_unfinished(&[(&a, Standing::Done), (&b, Standing::Done)]),
            None
        );
        assert_eq!(first_unfinished(&[]), None);
    }

    #[test]
    fn after_a_grade_the_next_is_the_first_not_done_after_it_going_round() {
        let (a, b, c, d) = (exercise(), exercise(), exercise(), exercise());
        let course = [
            (&a, Standing::Todo),
            (&b, Standing::Done),
            (&c, Standing::Done),
            (&d, Standing::Todo),
        ];
        // Just graded b: d, after it, before a, left aside earlier.
        assert_eq!(grade::next_unfinished_after(&course, Some(1)), Some(3));
        // Just graded d, the last: round to a.
        assert_eq!(grade::next_unfinished_after(&course, Some(3)), Some(0));
        assert_eq!(grade::next_unfinished_after(&course, None), Some(0));
        let done = [(&b, Standing::Done), (&c, Standing::Done)];
        assert_eq!(grade::next_unfinished_after(&done, Some(0)), None);
        assert_eq!(grade::next_unfinished_after(&[], None), None);
    }

    #[test]
    fn the_standing_follows_the_stub_the_file_as_graded_and_the_last_grade() {
        let e = exercise();
        let stub = "pub fn reap_all() { todo!(\"procs/reap: Wait for all\") }";
        let pass = last(Status::Pass, 3, "done");
        assert_eq!(standing(&e, stub, Some(&pass)), Standing::Todo);
        assert_eq!(standing(&e, "done", None), Standing::Ungraded);
        assert_eq!(standing(&e, "done", Some(&pass)), Standing::Done);
        // One byte more than the file that was graded: the result may no longer hold.
        assert_eq!(standing(&e, "done ", Some(&pass)), Standing::Changed);
        let failing = standing(&e, "done", Some(&last(Status::Fail, 1, "done")));
        assert_eq!(failing.label(), "failing 1/3");
        let broken = last(Status::Error, 0, "x");
        assert_eq!(standing(&e, "x", Some(&broken)), Standing::Broken);
    }

    #[test]
    fn the_legend_explains_every_status_list_can_show() {
        let every = [
            Standing::Todo,
            Standing::Ungraded,
            Standing::Changed,
            Standing::Done,
            Standing::Failing {
                passed: 1,
                total: 3,
            },
            Standing::Broken,
        ];
        for standing in every {
            // `failing 1/3` is explained as `failing N/M`.
            let label = standing.label().replace("1/3", "N/M");
            assert!(
                LEGEND.lines().any(|l| l.trim_start().starts_with(&label)),
                "{label:?} is not in the legend:\n{LEGEND}"
            );
        }
    }

    #[test]
    fn hints_come_one_step_at_a_time_and_the_step_is_kept() {
        assert_eq!(
            hint_step(0, HintAsk::Next),
            1,
            "the first time: the first hint"
        );
        assert_eq!(hint_step(1, HintAsk::Next), 2, "asked again: the next one");
        assert_eq!(hint_step(2, HintAsk::Next), 3);
        assert_eq!(hint_step(2, HintAsk::UpTo(1)), 1, "a look back");
        let text = hint_text(&exercise(), 2);
        assert!(text.contains("That was the last hint."), "{text}");
        assert!(!text.contains("again gives the next"), "{text}");
    }

    #[test]
    fn a_hint_names_the_files_and_the_commands() {
        let text = hint_text(&exercise(), 1);
        for want in [
            "procs/reap — Reap every child (10 points)",
            "Task:\n  Wait for all children.\n  In order.",
            "Hint 1 of 2:\n  Wait for any child.",
            "`cargo xtask hint procs/reap` again gives the next hint",
            "crates/procs/exercises/reap/reap.rs",
            "crates/procs/exercises/reap/tests/exercise_reap.rs",
            "cargo xtask grade --exercise procs/reap",
            "cargo xtask watch procs/reap",
        ] {
            assert!(text.contains(want), "missing {want:?} in\n{text}");
        }
        // One step at a time: the closer hint only when asked for.
        assert!(!text.contains("waitpid(None, None)"), "{text}");
        let both = hint_text(&exercise(), 2);
        assert!(
            both.contains("Hint 2 of 2:\n  waitpid(None, None)."),
            "{both}"
        );
        assert!(!both.contains("again gives the next"), "{both}");
        // A step past the last shows them all, not an error.
        assert_eq!(hint_text(&exercise(), 9), both);
    }
}
