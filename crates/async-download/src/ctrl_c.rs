//! Ctrl-C, for every program of this crate and for a benchmark that links it: the first
//! one asks the work to stop cleanly, a second one exits at once.
//!
//! It has a module of its own because two kinds of caller need it and neither should
//! reach into the other for it: the downloader's command (stop the feed) and a long
//! benchmark (stop after the step in hand, so that its servers are stopped and its
//! temporary files removed).

// ANCHOR: on_ctrl_c
/// Runs `first` on the first Ctrl-C (after saying `what` it does), and exits with 130
/// on a second one. A thread of its own waits for the signal, with tokio's
/// `ctrl_c`, whatever engine (or none) the program runs.
pub fn on_ctrl_c(what: &'static str, first: Box<dyn FnOnce() + Send>) {
    let spawned = std::thread::Builder::new()
        .name("ctrl-c".into())
        .spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async {
                if tokio::signal::ctrl_c().await.is_ok() {
                    eprintln!("\ninterrupted: {what} (Ctrl-C again to quit now)");
                    first();
                }
                if tokio::signal::ctrl_c().await.is_ok() {
                    std::process::exit(130);
                }
            });
        });
    // Without the thread, Ctrl-C keeps its default: the process ends at once, which
    // the journal makes safe too.
    drop(spawned);
}
// ANCHOR_END: on_ctrl_c
