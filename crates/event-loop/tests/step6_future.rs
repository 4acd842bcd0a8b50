//! Step 6: the fetch as an `async fn` and as a state machine by hand, on step 7's
//! executor, against lesson 3's server (on 127.0.0.1, a port the system picks): the
//! same documents from both; the hand-written one waits for its wake, not in a loop;
//! refused connections and servers that close early come back as errors. Then the pin
//! demonstration, the wakers polled by hand, and the sizes of futures. Each test that
//! does I/O runs on a thread of its own with a time limit, so a lost wake-up fails it
//! instead of hanging it.

use std::cell::Cell;
use std::future::{Future, pending, poll_fn};
use std::io::{ErrorKind, Write};
use std::net::{SocketAddr, TcpListener};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use event_loop::step5_scheduler::FetchError;
use event_loop::step6_future::waker::Run;
use event_loop::step6_future::{
    FetchByHand, busy_poll, fetch, fetch_both, flag_waker, future_sizes, pin, pinned_in_a_box,
    pinned_on_the_stack, run_while_woken, take_wake,
};
use event_loop::step7_executor::{Executor, block_on, yield_now};
use sockets::client::read_some;
use sockets::corpus::document_size;

mod common;
use common::{LIMIT, bounded, closed_port, ms, server, sizes};

/// A future that counts how often it is polled, and how often it said `Pending`.
struct Counted<F: Future> {
    inner: Pin<Box<F>>,
    polls: Cell<u32>,
    pendings: Cell<u32>,
}

impl<F: Future> Counted<F> {
    fn new(inner: F) -> Counted<F> {
        Counted {
            inner: Box::pin(inner),
            polls: Cell::new(0),
            pendings: Cell::new(0),
        }
    }
}

impl<F: Future> Future for Counted<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.polls.set(self.polls.get() + 1);
        let poll = self.inner.as_mut().poll(cx);
        if poll.is_pending() {
            self.pendings.set(self.pendings.get() + 1);
        }
        poll
    }
}

#[test]
fn both_fetches_bring_the_same_documents() {
    bounded(LIMIT, || {
        let server = server(0);
        let addr = server.addr();
        let ids: Vec<u64> = (0..60).collect();
        let agreement = block_on(fetch_both(addr, &ids, Duration::from_secs(5))).unwrap();
        assert!(agreement.failures.is_empty(), "{:?}", agreement.failures);
        assert!(agreement.differ.is_empty(), "{:?}", agreement.differ);
        assert_eq!((agreement.asked, agreement.same), (60, 60));
        assert_eq!(agreement.bytes_by_hand, sizes(0..60));
        assert_eq!(agreement.bytes_async, sizes(0..60));
        // One connection per fetch: neither reuses one, neither opens one too many.
        let stats = server.stop();
        assert_eq!((stats.connections, stats.requests), (120, 120));
    });
}

#[test]
fn each_fetch_returns_the_documents_body() {
    bounded(LIMIT, || {
        let server = server(0);
        let addr = server.addr();
        let (by_hand, by_async) =
            block_on(async { (FetchByHand::new(addr, 7).await, fetch(addr, 7).await) }).unwrap();
        let (by_hand, by_async) = (by_hand.unwrap(), by_async.unwrap());
        assert_eq!(by_hand.len(), document_size(7));
        assert!(by_hand == by_async, "the same bytes from both");
        server.stop();
    });
}

#[test]
fn the_hand_written_fetch_is_woken_not_polled_in_a_loop() {
    bounded(LIMIT, || {
        // 200 ms before every reply: a future polled in a loop meanwhile would be polled
        // thousands of times; one that waits for its wake, a few times.
        let server = server(200);
        let addr = server.addr();
        let executor = Executor::new().unwrap();
        let (result, polls, pendings) = executor
            .block_on(async {
                let mut fetch = Counted::new(FetchByHand::new(addr, 3));
                let result = (&mut fetch).await;
                (result, fetch.polls.get(), fetch.pendings.get())
            })
            .unwrap();
        assert_eq!(result.unwrap().len(), document_size(3));
        assert!(pendings >= 1, "it returned Pending while the server waited");
        assert!(
            polls <= 10,
            "{polls} polls for one document: polled without a wake?"
        );
        assert!(
            executor.stats().parks >= 1,
            "the executor slept while the fetch waited"
        );
        server.stop();
    });
}

