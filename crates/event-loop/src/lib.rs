//! Lesson 4: stop waiting — non-blocking sockets, poll/epoll, state machines, and a
//! waker-based executor.
//!
//! Lesson 3's threads each waited for one socket. This lesson hands all the waiting to
//! the kernel at once ("don't wait for an operation; entrust the waiting to someone
//! else"), step by step, each step a module:
//!
//! 1. [`step1_busy`]: non-blocking sockets and `WouldBlock`; a loop that spins.
//! 2. [`step2_poll`]: `poll(2)`: sleep until a socket is ready; downloads as explicit
//!    state machines.
//! 3. [`step3_mio`]: the same on mio (epoll): cost per loop turn grows with the ready
//!    sockets, not with all of them.
//! 4. [`step4_callbacks`]: a loop that calls back: sockets and timers with callbacks,
//!    and a download as a chain of closures ("callback hell").
//! 5. [`step5_scheduler`]: a scheduler of hand-written tasks: a ready queue, a task map,
//!    waiting for sockets and timers, spawn/join/cancel.
//! 6. [`step6_future`]: from generator to `Future`: a fetch as an `enum` written by
//!    hand, `Pin`, `Context` and `Waker`, and what makes a future large.
//! 7. [`step7_executor`]: futures and wakers: a reactor on mio and an executor, async
//!    TCP, sleep and timeout; an `async fn` download.
//! 8. [`step8_server`]: lesson 3's corpus served from one thread, thousands of
//!    connections.
//!
//! [`claims`] holds the tour's claims, each with the world where it would fail, and
//! [`fd_limit`] raises the number of descriptors a process may hold: step 3 needs it
//! first, step 8 and lesson 5's race too.

pub mod claims;
pub mod fd_limit;
pub mod slab;
pub mod step1_busy;
pub mod step2_poll;
pub mod step3_mio;
pub mod step4_callbacks;
pub mod step5_scheduler;
pub mod step6_future;
pub mod step7_executor;
pub mod step8_server;
