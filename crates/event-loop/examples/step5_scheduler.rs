//! Step 5: a scheduler of hand-written tasks, in three small scenes.
//!
//! ```text
//! cargo run -p event-loop --example step5_scheduler -- [downloads]
//! ```
//!
//! 1. Sleepers: five tasks sleep for different times; they wake in deadline order, and
//!    the scheduler turns about once per deadline (it sleeps in `epoll_wait`, it does
//!    not spin).
//! 2. Cancel: a task that would sleep for a minute is cancelled; `join` says so at once.
//! 3. Downloads: one `Download` task per document against lesson 3's corpus server, all
//!    at once, in one thread.
//!
//! Things to try: give a sleeper a nap of zero; make a `Task` that returns `Step::Yield`
//! forever and see that the sleepers still wake on time; count `stats().steps`.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use event_loop::step5_scheduler::{Scheduler, Sleeper, Slot, fetch_all};
use sockets::server::{ServerConfig, start};

fn main() -> ExitCode {
    let downloads: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200);
    match run(downloads) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(downloads: u64) -> Result<(), Box<dyn std::error::Error>> {
    // 1. Sleepers.
    let mut scheduler = Scheduler::new()?;
    let log = Slot::new();
    for nap in [300, 100, 400, 200, 500] {
        scheduler.spawn(Sleeper::new(nap, Duration::from_millis(nap), 1, &log));
    }
    let start = Instant::now();
    scheduler.run()?;
    println!(
        "sleepers woke in this order: {:?} (ms), after {:.0} ms, in {} turns of the loop",
        log.take().unwrap_or_default(),
        start.elapsed().as_secs_f64() * 1e3,
        scheduler.stats().turns
    );

    // 2. Cancel.
    let long = scheduler.spawn(Sleeper::new(1, Duration::from_secs(60), 1, &log));
    let start = Instant::now();
    scheduler.cancel(long);
    println!(
        "a 60 s sleeper, cancelled: join says {:?} after {:.1} ms",
        scheduler.join(long)?,
        start.elapsed().as_secs_f64() * 1e3
    );

    // 3. Downloads.
    let server = start_server()?;
    let ids: Vec<u64> = (0..downloads).collect();
    let start = Instant::now();
    let results = fetch_all(server.addr(), &ids, Duration::from_secs(10))?;
    let wall = start.elapsed();
    let ok = results.iter().filter(|r| r.is_ok()).count();
    let bytes: usize = results.iter().filter_map(|r| r.as_ref().ok()).sum();
    println!(
        "{ok} of {downloads} documents ({:.1} MB) in {:.0} ms, one task and one connection \
         each, one thread",
        bytes as f64 / 1e6,
        wall.as_secs_f64() * 1e3
    );
    for (id, result) in ids.iter().zip(&results) {
        if let Err(e) = result {
            println!("  document {id}: {e}");
        }
    }
    server.stop();
    Ok(())
}

fn start_server() -> std::io::Result<sockets::server::ServerHandle> {
    start(ServerConfig::default())
}
