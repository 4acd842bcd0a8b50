//! Reading what `cargo test` printed: how many tests passed, which ones failed.
//!
//! libtest has a stable, documented JSON output only on nightly, so xtask reads the
//! human format, which has been the same for years: each test binary ends with one
//! `test result: ok. 12 passed; 0 failed; ...` line, each failing test shows up as
//! `test NAME ... FAILED`, and a `failures:` block lists the failing names again.
//! A workspace's `cargo test` runs several binaries (unit tests, each file in tests/,
//! doc-tests), so the counts are the sums over all their result lines.

/// What one `cargo test` run reported.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TestCounts {
    pub passed: u64,
    pub failed: u64,
    /// Names of the failing tests, in the order they were reported, each once.
    pub failing: Vec<String>,
    /// How many test binaries printed a `test result:` line.
    pub binaries: usize,
    /// How many of those reported `FAILED`: compared with cargo's count of binaries that
    /// exited with an error, it reveals a binary that crashed before reporting.
    pub failed_binaries: usize,
}

/// Reads the test harness output (cargo test's stdout).
pub fn count(output: &str) -> TestCounts {
    let mut counts = TestCounts::default();
    let mut lines = output.lines().map(str::trim_end).peekable();
    while let Some(line) = lines.next() {
        if let Some(rest) = line.trim_start().strip_prefix("test result:") {
            counts.binaries += 1;
            if rest.trim_start().starts_with("FAILED") {
                counts.failed_binaries += 1;
            }
            counts.passed += number_before(rest, "passed");
            counts.failed += number_before(rest, "failed");
        } else if let Some(name) = failed_test_line(line) {
            add_name(&mut counts.failing, name);
        } else if line == "failures:" {
            // Two blocks share this header: first the captured output of each failing
            // test (`---- name stdout ----` and whatever it printed, which may itself be
            // indented), then the bare list of names, indented four spaces. Only the
            // second is a list of names.
            while lines.peek().is_some_and(|l| l.is_empty()) {
                lines.next();
            }
            let is_name_list = lines.peek().is_some_and(|l| l.starts_with("    "));
            if is_name_list {
                while let Some(l) = lines.next_if(|l| l.starts_with("    ")) {
                    add_name(&mut counts.failing, l.trim());
                }
            }
        }
    }
    counts
}

/// How many test binaries failed without reporting a result: they crashed, aborted or
/// were killed, and their tests are in no count. Cargo's stderr (`cargo_stderr`) names
/// every failing binary once (`error: test failed, to rerun pass ...`, or `doctest
/// failed` for doc-tests); each that reported normally has a `test result: FAILED` line.
pub fn binaries_that_died(cargo_stderr: &str, counts: &TestCounts) -> usize {
    let failed = cargo_stderr.matches("test failed, to rerun pass").count();
    failed.saturating_sub(counts.failed_binaries)
}

/// "1 passed; 2 failed" -> 2 for "failed". A missing or garbled number counts as 0
/// rather than stopping the run: the exit status still tells that something failed.
fn number_before(text: &str, word: &str) -> u64 {
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c == ';' || c == ',')
        .filter(|w| !w.is_empty())
        .collect();
    words
        .windows(2)
        .filter(|pair| pair[1].trim_end_matches('.') == word)
        .filter_map(|pair| pair[0].parse::<u64>().ok())
        .sum()
}

/// `test some::name ... FAILED` -> `some::name`.
fn failed_test_line(line: &str) -> Option<&str> {
    let name = line.strip_prefix("test ")?.strip_suffix(" ... FAILED")?;
    // `#[should_panic]` tests carry this note after their name.
    Some(name.strip_suffix(" - should panic").unwrap_or(name))
}

