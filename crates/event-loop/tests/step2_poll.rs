//! Step 2, the `poll(2)` loop and the download state machine: documents arrive verified,
//! the loop sleeps instead of spinning, a non-blocking connect reports its failure
//! through the socket error, early (spurious) wake-ups do no harm, and every failure
//! says what went wrong. Servers are on 127.0.0.1 with ports the system picks; every
//! wait is bounded.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::os::fd::AsFd;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use event_loop::step2_poll::{
    Batch, Download, DownloadError, Progress, RunError, Want, download, interest, start_connect,
};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use sockets::corpus::document;
use sockets::http::HttpError;

mod common;
use common::{closed_port, server, sizes};

/// The longest any wait of these tests may take: far beyond what any of them needs
/// (milliseconds), so that only a hang reaches it, never a busy machine.
const HANG_GUARD: Duration = Duration::from_secs(10);

/// A server that answers each of `count` connections with `reply` (after reading the
/// request's first bytes), then closes it. Gives up after twice [`HANG_GUARD`].
fn canned(reply: &'static [u8], count: usize) -> (SocketAddr, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    let handle = std::thread::spawn(move || {
        let deadline = Instant::now() + 2 * HANG_GUARD;
        let mut served = 0;
        while served < count && Instant::now() < deadline {
            match listener.accept() {
                Ok((mut stream, _)) => {
                    stream.set_nonblocking(false).unwrap();
                    stream.set_read_timeout(Some(HANG_GUARD)).unwrap();
                    let _ = stream.read(&mut [0u8; 1024]);
                    let _ = stream.write_all(reply);
                    served += 1;
                }
                Err(_) => std::thread::sleep(Duration::from_millis(1)),
            }
        }
    });
    (addr, handle)
}

/// A server for one connection that reads the request, then holds back the reply
/// (document `id`, whole) until the test sends on the returned channel (or twice
/// [`HANG_GUARD`] passes). Until then the download can find nothing to read, however
/// long the test takes between two steps.
fn held_reply(id: u64) -> (SocketAddr, mpsc::Sender<()>, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (release, released) = mpsc::channel::<()>();
    let handle = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(HANG_GUARD)).unwrap();
        let _ = stream.read(&mut [0u8; 1024]);
        let _ = released.recv_timeout(2 * HANG_GUARD);
        let body = document(id);
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        let _ = stream.write_all(head.as_bytes());
        let _ = stream.write_all(&body);
    });
    (addr, release, handle)
}

/// Drives one download with `poll(2)` until it is done; panics after `limit`.
fn drive(download: &mut Download, limit: Duration) -> usize {
    let deadline = Instant::now() + limit;
    let mut buf = [0u8; 4096];
    let mut turns = 0;
    while download.advance(&mut buf) != Progress::Done {
        assert!(Instant::now() < deadline, "still {}", download.doing());
        let mut fds = [PollFd::new(download.as_fd(), interest(download.wants()))];
        poll(&mut fds, PollTimeout::from(100u8)).unwrap();
        turns += 1;
    }
    turns
}

fn far() -> Instant {
    Instant::now() + Duration::from_secs(10)
}

#[test]
fn downloads_every_document_verified() {
    let s = server(0);
    // Fewer connections than documents: finished downloads free their slots for new ones.
    let batch = Batch {
        concurrency: 16,
        ..Batch::new(s.addr(), 1000..1200)
    };
    let report = download(&batch).unwrap();
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert_eq!(report.ok, 200);
    assert_eq!(report.bytes, sizes(1000..1200));
    s.stop();
}

#[test]
fn the_loop_sleeps_while_the_server_takes_its_time() {
    let s = server(40);
    let batch = Batch {
        concurrency: 10,
        ..Batch::new(s.addr(), 0..10)
    };
    let report = download(&batch).unwrap();
    assert_eq!(report.ok, 10, "{:?}", report.failures);
    // A turn is a wake-up with something to do: a few per document at most (connected,
    // response bytes), never one per microsecond of waiting as in step 1.
    assert!(
        report.turns <= 40,
        "{} turns for 10 documents",
        report.turns
    );
    // The run's clock starts before any request is sent, and each reply waits 40 ms
    // after its request arrives: a lower bound no busy machine can break.
    assert!(report.wall >= Duration::from_millis(40), "{report}");
    s.stop();
}

