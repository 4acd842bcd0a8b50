//! A `Flag` at work: one thread sleeps until another sets it, and a late waiter.
//!
//! ```text
//! cargo run -p threads --example flag
//! ```

use std::time::{Duration, Instant};

use threads::flag::Flag;

fn main() {
    if std::env::args().any(|a| a == "-h" || a == "--help") {
        println!("Usage: cargo run -p threads --example flag   (no options: edit the source)");
        return;
    }
    let start = Instant::now();
    let flag = Flag::new();
    std::thread::scope(|s| {
        s.spawn(|| {
            flag.wait();
            println!("{:>4} ms: the waiter wakes", start.elapsed().as_millis());
        });
        // The waiter sleeps meanwhile: it uses no CPU until `set` wakes it.
        std::thread::sleep(Duration::from_millis(200));
        println!("{:>4} ms: main sets the flag", start.elapsed().as_millis());
        flag.set();
    });
    // Nobody waits now, so no notification reaches this call; the state says "set".
    flag.wait();
    println!(
        "{:>4} ms: a late waiter returns at once",
        start.elapsed().as_millis()
    );
}
