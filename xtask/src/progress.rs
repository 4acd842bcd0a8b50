//! Live progress that reads well in a CI log.
//!
//! A CI runner has no terminal: no progress bars, no colours, no lines rewritten in
//! place. What helps there is plain lines, each saying when (seconds since the start),
//! where (lesson and step) and what, e.g.
//!
//! ```text
//! [   4.2s] procs · test · Running tests/exercises.rs
//! [  31.0s] procs · tour · [3/7] fork cost vs memory
//! ```
//!
//! Children print far more than that (every test name, every dependency compiled, every
//! warning), and all of it is kept for the failure report. Here `LineFilter` picks the
//! few lines that show progress, and `Progress` prints them with the time in front.

use std::time::{Duration, Instant};

/// Which pipe of the child a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// Which kind of step a line belongs to: they have different interesting lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    /// `cargo test`: cargo on stderr, the test harness on stdout.
    Test,
    /// `cargo run -- --json`: cargo and the tour's experiment headers on stderr, the
    /// JSON report on stdout (never shown line by line).
    Tour,
}

/// Prints timestamped progress lines on stderr (stdout is kept for the summary, so
/// `cargo xtask run-all > summary.txt` still shows progress on the screen).
#[derive(Debug)]
pub struct Progress {
    started: Instant,
    last_line: Instant,
}

impl Default for Progress {
    fn default() -> Self {
        Self::new()
    }
}

impl Progress {
    pub fn new() -> Self {
        let now = Instant::now();
        Progress {
            started: now,
            last_line: now,
        }
    }

    /// Seconds since the run started.
    pub fn elapsed(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    /// How long since the last line was printed: used to say "still running" when a
    /// long step is silent, so neither a person nor a CI watchdog thinks it hung.
    pub fn quiet_for(&self) -> Duration {
        self.last_line.elapsed()
    }

    /// Prints `[   4.2s] scope · text`.
    pub fn line(&mut self, scope: &str, text: &str) {
        eprintln!("{}", stamp(self.elapsed(), scope, text));
        self.last_line = Instant::now();
    }
}

/// `[   4.2s] procs · test · Running tests/exercises.rs`: the elapsed time is padded so
/// the scopes line up down the log.
pub fn stamp(elapsed: f64, scope: &str, text: &str) -> String {
    format!("[{elapsed:>6.1}s] {scope} · {text}")
}

/// A dependency's `Compiling` line is shown at most this often: a cold build compiles
/// dozens, and a line every couple of seconds shows progress without burying the rest.
const DEPENDENCY_LINE_EVERY: Duration = Duration::from_secs(2);

/// Decides which of a child's lines are worth a progress line.
#[derive(Debug)]
pub struct LineFilter {
    kind: StepKind,
    dependencies: usize,
    last_dependency_shown: Option<Instant>,
}

impl LineFilter {
    pub fn new(kind: StepKind) -> Self {
        LineFilter {
            kind,
            dependencies: 0,
            last_dependency_shown: None,
        }
    }

    /// The text to show for `line`, or `None` for noise. `line` is raw child output.
    pub fn show(&mut self, stream: Stream, line: &str, now: Instant) -> Option<String> {
        let line = clean(line);
        let line = line.trim();
        if line.is_empty() {
            return None;
        }
        match (stream, self.kind) {
            (Stream::Stderr, _) => self.stderr_line(line, now),
            (Stream::Stdout, StepKind::Test) => test_harness_line(line),
            // The tour's stdout is its JSON report: read whole at the end.
            (Stream::Stdout, StepKind::Tour) => None,
        }
    }

    fn stderr_line(&mut self, line: &str, now: Instant) -> Option<String> {
        if let Some(what) = line.strip_prefix("Compiling ") {
            return self.compiling(what, now);
        }
        if let Some(what) = line.strip_prefix("Running ") {
            return Some(format!("Running {}", without_target_path(what)));
        }
        let status_words = ["Doc-tests ", "Blocking ", "Updating ", "Downloading "];
        if status_words.iter().any(|w| line.starts_with(w)) {
            return Some(line.to_string());
        }
        // The first line of each error is its headline; the details go to the report.
        if line.starts_with("error") {
            return Some(line.to_string());
        }
        if self.kind == StepKind::Tour
            && (is_experiment_header(line) || line.starts_with("thread '"))
        {
            return Some(line.to_string());
        }
        None
    }

