//! Graded tests for exercise `event-loop/waker`.
//!
//! A wrong reference count in a waker is not a wrong answer but undefined behaviour: one
//! reference too few frees the counter while a waker still points to it, and it is freed
//! again later. So the tests never let that happen. Every test keeps a reference of its
//! own to the counter ([`Ledger`]), and checks `Arc::strong_count` and the wakes after
//! each single operation on a waker (make, clone, wake, wake_by_ref, drop): a count one
//! too low is then seen while the counter is still alive, and the test stops before any
//! free. When it stops (a wrong count, or a panic in the code under test), it forgets
//! every waker it holds and one more reference, so that nothing is released after a
//! count went wrong: the failure is a clean message, never a crash. (A leak of a few
//! bytes in a failed test is the price.)
//!
//! Every check names what was done so far and the rule of the task it checks
//! ([`graded::scene`]).

use std::fmt::Write as _;
use std::mem;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::task::Waker;
use std::thread;

use event_loop_waker::{WakeCounter, counting_waker};
use graded::scene;

/// What the test sees of a counter after an operation.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Counts {
    /// `Arc::strong_count`: one per live waker, plus the test's own.
    references: usize,
    wakes: usize,
}

const MAKE: &str = "counting_waker(counter): the waker owns the reference `counter` held \
                    (Arc::into_raw): one reference per live waker, plus the test's own";
const CLONE: &str = "clone adds a reference (the clone owns one of its own, the original \
                     keeps its own)";
const DROP: &str = "drop releases the dropped waker's reference, and only that one";
const WAKE: &str = "wake (by value) counts one wake and releases the waker's reference";
const WAKE_BY_REF: &str = "wake_by_ref counts one wake and releases nothing";

/// One counter, the wakers alive for it (each with a name), and what the test expects.
/// It holds a reference of its own for as long as it lives, so that the counter outlives
/// every check. If the test fails while it holds wakers, it forgets them (see
/// [`Ledger::abandon`]).
struct Ledger {
    counter: Arc<WakeCounter>,
    /// More references the test holds (the stress test's margin): counted as its own.
    guard: Vec<Arc<WakeCounter>>,
    wakers: Vec<(String, Waker)>,
    wakes: usize,
    /// What was done so far, for the messages.
    story: String,
    /// How many wakers were made, to name the next one.
    named: usize,
}

impl Ledger {
    /// A counter and one waker of it, from the learner's `counting_waker`.
    fn new() -> Ledger {
        let mut ledger = Ledger {
            counter: Arc::new(WakeCounter::new()),
            guard: Vec::new(),
            wakers: Vec::new(),
            wakes: 0,
            story: "a counter (the test keeps an Arc of its own); waker 1 = \
                    counting_waker(a clone of that Arc)"
                .to_string(),
            named: 0,
        };
        let counter = ledger.counter.clone();
        let waker = ledger.attempt(MAKE, move |_| counting_waker(counter));
        ledger.named = 1;
        ledger.wakers.push(("waker 1".to_string(), waker));
        ledger.check(MAKE);
        ledger
    }

    /// What the counts are now.
    fn counts(&self) -> Counts {
        Counts {
            references: Arc::strong_count(&self.counter),
            wakes: self.counter.wakes(),
        }
    }

    /// What they should be: the test's own, the guard's, one per live waker.
    fn expected(&self) -> Counts {
        Counts {
            references: 1 + self.guard.len() + self.wakers.len(),
            wakes: self.wakes,
        }
    }

    /// Fails (cleanly) unless the counts are as expected after what was done so far.
    #[track_caller]
    fn check(&mut self, rule: &str) {
        let (got, expected) = (self.counts(), self.expected());
        if got != expected {
            let case = self.case(rule);
            self.abandon();
            case.eq(got, expected);
        }
    }

    /// A case for a rule about the counts: what was done so far, and the rule.
    fn case(&self, rule: &str) -> graded::Case {
        scene(
            self.story.clone(),
            format!(
                "{rule} (references: Arc::strong_count of the counter, one per live waker \
                 plus the {} the test holds)",
                1 + self.guard.len()
            ),
        )
    }

    /// A case for a rule about something else than the counts.
    fn plain_case(&self, rule: &str) -> graded::Case {
        scene(self.story.clone(), rule)
    }

    /// Runs the learner's code (given the live wakers); if it panics, forgets every
    /// waker and fails with `rule`.
    #[track_caller]
    fn attempt<T>(&mut self, rule: &str, code: impl FnOnce(&[(String, Waker)]) -> T) -> T {
        let wakers = &self.wakers;
        match catch_unwind(AssertUnwindSafe(|| code(wakers))) {
            Ok(value) => value,
            Err(payload) => {
                let case = self.plain_case(rule);
                self.abandon();
                graded::rethrow(&case, payload)
            }
        }
    }

