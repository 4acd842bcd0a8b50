//! Step 8: a thousand concurrent keep-alive connections, served by the loop's one
//! thread, driven by the C10K client's one thread.
//!
//! Client and server share this process, so it needs two descriptors per connection
//! (the client raises the soft limit to the hard one first). The full experiment, ten
//! thousand connections with the server in its own process, is the example
//! `step8_c10k`; this test keeps the count small enough for any machine and CI runner.
//!
//! This file holds one test on purpose: it counts the process's threads, and the test
//! harness runs the tests of one file on threads of its own.

use std::sync::mpsc;
use std::time::Duration;

use event_loop::step8_server::{self, LoopServerConfig, c10k_client};

fn threads_now() -> u64 {
    procs::proc::self_status().unwrap().threads
}

#[test]
fn one_thread_serves_a_thousand_concurrent_connections() {
    let (done, finished) = mpsc::channel();
    let test = std::thread::spawn(move || {
        let before = threads_now();
        let server = step8_server::start(LoopServerConfig {
            // Longer than opening a thousand connections could take on a slow runner.
            idle_timeout: Duration::from_secs(60),
            ..LoopServerConfig::default()
        })
        .unwrap();
        assert_eq!(threads_now(), before + 1, "the server is one thread");

        let report = c10k_client(server.addr(), 1000, 2, Duration::from_secs(60)).unwrap();
        println!("{report}");
        assert_eq!(report.peak_open, 1000, "{report}");
        assert_eq!(report.connect_failures, 0, "{report}");
        assert_eq!((report.docs_ok, report.docs_failed), (2000, 0), "{report}");
        assert!(report.rss_open >= report.rss_before, "{report}");
        // Still one server thread, and the client added none.
        assert_eq!(threads_now(), before + 1);

        // The client closed every connection when it was done; the server notices
        // each end of stream and lets go.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while server.stats().open_connections > 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(server.stats().open_connections, 0, "{}", server.stats());
        let stats = server.stop();
        assert_eq!(stats.peak_connections, 1000, "{stats}");
        assert_eq!(stats.requests, 2000, "{stats}");
        assert_eq!(stats.connections, 1000, "{stats}");
        let _ = done.send(());
    });
    // The whole test is bounded: a loop that hangs fails it.
    match finished.recv_timeout(Duration::from_secs(90)) {
        Ok(()) => test.join().unwrap(),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            if let Err(panic) = test.join() {
                std::panic::resume_unwind(panic);
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("the C10K test took more than 90 s"),
    }
}