#[test]
fn a_refused_connect_shows_up_as_the_socket_error() {
    let addr = closed_port();
    // `connect` itself only starts the handshake...
    let stream = match start_connect(addr) {
        Ok(stream) => stream,
        // (A kernel may also refuse at once; then there is nothing to wait for.)
        Err(e) => {
            assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused);
            return;
        }
    };
    // ... the socket becomes "writable" when it ends, successfully or not (at once on
    // loopback; the 10 s only bounds a hang) ...
    let mut fds = [PollFd::new(stream.as_fd(), PollFlags::POLLOUT)];
    assert_eq!(poll(&mut fds, PollTimeout::from(10_000u16)).unwrap(), 1);
    let revents = fds[0].revents().unwrap();
    assert!(
        revents.intersects(PollFlags::POLLOUT | PollFlags::POLLERR | PollFlags::POLLHUP),
        "{revents:?}"
    );
    // ... and only the socket error tells which.
    let error = stream
        .take_error()
        .unwrap()
        .expect("a pending socket error");
    assert_eq!(error.kind(), std::io::ErrorKind::ConnectionRefused);
    assert!(
        stream.take_error().unwrap().is_none(),
        "reading SO_ERROR clears it"
    );
}

#[test]
fn the_machine_reports_a_refused_connect_as_a_connect_error() {
    let addr = closed_port();
    let mut machine = match Download::start(addr, "x", "/wiki/1", Instant::now(), far()) {
        Ok(d) => d,
        Err(DownloadError::Connect { source, .. }) => {
            assert_eq!(source.kind(), std::io::ErrorKind::ConnectionRefused);
            return;
        }
        Err(e) => panic!("{e}"),
    };
    drive(&mut machine, HANG_GUARD);
    match machine.into_result() {
        Err(DownloadError::Connect { addr: a, source }) => {
            assert_eq!(a, addr);
            assert_eq!(source.kind(), std::io::ErrorKind::ConnectionRefused);
        }
        other => panic!("expected a connect error, got {other:?}"),
    }
    // The whole loop says the same for every document.
    let report = download(&Batch::new(addr, 0..5)).unwrap();
    assert_eq!(report.failed(), 5);
    assert!(
        report
            .failures
            .iter()
            .all(|(_, e)| matches!(e, DownloadError::Connect { .. })),
        "{:?}",
        report.failures
    );
}

#[test]
fn early_wake_ups_are_harmless() {
    // The reply is held back until the test lets it go: "nothing yet" is a fact here,
    // not a race against a server's delay.
    let (addr, release, held) = held_reply(7);
    let mut download = Download::start(addr, "x", "/wiki/7", Instant::now(), far()).unwrap();
    let mut buf = [0u8; 4096];
    // Called before anything can have happened, over and over: each call only finds
    // "not yet" and leaves the machine where it was.
    let mut first = download.advance(&mut buf);
    for _ in 0..100 {
        let again = download.advance(&mut buf);
        assert!(matches!(again, Progress::Wait(_)), "{again:?}");
        first = again;
    }
    // Once the request is out, the reply is held back: reading finds nothing.
    let deadline = Instant::now() + HANG_GUARD;
    while first == Progress::Wait(Want::Write) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
        first = download.advance(&mut buf);
    }
    assert_eq!(first, Progress::Wait(Want::Read));
    assert_eq!(download.advance(&mut buf), Progress::Wait(Want::Read));
    assert_eq!(download.doing(), "reading the response");
    // A poll that times out with nothing ready is just another early wake-up.
    let mut fds = [PollFd::new(download.as_fd(), PollFlags::POLLIN)];
    assert_eq!(poll(&mut fds, PollTimeout::ZERO).unwrap(), 0);
    release.send(()).unwrap();
    drive(&mut download, HANG_GUARD);
    let response = download.into_result().unwrap();
    assert_eq!(response.body, document(7));
    held.join().unwrap();
}

#[test]
fn a_silent_server_costs_a_timeout_that_says_where() {
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let batch = Batch {
        concurrency: 3,
        timeout: Duration::from_millis(100),
        ..Batch::new(silent.local_addr().unwrap(), 0..6)
    };
    let start = Instant::now();
    let report = download(&batch).unwrap();
    // Guards against a hang: a loop that ignored the 100 ms timeouts would wait for the
    // batch's 60 s run deadline.
    assert!(start.elapsed() < HANG_GUARD, "{:?}", start.elapsed());
    // Two waves of three, each given up at its deadline, sleeping in between. A lower
    // bound a busy machine cannot break: the second wave's deadlines are set when it
    // starts, after the first wave's have passed, and both are later than `start`.
    assert!(start.elapsed() >= Duration::from_millis(200));
    assert!(report.turns < 100, "{} turns", report.turns);
    assert_eq!(report.failed(), 6);
    for (_, error) in &report.failures {
        let DownloadError::Timeout { doing, waited, .. } = error else {
            panic!("{error}");
        };
        assert_eq!(*doing, "reading the response");
        assert!(*waited >= Duration::from_millis(100), "{waited:?}");
    }
}

