//! The tour binary keeps the protocol every lesson shares (see `procs::tour`).

use std::path::Path;

#[test]
fn the_tour_keeps_the_protocol() {
    let binary = Path::new(env!("CARGO_BIN_EXE_event-loop"));
    let experiments = ["busy-vs-poll", "turn-cost", "executor", "c10k"];
    // The quick run makes every claim of the lesson, in order.
    let ids: Vec<&str> = event_loop::claims::ALL.iter().map(|c| c.id).collect();
    procs::tour::check_protocol(
        binary,
        "event-loop",
        &experiments,
        &ids,
        event_loop::claims::ALL,
    )
    .unwrap();
}
