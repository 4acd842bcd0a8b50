//! The tour binary keeps the protocol every lesson shares (see `procs::tour`).

use std::path::Path;

#[test]
fn the_tour_keeps_the_protocol() {
    let binary = Path::new(env!("CARGO_BIN_EXE_tour"));
    let experiments = ["million", "faults", "resume", "race"];
    procs::tour::check_protocol(binary, "async-download", &experiments, 8).unwrap();
}