fn add_name(names: &mut Vec<String>, name: &str) {
    let name = name.strip_suffix(" - should panic").unwrap_or(name);
    if !name.is_empty() && !names.iter().any(|n| n == name) {
        names.push(name.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Shaped like a real `cargo test --no-fail-fast` stdout: unit tests that pass, an
    /// integration test file with a failing exercise (whose captured output includes
    /// an indented line that must not be taken for a test name), and doc-tests with a
    /// failing example.
    const SAMPLE: &str = "
running 3 tests
test measure::tests::median_of_odd ... ok
test measure::tests::median_of_even ... ok
test tour::tests::ratio_claim ... ok

test result: ok. 3 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s


running 4 tests
test fork_returns_twice ... ok
test exec_replaces_the_image ... ok
test panics_on_bad_pid - should panic ... FAILED
test exercise_wait_all ... FAILED

failures:

---- panics_on_bad_pid stdout ----
note: test did not panic as expected at crates/procs/tests/exercises.rs:40:4
---- exercise_wait_all stdout ----

thread 'exercise_wait_all' panicked at crates/procs/tests/exercises.rs:12:5:
not yet implemented: wait-all: reap every child
    this indented line is output, not a test name
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace


failures:
    panics_on_bad_pid
    exercise_wait_all

test result: FAILED. 2 passed; 2 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.31s


running 0 tests

test result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s


running 2 tests
test crates/procs/src/lib.rs - spawn (line 10) ... ok
test crates/procs/src/lib.rs - fork (line 30) ... FAILED

failures:

---- crates/procs/src/lib.rs - fork (line 30) stdout ----
error[E0425]: cannot find value `x` in this scope
 --> crates/procs/src/lib.rs:32:1
    |
3   | x
    | ^ not found in this scope

Couldn't compile the test.

failures:
    crates/procs/src/lib.rs - fork (line 30)

test result: FAILED. 1 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.12s

";

    #[test]
    fn counts_are_summed_over_every_test_binary() {
        let c = count(SAMPLE);
        assert_eq!((c.passed, c.failed), (6, 3));
        assert_eq!((c.binaries, c.failed_binaries), (4, 2));
    }

    #[test]
    fn failing_tests_are_named_once_each() {
        let c = count(SAMPLE);
        assert_eq!(
            c.failing,
            [
                "panics_on_bad_pid",
                "exercise_wait_all",
                "crates/procs/src/lib.rs - fork (line 30)"
            ]
        );
    }

    #[test]
    fn a_binary_that_crashed_is_noticed() {
        // Cargo's stderr for three failing targets: unit tests and doc-tests reported
        // their failures, tests/crash.rs aborted mid-run.
        let stderr = "\
     Running unittests src/lib.rs (target/debug/deps/scratch-eac2f1ee85d95d2d)
error: test failed, to rerun pass `--lib`
     Running tests/crash.rs (target/debug/deps/crash-7a962d16f615b91a)
error: test failed, to rerun pass `--test crash`

Caused by:
  process didn't exit successfully: `target/debug/deps/crash-7a96` (signal: 6, SIGABRT)
   Doc-tests scratch
error: doctest failed, to rerun pass `--doc`
error: 3 targets failed:
";
        let stdout = "\
test result: FAILED. 1 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out
running 2 tests
test src/lib.rs - two (line 1) ... FAILED
test result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out
";
        let counts = count(stdout);
        assert_eq!(binaries_that_died(stderr, &counts), 1);
        assert_eq!(binaries_that_died("", &counts), 0);
    }

    #[test]
    fn a_failure_list_alone_still_names_the_tests() {
        let c = count("failures:\n    a::b\n    c\n\ntest result: FAILED. 0 passed; 2 failed;");
        assert_eq!(c.failing, ["a::b", "c"]);
        assert_eq!(c.failed, 2);
    }

    #[test]
    fn odd_output_counts_nothing_and_does_not_panic() {
        for text in [
            "",
            "test result:",
            "test result: ok. many passed; x failed",
            "failures:",
            "failures:\n\n\n",
            "test  ... FAILED",
            "\u{1b}[32mok\u{1b}[0m",
        ] {
            let c = count(text);
            assert_eq!((c.passed, c.failed), (0, 0), "{text:?}");
        }
    }
}
