//! The thread pool at work: jobs, back-pressure, a panic, a graceful shutdown.
//!
//! ```text
//! cargo run -p threads --example pool
//! ```
//!
//! Change the number of workers or the queue's capacity and watch the timestamps.

use std::time::{Duration, Instant};

use threads::ThreadPool;

fn main() -> Result<(), threads::pool::PoolError> {
    if std::env::args().any(|a| a == "-h" || a == "--help") {
        println!("Usage: cargo run -p threads --example pool   (no options: edit the source)");
        return Ok(());
    }
    let start = Instant::now();
    // ANCHOR: pool_demo
    // Two workers, at most two jobs waiting: the third `execute` blocks (back-pressure).
    let pool = ThreadPool::bounded(2, 2)?;
    for job in 0..6 {
        pool.execute(move || {
            std::thread::sleep(Duration::from_millis(100));
            println!(
                "{:>4} ms: job {job} done on {:?}",
                start.elapsed().as_millis(),
                std::thread::current().name()
            );
        })?;
        println!("{:>4} ms: job {job} queued", start.elapsed().as_millis());
    }
    pool.execute(|| panic!("job 6 fails"))?;
    let report = pool.shutdown();
    // ANCHOR_END: pool_demo
    println!(
        "{:>4} ms: shut down: {report:?}",
        start.elapsed().as_millis()
    );
    Ok(())
}
