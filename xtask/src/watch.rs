//! `cargo xtask watch`: grade again whenever a file changes.
//!
//! The loop a learner wants while working on an exercise: save the file, see the graded
//! tests' verdict, without switching windows. File events come from the operating
//! system through the `notify` crate (inotify on Linux). Where they never arrive —
//! folders on a network drive, a Windows drive seen from WSL — `--poll` looks at the
//! files every second instead, and pressing Enter always grades again by hand.
//!
//! Saving one file often produces a burst of events (editors write a temporary file,
//! rename it, touch the metadata), so events are gathered for a short quiet period and
//! graded once.

use std::io::BufRead as _;
use std::path::{Component, Path};
use std::process::ExitCode;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::Duration;

use notify::{EventKind, RecursiveMode, Watcher};

use crate::cli::{GradeOptions, WatchOptions};
use crate::{grade, registry, workspace};

/// How long the files must stay quiet after a change before grading starts.
const QUIET: Duration = Duration::from_millis(300);

/// How often `--poll` looks at the files.
const POLL_EVERY: Duration = Duration::from_secs(1);

/// What wakes the loop up.
#[derive(Debug, PartialEq, Eq)]
enum Trigger {
    /// A file that can change a grade was written, created, removed or renamed.
    Changed,
    /// Enter on the terminal: grade again now.
    Enter,
    /// `q` on the terminal, or the end of standard input after a `q`-less close.
    Quit,
    /// The watcher reported an error (e.g. too many watched folders).
    WatchError(String),
}

pub fn main(options: &WatchOptions) -> ExitCode {
    let root = workspace::root();
    let exercises = match registry::load(&root) {
        Ok(list) => list,
        Err(problems) => {
            for p in &problems {
                eprintln!("{p}");
            }
            return ExitCode::FAILURE;
        }
    };
    if let Some(id) = &options.exercise {
        if let Err(message) = registry::find(&exercises, id) {
            eprintln!("error: {message}");
            return crate::cli::Exit::Usage.into();
        }
    }

    let (tx, rx) = mpsc::channel();
    // The watcher stops watching when dropped, so it lives as long as this function.
    let _watcher = match start_watcher(&root, options.poll, tx.clone()) {
        Ok(w) => w,
        Err(e) => {
            eprintln!(
                "error: cannot watch {} for changes: {e}\n\
                 Try `cargo xtask watch --poll`, or grade by hand with `cargo xtask grade`.",
                root.join("crates").display()
            );
            return ExitCode::FAILURE;
        }
    };
    read_keys(tx);

    let grade_options = GradeOptions {
        exercise: options.exercise.clone(),
        ..GradeOptions::default()
    };
    let what = options.exercise.as_deref().unwrap_or("every exercise");
    loop {
        let _ = grade::main(&grade_options);
        eprintln!(
            "\nwatching {} for changes to {what} ({}); Enter grades again, q then Enter quits",
            root.join("crates").display(),
            if options.poll {
                "polling every second"
            } else {
                "file events"
            },
        );
        match next_round(&rx) {
            Some(()) => eprintln!("\n--- grading again ---\n"),
            None => return ExitCode::SUCCESS,
        }
    }
}

/// Waits for the next reason to grade; `None` means stop.
fn next_round(rx: &Receiver<Trigger>) -> Option<()> {
    loop {
        match rx.recv() {
            Ok(Trigger::Changed) => {
                // Let a burst of events from one save settle, then grade once.
                loop {
                    match rx.recv_timeout(QUIET) {
                        Ok(Trigger::Quit) => return None,
                        Ok(_) => continue,
                        Err(RecvTimeoutError::Timeout) => return Some(()),
                        Err(RecvTimeoutError::Disconnected) => return None,
                    }
                }
            }
            Ok(Trigger::Enter) => return Some(()),
            Ok(Trigger::WatchError(message)) => {
                eprintln!(
                    "warning: the file watcher reported: {message} \
                     (press Enter to grade by hand, or restart with --poll)"
                );
            }
            Ok(Trigger::Quit) | Err(_) => return None,
        }
    }
}

/// Watches `root/crates` (every lesson, its exercises and tests) for relevant changes.
fn start_watcher(
    root: &Path,
    poll: bool,
    tx: Sender<Trigger>,
) -> notify::Result<Box<dyn Watcher + Send>> {
    let crates = root.join("crates");
    let handler = move |event: notify::Result<notify::Event>| {
        let trigger = match event {
            Ok(event) if is_edit(&event.kind) && event.paths.iter().any(|p| is_relevant(p)) => {
                Trigger::Changed
            }
            Ok(_) => return,
            Err(e) => Trigger::WatchError(e.to_string()),
        };
        let _ = tx.send(trigger);
    };
    let mut watcher: Box<dyn Watcher + Send> = if poll {
        // Modification times are compared in whole seconds, so two saves within one
        // second look alike; comparing contents (a few hundred small files) catches them.
        let config = notify::Config::default()
            .with_poll_interval(POLL_EVERY)
            .with_compare_contents(true);
        Box::new(notify::PollWatcher::new(handler, config)?)
    } else {
        Box::new(notify::recommended_watcher(handler)?)
    };
    watcher.watch(&crates, RecursiveMode::Recursive)?;
    Ok(watcher)
}

