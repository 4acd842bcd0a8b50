//! The tour binary keeps the part of the protocol every lesson shares that needs no
//! experiment (see `procs::tour::check_protocol`): `--help`, an unknown flag, and
//! `--falsify`, which must fail every claim on its wrong world. What a run must do the
//! tour checks itself, in the run `cargo xtask run-all` makes.

use std::path::Path;

#[test]
fn the_tour_keeps_the_protocol() {
    let binary = Path::new(env!("CARGO_BIN_EXE_event-loop"));
    procs::tour::check_protocol(binary, event_loop::claims::ALL).unwrap();
}
