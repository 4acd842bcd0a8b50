//! The tour binary keeps the protocol every lesson shares (see `procs::tour`).

use std::path::Path;

#[test]
fn the_tour_keeps_the_protocol() {
    let binary = Path::new(env!("CARGO_BIN_EXE_sockets"));
    // The quick run makes every claim of the lesson, in order.
    let ids: Vec<&str> = sockets::claims::ALL.iter().map(|c| c.id).collect();
    procs::tour::check_protocol(
        binary,
        "sockets",
        &["by-hand", "downloads", "faults"],
        &ids,
        sockets::claims::ALL,
    )
    .unwrap();
}
