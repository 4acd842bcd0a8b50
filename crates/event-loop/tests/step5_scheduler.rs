//! Step 5's scheduler: timers in deadline order without spinning, spawn/join/cancel,
//! tasks joining tasks, and hand-written downloads against lesson 3's corpus server.
//! Everything on 127.0.0.1; each test runs on its own thread with a time limit, so a
//! scheduler bug fails the test instead of hanging it.

use std::net::TcpListener;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use event_loop::step5_scheduler::{
    Ctx, Download, Exit, FetchError, Scheduler, SchedulerError, Sleeper, Slot, Step, Task, TaskId,
    fetch_all,
};
use sockets::client::read_some;
use sockets::corpus::document_size;
use sockets::server::{ServerConfig, start};

mod common;
use common::{LIMIT, bounded, closed_port, ms, server};

#[test]
fn sleepers_wake_in_deadline_order() {
    bounded(LIMIT, || {
        let mut scheduler = Scheduler::new().unwrap();
        let log = Slot::new();
        for nap in [50, 10, 40, 20, 30] {
            scheduler.spawn(Sleeper::new(nap, ms(nap), 1, &log));
        }
        let start = Instant::now();
        scheduler.run().unwrap();
        assert_eq!(log.take().unwrap(), [10, 20, 30, 40, 50]);
        // Each sleeper sets its deadline at its first step, inside `run`, after `start`:
        // the longest cannot have woken before 50 ms, however busy the machine.
        assert!(start.elapsed() >= ms(50));
        // One turn per deadline, give or take: a scheduler that spun would turn
        // thousands of times in 50 ms.
        let turns = scheduler.stats().turns;
        assert!(turns <= 12, "{turns} turns for 5 deadlines");
    });
}

#[test]
fn a_long_sleep_is_one_turn_not_a_spin() {
    bounded(LIMIT, || {
        let mut scheduler = Scheduler::new().unwrap();
        let log = Slot::new();
        scheduler.spawn(Sleeper::new(1, ms(150), 1, &log));
        scheduler.run().unwrap();
        let stats = scheduler.stats();
        assert_eq!(stats.steps, 2, "one step to fall asleep, one to finish");
        assert!(stats.turns <= 3, "{stats:?}");
    });
}

#[test]
fn spawn_join_and_cancel() {
    bounded(LIMIT, || {
        let mut scheduler = Scheduler::new().unwrap();
        let log = Slot::new();
        let long = scheduler.spawn(Sleeper::new(1, Duration::from_secs(3600), 1, &log));
        let short = scheduler.spawn(Sleeper::new(2, ms(10), 1, &log));
        assert_eq!(scheduler.join(short).unwrap(), Exit::Done);
        assert_eq!(scheduler.tasks(), 1);
        assert!(scheduler.cancel(long));
        assert!(!scheduler.cancel(long), "cancelled already");
        assert_eq!(scheduler.join(long).unwrap(), Exit::Cancelled);
        assert!(matches!(
            scheduler.join(long),
            Err(SchedulerError::UnknownTask(_))
        ));
        assert_eq!(log.take().unwrap(), [2], "the cancelled sleeper never woke");
        // The cancelled task's timer is stale: the loop does not wait the hour for it.
        // (10 s: an hour apart from that wait, and far beyond any busy machine's delay.)
        let start = Instant::now();
        scheduler.run().unwrap();
        assert!(start.elapsed() < Duration::from_secs(10));
    });
}

/// Spawns a child, waits for its end (with a deadline), reports what it saw.
struct Parent {
    child_nap: Duration,
    patience: Duration,
    child: Option<TaskId>,
    report: Slot<(bool, Option<Exit>)>,
}

impl Task for Parent {
    fn step(&mut self, cx: &mut Ctx<'_>) -> Step {
        match self.child {
            None => {
                let log = Slot::new();
                let child = cx.spawn(Sleeper::new(0, self.child_nap, 1, &log));
                self.child = Some(child);
                Step::join(child).until(Instant::now() + self.patience)
            }
            Some(child) => {
                self.report.put((cx.timed_out(), cx.exit_of(child)));
                Step::Done
            }
        }
    }
}

fn parent(child_nap: Duration, patience: Duration) -> (bool, Option<Exit>) {
    let mut scheduler = Scheduler::new().unwrap();
    let report = Slot::new();
    scheduler.spawn(Parent {
        child_nap,
        patience,
        child: None,
        report: report.clone(),
    });
    scheduler.run().unwrap();
    report.take().unwrap()
}

#[test]
fn a_task_joins_another_or_gives_up_at_its_deadline() {
    bounded(LIMIT, || {
        assert_eq!(
            parent(ms(10), Duration::from_secs(10)),
            (false, Some(Exit::Done))
        );
        assert_eq!(parent(ms(300), ms(20)), (true, None), "gave up first");
    });
}

/// Waits for another task, forever.
struct Waiter(Slot<TaskId>);

