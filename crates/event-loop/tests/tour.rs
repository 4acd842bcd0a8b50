//! The tour binary keeps the protocol every lesson shares (see `procs::tour`).

use std::path::Path;

#[test]
fn the_tour_keeps_the_protocol() {
    let binary = Path::new(env!("CARGO_BIN_EXE_event-loop"));
    let experiments = ["busy-vs-poll", "turn-cost", "executor", "c10k"];
    procs::tour::check_protocol(binary, "event-loop", &experiments, 8).unwrap();
}
