//! Step 4, the callback loop: timers in deadline order without spinning, a loop that
//! returns once nothing is registered, edges that come before their callback, and step
//! 3's batch downloaded by chains of callbacks: every document verified, the same as
//! step 3's, on keep-alive connections; servers that close early, refuse or stay silent
//! cost an error per document, never a hang. Everything on 127.0.0.1 (ports the system
//! picks); each test runs on its own thread with a time limit.

use std::cell::RefCell;
use std::io::{ErrorKind, Write};
use std::net::TcpListener;
use std::rc::Rc;
use std::time::{Duration, Instant};

use event_loop::step3_mio;
use event_loop::step4_callbacks::{Batch, FetchError, Loop, download, fetch_one};
use sockets::corpus::{FaultKind, FaultPlan, document_size};
use sockets::server::{ServerConfig, start};

mod common;
use common::{LIMIT, bounded, closed_port, ms, server, sizes};

/// A log the callbacks of a test write to.
type Log<T> = Rc<RefCell<Vec<T>>>;

fn log<T>() -> Log<T> {
    Rc::new(RefCell::new(Vec::new()))
}

#[test]
fn timers_fire_in_deadline_order_without_spinning() {
    bounded(LIMIT, || {
        let mut lp = Loop::new().unwrap();
        let fired = log();
        let start = Instant::now();
        for nap in [50u64, 10, 40, 20, 30] {
            let fired = fired.clone();
            lp.call_later(ms(nap), move |_| fired.borrow_mut().push(nap));
        }
        lp.run().unwrap();
        assert_eq!(*fired.borrow(), [10, 20, 30, 40, 50]);
        // Timers never fire early, however busy the machine.
        assert!(start.elapsed() >= ms(50));
        // About one turn per deadline: a loop that spun would turn thousands of times.
        let stats = lp.stats();
        assert!(stats.turns <= 12, "{stats:?}");
        assert_eq!(stats.callbacks, 5);
    });
}

#[test]
fn timers_with_one_deadline_fire_in_the_order_they_were_set() {
    bounded(LIMIT, || {
        let mut lp = Loop::new().unwrap();
        let fired = log();
        let at = Instant::now() + ms(20);
        for label in 0..5 {
            let fired = fired.clone();
            lp.call_at(at, move |_| fired.borrow_mut().push(label));
        }
        lp.run().unwrap();
        assert_eq!(*fired.borrow(), [0, 1, 2, 3, 4]);
    });
}

#[test]
fn a_timer_can_set_the_next_one() {
    bounded(LIMIT, || {
        // A chain of three timers, each set by the one before: the loop keeps running
        // while one is set, and stops after the last.
        fn tick(lp: &mut Loop, left: u32, fired: Log<u32>) {
            fired.borrow_mut().push(left);
            if left > 0 {
                lp.call_later(ms(5), move |lp| tick(lp, left - 1, fired));
            }
        }
        let mut lp = Loop::new().unwrap();
        let fired = log();
        let first = fired.clone();
        lp.call_soon(move |lp| tick(lp, 3, first));
        lp.run().unwrap();
        assert_eq!(*fired.borrow(), [3, 2, 1, 0]);
        assert_eq!(lp.pending_timers(), 0);
    });
}

#[test]
fn a_cancelled_timer_never_fires_and_holds_nothing() {
    bounded(LIMIT, || {
        let mut lp = Loop::new().unwrap();
        let fired = log();
        let hour = {
            let fired = fired.clone();
            lp.call_later(Duration::from_secs(3600), move |_| {
                fired.borrow_mut().push("hour")
            })
        };
        let short = fired.clone();
        lp.call_later(ms(10), move |_| short.borrow_mut().push("short"));
        assert!(lp.cancel(hour));
        assert!(!lp.cancel(hour), "cancelled already");
        // Cancelled, it holds nothing: only the short timer keeps the loop running.
        assert_eq!(lp.pending_timers(), 1);
        // The cancelled timer is skipped, not waited for: a loop that waited the hour
        // would fail `bounded` instead of returning.
        lp.run().unwrap();
        assert!(lp.is_idle());
        assert_eq!(*fired.borrow(), ["short"]);
    });
}

