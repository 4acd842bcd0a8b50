//! Lesson 3: sockets — TCP and HTTP/1.1 by hand, a blocking client, an offline Wikipedia.
//!
//! Modules:
//!
//! - [`url`]: `http://host[:port]/path`, parsed by hand.
//! - [`http`]: a *sans-IO* HTTP/1.1 codec: bytes in, requests and responses out, no
//!   socket in sight. Lessons 4 and 5 drive this same codec from an event loop and from
//!   tokio, unchanged.
//! - [`client`]: a blocking client over `std::net::TcpStream` (options through socket2).
//! - [`corpus`]: "all of Wikipedia", generated: document `i` from `i`, with a checksum,
//!   and faults on request. Sans-IO too.
//! - [`server`]: the corpus served with lesson 2's thread pool.
//! - [`cli`]: what the `wiki-server` and `wiki-load` commands share to read their
//!   arguments.
//! - [`claims`]: the tour's claims, each with the world where it would fail.
//! - Your tasks are not in this crate: each exercise is a package of its own, in
//!   `exercises/<name>/` (see `exercises/README.md`), that nothing depends on, so one
//!   that does not compile breaks nothing here.

pub mod claims;
pub mod cli;
pub mod client;
pub mod corpus;
pub mod http;
pub mod server;
pub mod url;
