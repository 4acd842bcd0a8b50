//! What the graded tests of lesson 5's exercises share.
#![allow(dead_code)] // each test file compiles this module on its own and uses a part

use std::future::Future;
use std::task::Poll;
use std::time::Duration;

use graded::Case;

/// The longest a test may take, in the paused clock's time: far beyond what any of them
/// needs, so that only a hang reaches it.
pub const LIMIT: Duration = Duration::from_secs(3600);

/// Runs `body` to completion on a fresh single-threaded tokio runtime whose clock is
/// paused: time stands still while a task runs, and when every task waits, it jumps
/// straight to the next timer. So a test of a ten-second backoff runs at once, and
/// `tokio::time::Instant` differences are exact, whatever the machine's load.
///
/// A body that would wait forever (a permit never given back, a waker never registered
/// with a timer) fails `case` after [`LIMIT`] of paused time, instead of hanging. So
/// does a body polled [`SPIN_LIMIT`] times without finishing: something in it wakes
/// itself instead of waiting, and since the paused clock only moves when every task
/// waits, time would never move again.
///
/// A panic in the body is not caught here: the body may hold the test's own checks,
/// whose failures say what they checked. The learner's futures in it are awaited
/// through [`run_async`], which reports a panic in them with the case.
#[track_caller]
pub fn paused<F: Future>(case: &Case, body: F) -> F::Output {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a tokio runtime for the test");
    let outcome = runtime
        .block_on(async { polls_until_ready(tokio::time::timeout(LIMIT, body), SPIN_LIMIT).await });
    match outcome {
        (Some(Ok(output)), _) => output,
        (Some(Err(_)), _) => case.fail_with(&format!(
            "no end within {LIMIT:?} (of paused time): a task waits for something that \
             never comes"
        )),
        (None, polls) => case.fail_with(&format!(
            "polled {polls} times without an end: something wakes itself to be polled \
             again (it spins) instead of waiting to be woken"
        )),
    }
}

/// Awaits the learner's `future`, like `.await`; a panic while it is polled fails
/// `case`, reported as a panic of the learner's code on that case
/// ([`graded::Case::run`]).
pub async fn run_async<F: Future>(case: &Case, future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    std::future::poll_fn(|cx| case.run(|| future.as_mut().poll(cx))).await
}

/// More polls of a test's body than any of them needs by far (the busiest needs a few
/// thousand): reaching it means spinning.
pub const SPIN_LIMIT: usize = 200_000;

/// Awaits `future` like `.await` does, counting how many times it is polled, but gives
/// up after `cap` polls (`None`). A future that waits well is polled again only when
/// what it waits for wakes it; one that wakes itself to be polled again (it spins) is
/// polled without end, and on the paused clock a task that is always ready even stops
/// time: the cap turns that hang into a failure the test can name.
pub async fn polls_until_ready<F: Future>(future: F, cap: usize) -> (Option<F::Output>, usize) {
    let mut future = std::pin::pin!(future);
    let mut polls = 0;
    let output = std::future::poll_fn(|cx| {
        if polls == cap {
            return Poll::Ready(None);
        }
        polls += 1;
        future.as_mut().poll(cx).map(Some)
    })
    .await;
    (output, polls)
}