#[test]
fn the_loop_returns_when_nothing_is_registered() {
    bounded(LIMIT, || {
        // Nothing at all: no wait.
        let mut lp = Loop::new().unwrap();
        lp.run().unwrap();
        assert_eq!(lp.stats().turns, 0);
        assert!(
            !lp.turn().unwrap(),
            "a turn with nothing registered does not wait"
        );

        // A watched socket with no callback waiting can call nobody: no wait either.
        let (mut ours, _theirs) = mio::net::UnixStream::pair().unwrap();
        let socket = lp.add(&mut ours).unwrap();
        assert_eq!(lp.watched_sockets(), 1);
        lp.run().unwrap();
        assert_eq!(lp.stats().turns, 0);

        // A callback waiting for it keeps the loop running; removing the socket drops
        // the callback, never called, and the loop returns at once.
        let called = log();
        let called_too = called.clone();
        lp.when_readable(socket, move |_| called_too.borrow_mut().push(()));
        assert!(!lp.is_idle());
        lp.remove(&mut ours, socket);
        assert!(lp.is_idle());
        lp.run().unwrap();
        assert!(called.borrow().is_empty());
        assert_eq!(lp.watched_sockets(), 0);
    });
}

#[test]
fn a_callback_is_called_once_per_registration() {
    bounded(LIMIT, || {
        let mut lp = Loop::new().unwrap();
        let (mut ours, mut theirs) = mio::net::UnixStream::pair().unwrap();
        let socket = lp.add(&mut ours).unwrap();
        theirs.write_all(b"x").unwrap();
        let calls = log();
        let calls_too = calls.clone();
        lp.when_readable(socket, move |_| calls_too.borrow_mut().push(()));
        // The bytes stay unread, and the callback registered nothing after itself: the
        // loop has nothing left, and returns.
        lp.run().unwrap();
        assert_eq!(calls.borrow().len(), 1);
        assert!(lp.is_idle());
    });
}

#[test]
fn an_edge_that_came_before_its_callback_is_not_lost() {
    bounded(LIMIT, || {
        let mut lp = Loop::new().unwrap();
        let (mut ours, mut theirs) = mio::net::UnixStream::pair().unwrap();
        let socket = lp.add(&mut ours).unwrap();
        // The byte arrives, and a turn takes its event while no callback waits for it
        // (a timer keeps the loop turning until the event has surely been taken).
        theirs.write_all(b"x").unwrap();
        lp.call_later(ms(50), |_| {});
        lp.run().unwrap();
        assert!(lp.stats().events >= 1, "{:?}", lp.stats());
        // Edge-triggered: no new byte, no new event. The callback registered now is
        // called anyway, at the next turn, without a wait.
        let called = log();
        let called_too = called.clone();
        lp.when_readable(socket, move |_| called_too.borrow_mut().push(()));
        assert!(lp.turn().unwrap());
        assert_eq!(called.borrow().len(), 1);
        lp.remove(&mut ours, socket);
    });
}

#[test]
fn downloads_every_document_verified_on_keep_alive_connections() {
    bounded(LIMIT, || {
        let s = server(0);
        // Fewer connections than documents: each connection carries many documents.
        let batch = Batch {
            concurrency: 7,
            ..Batch::new(s.addr(), 500..700)
        };
        let report = download(&batch).unwrap();
        assert!(report.failures.is_empty(), "{:?}", report.failures);
        // Each document passed its checksum; together they weigh what the corpus says.
        assert_eq!((report.ok, report.bytes), (200, sizes(500..700)));
        assert_eq!(report.connections, 7, "one keep-alive connection per chain");
        let stats = s.stop();
        assert_eq!((stats.connections, stats.requests), (7, 200));
    });
}

#[test]
fn the_same_documents_as_step_3() {
    bounded(LIMIT, || {
        let s = server(0);
        let batch = Batch {
            concurrency: 10,
            ..Batch::new(s.addr(), 0..120)
        };
        let step3 = step3_mio::download(&batch).unwrap();
        let step4 = download(&batch).unwrap();
        assert!(step4.failures.is_empty(), "{:?}", step4.failures);
        assert_eq!((step4.ok, step4.bytes), (step3.ok, step3.bytes));
        assert_eq!(step4.ok, 120);
    });
}

