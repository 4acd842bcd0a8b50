//! Starts N idle threads and keeps them alive, so you can look at them from outside.
//!
//! ```text
//! cargo run --release -p threads --example many_threads -- 1000 30
//! ```
//!
//! Meanwhile, in another terminal: `ps -o nlwp,rss,vsz,cmd -p <pid>` (threads, resident
//! and virtual size), `ls /proc/<pid>/task | wc -l`, `grep -c . /proc/<pid>/maps`.

use std::process::ExitCode;
use std::time::Duration;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!(
            "Usage: cargo run --release -p threads --example many_threads -- [THREADS (default 1000, at most 20000)] [SECONDS (default 30, at most 600)]"
        );
        return ExitCode::SUCCESS;
    }
    let number = |i: usize, default: u64, max: u64| match args.get(i).map(|s| s.parse::<u64>()) {
        None => Some(default),
        Some(Ok(n)) if n <= max => Some(n),
        _ => None,
    };
    let (Some(n), Some(seconds)) = (number(0, 1000, 20_000), number(1, 30, 600)) else {
        eprintln!("error: THREADS must be 0..=20000 and SECONDS 0..=600");
        return ExitCode::from(procs::exit::Exit::Usage);
    };
    let before = procs::proc::self_status();
    let gate = std::sync::Arc::new(threads::gate::Gate::new());
    let mut handles = Vec::new();
    for i in 0..n {
        let gate = gate.clone();
        match std::thread::Builder::new().spawn(move || gate.wait()) {
            Ok(h) => handles.push(h),
            Err(e) => {
                eprintln!("thread {i} could not start: {e}");
                break;
            }
        }
    }
    gate.wait_for_arrivals(handles.len(), Duration::from_secs(60));
    let during = procs::proc::self_status();
    println!(
        "pid {}: {} idle threads running for {seconds} s",
        std::process::id(),
        handles.len()
    );
    if let (Ok(b), Ok(d)) = (before, during) {
        println!(
            "RSS {} -> {} KiB, virtual {} -> {} MiB",
            b.vm_rss / 1024,
            d.vm_rss / 1024,
            b.vm_size >> 20,
            d.vm_size >> 20
        );
    }
    std::thread::sleep(Duration::from_secs(seconds));
    gate.open();
    for h in handles {
        let _ = h.join();
    }
    ExitCode::SUCCESS
}
