//! A C10K client whose visit spends its whole budget with work left is visited again:
//! it never waits for an event that already came. With a budget of one step per visit,
//! every visit ends with work left (a request not yet sent, a response not yet read);
//! a client that then waited for the next event would wait for an edge that has passed,
//! until the run's time limit.

use std::time::Duration;

use event_loop::step8_server::{self, C10kPlan, LoopServerConfig, run_c10k};

#[test]
fn a_client_out_of_budget_is_visited_again_not_left_waiting() {
    let server = step8_server::start(LoopServerConfig::default()).expect("the loop server");
    let plan = C10kPlan {
        io_per_visit: 1,
        ..C10kPlan::new(server.addr(), 4, 10, Duration::from_secs(20))
    };
    let report = run_c10k(&plan).expect("the run ends with a report");
    assert_eq!((report.docs_ok, report.docs_failed), (40, 0), "{report}");
}