#[test]
fn reads_are_drained_however_small_the_buffer() {
    bounded(LIMIT, || {
        let s = server(0);
        // Each document takes dozens of reads of 100 bytes after its one event.
        let batch = Batch {
            read_buffer: 100,
            concurrency: 4,
            ..Batch::new(s.addr(), 40..80)
        };
        let report = download(&batch).unwrap();
        assert!(report.failures.is_empty(), "{:?}", report.failures);
        assert_eq!(report.bytes, sizes(40..80));
    });
}

#[test]
fn the_loop_sleeps_while_the_server_takes_its_time() {
    bounded(LIMIT, || {
        let s = server(40);
        let report = download(&Batch {
            concurrency: 5,
            ..Batch::new(s.addr(), 0..10)
        })
        .unwrap();
        assert_eq!(report.ok, 10, "{:?}", report.failures);
        // Two rounds of 40 ms: a few turns each. A loop that spun would turn thousands
        // of times.
        assert!(
            report.turns <= 40,
            "{} turns for 10 documents",
            report.turns
        );
    });
}

/// Lesson 3's server with one fault on every document.
fn faulty(kind: FaultKind) -> sockets::server::ServerHandle {
    start(ServerConfig {
        faults: FaultPlan {
            rate: 1.0,
            kinds: vec![kind],
            ..FaultPlan::none()
        },
        ..ServerConfig::default()
    })
    .unwrap()
}

#[test]
fn a_server_that_closes_after_each_reply_costs_a_connection_per_document() {
    bounded(LIMIT, || {
        // No Content-Length: each body ends when the server closes the connection, so
        // the response says the connection cannot carry another request.
        let s = faulty(FaultKind::Close);
        let report = download(&Batch {
            concurrency: 3,
            ..Batch::new(s.addr(), 0..12)
        })
        .unwrap();
        assert!(report.failures.is_empty(), "{:?}", report.failures);
        assert_eq!((report.ok, report.bytes), (12, sizes(0..12)));
        assert_eq!(report.connections, 12);
    });
}

#[test]
fn a_server_that_closes_early_fails_each_document() {
    bounded(LIMIT, || {
        // The server reads each request and closes without a word.
        let s = faulty(FaultKind::Drop);
        let report = download(&Batch {
            concurrency: 3,
            ..Batch::new(s.addr(), 0..9)
        })
        .unwrap();
        assert_eq!((report.ok, report.failed()), (0, 9));
        for (id, error) in &report.failures {
            assert!(
                matches!(error, FetchError::Closed | FetchError::Io { .. }),
                "document {id}: {error}"
            );
        }
        // After each failure, a new connection for the next document.
        assert_eq!(report.connections, 9);
    });
}

#[test]
fn a_body_cut_short_fails_its_document() {
    bounded(LIMIT, || {
        let s = faulty(FaultKind::Truncate);
        let report = download(&Batch {
            concurrency: 2,
            ..Batch::new(s.addr(), 0..6)
        })
        .unwrap();
        assert_eq!((report.ok, report.failed()), (0, 6));
        for (id, error) in &report.failures {
            assert!(
                matches!(error, FetchError::Http(_)),
                "document {id}: {error}"
            );
        }
    });
}

#[test]
fn a_refused_connect_is_reported_for_every_document() {
    bounded(LIMIT, || {
        let report = download(&Batch {
            concurrency: 2,
            ..Batch::new(closed_port(), 0..5)
        })
        .unwrap();
        assert_eq!((report.ok, report.failed()), (0, 5));
        for (id, error) in &report.failures {
            let FetchError::Connect { source, .. } = error else {
                panic!("document {id}: {error}");
            };
            assert_eq!(source.kind(), ErrorKind::ConnectionRefused);
        }
    });
}

#[test]
fn a_silent_server_costs_a_timeout_per_document_not_a_hang() {
    bounded(LIMIT, || {
        // It accepts (the kernel does, into the backlog) and never answers.
        let silent = TcpListener::bind("127.0.0.1:0").unwrap();
        let batch = Batch {
            concurrency: 5,
            timeout: ms(120),
            ..Batch::new(silent.local_addr().unwrap(), 0..10)
        };
        let report = download(&batch).unwrap();
        assert_eq!(report.failed(), 10);
        for (id, error) in &report.failures {
            assert!(
                matches!(
                    error,
                    FetchError::Timeout {
                        doing: "receiving the response",
                        ..
                    }
                ),
                "document {id}: {error}"
            );
        }
        // It slept until each deadline: two rounds of timers, a few turns.
        assert!(report.turns < 100, "{} turns: it slept", report.turns);
    });
}

