//! A wait that comes from outside (a user's timeout, a configuration) can be as long as
//! a `Duration` can be: a deadline made from it is far, never a panic.

use std::time::{Duration, Instant};

use event_loop::step5_scheduler::Step;

#[test]
fn sleeping_for_the_longest_duration_is_a_far_deadline_not_a_panic() {
    let now = Instant::now();
    match Step::sleep(Duration::MAX) {
        Step::Sleep(at) => assert!(at > now + Duration::from_secs(10 * 365 * 24 * 3600)),
        other => panic!("Step::sleep made {other:?}"),
    }
    match Step::sleep(Duration::from_secs_f64(1e19)) {
        Step::Sleep(at) => assert!(at > now),
        other => panic!("Step::sleep made {other:?}"),
    }
}
