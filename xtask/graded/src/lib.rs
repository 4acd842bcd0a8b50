//! What a graded test says when it fails.
//!
//! A learner reads a failure to learn what to change, so each one says three things: the
//! input the test tried, what the task text requires for it, and what came back. A bare
//! `assert_eq!` says only the last (`left: Err(Code) right: Err(Space)`), and a panic in
//! the learner's code says none of them. So every graded check goes through a [`Case`]:
//!
//! ```
//! use graded::case;
//!
//! fn double(n: u32) -> u32 {
//!     n * 2
//! }
//!
//! let c = case(21, "doubles its input");
//! let got = c.run(|| double(21)); // a panic in `double` is reported with the case
//! c.eq(got, 42);
//! ```
//!
//! A failing check panics with a message in this shape, which `cargo xtask grade`
//! shows as it is:
//!
//! ```text
//! input:    "HTTP/1.1 200  OK"
//! the task: only the one space after the code separates; the rest is the reason
//! expected: Ok(StatusLine { minor: 1, code: 200, reason: " OK" })
//! got:      Ok(StatusLine { minor: 1, code: 200, reason: "OK" })
//! ```

use std::any::Any;
use std::fmt::Debug;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// One input of a graded test and the rule of the task it checks.
#[derive(Debug, Clone)]
pub struct Case {
    input: String,
    rule: String,
}

/// A case whose input is a value: it is shown as `{:?}` shows it.
pub fn case(input: impl Debug, rule: impl Into<String>) -> Case {
    Case {
        input: format!("{input:?}"),
        rule: rule.into(),
    }
}

/// A case whose input is a situation rather than a value ("three children that end in
/// the order 2, 3, 1"): the words are shown as they are.
pub fn scene(input: impl Into<String>, rule: impl Into<String>) -> Case {
    Case {
        input: input.into(),
        rule: rule.into(),
    }
}

impl Case {
    /// Runs the learner's code on this case. If it panics, the test fails with the case
    /// and the panic's own message, marked as a panic of the learner's code: the test's
    /// check never ran, and the learner should know that what broke was their code, on
    /// this input.
    #[track_caller]
    pub fn run<T>(&self, code: impl FnOnce() -> T) -> T {
        // AssertUnwindSafe: after a panic nothing the closure touched is used again; the
        // test ends here with the report.
        match catch_unwind(AssertUnwindSafe(code)) {
            Ok(value) => value,
            Err(payload) => self.fail_with(&format!(
                "your code panicked: {}",
                payload_text(payload.as_ref())
            )),
        }
    }

    /// Fails unless `got == expected`.
    #[track_caller]
    pub fn eq<T: Debug + PartialEq>(&self, got: T, expected: T) {
        if got != expected {
            panic!("{}\nexpected: {expected:?}\ngot:      {got:?}", self.head());
        }
    }

    /// Fails unless `holds`; `got` is what came back, shown when it does not hold.
    #[track_caller]
    pub fn check(&self, holds: bool, got: impl Debug) {
        if !holds {
            self.fail(got);
        }
    }

    /// Fails with `got` as what came back.
    #[track_caller]
    pub fn fail(&self, got: impl Debug) -> ! {
        self.fail_with(&format!("{got:?}"))
    }

    /// Fails with `got` in words ("it returned after 2 of the 3 children").
    #[track_caller]
    pub fn fail_with(&self, got: &str) -> ! {
        panic!("{}\ngot:      {got}", self.head());
    }

    /// The same case with a narrower rule: a test that checks several rules on one input.
    pub fn rule(&self, rule: impl Into<String>) -> Case {
        Case {
            input: self.input.clone(),
            rule: rule.into(),
        }
    }

    fn head(&self) -> String {
        format!("input:    {}\nthe task: {}", self.input, self.rule)
    }
}

/// What a panic carried: the text of `panic!("...")`, or a note when it was not text.
pub fn payload_text(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        text.to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "(a panic without a message)".to_string()
    }
}

/// Re-raises a panic caught elsewhere (a helper thread's, from `join`) as a failure of
/// this case, with the panic's message.
#[track_caller]
pub fn rethrow(case: &Case, payload: Box<dyn Any + Send>) -> ! {
    case.fail_with(&format!(
        "your code panicked: {}",
        payload_text(payload.as_ref())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message_of(f: impl FnOnce()) -> String {
        let payload = catch_unwind(AssertUnwindSafe(f)).expect_err("it should have failed");
        payload_text(payload.as_ref())
    }

    #[test]
    fn a_failed_eq_names_input_rule_expected_and_got() {
        let text = message_of(|| case("HTTP/1.1 2OO OK", "the code is three digits").eq(1, 2));
        assert_eq!(
            text,
            "input:    \"HTTP/1.1 2OO OK\"\nthe task: the code is three digits\n\
             expected: 2\ngot:      1"
        );
    }

    #[test]
    fn a_passing_check_says_nothing() {
        let c = scene("two children", "both are reaped");
        c.eq(2, 2);
        c.check(true, "anything");
        assert_eq!(c.run(|| 7), 7);
    }

    #[test]
    fn a_panic_in_the_code_is_reported_as_the_codes_with_the_case() {
        let text = message_of(|| {
            scene("an empty line", "an empty line is an error, not a panic")
                .run(|| -> u8 { panic!("index out of bounds") });
        });
        assert_eq!(
            text,
            "input:    an empty line\nthe task: an empty line is an error, not a panic\n\
             got:      your code panicked: index out of bounds"
        );
    }

    #[test]
    fn check_and_rule_narrow_the_message() {
        let c = case(5, "first rule");
        let text = message_of(|| c.rule("second rule").check(false, vec![1, 2]));
        assert!(
            text.contains("the task: second rule\ngot:      [1, 2]"),
            "{text}"
        );
    }

    #[test]
    fn rethrow_keeps_the_panic_text() {
        let payload = catch_unwind(|| panic!("not yet")).unwrap_err();
        let text = message_of(|| rethrow(&scene("a thread", "it ends"), payload));
        assert!(
            text.ends_with("got:      your code panicked: not yet"),
            "{text}"
        );
    }
}
