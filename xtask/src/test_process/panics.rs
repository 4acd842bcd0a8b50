//! Reading what the test harness printed for one test: its panics (location and
//! message), apart from what the test itself printed.

/// How many lines of a failure message are kept: an `assert_eq!` on a long vector can
/// print thousands, and the first ones say what went wrong.
pub(super) const MESSAGE_LINES: usize = 40;

/// A panic, as the standard panic hook reports it:
///
/// ```text
/// thread 'name' (1234) panicked at crates/procs/tests/exercise_reap.rs:31:5:
/// assertion `left == right` failed
///   left: []
///  right: [(101, Code(1))]
/// note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Panic {
    /// `crates/procs/tests/exercise_reap.rs:31:5`
    pub location: String,
    /// The lines after the location, up to the `note:`.
    pub message: String,
}

/// What the harness printed for one test, taken apart.
#[derive(Debug, Default)]
pub(super) struct Report {
    pub panics: Vec<Panic>,
    /// What the test itself printed (its captured output, panics taken out).
    pub printed: Vec<String>,
    /// The captured section as a whole: the fallback message when nothing panicked.
    pub failure_text: String,
}

/// Reads the harness's output of a single-test run. A failing test's captured output
/// is shown between `---- NAME stdout ----` and the final `failures:` list; anything
/// else (a passing test, a killed one) is searched whole, minus the harness's lines.
pub(super) fn read_report(stdout: &str, name: &str) -> Report {
    let header = format!("---- {name} stdout ----");
    let lines: Vec<&str> = stdout.lines().collect();
    let section: Vec<&str> = match lines.iter().position(|l| l.trim_end() == header) {
        Some(start) => lines[start + 1..]
            .iter()
            .take_while(|l| l.trim_end() != "failures:")
            .copied()
            .collect(),
        None => lines
            .iter()
            .filter(|l| !is_harness_line(l))
            .copied()
            .collect(),
    };
    let mut report = Report {
        failure_text: section.join("\n").trim().to_string(),
        ..Report::default()
    };
    let mut lines = section.iter().peekable();
    while let Some(line) = lines.next() {
        let Some(location) = panic_location(line) else {
            if !is_backtrace_note(line) {
                report.printed.push(line.to_string());
            }
            continue;
        };
        let mut message = Vec::new();
        while let Some(next) = lines.next_if(|l| !ends_a_panic(l)) {
            message.push(next.trim_end());
        }
        while message.last().is_some_and(|l| l.is_empty()) {
            message.pop();
        }
        report.panics.push(Panic {
            location,
            message: message.join("\n"),
        });
    }
    while report.printed.last().is_some_and(|l| l.trim().is_empty()) {
        report.printed.pop();
    }
    while report.printed.first().is_some_and(|l| l.trim().is_empty()) {
        report.printed.remove(0);
    }
    report
}

/// `thread 'x' (123) panicked at src/lib.rs:4:9:` -> `src/lib.rs:4:9`. Older Rust
/// versions print no thread id; both forms are read.
fn panic_location(line: &str) -> Option<String> {
    let line = line.trim_end();
    if !line.starts_with("thread '") {
        return None;
    }
    let at = line.find(" panicked at ")? + " panicked at ".len();
    Some(line[at..].trim_end_matches(':').to_string())
}

fn is_backtrace_note(line: &str) -> bool {
    line.starts_with("note: run with `RUST_BACKTRACE") || line.starts_with("stack backtrace:")
}

fn ends_a_panic(line: &str) -> bool {
    line.starts_with("note: ")
        || line.starts_with("stack backtrace:")
        || panic_location(line).is_some()
}

fn is_harness_line(line: &str) -> bool {
    let line = line.trim_end();
    line.is_empty()
        || line.starts_with("running ")
        || line.starts_with("test result:")
        // `test NAME ... ok`, or `test NAME ...` of a test killed before it ended.
        || (line.starts_with("test ") && (line.contains(" ... ") || line.ends_with(" ...")))
}

/// The panics as one message: the first in full (it is usually the cause: a helper
/// thread's `todo!()` before the test's own "the helper panicked"), later ones after it.
///
/// Each says whose it is: a panic located in a `tests/` file is a graded check that
/// failed; any other is the learner's code panicking. A panic of the code that a graded
/// check caught and reported with its case (`graded::Case::run`: "got: your code
/// panicked: MESSAGE") is shown once, inside that report, with its location added.
pub fn panic_message(panics: &[Panic]) -> String {
    let mut shown: Vec<String> = Vec::new();
    let mut caught_at: Vec<String> = Vec::new();
    for (k, panic) in panics.iter().enumerate() {
        let is_check = is_test_location(&panic.location);
        // Caught and reported again inside a later check's case: shown there, once. (A
        // test's own helper can panic inside the learner's code too, a future that
        // refuses to be polled again: that is folded the same way.)
        let reported_later = !panic.message.is_empty()
            && panics[k + 1..].iter().any(|later| {
                is_test_location(&later.location)
                    && later
                        .message
                        .contains(&format!("your code panicked: {}", panic.message))
            });
        if reported_later {
            caught_at.push(panic.location.clone());
            continue;
        }
        let head = if is_check {
            format!("a graded check failed at {}", panic.location)
        } else {
            format!("your code panicked at {}", panic.location)
        };
        let mut text = if panic.message.is_empty() {
            head
        } else {
            format!("{head}:\n{}", panic.message)
        };
        if is_check {
            for at in caught_at.drain(..) {
                text.push_str(&format!("\n(your code panicked at {at})"));
            }
        }
        shown.push(text);
    }
    shorten(&shown.join("\n"))
}

/// `crates/procs/exercises/reap/tests/exercise_reap.rs:31:5` is a test's; a location in
/// the exercise's own file, the lesson's, or the standard library's is not.
fn is_test_location(location: &str) -> bool {
    location.starts_with("tests/") || location.contains("/tests/")
}

/// At most `MESSAGE_LINES` lines of at most 300 characters each.
pub(super) fn shorten(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out: Vec<String> = lines
        .iter()
        .take(MESSAGE_LINES)
        .map(|l| {
            if l.chars().count() > 300 {
                format!("{}...", l.chars().take(297).collect::<String>())
            } else {
                l.to_string()
            }
        })
        .collect();
    if lines.len() > MESSAGE_LINES {
        out.push(format!("... ({} more lines)", lines.len() - MESSAGE_LINES));
    }
    out.join("\n")
}

/// The panics found in a harness's output.
#[cfg(test)]
pub(super) fn panics_in(stdout: &str, name: &str) -> Vec<Panic> {
    read_report(stdout, name).panics
}