    /// After a count went wrong, releasing anything more could free the counter twice:
    /// forget every waker, and one more reference, so that the counter is never freed.
    fn abandon(&mut self) {
        mem::forget(mem::take(&mut self.wakers));
        mem::forget(mem::take(&mut self.guard));
        mem::forget(self.counter.clone());
    }

    fn position(&self, name: &str) -> usize {
        self.wakers
            .iter()
            .position(|(n, _)| n == name)
            .expect("the test names a live waker")
    }

    /// Clones waker `name` into a new one; returns the new one's name.
    #[track_caller]
    fn clone(&mut self, name: &str) -> String {
        self.named += 1;
        let new = format!("waker {}", self.named);
        let _ = write!(self.story, "; {new} = a clone of {name}");
        let i = self.position(name);
        let clone = self.attempt(CLONE, |wakers| wakers[i].1.clone());
        self.wakers.push((new.clone(), clone));
        self.check(CLONE);
        new
    }

    #[track_caller]
    fn drop(&mut self, name: &str) {
        let _ = write!(self.story, "; dropped {name}");
        let (_, waker) = self.wakers.remove(self.position(name));
        self.attempt(DROP, move |_| mem::drop(waker));
        self.check(DROP);
    }

    #[track_caller]
    fn wake(&mut self, name: &str) {
        let _ = write!(self.story, "; {name}.wake()");
        let (_, waker) = self.wakers.remove(self.position(name));
        self.wakes += 1;
        self.attempt(WAKE, move |_| waker.wake());
        self.check(WAKE);
    }

    #[track_caller]
    fn wake_by_ref(&mut self, name: &str) {
        let _ = write!(self.story, "; {name}.wake_by_ref()");
        let i = self.position(name);
        self.wakes += 1;
        self.attempt(WAKE_BY_REF, |wakers| wakers[i].1.wake_by_ref());
        self.check(WAKE_BY_REF);
    }

    /// Drops every waker left, one at a time, then checks that the test holds the only
    /// reference: the counter is freed when it lets go, once, and nothing leaked.
    #[track_caller]
    fn finish(mut self) {
        while let Some(name) = self.wakers.last().map(|(n, _)| n.clone()) {
            self.drop(&name);
        }
        self.guard.clear();
        self.check(DROP);
        let case =
            self.plain_case("when the last waker is gone, the test holds the only reference");
        let counter = mem::replace(&mut self.counter, Arc::new(WakeCounter::new()));
        match Arc::try_unwrap(counter) {
            // The last reference: the counter is freed here, once.
            Ok(_freed) => {}
            Err(still_shared) => {
                let references = Arc::strong_count(&still_shared);
                mem::forget(still_shared);
                case.fail_with(&format!("{references} references"));
            }
        }
    }
}

impl Drop for Ledger {
    /// A test that fails for another reason (a panic of the test itself) forgets the
    /// wakers too: after a failure nothing is trusted to release the counter.
    fn drop(&mut self) {
        if thread::panicking() {
            self.abandon();
        }
    }
}

#[test]
fn the_waker_owns_the_reference_it_was_given() {
    let mut ledger = Ledger::new();
    // The data pointer is the counter itself: Arc::into_raw of the Arc given.
    let data = ledger.wakers[0].1.data();
    let counter = Arc::as_ptr(&ledger.counter).cast::<()>();
    if data != counter {
        let case = ledger.plain_case(
            "the RawWaker's data pointer is Arc::into_raw(counter): the counter given, \
             not a copy",
        );
        ledger.abandon();
        case.fail_with(&format!(
            "the waker's data pointer is {data:?}, the counter is at {counter:?}"
        ));
    }
    ledger.drop("waker 1");
    ledger.finish();
}

#[test]
fn a_clone_owns_a_reference_of_its_own() {
    let mut ledger = Ledger::new();
    let two = ledger.clone("waker 1");
    let three = ledger.clone(&two);
    ledger.drop(&two);
    // The original goes first: the clone still holds the counter, and still wakes it.
    ledger.drop("waker 1");
    ledger.wake_by_ref(&three);
    ledger.finish();
}

#[test]
fn wake_by_value_counts_and_releases_its_reference() {
    let mut ledger = Ledger::new();
    let two = ledger.clone("waker 1");
    ledger.wake(&two);
    ledger.wake("waker 1");
    ledger.finish();
}