#[test]
fn documents_not_started_in_the_runs_time_fail() {
    bounded(LIMIT, || {
        let silent = TcpListener::bind("127.0.0.1:0").unwrap();
        // One connection, 100 ms per document, 250 ms for the run: at most three
        // documents start (at 0, 100 and 200 ms, later on a busy machine, the third cut
        // at the run's deadline); the others never do.
        let batch = Batch {
            concurrency: 1,
            timeout: ms(100),
            run_timeout: ms(250),
            ..Batch::new(silent.local_addr().unwrap(), 0..10)
        };
        let report = download(&batch).unwrap();
        assert_eq!(report.failed(), 10);
        let never = report
            .failures
            .iter()
            .filter(|(_, e)| {
                matches!(
                    e,
                    FetchError::Timeout {
                        doing: "waiting for a connection",
                        ..
                    }
                )
            })
            .count();
        assert!((7..=9).contains(&never), "{:?}", report.failures);
    });
}

#[test]
fn concurrency_zero_is_refused() {
    let batch = Batch {
        concurrency: 0,
        ..Batch::new(closed_port(), 0..3)
    };
    assert!(download(&batch).is_err());
}

#[test]
fn fetch_one_chains_the_links_and_closes_behind_it() {
    bounded(LIMIT, || {
        let s = server(0);
        let mut lp = Loop::new().unwrap();
        let results = log();
        for id in [3u64, 1234, 99] {
            let results = results.clone();
            fetch_one(&mut lp, s.addr(), id, move |lp, result| {
                // The connection is closed before `then` runs.
                results
                    .borrow_mut()
                    .push((id, result.ok(), lp.watched_sockets()));
            });
        }
        lp.run().unwrap();
        let mut results = results.take();
        results.sort_by_key(|&(id, _, _)| id);
        let lens: Vec<(u64, Option<usize>)> =
            results.iter().map(|&(id, len, _)| (id, len)).collect();
        assert_eq!(lens, [3, 99, 1234].map(|id| (id, Some(document_size(id)))));
        // The last one to finish saw no socket left.
        assert!(results.iter().any(|&(_, _, open)| open == 0));
        assert_eq!(lp.watched_sockets(), 0);
    });
}

#[test]
fn a_failure_known_at_once_is_still_reported_later() {
    bounded(LIMIT, || {
        let mut lp = Loop::new().unwrap();
        let result = Rc::new(RefCell::new(None));
        let seen = result.clone();
        let conn = fetch_one(&mut lp, closed_port(), 1, move |_, r| {
            *seen.borrow_mut() = Some(r);
        });
        // `then` has not run: whatever happened, the caller got the connection first.
        assert!(result.borrow().is_none());
        lp.run().unwrap();
        assert!(!conn.is_open());
        let result = result.take();
        assert!(
            matches!(result, Some(Err(FetchError::Connect { .. }))),
            "{result:?}"
        );
    });
}

#[test]
fn closing_the_connection_stops_the_chain() {
    bounded(LIMIT, || {
        // A server that never answers: the chain waits for the response, until a
        // timer of the test closes the connection. Then nothing is called any more,
        // and the loop, with nothing registered, returns.
        let silent = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut lp = Loop::new().unwrap();
        let called = log();
        let called_too = called.clone();
        let conn = fetch_one(&mut lp, silent.local_addr().unwrap(), 1, move |_, _| {
            called_too.borrow_mut().push(())
        });
        let doing = Rc::new(RefCell::new(""));
        let (conn_too, doing_too) = (conn.clone(), doing.clone());
        lp.call_later(ms(100), move |lp| {
            *doing_too.borrow_mut() = conn_too.doing();
            event_loop::step4_callbacks::close(lp, &conn_too);
        });
        lp.run().unwrap();
        assert!(called.borrow().is_empty(), "`then` is never called");
        assert_eq!(*doing.borrow(), "receiving the response");
        assert_eq!(lp.watched_sockets(), 0);
    });
}
