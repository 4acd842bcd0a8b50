//! Ctrl-C: the run stops after the step in hand, so that nginx is stopped and the
//! temporary folder removed; a second Ctrl-C exits at once. (The terminal sends the
//! signal to nginx, wrk and Python too: they stop by themselves.)

use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::PeersError;

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// `Err(Interrupted)` once Ctrl-C was pressed: called between steps.
pub fn checkpoint() -> Result<(), PeersError> {
    // Relaxed: the flag publishes no data; seeing it at a later checkpoint is fine.
    if INTERRUPTED.load(Ordering::Relaxed) {
        Err(PeersError::Interrupted)
    } else {
        Ok(())
    }
}

/// Starts watching for Ctrl-C (once, however often it is called).
pub fn watch_ctrl_c() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        async_download::ctrl_c::on_ctrl_c(
            "cleaning up",
            // Relaxed: see `checkpoint`.
            Box::new(|| INTERRUPTED.store(true, Ordering::Relaxed)),
        );
    });
}
