//! Thousands of tasks on one thread: 5,000 sleeping and yielding tasks, and 1,000
//! concurrent downloads (1,000 connections) against lesson 3's corpus server, all in one
//! `block_on`, under a time limit. Every task must finish, every document arrive.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use event_loop::fd_limit::raise_fd_limit;
use event_loop::step7_executor::{Executor, download, sleep, spawn, yield_now};
use sockets::server::{ServerConfig, start};

#[test]
fn thousands_of_tasks_and_a_thousand_downloads() {
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(body());
    });
    let (woke, report) = finished
        .recv_timeout(Duration::from_secs(60))
        .expect("the stress test finished in time, without panicking");
    assert_eq!(woke, 5_000);
    assert_eq!(report, (3_000, 0));
}

fn body() -> (u64, (u64, u64)) {
    // Each connection costs two descriptors in this process (both ends are here).
    let _ = raise_fd_limit();
    let server = start(ServerConfig::default()).unwrap();
    let addr = server.addr();
    let executor = Executor::new().unwrap();
    let start = Instant::now();
    let result = executor
        .block_on(async move {
            let woke = Rc::new(Cell::new(0u64));
            let sleepers: Vec<_> = (0..5_000u64)
                .map(|i| {
                    let woke = woke.clone();
                    spawn(async move {
                        for _ in 0..(i % 3) {
                            yield_now().await;
                        }
                        sleep(Duration::from_millis(i % 200)).await;
                        yield_now().await;
                        woke.set(woke.get() + 1);
                    })
                })
                .collect();
            let report = download(addr, (0..3_000).collect(), 1_000).await;
            for sleeper in sleepers {
                sleeper.await.unwrap();
            }
            for (id, error) in report.failures.iter().take(5) {
                eprintln!("document {id}: {error}");
            }
            (woke.get(), (report.ok, report.failed))
        })
        .unwrap();
    eprintln!(
        "5,000 tasks and 3,000 documents over 1,000 connections in {:.2} s ({:?})",
        start.elapsed().as_secs_f64(),
        executor.stats()
    );
    assert_eq!(executor.tasks(), 0);
    assert_eq!(executor.reactor().registered(), (0, 0));
    result
}
