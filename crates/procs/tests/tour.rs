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
    // The quick run makes every claim of the lesson, in order.
    let ids: Vec<&str> = procs::claims::ALL.iter().map(|c| c.id).collect();
    procs::tour::check_protocol(binary, "procs", &experiments, &ids, procs::claims::ALL).unwrap();
}