#[test]
fn wake_by_ref_counts_and_releases_nothing() {
    let mut ledger = Ledger::new();
    for _ in 0..3 {
        ledger.wake_by_ref("waker 1");
    }
    let two = ledger.clone("waker 1");
    ledger.wake_by_ref(&two);
    ledger.drop("waker 1");
    ledger.wake_by_ref(&two);
    ledger.finish();
}

#[test]
fn will_wake_holds_between_clones() {
    let mut ledger = Ledger::new();
    let two = ledger.clone("waker 1");
    let three = ledger.clone(&two);
    let other_counter = Arc::new(WakeCounter::new());
    let keep = other_counter.clone();
    let other = ledger.attempt(MAKE, move |_| counting_waker(keep));
    let case = ledger.plain_case(
        "clones wake the same counter the same way: will_wake is true between a waker and \
         its clones (same data pointer, same vtable), false with another counter's waker",
    );
    let waker = |name: &str| &ledger.wakers[ledger.position(name)].1;
    let (one, two, three) = (waker("waker 1"), waker(&two), waker(&three));
    let pairs = |answers: [bool; 5]| {
        format!(
            "1 and 2: {}, 2 and 1: {}, 1 and 3: {}, 3 and 2: {}, 1 and the other counter's \
             waker: {}",
            answers[0], answers[1], answers[2], answers[3], answers[4]
        )
    };
    let got = [
        one.will_wake(two),
        two.will_wake(one),
        one.will_wake(three),
        three.will_wake(two),
        one.will_wake(&other),
    ];
    let expected = [true, true, true, true, false];
    if got != expected {
        ledger.abandon();
        mem::forget(other);
        mem::forget(other_counter);
        case.eq(pairs(got), pairs(expected));
        unreachable!("the check above fails");
    }
    // The other counter's waker: dropped while the test holds its counter, then checked.
    mem::drop(other);
    let left = Arc::strong_count(&other_counter);
    if left != 1 {
        ledger.abandon();
        mem::forget(other_counter);
        scene("a waker of another counter, dropped", DROP).eq(left, 1);
        unreachable!("the check above fails");
    }
    ledger.finish();
}

/// How many threads, and rounds in each, of the stress test.
const THREADS: usize = 8;
const ROUNDS: usize = 200;

#[test]
fn many_clones_on_many_threads_balance() {
    let mut ledger = Ledger::new();
    // One of each operation on this thread first: a count that is wrong on one thread is
    // reported here, before any thread could release what it does not own.
    let two = ledger.clone("waker 1");
    ledger.wake_by_ref(&two);
    ledger.wake(&two);
    let three = ledger.clone("waker 1");
    ledger.drop(&three);
    // More references held by the test than the threads could ever lose by mistake:
    // whatever they do, the counter outlives them, and the count after them tells.
    ledger.guard = (0..THREADS * ROUNDS * 4)
        .map(|_| ledger.counter.clone())
        .collect();
    let _ = write!(
        ledger.story,
        "; then {THREADS} threads, each with a clone of waker 1 (the last woken by value \
         at the end, the others dropped), each {ROUNDS} times: a = clone, b = a.clone(), \
         b.wake_by_ref(), b.wake(), a.wake_by_ref(), drop(a)"
    );
    let base = ledger.wakers[0].1.clone();
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let mine = base.clone();
            thread::spawn(move || {
                for _ in 0..ROUNDS {
                    let a = mine.clone();
                    let b = a.clone();
                    b.wake_by_ref();
                    b.wake();
                    a.wake_by_ref();
                    mem::drop(a);
                }
                if t == THREADS - 1 {
                    mine.wake();
                }
            })
        })
        .collect();
    mem::drop(base);
    let rule = "clone, wake, wake_by_ref and drop keep the count right from any thread";
    for thread in threads {
        if let Err(payload) = thread.join() {
            let case = ledger.plain_case(rule);
            ledger.abandon();
            graded::rethrow(&case, payload);
        }
    }
    ledger.wakes += THREADS * ROUNDS * 3 + 1;
    ledger.check(rule);
    ledger.finish();
}

#[test]
fn nothing_is_leaked_or_freed_twice() {
    // A longer life: clones of clones, wakes of both kinds, in an order of their own.
    let mut ledger = Ledger::new();
    let two = ledger.clone("waker 1");
    let three = ledger.clone(&two);
    let four = ledger.clone("waker 1");
    ledger.wake_by_ref(&three);
    ledger.wake(&two);
    ledger.drop("waker 1");
    let five = ledger.clone(&four);
    ledger.wake(&three);
    ledger.wake_by_ref(&five);
    ledger.drop(&four);
    ledger.wake(&five);
    // Every waker is gone: the test's reference must be the only one.
    ledger.finish();
}
