//! Graded tests for exercise `async-download/timeout`, on tokio's paused clock: the
//! deadlines are exact and no test waits for real. The `Timeout` is observed while it
//! is alive (polled by reference: its inner future is dropped before it returns
//! `Err`), a tie is tried at the first poll and at a later one, and the number of
//! polls shows that it waits to be woken instead of asking to be polled again.
//!
//! Every check names the `timeout` it tried (how long, and what the work does) and the
//! rule of the task it checks ([`graded::scene`]); a panic in `Timeout::poll` is
//! reported as one, with that case.

#[path = "../../../tests/common/mod.rs"]
mod common;
use common::{paused, polls_until_ready, run_async};

use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_download_timeout::{Elapsed, timeout};
use graded::scene;
use tokio::time::{Instant, sleep};

const MS: Duration = Duration::from_millis(1);

#[test]
fn a_future_ready_before_the_deadline_gives_its_output() {
    let c = scene(
        "timeout(1s, work that sleeps 100ms and returns \"doc\")",
        "the inner output is Ok(output), as soon as the work is ready (at 100ms)",
    );
    let (out, took) = paused(&c, async {
        let start = Instant::now();
        let work = async {
            sleep(100 * MS).await;
            "doc"
        };
        let out = run_async(&c, timeout(1000 * MS, work)).await;
        (out, start.elapsed())
    });
    c.eq((out, took), (Ok("doc"), 100 * MS));
}

#[test]
fn a_slow_future_gives_elapsed_at_the_deadline() {
    let c = scene(
        "timeout(100ms, work that sleeps 60s and returns \"doc\")",
        "a fired timer is Err(Elapsed), at the deadline (100ms), without waiting for the work",
    );
    let (out, took) = paused(&c, async {
        let start = Instant::now();
        let work = async {
            sleep(Duration::from_secs(60)).await;
            "doc"
        };
        let out = run_async(&c, timeout(100 * MS, work)).await;
        (out, start.elapsed())
    });
    c.eq((out, took), (Err(Elapsed { after: 100 * MS }), 100 * MS));
}

#[test]
fn a_future_that_never_wakes_still_times_out() {
    // `pending()` never wakes its task: only the timer can, if it was polled with cx.
    let c = scene(
        "timeout(250ms, std::future::pending()), work that never wakes its task",
        "poll the Sleep with the real cx: the timer wakes the task at the deadline, and \
         the answer is Err(Elapsed) at 250ms",
    );
    let (out, took) = paused(&c, async {
        let start = Instant::now();
        let out = run_async(&c, timeout(250 * MS, std::future::pending::<()>())).await;
        (out, start.elapsed())
    });
    c.eq((out, took), (Err(Elapsed { after: 250 * MS }), 250 * MS));
}

#[test]
fn waiting_is_being_woken_not_polling_in_a_loop() {
    // Work that never wakes: polled once, then once more when the timer wakes it.
    let c = scene(
        "timeout(250ms, std::future::pending()), its polls counted",
        "Pending waits for a waker, without waking the task itself: polled once, and once \
         more at the deadline (at most 3 times)",
    );
    let (out, polls) = paused(&c, async {
        let limited = run_async(&c, timeout(250 * MS, std::future::pending::<()>()));
        polls_until_ready(limited, 1000).await
    });
    c.eq(out, Some(Err(Elapsed { after: 250 * MS })));
    if polls > 3 {
        c.fail_with(&format!("polled {polls} times for one wait"));
    }
    // Work that wakes ten times: about one poll per wake.
    let ten_steps = async {
        for _ in 0..10 {
            sleep(10 * MS).await;
        }
        "done"
    };
    let c = scene(
        "timeout(1s, work of ten sleeps of 10ms that returns \"done\"), its polls counted",
        "Pending waits for a waker, without waking the task itself: about one poll per \
         wake of the work (at most 20)",
    );
    let (out, polls) = paused(&c, async {
        let limited = run_async(&c, timeout(Duration::from_secs(1), ten_steps));
        polls_until_ready(limited, 1000).await
    });
    c.eq(out, Some(Ok("done")));
    if polls > 20 {
        c.fail_with(&format!("polled {polls} times for ten wakes"));
    }
}

