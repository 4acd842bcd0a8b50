//! The tour binary keeps the protocol every lesson shares (see `procs::tour`).

use std::path::Path;

#[test]
fn the_tour_keeps_the_protocol() {
    let experiments = [
        "tree",
        "fork-copies",
        "spawn-cost",
        "lazy-memory",
        "fork-memory",
        "copy-on-write",
        "zombie",
    ];
    let binary = Path::new(env!("CARGO_BIN_EXE_procs"));
    procs::tour::check_protocol(binary, "procs", &experiments, 11).unwrap();
}