    /// Workspace crates are always shown (they are the lesson); dependencies are
    /// counted, and shown now and then with the count so far.
    fn compiling(&mut self, what: &str, now: Instant) -> Option<String> {
        if is_local_crate(what) {
            return Some(format!("Compiling {}", without_target_path(what)));
        }
        self.dependencies += 1;
        let due = self
            .last_dependency_shown
            .is_none_or(|t| now.duration_since(t) >= DEPENDENCY_LINE_EVERY);
        if due {
            self.last_dependency_shown = Some(now);
            Some(format!(
                "Compiling {what} (dependency {})",
                self.dependencies
            ))
        } else {
            None
        }
    }
}

/// From the test harness: failing tests as they fail, and each binary's counts
/// (skipping empty ones, e.g. the doc-tests of a crate without examples).
fn test_harness_line(line: &str) -> Option<String> {
    if line.starts_with("test ") && line.ends_with(" ... FAILED") {
        return Some(line.to_string());
    }
    if line.starts_with("test result:") {
        // The full line lists five counts and a time; two of them are the news.
        let counts = crate::cargo_test::count(line);
        return match (counts.passed, counts.failed) {
            (0, 0) => None,
            (passed, 0) => Some(format!("result: {passed} passed")),
            (passed, failed) => Some(format!("result: {passed} passed, {failed} FAILED")),
        };
    }
    None
}

/// `[3/7] fork cost vs memory`: the header a tour prints as each experiment starts.
fn is_experiment_header(line: &str) -> bool {
    let Some(rest) = line.strip_prefix('[') else {
        return false;
    };
    let Some((counter, title)) = rest.split_once(']') else {
        return false;
    };
    let Some((n, m)) = counter.split_once('/') else {
        return false;
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits(n) && digits(m) && title.starts_with(' ')
}

/// Cargo writes a path crate as `procs v0.1.0 (/work/main/crates/procs)`, a crates.io
/// one as `nix v0.32.0`, a git one with its URL.
fn is_local_crate(what: &str) -> bool {
    what.contains(" (") && !what.contains("://")
}

/// `tests/exercises.rs (target/debug/deps/exercises-1f2e3d)` -> `tests/exercises.rs`,
/// `procs v0.1.0 (/work/main/crates/procs)` -> `procs v0.1.0`: the parenthesis is
/// where cargo keeps a path the reader does not need.
fn without_target_path(what: &str) -> &str {
    match what.rfind(" (") {
        Some(i) if what.ends_with(')') => &what[..i],
        _ => what,
    }
}

/// Removes what a terminal would interpret rather than show: colour escapes (a CI may
/// set `CARGO_TERM_COLOR=always`) and everything before a carriage return (a progress
/// bar redrawn in place; only its last state is real).
pub fn clean(line: &str) -> String {
    let line = line.trim_end_matches(['\r', '\n']);
    let line = line.rsplit('\r').next().unwrap_or(line);
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI sequences: ESC [ parameters, ending with a letter in 0x40..=0x7e.
            if chars.next_if_eq(&'[').is_some() {
                for c in chars.by_ref() {
                    if ('\u{40}'..='\u{7e}').contains(&c) {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

/// Progress lines, or silence (`kit --verify` grades quietly): what the steps that can
/// run either way write to.
pub struct Say<'a>(pub Option<&'a mut Progress>);

impl Say<'_> {
    pub fn line(&mut self, scope: &str, text: &str) {
        if let Some(progress) = self.0.as_mut() {
            progress.line(scope, text);
        }
    }

    pub fn quiet_for(&self) -> Duration {
        self.0.as_ref().map_or(Duration::ZERO, |p| p.quiet_for())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(kind: StepKind, lines: &[(Stream, &str)]) -> Vec<String> {
        let mut filter = LineFilter::new(kind);
        let now = Instant::now();
        lines
            .iter()
            .filter_map(|(s, l)| filter.show(*s, l, now))
            .collect()
    }

    #[test]
    fn the_elapsed_time_is_padded_so_scopes_line_up() {
        assert_eq!(
            stamp(4.23, "procs · test", "Running tests/exercises.rs"),
            "[   4.2s] procs · test · Running tests/exercises.rs"
        );
        assert_eq!(stamp(31.0, "procs", "x"), "[  31.0s] procs · x");
    }

    #[test]
    fn test_steps_show_cargo_progress_and_failures_but_not_each_passing_test() {
        use Stream::*;
        let out = shown(
            StepKind::Test,
            &[
                (
                    Stderr,
                    "   Compiling procs v0.1.0 (/work/main/crates/procs)",
                ),
                (Stderr, "warning: unused variable: `x`"),
                (
                    Stderr,
                    "    Finished `test` profile [unoptimized] target(s) in 3.1s",
                ),
                (
                    Stderr,
                    "     Running tests/exercises.rs (target/debug/deps/exercises-1f2e)",
                ),
                (Stdout, "running 2 tests"),
                (Stdout, "test fork_returns_twice ... ok"),
                (Stdout, "test exercise_wait_all ... FAILED"),
                (
                    Stdout,
                    "test result: FAILED. 1 passed; 1 failed; 0 ignored; 0 measured",
                ),
                (Stderr, "   Doc-tests procs"),
                (
                    Stdout,
                    "test result: ok. 0 passed; 0 failed; 0 ignored; 0 measured",
                ),
                (
                    Stderr,
                    "error: test failed, to rerun pass `--test exercises`",
                ),
            ],
        );
        assert_eq!(
            out,
            [
                "Compiling procs v0.1.0",
                "Running tests/exercises.rs",
                "test exercise_wait_all ... FAILED",
                "result: 1 passed, 1 FAILED",
                "Doc-tests procs",
                "error: test failed, to rerun pass `--test exercises`",
            ]
        );
    }

    #[test]
    fn tour_steps_show_experiment_headers_and_never_the_json() {
        use Stream::*;
        let out = shown(
            StepKind::Tour,
            &[
                (Stderr, "     Running `target/release/procs --json --quick`"),
                (Stderr, "[3/7] fork cost vs memory"),
                (Stderr, "[x/7] not a header"),
                (Stdout, "{"),
                (Stdout, "  \"schema\": 1,"),
                (
                    Stderr,
                    "thread 'main' panicked at crates/procs/src/main.rs:9:5:",
                ),
            ],
        );
        assert_eq!(
            out,
            [
                "Running `target/release/procs --json --quick`",
                "[3/7] fork cost vs memory",
                "thread 'main' panicked at crates/procs/src/main.rs:9:5:",
            ]
        );
    }

    #[test]
    fn dependency_compiles_are_thinned_out_and_counted() {
        let mut filter = LineFilter::new(StepKind::Test);
        let t0 = Instant::now();
        let line = "   Compiling libc v0.2.150";
        assert_eq!(
            filter.show(Stream::Stderr, line, t0).as_deref(),
            Some("Compiling libc v0.2.150 (dependency 1)")
        );
        assert_eq!(filter.show(Stream::Stderr, line, t0), None);
        let later = t0 + DEPENDENCY_LINE_EVERY;
        assert_eq!(
            filter
                .show(Stream::Stderr, "Compiling nix v0.32.0", later)
                .as_deref(),
            Some("Compiling nix v0.32.0 (dependency 3)")
        );
    }

    #[test]
    fn colour_codes_and_redrawn_lines_are_cleaned() {
        assert_eq!(
            clean("\u{1b}[1m\u{1b}[32m   Compiling\u{1b}[0m x"),
            "   Compiling x"
        );
        assert_eq!(
            clean("Building [=>  ] 1/9\rBuilding [==>] 9/9\r\n"),
            "Building [==>] 9/9"
        );
        assert_eq!(clean("plain µs"), "plain µs");
        assert_eq!(clean("\u{1b}"), "");
    }
}
