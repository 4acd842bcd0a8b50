//! Lesson 5: async-download — tokio, bounded concurrency, a million documents, and the
//! race of every engine the course has built.
//!
//! Lessons 1 to 4 each answered "how do I wait for many things at once?" in their own
//! way: a process each, a thread each, one thread polling many sockets, tasks on a
//! hand-made executor. This lesson turns the answer into a tool people can use — a
//! downloader that fetches a million documents, survives a hostile network and a
//! `kill -9`, and says what it did — and then races every earlier answer on the same
//! work, so the course ends on a measurement, not an opinion.
//!
//! Modules, in the order a document goes through them:
//!
//! - [`target`]: what to fetch — a URL and the file name it is stored under; the input
//!   is streamed, never held whole.
//! - [`names`]: file names from URLs that can never leave the output folder or collide.
//! - [`feed`]: hands targets to the workers, skips what the journal says is done, and
//!   stops handing them out on Ctrl-C.
//! - [`policy`]: what to do with an answer — keep it, retry it (after how long), or
//!   give up — the same decision for every engine.
//! - [`decode`]: a gzip or deflate body decoded, to at most the size limit.
//! - [`redirect`]: where a 301, 302, 303, 307 or 308 sends the client (the `Location`
//!   resolved against the URL asked for), and when a chain stops (a loop, too many).
//! - [`rate`]: `--rate`, a limit on the bytes read per second, all connections
//!   together.
//! - [`wire`]: one HTTP exchange over `tokio::net::TcpStream` with lesson 3's codec,
//!   and the keep-alive connections a worker keeps; [`tls`]: the same bytes inside TLS
//!   for `https` (rustls).
//! - [`engine`]: the same download run five ways (sequential, threads, event-loop,
//!   tokio current-thread, tokio multi-thread) behind one trait.
//! - [`store`] and [`journal`]: atomic writes under `--out`, and the record that lets a
//!   killed run resume; [`part`]: a big document written as it comes, and resumed with
//!   `Range` where it stopped.
//! - [`collect`]: every document's outcome, counted: the [`Report`](collect::Report).
//! - [`server`]: the corpus of lesson 3 served by tokio — the fast one the races use.
//! - [`race`]: every engine at concurrency 1 to 10,000 on the same work (outside peers,
//!   nginx, wrk and aiohttp, are the course's tooling: `cargo xtask bench --peers`).
//! - [`verify`]: a folder of corpus documents checked against the corpus itself.
//! - [`cli`], [`progress`], [`ctrl_c`]: the `async-download` command;
//!   [`child_mode`]: the same program started again as a corpus server or a race run.
//! - [`claims`]: the tour's claims, each with the world where it would fail.
//! - Your tasks are not in this crate: each exercise is a package of its own, in
//!   `exercises/<name>/` (see `exercises/README.md`), that nothing depends on, so one
//!   that does not compile breaks nothing here.

pub mod child_mode;
pub mod claims;
pub mod cli;
pub mod collect;
pub mod ctrl_c;
pub mod decode;
pub mod engine;
pub mod error;
pub mod feed;
pub mod headers;
pub mod journal;
pub mod ladder;
pub mod names;
pub mod options;
pub mod part;
pub mod policy;
pub mod polite;
pub mod progress;
pub mod race;
pub mod rate;
pub mod redirect;
pub mod server;
pub mod store;
pub mod target;
pub mod tls;
pub mod verify;
pub mod wire;

pub use collect::Report;
pub use engine::{Engine, EngineKind, download_all, download_corpus, download_with};
pub use error::{DownloadError, FetchError};
pub use options::Options;
pub use target::Target;
