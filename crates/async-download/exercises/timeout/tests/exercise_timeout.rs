//! Graded tests for exercise `async-download/timeout`, on tokio's paused clock: the
//! deadlines are exact and no test waits for real. The `Timeout` is observed while it
//! is alive (polled by reference: its inner future is dropped before it returns
//! `Err`), a tie is tried at the first poll and at a later one, and the number of
//! polls shows that it waits to be woken instead of asking to be polled again.

#[path = "../../../tests/common/mod.rs"]
mod common;
use common::{paused, polls_until_ready};

use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_download_timeout::{Elapsed, timeout};
use tokio::time::{Instant, sleep};

const MS: Duration = Duration::from_millis(1);

#[test]
fn a_future_ready_before_the_deadline_gives_its_output() {
    let (out, took) = paused("timeout", async {
        let start = Instant::now();
        let out = timeout(1000 * MS, async {
            sleep(100 * MS).await;
            "doc"
        })
        .await;
        (out, start.elapsed())
    });
    assert_eq!(out, Ok("doc"));
    assert_eq!(
        took,
        100 * MS,
        "ready when the work is, not at the deadline"
    );
}

#[test]
fn a_slow_future_gives_elapsed_at_the_deadline() {
    let (out, took) = paused("timeout", async {
        let start = Instant::now();
        let out = timeout(100 * MS, async {
            sleep(Duration::from_secs(60)).await;
            "doc"
        })
        .await;
        (out, start.elapsed())
    });
    assert_eq!(out, Err(Elapsed { after: 100 * MS }));
    assert_eq!(
        took,
        100 * MS,
        "Err at the deadline, without waiting for the work"
    );
}

#[test]
fn a_future_that_never_wakes_still_times_out() {
    // `pending()` never wakes its task: only the timer can, if it was polled with cx.
    let (out, took) = paused("timeout of pending()", async {
        let start = Instant::now();
        let out = timeout(250 * MS, std::future::pending::<()>()).await;
        (out, start.elapsed())
    });
    assert_eq!(out, Err(Elapsed { after: 250 * MS }));
    assert_eq!(
        took,
        250 * MS,
        "the timer must wake the task at the deadline: poll the Sleep with cx"
    );
}

#[test]
fn waiting_is_being_woken_not_polling_in_a_loop() {
    // Work that never wakes: polled once, then once more when the timer wakes it.
    let (out, polls) = paused("timeout of pending(), polls counted", async {
        polls_until_ready(timeout(250 * MS, std::future::pending::<()>()), 1000).await
    });
    assert_eq!(out, Some(Err(Elapsed { after: 250 * MS })));
    assert!(
        polls <= 3,
        "polled {polls} times for one wait: Pending must wait for a waker, not wake the \
         task itself"
    );
    // Work that wakes ten times: about one poll per wake.
    let ten_steps = async {
        for _ in 0..10 {
            sleep(10 * MS).await;
        }
        "done"
    };
    let (out, polls) = paused("timeout of ten steps, polls counted", async {
        polls_until_ready(timeout(Duration::from_secs(1), ten_steps), 1000).await
    });
    assert_eq!(out, Some(Ok("done")));
    assert!(
        polls <= 20,
        "polled {polls} times for ten wakes: Pending must wait for a waker, not wake the \
         task itself"
    );
}

/// Sets its flag when dropped.
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[test]
fn the_inner_future_is_dropped_as_soon_as_time_is_up() {
    let (out, dropped_when_ready) = paused("timeout", async {
        let dropped = Arc::new(AtomicBool::new(false));
        let flag = DropFlag(dropped.clone());
        let work = async move {
            let _flag = flag; // dropped with the future
            sleep(Duration::from_secs(60)).await;
        };
        // Awaited by reference: the Timeout itself is still alive after its Err.
        let mut limited = pin!(timeout(100 * MS, work));
        let out = limited.as_mut().await;
        (out, dropped.load(Ordering::SeqCst))
    });
    assert_eq!(out, Err(Elapsed { after: 100 * MS }));
    assert!(
        dropped_when_ready,
        "the inner future must be dropped when the time is up, before Ready(Err) is returned"
    );
}

#[test]
fn the_work_wins_a_tie_with_the_deadline() {
    // Ready at once, with no time at all: the output, not Elapsed.
    let out = paused("timeout", async {
        timeout(Duration::ZERO, async { 7 }).await
    });
    assert_eq!(
        out,
        Ok(7),
        "the inner future is polled first: a ready result is kept"
    );
    // Ready at the very instant of the deadline: both timers fire together.
    let out = paused("timeout", async {
        timeout(100 * MS, async {
            sleep(100 * MS).await;
            8
        })
        .await
    });
    assert_eq!(out, Ok(8), "a tie goes to the work");
    // Zero time and work that is not ready at once: Elapsed.
    let out = paused("timeout", async {
        timeout(Duration::ZERO, async {
            sleep(MS).await;
            9
        })
        .await
    });
    assert_eq!(
        out,
        Err(Elapsed {
            after: Duration::ZERO
        })
    );
}

#[test]
fn work_that_wakes_many_times_is_polled_until_one_side_is_ready() {
    // A hundred small waits: the Timeout is polled (Pending) a hundred times.
    let steps = async {
        for _ in 0..100 {
            sleep(MS).await;
            tokio::task::yield_now().await;
        }
        "done"
    };
    let (out, took) = paused("timeout", async {
        let start = Instant::now();
        (timeout(150 * MS, steps).await, start.elapsed())
    });
    assert_eq!((out, took), (Ok("done"), 100 * MS));
    let steps = async {
        for _ in 0..100 {
            sleep(MS).await;
        }
        "done"
    };
    let (out, took) = paused("timeout", async {
        let start = Instant::now();
        (timeout(50 * MS, steps).await, start.elapsed())
    });
    assert_eq!((out, took), (Err(Elapsed { after: 50 * MS }), 50 * MS));
}