#[test]
fn the_run_deadline_bounds_the_whole_batch() {
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let batch = Batch {
        concurrency: 1,
        timeout: Duration::from_millis(100),
        run_timeout: Duration::from_millis(250),
        ..Batch::new(silent.local_addr().unwrap(), 0..10)
    };
    let start = Instant::now();
    let report = download(&batch).unwrap();
    // Guards against a hang: ten documents of 100 ms each, one after the other, would
    // take a second; the run deadline ends it after 250 ms.
    assert!(start.elapsed() < HANG_GUARD, "{:?}", start.elapsed());
    assert_eq!(report.failed(), 10);
    let not_started = report
        .failures
        .iter()
        .filter(|(_, e)| matches!(e, DownloadError::NotStarted { .. }))
        .count();
    // One at a time, each given up after 100 ms at the earliest: by the run deadline
    // (250 ms) at most three can have started (at 0, 100 and 200 ms), however slow the
    // machine, and the first one starts as soon as the run does. A busy machine only
    // starts fewer; a loop that ignored the run deadline would leave none out.
    assert!((7..=9).contains(&not_started), "{:?}", report.failures);
    assert!(
        report.failures.iter().all(|(_, e)| matches!(
            e,
            DownloadError::NotStarted { .. } | DownloadError::Timeout { .. }
        )),
        "{:?}",
        report.failures
    );
}

#[test]
fn bad_responses_are_errors_with_their_reason() {
    let (addr, server) = canned(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", 1);
    let mut d = Download::start(addr, "x", "/wiki/1", Instant::now(), far()).unwrap();
    drive(&mut d, HANG_GUARD);
    assert!(
        matches!(
            d.into_result(),
            Err(DownloadError::Http {
                source: HttpError::Truncated { .. },
                ..
            })
        ),
        "a body cut short"
    );
    server.join().unwrap();

    let (addr, server) = canned(b"SMTP ready\r\n\r\n", 1);
    let mut d = Download::start(addr, "x", "/wiki/1", Instant::now(), far()).unwrap();
    drive(&mut d, HANG_GUARD);
    let error = d.into_result().unwrap_err();
    assert!(matches!(error, DownloadError::Http { .. }), "{error}");
    assert!(
        error.to_string().contains("bad response from 127.0.0.1"),
        "{error}"
    );
    server.join().unwrap();

    let (addr, server) = canned(b"", 1);
    let mut d = Download::start(addr, "x", "/wiki/1", Instant::now(), far()).unwrap();
    drive(&mut d, HANG_GUARD);
    assert!(matches!(d.into_result(), Err(DownloadError::Closed { .. })));
    server.join().unwrap();
}

#[test]
fn responses_that_are_not_the_document_are_failures() {
    // A 200 without the corpus checksum is not a verified document.
    let (addr, canned_server) = canned(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi", 1);
    let report = download(&Batch::new(addr, 5..6)).unwrap();
    assert!(
        matches!(
            &report.failures[..],
            [(
                5,
                DownloadError::Corrupt {
                    problem: "no checksum header",
                    ..
                }
            )]
        ),
        "{:?}",
        report.failures
    );
    canned_server.join().unwrap();
    let (addr, canned_server) = canned(b"HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n", 1);
    let report = download(&Batch::new(addr, 5..6)).unwrap();
    assert!(
        matches!(
            &report.failures[..],
            [(5, DownloadError::Status { status: 503, .. })]
        ),
        "{:?}",
        report.failures
    );
    canned_server.join().unwrap();
}

#[test]
fn a_batch_that_could_never_start_is_refused() {
    let batch = Batch {
        concurrency: 0,
        ..Batch::new(closed_port(), 0..1)
    };
    assert!(matches!(download(&batch), Err(RunError::Invalid(_))));
    // An empty batch is simply done.
    let report = download(&Batch::new(closed_port(), 3..3)).unwrap();
    assert_eq!((report.ok, report.failed()), (0, 0));
}

#[test]
fn a_tiny_read_buffer_takes_many_reads_and_still_gets_everything() {
    let s = server(0);
    let batch = Batch {
        read_buffer: 7,
        concurrency: 4,
        ..Batch::new(s.addr(), 20..30)
    };
    let report = download(&batch).unwrap();
    assert_eq!(report.ok, 10, "{:?}", report.failures);
    s.stop();
}