#[test]
fn the_async_fetch_waits_the_same_way() {
    bounded(LIMIT, || {
        let server = server(200);
        let addr = server.addr();
        let (result, polls, pendings) = block_on(async {
            let mut fetch = Counted::new(fetch(addr, 3));
            let result = (&mut fetch).await;
            (result, fetch.polls.get(), fetch.pendings.get())
        })
        .unwrap();
        assert_eq!(result.unwrap().len(), document_size(3));
        assert!(
            pendings >= 1 && polls <= 10,
            "{polls} polls, {pendings} Pending"
        );
        server.stop();
    });
}

#[test]
fn a_refused_connection_is_an_error_from_both() {
    bounded(LIMIT, || {
        let addr = closed_port();
        let (by_hand, by_async) =
            block_on(async { (FetchByHand::new(addr, 1).await, fetch(addr, 1).await) }).unwrap();
        for result in [by_hand, by_async] {
            match result {
                Err(FetchError::Connect { addr: a, source }) => {
                    assert_eq!(a, addr);
                    assert_eq!(source.kind(), ErrorKind::ConnectionRefused);
                }
                other => panic!("expected a refused connection, got {other:?}"),
            }
        }
    });
}

/// A server on 127.0.0.1 that, for each of `connections` connections, reads the request
/// whole, sends `reply`, and closes the connection.
fn closing_server(reply: &'static [u8], connections: usize) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for _ in 0..connections {
            let Ok((mut stream, _)) = listener.accept() else {
                return;
            };
            stream
                .set_read_timeout(Some(Duration::from_secs(5)))
                .unwrap();
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            // The whole head, so that closing leaves nothing unread (which would reset
            // the connection instead of closing it). At most 64 reads.
            for _ in 0..64 {
                match read_some(&mut stream, &mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
                if request.windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
            let _ = stream.write_all(reply);
            // Dropping the stream closes it.
        }
    });
    addr
}

#[test]
fn a_server_that_closes_before_answering_is_an_error_from_both() {
    bounded(LIMIT, || {
        let addr = closing_server(b"", 2);
        let (by_hand, by_async) =
            block_on(async { (FetchByHand::new(addr, 1).await, fetch(addr, 1).await) }).unwrap();
        assert!(matches!(by_hand, Err(FetchError::Closed)), "{by_hand:?}");
        assert!(matches!(by_async, Err(FetchError::Closed)), "{by_async:?}");
    });
}

#[test]
fn a_server_that_closes_in_the_middle_of_the_body_is_an_error_from_both() {
    bounded(LIMIT, || {
        let cut: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nonly a few bytes";
        let addr = closing_server(cut, 2);
        let (by_hand, by_async) =
            block_on(async { (FetchByHand::new(addr, 1).await, fetch(addr, 1).await) }).unwrap();
        assert!(matches!(by_hand, Err(FetchError::Http(_))), "{by_hand:?}");
        assert!(matches!(by_async, Err(FetchError::Http(_))), "{by_async:?}");
    });
}

#[test]
fn a_hand_written_fetch_outside_an_executor_is_an_error_not_a_crash() {
    // The first poll registers the socket with the reactor of the running executor;
    // polled by hand, there is none, and the fetch says so.
    let (result, polls) = busy_poll(FetchByHand::new(closed_port(), 1), 10);
    assert_eq!(polls, 1);
    let error = result.expect("ready at once").unwrap_err();
    assert!(error.to_string().contains("block_on"), "{error}");
}

