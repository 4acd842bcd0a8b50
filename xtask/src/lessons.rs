//! The course's lessons, in order: the one place that order is written down.
//!
//! Every verb that walks the course (`run-all`, `lesson`, and later `grade` and `kit`)
//! reads this list, so adding lesson 6 is one line here, not a hunt through the tooling.
//! The list names all five lessons from the start, even before their crates exist:
//! `run-all` shows the unwritten ones as "not written yet" so that a learner (and CI)
//! always sees the whole road, and how far along it the repository is.

use std::path::Path;

/// One lesson: its place in the course, the crate that holds it, and what it teaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lesson {
    pub number: u32,
    /// The crate's name, which is also its folder under `crates/`.
    pub name: &'static str,
    pub title: &'static str,
}

/// The course, in the order a learner takes it. Each lesson builds on the ones above it.
pub const LESSONS: &[Lesson] = &[
    Lesson {
        number: 1,
        name: "procs",
        title: "fork, exec, wait and what a process costs",
    },
    Lesson {
        number: 2,
        name: "threads",
        title: "what a thread costs, time slicing, a pool",
    },
    Lesson {
        number: 3,
        name: "sockets",
        title: "TCP and HTTP/1.1 by hand",
    },
    Lesson {
        number: 4,
        name: "event-loop",
        title: "non-blocking sockets, epoll, a waker-based executor",
    },
    Lesson {
        number: 5,
        name: "async-download",
        title: "tokio, bounded concurrency, a million documents",
    },
];

impl Lesson {
    /// The lesson's manifest, relative to the workspace root.
    pub fn manifest(&self) -> String {
        format!("crates/{}/Cargo.toml", self.name)
    }

    /// A lesson is written once its crate exists. Asking the file system (rather than
    /// keeping a flag here) means the list never has to be edited when a lesson lands.
    pub fn is_written(&self, workspace_root: &Path) -> bool {
        workspace_root.join(self.manifest()).is_file()
    }
}

/// Finds a lesson by crate name or by number ("procs" or "1"): people remember either.
pub fn find(name_or_number: &str) -> Option<&'static Lesson> {
    LESSONS
        .iter()
        .find(|l| l.name == name_or_number || l.number.to_string() == name_or_number)
}

/// "procs, threads, ...": for error messages that must say what would have worked.
pub fn known_names() -> String {
    LESSONS
        .iter()
        .map(|l| l.name)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lessons_are_numbered_in_order_without_gaps() {
        for (i, lesson) in LESSONS.iter().enumerate() {
            assert_eq!(lesson.number as usize, i + 1, "{}", lesson.name);
        }
    }

    #[test]
    fn a_lesson_is_found_by_name_or_number() {
        assert_eq!(find("procs").map(|l| l.number), Some(1));
        assert_eq!(find("4").map(|l| l.name), Some("event-loop"));
        assert_eq!(find("nope"), None);
        assert!(known_names().starts_with("procs, threads"));
    }

    #[test]
    fn the_first_lesson_is_written_in_this_repository() {
        let root = crate::workspace::root();
        assert!(LESSONS[0].is_written(&root));
        assert!(
            !Lesson {
                number: 99,
                name: "no-such-lesson",
                title: ""
            }
            .is_written(&root)
        );
    }
}