impl Task for Waiter {
    fn step(&mut self, _cx: &mut Ctx<'_>) -> Step {
        match self.0.take() {
            Some(other) => Step::join(other),
            None => Step::Done,
        }
    }
}

#[test]
fn tasks_waiting_for_each_other_are_reported_not_waited_for() {
    bounded(LIMIT, || {
        let mut scheduler = Scheduler::new().unwrap();
        let (to_b, to_a) = (Slot::new(), Slot::new());
        let a = scheduler.spawn(Waiter(to_b.clone()));
        let b = scheduler.spawn(Waiter(to_a.clone()));
        to_b.put(b);
        to_a.put(a);
        assert!(matches!(
            scheduler.run(),
            Err(SchedulerError::Stalled { tasks: 2 })
        ));
    });
}

/// Yields `left` times, then finishes.
struct Busy {
    left: u32,
}

impl Task for Busy {
    fn step(&mut self, _cx: &mut Ctx<'_>) -> Step {
        if self.left == 0 {
            return Step::Done;
        }
        self.left -= 1;
        Step::Yield
    }
}

#[test]
fn busy_tasks_do_not_starve_timers() {
    bounded(LIMIT, || {
        let mut scheduler = Scheduler::new().unwrap();
        let log = Slot::new();
        // Busy for good (a billion yields): the sleeper's 5 ms must pass while they are
        // still at it, on a fast machine or a slow one. A scheduler that let them starve
        // the timer would never wake the sleeper, and the test's time limit would fail it.
        let busy: Vec<TaskId> = (0..10)
            .map(|_| {
                scheduler.spawn(Busy {
                    left: 1_000_000_000,
                })
            })
            .collect();
        let sleeper = scheduler.spawn(Sleeper::new(7, ms(5), 1, &log));
        assert_eq!(scheduler.join(sleeper).unwrap(), Exit::Done);
        assert_eq!(log.take().unwrap(), [7]);
        assert_eq!(scheduler.tasks(), 10, "the busy tasks are still at it");
        for id in busy {
            assert!(scheduler.cancel(id));
        }
        scheduler.run().unwrap();
    });
}

#[test]
fn downloads_against_the_corpus_server() {
    bounded(LIMIT, || {
        let server = start(ServerConfig::default()).unwrap();
        let ids: Vec<u64> = (0..100).collect();
        let results = fetch_all(server.addr(), &ids, Duration::from_secs(10)).unwrap();
        for (&id, result) in ids.iter().zip(&results) {
            match result {
                Ok(len) => assert_eq!(*len, document_size(id)),
                Err(e) => panic!("document {id}: {e}"),
            }
        }
        assert_eq!(server.stop().requests, 100);
    });
}

#[test]
fn a_slow_server_costs_a_timeout_and_a_refused_connect_an_error() {
    bounded(LIMIT, || {
        // A minute of latency: a fetch that waited for the reply instead of giving up
        // would be told apart by its result (not a timeout) and by the time limit.
        let slow = server(60_000);
        let start = Instant::now();
        let results = fetch_all(slow.addr(), &[1, 2, 3], ms(200)).unwrap();
        // Guards against a hang: the timeouts end it after 200 ms.
        assert!(start.elapsed() < Duration::from_secs(10));
        for result in results {
            assert!(
                matches!(
                    result,
                    Err(FetchError::Timeout {
                        doing: "receiving the response",
                        ..
                    })
                ),
                "{result:?}"
            );
        }
        drop(slow);

        let closed = closed_port();
        let results = fetch_all(closed, &[1], Duration::from_secs(5)).unwrap();
        assert!(
            matches!(results[0], Err(FetchError::Connect { .. })),
            "{results:?}"
        );
    });
}

#[test]
fn cancelling_a_download_closes_its_socket() {
    bounded(LIMIT, || {
        // A server that accepts, reads the request, and never answers; then reports
        // whether it saw the end of the stream.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let (saw_eof, eof) = mpsc::channel();
        std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            let mut buf = [0u8; 1024];
            loop {
                match read_some(&mut stream, &mut buf) {
                    Ok(0) => break saw_eof.send(true).unwrap(),
                    Ok(_) => {}
                    Err(_) => break saw_eof.send(false).unwrap(),
                }
            }
        });
        let mut scheduler = Scheduler::new().unwrap();
        let (download, result) = Download::new(addr, 1, Duration::from_secs(30));
        let task = scheduler.spawn(download);
        // Let the download connect and send its request, then wait for the answer.
        let log = Slot::new();
        let nap = scheduler.spawn(Sleeper::new(0, ms(100), 1, &log));
        scheduler.join(nap).unwrap();
        assert_eq!(scheduler.open_sockets(), 1);
        assert!(scheduler.cancel(task));
        assert_eq!(scheduler.open_sockets(), 0);
        assert!(result.take().is_none(), "a cancelled task leaves no result");
        assert_eq!(
            eof.recv_timeout(Duration::from_secs(5)),
            Ok(true),
            "the server saw the connection close"
        );
    });
}
