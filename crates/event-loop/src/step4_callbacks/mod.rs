//! Step 4: callbacks. The loop calls a function for each ready socket and each due timer;
//! a download is a chain of such functions.
//!
//! Step 3's loop *was* the download: its turn advanced
//! [`Download`](crate::step2_poll::Download) machines, and nothing else could run on it.
//! The Python course's next move, and Node.js's, Twisted's and libuv's, is to make the
//! loop general: it keeps a table "when this socket is readable, call this function",
//! and the code that registered the function decides what happens then. The loop knows
//! no downloads, no HTTP, no states: sockets, timers, callbacks. Any kind of work fits on
//! it.
//!
//! The price is paid by the code on the loop. A download can no longer be written from
//! top to bottom: each place where it would wait ends its function, and what follows goes
//! into a closure handed to the loop. Connect, send the request, read the response, the
//! next document: each is a callback that registers the next one. The state that a
//! thread's stack kept for free (which document, how much was sent, the parser) now
//! travels inside closures, shared with `Rc<RefCell<..>>` where two of them need it (the
//! chain and its timer). It works, and it is fast: one thread, the same epoll as step 3.
//! But:
//!
//! - **reading it** means following the control flow from closure to closure, often
//!   nested three deep ([`fetch_one`]), or across functions that pass the rest of the
//!   work along ([`download()`]);
//! - **errors are handled in every callback**: each link may fail, and each failure must
//!   be caught where it happens, counted, and followed by what comes next (there is no
//!   `?` across callbacks: the function that could return the error has long returned);
//! - **changing it touches every link**: a timeout is a timer set before the chain,
//!   cancelled at each of its ends, and racing each of its waits; a retry must know which
//!   links to start again. This is "callback hell", and the exercise `callback-retry` is a
//!   taste of it.
//!
//! That is why the Python course moved on to generators (step 5 here: tasks that keep
//! their own place) and Rust to futures and `async fn` (steps 6 and 7): the same loop, the
//! same waits, written again as code that reads from top to bottom.
//!
//! - [`callback_loop`]: [`Loop`] (sockets and timers with callbacks, a deadline heap,
//!   `run` until nothing is registered).
//! - [`chain`]: the links of a download ([`connect`], [`send_request`],
//!   [`read_response`]) and [`fetch_one`], the three chained.
//! - [`download`](mod@download): step 3's batch on keep-alive connections, each a
//!   chain, every document with a timer; a [`Report`] like step 3's.

pub mod callback_loop;
pub mod chain;
pub mod download;

pub use crate::step2_poll::{Batch, RunError};
pub use crate::step5_scheduler::FetchError;
pub use callback_loop::{Callback, Loop, LoopStats, SocketId, TimerId};
pub use chain::{Conn, READ_BUFFER, close, connect, fetch_one, read_response, send_request};
pub use download::{Report, download};