#[test]
fn the_hand_written_machine_is_unpin() {
    // FetchByHand holds no reference into itself: it may move between polls.
    fn unpin<T: Unpin>(_: &T) {}
    unpin(&FetchByHand::new(closed_port(), 1));
}

#[test]
fn a_value_that_points_into_itself_is_wrong_after_a_move() {
    assert_eq!(pin::aim_then_move(), (true, false));
}

#[test]
fn a_pinned_self_referential_future_sees_its_buffer_in_place() {
    for pinned in [pinned_in_a_box(3), pinned_on_the_stack(3)] {
        assert_eq!(pinned.polls, 4, "{pinned:?}");
        assert_eq!(pinned.seen.len(), 4, "one address per resume: {pinned:?}");
        assert!(pinned.never_moved(), "{pinned:?}");
        assert!(pinned.buffer_inside(), "the buffer is a field: {pinned:?}");
    }
}

#[test]
fn a_noop_waker_leaves_only_polling_again_and_again() {
    // A future ready after three pauses is polled four times, with no waker needed.
    let three_pauses = async {
        for _ in 0..3 {
            yield_now().await;
        }
        "done"
    };
    assert_eq!(busy_poll(three_pauses, 100), (Some("done"), 4));
    // One that never is: polled as often as allowed.
    assert_eq!(busy_poll(pending::<()>(), 1_000), (None, 1_000));
    // One that waits for another thread: polled until the thread is done, busily.
    let done = Arc::new(AtomicBool::new(false));
    let flag = done.clone();
    let thread = std::thread::spawn(move || {
        std::thread::sleep(ms(20));
        // A flag that publishes no data, polled until seen: Relaxed would do.
        flag.store(true, Ordering::SeqCst);
    });
    let waiting = poll_fn(|_| {
        // See the store above: seen within a few polls whatever the ordering.
        if done.load(Ordering::SeqCst) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    });
    let (output, polls) = busy_poll(waiting, u64::MAX);
    thread.join().unwrap();
    assert_eq!(output, Some(()));
    assert!(polls >= 2, "polled again without a wake: {polls}");
}

#[test]
fn the_flag_waker_polls_again_only_after_a_wake() {
    // Everything that uses the program's one flag is in this test: tests run at once.
    let waker = flag_waker();
    let clone = waker.clone();
    assert!(clone.will_wake(&waker));
    take_wake();
    clone.wake();
    assert!(take_wake(), "a clone's wake raises the flag");
    assert!(!take_wake(), "taking the wake lowers it");
    waker.wake_by_ref();
    assert!(take_wake());
    drop(waker);

    let three_pauses = async {
        for _ in 0..3 {
            yield_now().await;
        }
        7
    };
    assert_eq!(
        run_while_woken(three_pauses, 100),
        Run::Ready {
            output: 7,
            polls: 4
        }
    );
    // Pending with no wake: polling again would be a guess; it stops after one poll.
    assert_eq!(
        run_while_woken(pending::<()>(), 100),
        Run::Stalled { polls: 1 }
    );
    // Woken once, then Pending with nobody to wake it: two polls.
    let mut first = true;
    let once = poll_fn(|cx| {
        if first {
            first = false;
            cx.waker().wake_by_ref();
        }
        Poll::<()>::Pending
    });
    assert_eq!(run_while_woken(once, 100), Run::Stalled { polls: 2 });
}

#[test]
fn what_lives_across_an_await_is_inside_the_future() {
    let sizes = future_sizes();
    assert!(
        sizes.array_across_await >= sizes.array_before_await + 4096,
        "{sizes:?}"
    );
    assert!(
        sizes.vec_across_await < sizes.array_before_await + 64,
        "{sizes:?}"
    );
    assert!(sizes.array_before_await < 4096, "{sizes:?}");
    // The compiler's fetch holds, in its reading state, all the hand-written one does,
    // and more: the future of `read`, and the request, still in scope.
    assert!(sizes.fetch_by_hand < sizes.fetch_async, "{sizes:?}");
}
