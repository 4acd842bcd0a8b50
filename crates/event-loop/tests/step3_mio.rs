//! Step 3, the loop on mio (epoll): documents arrive verified; reads go on until
//! `WouldBlock`, as edge-triggering requires (and a loop that reads once per event
//! hangs: shown on a bare mio socket); wake-ups for nothing and tokens that name no
//! download do no harm; failures say why. Servers are on 127.0.0.1 with ports the system
//! picks; every wait is bounded.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use event_loop::step2_poll::DownloadError;
use event_loop::step3_mio::{Batch, MioLoop, download};
use mio::{Events, Interest, Poll, Token, Waker};

mod common;
use common::{closed_port, server, sizes};

#[test]
fn downloads_every_document_verified() {
    let s = server(0);
    // Fewer connections than documents: slab keys (tokens) are reused all the time.
    let batch = Batch {
        concurrency: 7,
        ..Batch::new(s.addr(), 500..700)
    };
    let report = download(&batch).unwrap();
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert_eq!((report.ok, report.bytes), (200, sizes(500..700)));
    s.stop();
}

#[test]
fn the_loop_sleeps_while_the_server_takes_its_time() {
    let s = server(40);
    let report = download(&Batch::new(s.addr(), 0..10)).unwrap();
    assert_eq!(report.ok, 10, "{:?}", report.failures);
    assert!(
        report.turns <= 40,
        "{} turns for 10 documents",
        report.turns
    );
    s.stop();
}

#[test]
fn reads_are_drained_however_small_the_buffer() {
    let s = server(0);
    // Every document (1 to 16 KiB) arrives in one burst and takes dozens of reads of
    // 100 bytes: after its one event, the download must read until WouldBlock.
    let batch = Batch {
        read_buffer: 100,
        concurrency: 8,
        timeout: Duration::from_secs(5),
        ..Batch::new(s.addr(), 40..80)
    };
    let report = download(&batch).unwrap();
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert_eq!(report.bytes, sizes(40..80));
    s.stop();
}

#[test]
fn edge_triggered_reads_must_drain() {
    // A server writes 64 KiB at once and keeps the connection open.
    const BURST: usize = 64 * 1024;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (sent, all_sent) = std::sync::mpsc::channel();
    let (done, test_done) = std::sync::mpsc::channel::<()>();
    let server = std::thread::spawn(move || {
        let (mut peer, _) = listener.accept().unwrap();
        peer.write_all(&[b'x'; BURST]).unwrap();
        sent.send(()).unwrap();
        // Hold the connection (no end-of-file, which would be an event of its own) until
        // the test is done with it, however long that takes.
        let _ = test_done.recv();
    });
    let mut stream = mio::net::TcpStream::connect(addr).unwrap();
    all_sent.recv_timeout(Duration::from_secs(10)).unwrap();
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(16);
    poll.registry()
        .register(&mut stream, Token(0), Interest::READABLE)
        .unwrap();

    // The wrong way: one read of 1 KiB per event. After the first event nothing new
    // arrives, so nothing new is announced — although 63 KiB wait in the socket. (Six
    // waits, whatever the clock says: each ends with the event or after its 100 ms.)
    let mut buf = [0u8; 1024];
    let mut got = 0;
    for _ in 0..6 {
        poll.poll(&mut events, Some(Duration::from_millis(100)))
            .unwrap();
        if !events.is_empty() {
            got += stream.read(&mut buf).unwrap();
        }
    }
    assert!(
        got < BURST,
        "a quiet socket kept announcing itself ({got} bytes)"
    );

    // The right way: on an event, read until WouldBlock. (The bytes were there all along.)
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(got, BURST);
    done.send(()).unwrap();
    server.join().unwrap();
}

/// Runs `mio_loop` to the end, waking `waker` before each of its first `n` turns: each
/// of those waits finds at least that event, one the downloads have nothing to do with.
/// Woken from this thread (a wake is a write to an eventfd, from any thread), so that
/// those turns get one however the machine schedules threads; after them, the loop
/// sleeps as usual instead of being kept busy. Returns the loop and the number of turns
/// that began with a wake.
fn run_waking_first_turns(mut mio_loop: MioLoop, waker: Waker, n: u64) -> (MioLoop, u64) {
    let mut woken = 0u64;
    // Guards against a hang: the batches below take a fraction of a second.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let wake = woken < n;
        if wake {
            waker.wake().unwrap();
        }
        if mio_loop.turn().unwrap() {
            break;
        }
        woken += u64::from(wake);
        assert!(Instant::now() < deadline, "the loop did not finish");
    }
    (mio_loop, woken)
}

#[test]
fn events_with_unknown_tokens_are_ignored() {
    let s = server(30);
    let mio_loop = MioLoop::new(&Batch::new(s.addr(), 0..20)).unwrap();
    // A source that is not a download, under a token no download has.
    let waker = Waker::new(mio_loop.registry(), Token(usize::MAX - 1)).unwrap();
    let (mio_loop, woken) = run_waking_first_turns(mio_loop, waker, 100);
    let unknown = mio_loop.unknown_events();
    let report = mio_loop.report().unwrap();
    assert_eq!(report.ok, 20, "{:?}", report.failures);
    // Every wait that followed a wake returned the waker's event, and every one of
    // them was skipped.
    assert!(woken > 0);
    assert!(
        unknown >= woken,
        "{unknown} unknown events after {woken} wakes"
    );
    s.stop();
}

#[test]
fn wake_ups_for_nothing_are_harmless() {
    let s = server(30);
    let mio_loop = MioLoop::new(&Batch {
        concurrency: 4,
        ..Batch::new(s.addr(), 0..12)
    })
    .unwrap();
    // Token 0 is the first download's (and, the slab reusing keys, later ones'): it gets
    // an event at each of the first hundred turns, while it connects and while it waits
    // for a reply 30 ms away. Each finds WouldBlock.
    let waker = Waker::new(mio_loop.registry(), Token(0)).unwrap();
    let (mio_loop, woken) = run_waking_first_turns(mio_loop, waker, 100);
    let report = mio_loop.report().unwrap();
    assert_eq!(report.ok, 12, "{:?}", report.failures);
    assert!(woken > 0, "the wake-ups came");
    s.stop();
}

#[test]
fn a_refused_connect_is_reported_for_every_document() {
    let closed = closed_port();
    let report = download(&Batch::new(closed, 0..5)).unwrap();
    assert_eq!((report.ok, report.failed()), (0, 5));
    for (_, error) in &report.failures {
        let DownloadError::Connect { source, .. } = error else {
            panic!("{error}");
        };
        assert_eq!(source.kind(), ErrorKind::ConnectionRefused);
    }
}

#[test]
fn a_silent_server_costs_a_timeout_not_a_hang() {
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let batch = Batch {
        concurrency: 5,
        timeout: Duration::from_millis(120),
        ..Batch::new(silent.local_addr().unwrap(), 0..10)
    };
    let start = Instant::now();
    let report = download(&batch).unwrap();
    // Guards against a hang: a loop that ignored the 120 ms timeouts would wait for the
    // batch's 60 s run deadline.
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
    assert!(report.turns < 100, "{} turns: it slept", report.turns);
    assert_eq!(report.failed(), 10);
    assert!(
        report
            .failures
            .iter()
            .all(|(_, e)| matches!(e, DownloadError::Timeout { .. })),
        "{:?}",
        report.failures
    );
}