/// Sets its flag when dropped.
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        // The test runs on one thread (`paused`): any ordering is exact; SeqCst is simplest.
        self.0.store(true, Ordering::SeqCst);
    }
}

#[test]
fn the_inner_future_is_dropped_as_soon_as_time_is_up() {
    let c = scene(
        "timeout(100ms, work that sleeps 60s), awaited by reference: the Timeout stays \
         alive after its answer",
        "a fired timer is Err(Elapsed) and drops the inner future at once, before that \
         answer",
    );
    let (out, dropped_when_ready) = paused(&c, async {
        let dropped = Arc::new(AtomicBool::new(false));
        let flag = DropFlag(dropped.clone());
        let work = async move {
            let _flag = flag; // dropped with the future
            sleep(Duration::from_secs(60)).await;
        };
        // Awaited by reference: the Timeout itself is still alive after its Err.
        let mut limited = pin!(timeout(100 * MS, work));
        let out = run_async(&c, limited.as_mut()).await;
        // Same thread as the store (see `DropFlag`): any ordering sees it.
        (out, dropped.load(Ordering::SeqCst))
    });
    c.eq(out, Err(Elapsed { after: 100 * MS }));
    if !dropped_when_ready {
        c.fail_with("Err(Elapsed) came back while the inner future was still alive");
    }
}

#[test]
fn the_work_wins_a_tie_with_the_deadline() {
    // Ready at once, with no time at all: the output, not Elapsed. (`timeout` is
    // called inside the body: its Sleep needs the runtime.)
    let c = scene(
        "timeout(0s, work that is ready at once with 7)",
        "poll the inner future first: a result that is there is Ok, even with no time at all",
    );
    let out = paused(&c, async {
        run_async(&c, timeout(Duration::ZERO, async { 7 })).await
    });
    c.eq(out, Ok(7));
    // Ready at the very instant of the deadline: both timers fire together.
    let c = scene(
        "timeout(100ms, work that sleeps 100ms and returns 8)",
        "poll the inner future first: ready at the deadline's very instant, the work wins",
    );
    let work = async {
        sleep(100 * MS).await;
        8
    };
    let out = paused(&c, async { run_async(&c, timeout(100 * MS, work)).await });
    c.eq(out, Ok(8));
    // Zero time and work that is not ready at once: Elapsed.
    let c = scene(
        "timeout(0s, work that sleeps 1ms and returns 9)",
        "with no time at all, work that is not ready at the first poll gives Err(Elapsed)",
    );
    let work = async {
        sleep(MS).await;
        9
    };
    let out = paused(&c, async {
        run_async(&c, timeout(Duration::ZERO, work)).await
    });
    c.eq(
        out,
        Err(Elapsed {
            after: Duration::ZERO,
        }),
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
    let c = scene(
        "timeout(150ms, work of 100 sleeps of 1ms, each followed by a yield, that returns \
         \"done\")",
        "every poll polls the work, then the timer set when timeout() was called: Ok at \
         100ms",
    );
    let (out, took) = paused(&c, async {
        let start = Instant::now();
        let out = run_async(&c, timeout(150 * MS, steps)).await;
        (out, start.elapsed())
    });
    c.eq((out, took), (Ok("done"), 100 * MS));
    let steps = async {
        for _ in 0..100 {
            sleep(MS).await;
        }
        "done"
    };
    let c = scene(
        "timeout(50ms, work of 100 sleeps of 1ms that returns \"done\")",
        "the deadline is fixed when timeout() is called, however often the work wakes: \
         Err(Elapsed) at 50ms",
    );
    let (out, took) = paused(&c, async {
        let start = Instant::now();
        let out = run_async(&c, timeout(50 * MS, steps)).await;
        (out, start.elapsed())
    });
    c.eq((out, took), (Err(Elapsed { after: 50 * MS }), 50 * MS));
}
