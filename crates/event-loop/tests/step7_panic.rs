//! A task that panics does not corrupt the executor: the panic reaches the caller of
//! `block_on`, and the executor can be used again with its books right (the task count,
//! and which task an `abort` means).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use event_loop::step7_executor::{Executor, sleep};

#[test]
fn a_panicking_task_leaves_the_executor_usable() {
    let executor = Executor::new().expect("an executor");
    let panicking = executor.spawn(async {
        panic!("a task that fails on purpose");
    });
    let survivor = executor.spawn(async {
        sleep(Duration::from_millis(20)).await;
        7
    });
    let quiet = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let ended = catch_unwind(AssertUnwindSafe(|| {
        executor.block_on(sleep(Duration::from_millis(200)))
    }));
    std::panic::set_hook(quiet);
    assert!(ended.is_err(), "the task's panic reaches block_on's caller");
    // Only the survivor is left: the dead task is not counted as running forever.
    assert_eq!(executor.tasks(), 1);
    // Aborting the dead task must not abort the next task that waits.
    panicking.abort();
    let out = executor
        .block_on(survivor)
        .expect("the executor runs again");
    assert_eq!(
        out.ok(),
        Some(7),
        "the surviving task finished, not aborted"
    );
}