/// Reads Enter and `q` from the terminal on a thread of its own. At the end of input
/// (no terminal, e.g. started from a script) it simply stops listening.
fn read_keys(tx: Sender<Trigger>) {
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { return };
            let trigger = match line.trim() {
                "q" | "quit" | "exit" => Trigger::Quit,
                _ => Trigger::Enter,
            };
            if tx.send(trigger).is_err() {
                return;
            }
        }
    });
}

/// Writes, creations, removals and renames can change a grade; reads cannot. A change
/// of metadata counts too: the polling watcher sees a save only as a new modification
/// time, and grading once more after a `touch` costs little.
fn is_edit(kind: &EventKind) -> bool {
    matches!(
        kind,
        EventKind::Create(_) | EventKind::Remove(_) | EventKind::Modify(_)
    )
}

/// Rust sources and manifests can change a grade; editor swap files, build output and
/// hidden files cannot.
fn is_relevant(path: &Path) -> bool {
    let in_skipped_folder = path.components().any(|c| match c {
        Component::Normal(name) => {
            let name = name.to_string_lossy();
            name == "target" || name.starts_with('.')
        }
        _ => false,
    });
    if in_skipped_folder {
        return false;
    }
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("rs" | "toml")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{CreateKind, DataChange, MetadataKind, ModifyKind};

    #[test]
    fn only_sources_and_manifests_outside_build_output_count() {
        for yes in [
            "/c/crates/procs/src/exercises/reap.rs",
            "/c/crates/procs/exercises.toml",
            "/c/crates/procs/Cargo.toml",
        ] {
            assert!(is_relevant(Path::new(yes)), "{yes}");
        }
        for no in [
            "/c/crates/procs/src/exercises/.reap.rs.swp",
            "/c/crates/procs/src/exercises/reap.rs~",
            "/c/crates/procs/target/debug/x.rs",
            "/c/crates/procs/.git/config.toml",
            "/c/crates/procs/README.md",
            "/c/crates/procs/src/4913",
        ] {
            assert!(!is_relevant(Path::new(no)), "{no}");
        }
    }

    #[test]
    fn writes_count_and_reads_do_not() {
        assert!(is_edit(&EventKind::Modify(ModifyKind::Data(
            DataChange::Content
        ))));
        assert!(is_edit(&EventKind::Modify(ModifyKind::Metadata(
            MetadataKind::WriteTime
        ))));
        assert!(is_edit(&EventKind::Create(CreateKind::File)));
        assert!(!is_edit(&EventKind::Access(notify::event::AccessKind::Any)));
    }

    #[test]
    fn a_burst_of_changes_is_graded_once_and_q_quits() {
        let (tx, rx) = mpsc::channel();
        for _ in 0..5 {
            tx.send(Trigger::Changed).unwrap();
        }
        assert_eq!(next_round(&rx), Some(()));
        assert!(
            rx.try_recv().is_err(),
            "the burst was consumed in one round"
        );
        tx.send(Trigger::WatchError("x".into())).unwrap();
        tx.send(Trigger::Enter).unwrap();
        assert_eq!(next_round(&rx), Some(()));
        tx.send(Trigger::Quit).unwrap();
        assert_eq!(next_round(&rx), None);
        drop(tx);
        assert_eq!(next_round(&rx), None);
    }

    #[test]
    fn a_real_file_change_is_seen_by_both_watchers() {
        for poll in [false, true] {
            let root =
                std::env::temp_dir().join(format!("xtask-watch-{}-{}", std::process::id(), poll));
            let src = root.join("crates/procs/src");
            std::fs::create_dir_all(&src).unwrap();
            std::fs::write(src.join("lib.rs"), "// one\n").unwrap();
            let (tx, rx) = mpsc::channel();
            let watcher = start_watcher(&root, poll, tx).unwrap();
            // The poll watcher takes its first snapshot right away; let it.
            std::thread::sleep(Duration::from_millis(200));
            std::fs::write(src.join("lib.rs"), "// two, longer\n").unwrap();
            let got = rx.recv_timeout(Duration::from_secs(5));
            drop(watcher);
            std::fs::remove_dir_all(&root).unwrap();
            assert_eq!(got, Ok(Trigger::Changed), "poll = {poll}");
        }
    }
}
