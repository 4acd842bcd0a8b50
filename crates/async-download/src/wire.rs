//! One HTTP exchange over `tokio::net::TcpStream`, with lesson 3's codec, and the
//! keep-alive connections one worker keeps.
//!
//! The bytes are lesson 3's: [`write_request_line`] and [`write_header_lines`] make
//! the request, a [`ResponseParser`] is fed what arrives until a response is complete.
//! Only the waiting is tokio's. Two choices matter at ten thousand connections:
//!
//! - **No buffer per connection.** A connection waiting for its response holds no read
//!   buffer: the task waits for the socket to be *readable*, and only then reads, into
//!   a buffer that belongs to the thread (`try_read` cannot wait, so the buffer is never
//!   held across an `.await`). Requests are written from the thread's buffer too. Ten
//!   thousand waiting connections cost their sockets and their tasks, not ten thousand
//!   buffers, and the tasks are kept small (see `engine::worker_future_bytes`).
//! - **Keep-alive.** A worker keeps its connection to each host it talks to, so a
//!   document costs one request, not a TCP handshake too. A connection idle for longer
//!   than `idle_timeout` is closed rather than reused (the server may be closing it at
//!   that very moment), and a request on a kept connection that the server had closed is
//!   sent once more on a new one — safe for a GET, which changes nothing.
//! - **TLS is a layer, not a second client.** An `https` connection is a [`Stream`] too:
//!   the same exchange reads plaintext out of rustls (see [`crate::tls`]) where a plain
//!   one reads the socket, and the codec never knows which it was fed.

use std::cell::RefCell;
use std::future::Future;
use std::io::{self, ErrorKind};
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use sockets::http::{
    Limits, Method, Parsed, RequestHead, Response, ResponseParser, write_header_lines,
    write_request_line,
};
use sockets::url::{Scheme, Url};
use tokio::io::{AsyncRead, AsyncWriteExt, Interest, ReadBuf};
use tokio::net::{TcpSocket, TcpStream};
use tokio_rustls::client::TlsStream;

use crate::decode::ACCEPT_ENCODING;
use crate::error::FetchError;
use crate::options::Options;
use crate::part::{Decision, Part};
use crate::policy;

/// The header that tells the corpus which attempt this is (its random faults are rolled
/// per attempt, so a retry meets a fresh roll).
pub const ATTEMPT_HEADER: &str = sockets::corpus::ATTEMPT_HEADER;

/// Most requests one connection may have in flight with `--pipeline`.
pub const MAX_PIPELINE: usize = 64;

/// Most hosts a worker keeps a connection to at once; the least recently used goes.
const HOSTS_KEPT: usize = 4;

/// How long a connect's first SYN is given before it is sent again. Far above a
/// handshake's time on a LAN or across a continent (tens of milliseconds to about 200),
/// far below the kernel's first retransmit (1 s), which is what a SYN dropped by a full
/// listen backlog would otherwise wait for.
pub const FIRST_SYN_WAIT: Duration = Duration::from_millis(250);

/// The bytes of the GET for `url`, attempt `attempt` (0 for the first), with the
/// user agent and headers of `options`.
pub fn get_request(url: &Url, attempt: u32, options: &Options, out: &mut Vec<u8>) {
    out.clear();
    push_get_request(url, attempt, options, None, out);
}

/// [`get_request`] appended to `out`: requests pipelined on one connection are
/// written one after another into one buffer, and sent by one write. `resume`: the
/// `Range` and `If-Range` of a request for the rest of a part file (see
/// [`crate::part`]), which also asks for the body as it is (`Accept-Encoding:
/// identity`), since a range counts the bytes sent.
pub fn push_get_request(
    url: &Url,
    attempt: u32,
    options: &Options,
    resume: Option<(&str, &str)>,
    out: &mut Vec<u8>,
) {
    write_request_line(Method::Get, &url.path, out);
    match (attempt, resume) {
        (0, None) => FIRST_GET_FIELDS.with(|memo| {
            let mut memo = memo.borrow_mut();
            if !memo.is_for(url, options) {
                memo.make(url, options);
            }
            out.extend_from_slice(&memo.bytes);
        }),
        _ => push_get_fields(url, attempt, options, resume, out),
    }
}

thread_local! {
    /// The header lines of the last first GET this thread wrote (see [`FirstGetFields`]).
    static FIRST_GET_FIELDS: RefCell<FirstGetFields> = RefCell::default();
}

/// The header lines of a first GET (no retry, no resume), and all they were made from.
/// Only the request line differs from one first GET to the next to the same host with
/// the same options, and nearly every request of a thread goes to the host the one
/// before went to: the Host, User-Agent and Connection lines are then copied, not worked
/// out and checked again for every document. A memo of one, kept by the thread rather
/// than by each connection: ten thousand connections cost no copy each.
#[derive(Debug, Default)]
struct FirstGetFields {
    made: bool,
    scheme: Scheme,
    host: String,
    port: u16,
    user_agent: String,
    compress: bool,
    headers: Vec<crate::headers::Header>,
    bytes: Vec<u8>,
}

impl FirstGetFields {
    /// Whether these are the lines for `url` with `options`: everything
    /// [`push_get_fields`] reads for a first GET is the same.
    fn is_for(&self, url: &Url, options: &Options) -> bool {
        self.made
            && self.port == url.port
            && self.scheme == url.scheme
            && self.host == url.host
            && self.compress == options.compress
            && self.user_agent == options.user_agent
            && self.headers == options.headers
    }

    fn make(&mut self, url: &Url, options: &Options) {
        self.scheme = url.scheme;
        self.port = url.port;
        self.compress = options.compress;
        self.host.clone_from(&url.host);
        self.user_agent.clone_from(&options.user_agent);
        self.headers.clone_from(&options.headers);
        self.bytes.clear();
        push_get_fields(url, 0, options, None, &mut self.bytes);
        self.made = true;
    }
}

/// The header lines of [`push_get_request`], and the empty line that ends them.
fn push_get_fields(
    url: &Url,
    attempt: u32,
    options: &Options,
    resume: Option<(&str, &str)>,
    out: &mut Vec<u8>,
) {
    // On the stack: one allocation fewer per request (a host header too long for it,
    // which no real host has, is made the usual way).
    let mut room = [0; 300];
    let made;
    let host = match url.host_header_in(&mut room) {
        Some(host) => host,
        None => {
            made = url.host_header();
            made.as_str()
        }
    };
    let attempt_text;
    let mut extra: Vec<(&str, &str)> = Vec::new();
    // Without -H and retries (most requests), the only extra header is a constant one:
    // no list is made.
    let accept: &[(&str, &str)] = match (options.compress, resume) {
        (_, Some(_)) => &[("Accept-Encoding", "identity")],
        (true, None) => &[("Accept-Encoding", ACCEPT_ENCODING)],
        (false, None) => &[],
    };
    let extra: &[(&str, &str)] = if options.headers.is_empty() && attempt == 0 && resume.is_none() {
        accept
    } else {
        extra.reserve(options.headers.len() + 4);
        // A user's own -H "Accept-Encoding: ..." replaces the downloader's.
        if !options
            .headers
            .iter()
            .any(|h| h.name.eq_ignore_ascii_case("Accept-Encoding"))
        {
            extra.extend_from_slice(accept);
        }
        extra.extend(
            options
                .headers
                .iter()
                .map(|h| (h.name.as_str(), h.value.as_str())),
        );
        if attempt > 0 {
            attempt_text = attempt.to_string();
            extra.push((ATTEMPT_HEADER, attempt_text.as_str()));
        }
        if let Some((range, validator)) = resume {
            extra.push(("Range", range));
            extra.push(("If-Range", validator));
        }
        &extra
    };
    write_header_lines(
        &RequestHead {
            method: Method::Get,
            host,
            target: &url.path,
            keep_alive: true,
            user_agent: &options.user_agent,
        },
        extra,
        out,
    );
}

// ANCHOR: stream
/// One connection: plain TCP, or TLS over TCP. (The TLS side is boxed: a session holds
/// tens of kilobytes of buffers and keys, and a plain connection should not carry room
/// for them.)
#[derive(Debug)]
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}
// ANCHOR_END: stream

impl Stream {
    // ANCHOR: poll_read_into
    /// Reads what has arrived into `buf`; `Ready(Ok(0))` at the end of the stream.
    /// A plain socket is waited for until readable, then read without waiting (a
    /// readiness that was a false alarm is waited for again). A TLS stream is asked for
    /// plaintext: its socket being readable says nothing, since rustls may hold
    /// decrypted bytes already, or need more of a record before it has any.
    fn poll_read_into(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        match self {
            Stream::Plain(tcp) => loop {
                ready!(tcp.poll_read_ready(cx))?;
                match tcp.try_read(buf) {
                    Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
                    done => return Poll::Ready(done),
                }
            },
            Stream::Tls(tls) => {
                let mut filled = ReadBuf::new(buf);
                ready!(Pin::new(&mut **tls).poll_read(cx, &mut filled))?;
                Poll::Ready(Ok(filled.filled().len()))
            }
        }
    }

    // ANCHOR_END: poll_read_into

    /// What the socket takes of `bytes` without waiting. A TLS stream takes nothing
    /// this way: its bytes go through [`Stream::write_all`], which also flushes rustls's
    /// records out.
    fn try_write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(tcp) => tcp.try_write(bytes),
            Stream::Tls(_) => Ok(0),
        }
    }

    // ANCHOR: forget_readable
    /// Before a request: forgets that the socket was readable. A connection carries a
    /// new request only once the last response was read whole, so that readiness is
    /// left over from it, and trusting it would cost a `recv` that finds nothing (one
    /// system call per document). A closure that says "would block" clears it without
    /// asking the kernel; an end of stream is never cleared (tokio keeps it), and the
    /// response's own bytes come after this and are a new event. A TLS stream is left
    /// alone: rustls may hold bytes already decrypted.
    fn forget_readable(&self) {
        if let Stream::Plain(tcp) = self {
            let _ = tcp.try_io(Interest::READABLE, || {
                Err::<(), _>(io::Error::from(ErrorKind::WouldBlock))
            });
        }
    }
    // ANCHOR_END: forget_readable

    /// Writes `bytes` whole, waiting as needed; on TLS, sends the records too.
    async fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Stream::Plain(tcp) => tcp.write_all(bytes).await,
            Stream::Tls(tls) => {
                tls.write_all(bytes).await?;
                tls.flush().await
            }
        }
    }
}

/// A host this worker talks to, and its connection while it is not in use. The entry
/// stays when the stream is taken out for a request, so that putting it back costs no
/// allocation.
#[derive(Debug)]
struct Kept {
    scheme: Scheme,
    host: String,
    port: u16,
    stream: Option<Stream>,
    last_used: Instant,
}

impl Kept {
    fn is_for(&self, url: &Url) -> bool {
        self.port == url.port && self.scheme == url.scheme && self.host == url.host
    }
}

/// The connections of one worker, at most one per host.
#[derive(Debug, Default)]
pub struct Connections {
    kept: Vec<Kept>,
    /// Whether every response's body is held; if not, a body that no check needs is
    /// only counted (see [`response_parser`]).
    keep_bodies: bool,
    /// TCP connections opened so far. (This and the next are `u32`s: every worker's
    /// task holds its `Connections`, and 8 bytes more would take each task into a
    /// larger tokio task cell, 128 bytes more per connection.)
    pub opened: u32,
    /// Connects given up on and tried again because their SYN got no answer in time
    /// (see [`send_syn_again`]).
    pub syns_resent: u32,
}

impl Connections {
    /// A worker's connections; `keep_bodies`: whether documents are kept (saved or
    /// written out), so that every body is needed.
    pub fn new(keep_bodies: bool) -> Connections {
        Connections {
            keep_bodies,
            ..Connections::default()
        }
    }

    // ANCHOR: fetch_connection
    /// Sends the GET for `url` (attempt `attempt`) and returns the whole response, within
    /// `options.timeout` for the exchange and `options.connect_timeout` for a handshake.
    /// With a `part`, a big body goes to the part file as it comes (see [`crate::part`])
    /// and the response holds none of it.
    #[allow(
        clippy::manual_async_fn,
        reason = "an `async fn` keeps its arguments twice in its future; an `async` block, once"
    )]
    pub fn fetch<'a>(
        &'a mut self,
        url: &'a Url,
        attempt: u32,
        options: &'a Options,
        mut part: Option<&'a mut Part<'_>>,
    ) -> impl Future<Output = Result<Response, FetchError>> + 'a {
        // An `async` block, not an `async fn`: an `async fn` keeps its arguments twice
        // in its state (as given, and moved into its body), and every task pays for it.
        async move {
            let mut kept = self.take(url, options);
            loop {
                let reused = kept.is_some();
                let mut stream = if let Some(stream) = kept.take() {
                    stream
                } else {
                    self.connect(url, options).await?
                };
                // ANCHOR_END: fetch_connection
                // ANCHOR: fetch_exchange
                let exchange = send_and_receive(
                    &mut stream,
                    url,
                    attempt,
                    options,
                    self.keep_bodies,
                    part.as_deref_mut(),
                );
                match tokio::time::timeout(options.timeout, exchange).await {
                    Ok(Ok((response, clean))) => {
                        if response.keep_alive && clean {
                            self.keep(url, stream);
                        }
                        return Ok(response);
                    }
                    // The server closed the kept connection while it was idle: once more,
                    // new.
                    Ok(Err(FetchError::Closed)) if reused => continue,
                    Ok(Err(error)) => return Err(error),
                    Err(_) => {
                        return Err(FetchError::Timeout {
                            doing: "waiting for the response",
                            after: options.timeout,
                        });
                    }
                }
            }
        }
    }
    // ANCHOR_END: fetch_exchange

    // ANCHOR: fetch_many
    /// HTTP/1.1 pipelining: the GETs for `urls` (all of one host, first attempts) sent
    /// at once on one connection, by one write, and their responses read back in order,
    /// several per read when they arrive together. `answered` gets the responses in
    /// the order of `urls`; what ended the exchange early is returned (the requests
    /// after the last response are unanswered, and sent again on their own by the
    /// caller). `options.timeout` bounds the whole exchange.
    pub async fn fetch_many(
        &mut self,
        urls: &[&Url],
        options: &Options,
        answered: &mut Vec<Response>,
    ) -> Result<(), FetchError> {
        answered.clear();
        let Some(&first) = urls.first() else {
            return Ok(());
        };
        let kept = self.take(first, options);
        let reused = kept.is_some();
        let stream = match kept {
            Some(stream) => stream,
            None => self.connect(first, options).await?,
        };
        match self.exchange_many(stream, urls, options, answered).await {
            // Closed while idle, before answering anything: once more, new.
            Err(FetchError::Closed) if reused && answered.is_empty() => {
                let stream = self.connect(first, options).await?;
                self.exchange_many(stream, urls, options, answered).await
            }
            other => other,
        }
    }

    async fn exchange_many(
        &mut self,
        mut stream: Stream,
        urls: &[&Url],
        options: &Options,
        answered: &mut Vec<Response>,
    ) -> Result<(), FetchError> {
        let limit = options.timeout;
        let keep = self.keep_bodies;
        let exchange = send_and_receive_many(&mut stream, urls, options, keep, answered);
        // The responses that came before a timeout or an error stay in `answered`.
        let clean = match tokio::time::timeout(limit, exchange).await {
            Ok(result) => result?,
            Err(_) => {
                return Err(FetchError::Timeout {
                    doing: "waiting for the responses",
                    after: limit,
                });
            }
        };
        let reusable = answered.len() == urls.len() && answered.iter().all(|r| r.keep_alive);
        if reusable && clean {
            self.keep(urls[0], stream);
        }
        Ok(())
    }
    // ANCHOR_END: fetch_many

    /// The kept connection to `url`'s host, if there is one not idle for too long.
    fn take(&mut self, url: &Url, options: &Options) -> Option<Stream> {
        let kept = self.kept.iter_mut().find(|k| k.is_for(url))?;
        let stream = kept.stream.take()?;
        (kept.last_used.elapsed() < options.idle_timeout).then_some(stream)
    }

    fn keep(&mut self, url: &Url, stream: Stream) {
        let now = Instant::now();
        if let Some(kept) = self.kept.iter_mut().find(|k| k.is_for(url)) {
            kept.stream = Some(stream);
            kept.last_used = now;
            return;
        }
        if self.kept.len() >= HOSTS_KEPT {
            // The least recently used host goes (its connection closed when dropped).
            if let Some(oldest) = (0..self.kept.len()).min_by_key(|&i| self.kept[i].last_used) {
                self.kept.swap_remove(oldest);
            }
        }
        // Most workers talk to one host: room for exactly what is kept, not the four
        // a growing Vec would reserve (at 10,000 workers, that is 2 MB).
        self.kept.reserve_exact(1);
        self.kept.push(Kept {
            scheme: url.scheme,
            host: url.host.clone(),
            port: url.port,
            stream: Some(stream),
            last_used: now,
        });
    }

    // ANCHOR: connect_resolve
    /// A new connection to `url`'s host: resolved (a name goes through the system's
    /// resolver on tokio's blocking pool; an address does not), then connected to the
    /// first address that answers, each within the connect timeout, with a TLS
    /// handshake on it for `https`.
    async fn connect(&mut self, url: &Url, options: &Options) -> Result<Stream, FetchError> {
        let limit = options.connect_timeout;
        let resolve = tokio::net::lookup_host((url.host.as_str(), url.port));
        // The addresses are walked as they come: for an address (the usual case in the
        // race) that is one, and collecting them would cost an allocation per connection.
        let addrs = match tokio::time::timeout(limit, resolve).await {
            Ok(Ok(addrs)) => addrs,
            Ok(Err(e)) => {
                return Err(FetchError::Resolve {
                    host: url.host.clone(),
                    reason: e.to_string(),
                });
            }
            Err(_) => {
                return Err(FetchError::Timeout {
                    doing: "resolving the host",
                    after: limit,
                });
            }
        };
        // ANCHOR_END: connect_resolve
        // ANCHOR: connect_each
        // Why the last address failed; none failed yet.
        let mut last = None;
        for addr in addrs {
            let socket = match socket_for(addr) {
                Ok(socket) => socket,
                Err(e) => {
                    last = Some(connect_error(addr, &e));
                    continue;
                }
            };
            // A first SYN without an answer in FIRST_SYN_WAIT is most likely dropped by
            // a full listen backlog: it is sent again sooner than the kernel would.
            let first = FIRST_SYN_WAIT.min(limit);
            // (`if let`, not `match`: the first try's result is gone before the rare path
            // waits, so the task keeps no room for both.)
            let connected =
                if let Ok(done) = tokio::time::timeout(first, socket.connect(addr)).await {
                    done.map_err(|e| connect_error(addr, &e))
                } else {
                    // Boxed: the rare path's state is no room kept in every task.
                    Box::pin(send_syn_again(&mut self.syns_resent, addr, limit)).await
                };
            let tcp = match connected {
                Ok(tcp) => tcp,
                Err(error) => {
                    last = Some(error);
                    continue;
                }
            };
            // ANCHOR_END: connect_each
            // ANCHOR: connect_done
            self.opened += 1;
            return match url.scheme {
                Scheme::Http => Ok(Stream::Plain(tcp)),
                // Boxed: only a TLS connection keeps room for its handshake.
                Scheme::Https => Box::pin(handshake(url, tcp, options)).await,
            };
        }
        Err(last.unwrap_or_else(|| FetchError::Resolve {
            host: url.host.clone(),
            reason: "no address".to_string(),
        }))
    }
    // ANCHOR_END: connect_done
}

// ANCHOR: send_syn_again
/// After a first SYN that got no answer within [`FIRST_SYN_WAIT`]: tries again after a
/// short random pause, each wait twice the last, until `limit` (counted from the first
/// try, near enough) has passed. Each try is counted in `syns_resent`, which tells the
/// host's gate to give it fewer connections (see [`crate::polite`]).
async fn send_syn_again(
    syns_resent: &mut u32,
    addr: SocketAddr,
    limit: Duration,
) -> Result<TcpStream, FetchError> {
    let timed_out = || FetchError::Timeout {
        doing: "connecting",
        after: limit,
    };
    let deadline = after(limit.saturating_sub(FIRST_SYN_WAIT));
    let mut wait = FIRST_SYN_WAIT;
    while limit > FIRST_SYN_WAIT && tokio::time::Instant::now() < deadline {
        *syns_resent += 1;
        // Workers whose SYNs were dropped together must not all come back together, or
        // they meet the same full backlog again.
        tokio::time::sleep(wait.mul_f64(random_fraction() / 4.0)).await;
        wait = wait.saturating_mul(2);
        let this_try = after(wait).min(deadline);
        let socket = socket_for(addr).map_err(|e| connect_error(addr, &e))?;
        if let Ok(connected) = tokio::time::timeout_at(this_try, socket.connect(addr)).await {
            return connected.map_err(|e| connect_error(addr, &e));
        }
    }
    Err(timed_out())
}
// ANCHOR_END: send_syn_again

/// The moment `wait` from now, for a timer; a wait too long to be an Instant ends in
/// about a century, which is as good as never.
fn after(wait: Duration) -> tokio::time::Instant {
    let now = tokio::time::Instant::now();
    now.checked_add(wait)
        .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600))
}

/// The TLS handshake on `tcp`, within the connect timeout.
async fn handshake(url: &Url, tcp: TcpStream, options: &Options) -> Result<Stream, FetchError> {
    let limit = options.connect_timeout;
    match tokio::time::timeout(limit, options.tls.connect(url, tcp)).await {
        Ok(tls) => Ok(Stream::Tls(Box::new(tls?))),
        Err(_) => Err(FetchError::Timeout {
            doing: "the TLS handshake",
            after: limit,
        }),
    }
}

/// A connect that failed at once (refused, unreachable...).
fn connect_error(addr: SocketAddr, error: &io::Error) -> FetchError {
    FetchError::Connect {
        addr: addr.to_string(),
        reason: error.to_string(),
    }
}

/// A number in `0.0..1.0`, different at each call: std's `RandomState` is seeded from
/// the system's randomness, and needs no crate for a pause's jitter.
fn random_fraction() -> f64 {
    use std::hash::{BuildHasher, RandomState};
    let bits = RandomState::new().hash_one(Instant::now());
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

// ANCHOR: socket_for
/// A socket for `addr`'s family, without Nagle's delay (requests are small and sent
/// whole). Connected with `TcpSocket::connect`, which takes one address, a task waiting
/// for its handshake keeps less state than with `TcpStream::connect`, which takes a list.
fn socket_for(addr: SocketAddr) -> io::Result<TcpSocket> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_nodelay(true)?;
    Ok(socket)
}
// ANCHOR_END: socket_for

// ANCHOR: read_buf
thread_local! {
    /// The read buffer of this thread, shared by every connection the thread serves.
    static READ_BUF: RefCell<Vec<u8>> = RefCell::new(vec![0; 64 * 1024]);
    /// Where this thread's requests are written before they are sent.
    static WRITE_BUF: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}
// ANCHOR_END: read_buf

// ANCHOR: send_request
/// Sends the GET for `url`, then reads until the codec has a whole response. Returns it,
/// and whether the stream ended cleanly after it (no stray bytes, not closed): only
/// then may the connection carry another request.
#[allow(
    clippy::manual_async_fn,
    reason = "an `async fn` keeps its arguments twice in its future; an `async` block, once"
)]
fn send_and_receive<'a>(
    stream: &'a mut Stream,
    url: &'a Url,
    attempt: u32,
    options: &'a Options,
    keep_bodies: bool,
    mut part: Option<&'a mut Part<'_>>,
) -> impl Future<Output = Result<(Response, bool), FetchError>> + 'a {
    // An `async` block, not an `async fn`, as in [`Connections::fetch`].
    async move {
        if let Some(part) = part.as_deref_mut() {
            part.next_attempt();
        }
        // Everything the request needs is worked out inside the closure: a task keeps no
        // room for it while it waits.
        send(stream, |out| {
            let resume = part.as_deref().and_then(Part::resume_headers);
            let resume = resume.as_ref().map(|(range, v)| (range.as_str(), *v));
            push_get_request(url, attempt, options, resume, out)
        })
        .await?;
        // ANCHOR_END: send_request
        // ANCHOR: receive_response
        let limits = body_limits(options, part.is_some());
        let mut parser = response_parser(limits, keep_bodies);
        loop {
            let step = read_with(stream, options, |input| match input {
                [] => match parser.finish() {
                    Ok(Some(response)) => Ok(Some((response, false))),
                    Ok(None) => Err(FetchError::Closed),
                    Err(error) => Err(FetchError::Http(error)),
                },
                input => match parser.feed(input) {
                    Ok(Parsed::NeedMore) => match part.as_deref_mut() {
                        Some(part) => spill(&mut parser, part, options).map(|()| None),
                        None => Ok(None),
                    },
                    // Bytes after the response were not asked for: the stream's state is
                    // unknown, so the connection is not reused.
                    Ok(Parsed::Done { mut message, used }) => {
                        if let Some(part) = part.as_deref_mut() {
                            spill_last(&mut message, part)?;
                        }
                        Ok(Some((message, used == input.len())))
                    }
                    Err(error) => Err(FetchError::Http(error)),
                },
            })
            .await
            .map_err(|e| FetchError::closed_or("reading the response", e))??;
            if let Some(done) = step {
                return Ok(done);
            }
        }
    }
}
// ANCHOR_END: receive_response

// ANCHOR: response_parser
/// The codec for the responses of one exchange. When the run keeps no document
/// (`keep_bodies` false), a body that [`policy::needs_body`] does not need is counted
/// and dropped as it comes: a copy and an allocation fewer per document.
pub fn response_parser(limits: Limits, keep_bodies: bool) -> ResponseParser {
    let parser = ResponseParser::new(Method::Get, limits);
    match keep_bodies {
        true => parser,
        false => parser.dropping_bodies(policy::needs_body),
    }
}
// ANCHOR_END: response_parser

/// The codec's limits for a response: with a part file, what goes to disk is limited
/// by `--max-size` only when it was given; what is held in memory stays limited (see
/// [`spill`]).
fn body_limits(options: &Options, to_disk: bool) -> Limits {
    let mut limits = options.limits;
    if to_disk {
        limits.max_body_bytes = options.max_spilled.unwrap_or(usize::MAX);
    }
    limits
}

// ANCHOR: spill
/// While a body is read: once the part says where it goes, a body for the part file is
/// handed over as it comes, and one held in memory is kept within `--max-size`.
fn spill(
    parser: &mut ResponseParser,
    part: &mut Part<'_>,
    options: &Options,
) -> Result<(), FetchError> {
    let Some(head) = parser.body_head() else {
        return Ok(()); // still reading the head
    };
    let held = head.body.len();
    if part.decision() == Decision::Undecided {
        part.consider(head, held)?;
    }
    match part.decision() {
        Decision::Spill => part.write(&parser.take_body()),
        Decision::Undecided | Decision::Hold if held > options.limits.max_body_bytes => {
            Err(FetchError::Http(sockets::http::HttpError::BodyTooLarge {
                offset: 0,
                size: held as u64,
                limit: options.limits.max_body_bytes,
            }))
        }
        _ => Ok(()),
    }
}

/// The response is complete: the last of a spilled body goes to the part file (a body
/// that came in one read is decided only now).
fn spill_last(message: &mut Response, part: &mut Part<'_>) -> Result<(), FetchError> {
    if part.decision() == Decision::Undecided {
        part.consider(message, message.body.len())?;
    }
    if part.decision() == Decision::Spill {
        part.write(&std::mem::take(&mut message.body))?;
    }
    Ok(())
}
// ANCHOR_END: spill

// ANCHOR: send_many
/// Sends the GETs for `urls` at once, then reads until as many responses are in
/// `answered`, or one says the server closes the connection after it (the requests
/// after it are left unanswered), or the stream ends. Returns whether the stream ended
/// cleanly after the last response, as [`send_and_receive`] does.
async fn send_and_receive_many(
    stream: &mut Stream,
    urls: &[&Url],
    options: &Options,
    keep_bodies: bool,
    answered: &mut Vec<Response>,
) -> Result<bool, FetchError> {
    send(stream, |out| {
        for url in urls {
            push_get_request(url, 0, options, None, out);
        }
    })
    .await?;
    let expected = urls.len();
    let mut parser = response_parser(options.limits, keep_bodies);
    // ANCHOR_END: send_many
    // ANCHOR: receive_many
    loop {
        let step = read_with(stream, options, |mut input| {
            if input.is_empty() {
                return match parser.finish() {
                    Ok(Some(response)) => {
                        answered.push(response);
                        Ok(Some(false))
                    }
                    Ok(None) => Err(FetchError::Closed),
                    Err(error) => Err(FetchError::Http(error)),
                };
            }
            // One read may hold the end of one response and several whole ones.
            while !input.is_empty() {
                match parser.feed(input).map_err(FetchError::Http)? {
                    Parsed::NeedMore => break,
                    Parsed::Done { message, used } => {
                        input = &input[used..];
                        let last = answered.len() + 1 == expected || !message.keep_alive;
                        answered.push(message);
                        if last {
                            // Bytes after the last response were not asked for.
                            return Ok(Some(input.is_empty()));
                        }
                    }
                }
            }
            Ok(None)
        })
        .await
        .map_err(|e| FetchError::closed_or("reading the responses", e))??;
        if let Some(clean) = step {
            return Ok(clean);
        }
    }
}
// ANCHOR_END: receive_many

// ANCHOR: read_with
/// Waits until `stream` has bytes, reads them into this thread's buffer, and returns
/// what `take` makes of them (`take` gets `&[]` at the end of the stream). The buffer
/// is borrowed only inside one poll, never held across an `.await`: a task waiting for
/// its response holds no buffer at all. With `--rate`, the bytes read are booked, and
/// a reader first waits until the limit has caught up with what was read before (see
/// [`crate::rate`]).
///
/// A plain function returning a `poll_fn`, not an `async fn`: what it needs is kept
/// once, in the closure, and that is all a waiting task holds for it.
fn read_with<'a, T: 'a>(
    stream: &'a mut Stream,
    options: &'a Options,
    mut take: impl FnMut(&[u8]) -> T + 'a,
) -> impl Future<Output = io::Result<T>> + 'a {
    // Boxed: only a limited run pays for a timer in its tasks.
    let mut pause = options
        .rate
        .as_ref()
        .map(|rate| rate.wait(Instant::now()))
        .filter(|wait| !wait.is_zero())
        .map(|wait| Box::pin(tokio::time::sleep(wait)));
    std::future::poll_fn(move |cx| {
        if let Some(sleep) = &mut pause {
            ready!(sleep.as_mut().poll(cx));
            pause = None;
        }
        READ_BUF.with(|buf| {
            let mut buf = buf.borrow_mut();
            match ready!(stream.poll_read_into(cx, &mut buf)) {
                Ok(n) => {
                    if let Some(rate) = &options.rate {
                        rate.book(n, Instant::now());
                    }
                    Poll::Ready(Ok(take(&buf[..n])))
                }
                Err(e) => Poll::Ready(Err(e)),
            }
        })
    })
}
// ANCHOR_END: read_with

// ANCHOR: send
/// Sends the bytes `write` puts into this thread's write buffer. Requests are small,
/// and the socket's send buffer is empty when they start (the last response was read
/// whole), so one `try_write` takes them all, and nothing of them waits in the task.
/// Only what the socket did not take is copied out, and written as space frees up.
async fn send(stream: &mut Stream, write: impl FnOnce(&mut Vec<u8>)) -> Result<(), FetchError> {
    stream.forget_readable();
    let rest = WRITE_BUF.with(|buf| {
        let mut buf = buf.borrow_mut();
        buf.clear();
        write(&mut buf);
        let taken = match stream.try_write(&buf) {
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => 0,
            Err(e) => return Err(FetchError::closed_or("writing the request", e)),
        };
        // An empty rest costs no allocation.
        Ok(buf[taken..].to_vec())
    })?;
    if !rest.is_empty() {
        stream
            .write_all(&rest)
            .await
            .map_err(|e| FetchError::closed_or("writing the request", e))?;
    }
    Ok(())
}
// ANCHOR_END: send

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// The GET [`push_get_request`] would make with no memo: the oracle of the tests below.
    fn made_whole(
        url: &Url,
        attempt: u32,
        options: &Options,
        resume: Option<(&str, &str)>,
    ) -> String {
        let mut out = Vec::new();
        write_request_line(Method::Get, &url.path, &mut out);
        push_get_fields(url, attempt, options, resume, &mut out);
        String::from_utf8(out).unwrap()
    }

    /// First GETs written one after another, to hosts and with options that change
    /// between them one part at a time (the port, the host, the scheme, compression,
    /// the user agent, a header), each twice in a row: each is byte for byte the GET
    /// made whole, so the thread's memo never gives the lines of another host or other
    /// options.
    #[test]
    fn first_gets_through_the_memo_are_the_gets_made_whole() {
        // Each URL differs from the one before in one part.
        let urls = [
            "http://h:8080/a?b",
            "http://h:8081/a",
            "http://g:8081/a",
            "https://g:443/x/y",
            "http://g:443/",
            "http://[::1]:9/p",
            "http://h/a%20b/\u{e9}?q=\u{e9}#frag",
        ];
        let headers = |list: &[&str]| -> Vec<crate::headers::Header> {
            list.iter()
                .map(|h| crate::headers::Header::parse(h).unwrap())
                .collect()
        };
        // Each differs from the one before in one part.
        let plain = Options {
            compress: false,
            ..Options::default()
        };
        let options = [
            Options::default(),
            plain.clone(),
            Options {
                user_agent: String::new(),
                ..plain.clone()
            },
            Options {
                user_agent: "probe/1".to_string(),
                ..plain.clone()
            },
            Options {
                user_agent: "probe/1".to_string(),
                headers: headers(&["X-Token: abc", "Accept-Encoding: br"]),
                ..plain.clone()
            },
            Options {
                user_agent: "probe/1".to_string(),
                headers: headers(&["X-Token: abd", "Accept-Encoding: br"]),
                ..plain.clone()
            },
        ];
        let urls: Vec<Url> = urls.iter().map(|u| Url::parse_web(u).unwrap()).collect();
        let check = |url: &Url, options: &Options| {
            for _ in 0..2 {
                let mut out = b"left before ".to_vec();
                push_get_request(url, 0, options, None, &mut out);
                let want = format!("left before {}", made_whole(url, 0, options, None));
                assert_eq!(String::from_utf8_lossy(&out), want, "{url:?}");
            }
        };
        // URLs in turn with the same options, then options in turn for the same URL.
        for options in &options {
            urls.iter().for_each(|url| check(url, options));
        }
        for url in &urls {
            options.iter().for_each(|options| check(url, options));
        }
        // A retry and a resume are made whole.
        let url = &urls[0];
        let resume = Some(("bytes=5-", "\"v\""));
        let mut out = Vec::new();
        push_get_request(url, 3, &options[4], resume, &mut out);
        let want = made_whole(url, 3, &options[4], resume);
        assert_eq!(String::from_utf8_lossy(&out), want);
        assert!(want.contains("X-Attempt: 3\r\n") && want.contains("Range: bytes=5-\r\n"));
    }

    /// A server on 127.0.0.1 that keeps every connection open and answers each request
    /// with `ok`. Returns its address, and the heads of the requests it got, in order.
    async fn recording_server() -> (SocketAddr, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let heads = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let kept = heads.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let heads = kept.clone();
                tokio::spawn(async move {
                    let mut got = Vec::new();
                    let mut buf = vec![0; 4096];
                    loop {
                        while let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
                            let head: Vec<u8> = got.drain(..end + 4).collect();
                            heads
                                .lock()
                                .unwrap()
                                .push(String::from_utf8_lossy(&head).into_owned());
                            let reply = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
                            if socket.write_all(reply).await.is_err() {
                                return;
                            }
                        }
                        match socket.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => got.extend_from_slice(&buf[..n]),
                        }
                    }
                });
            }
        });
        (addr, heads)
    }

    /// On kept connections, to two hosts in turns: each first GET carries its own
    /// host's `Host`, a retry still says `X-Attempt`, and a request that resumes a part
    /// file still asks for its `Range`. Every request the server got is the GET made
    /// whole.
    #[tokio::test]
    async fn requests_on_kept_connections_are_the_requests_made_whole() {
        let (a, heads_a) = recording_server().await;
        let (b, heads_b) = recording_server().await;
        let options = Options {
            user_agent: "probe/1".to_string(),
            headers: vec![crate::headers::Header::parse("X-Token: abc").unwrap()],
            timeout: Duration::from_secs(20),
            ..Options::default()
        };
        let dir = std::env::temp_dir().join(format!("wire-kept-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("doc");
        std::fs::write(dir.join(format!("{}doc", crate::store::PART_PREFIX)), b"ab").unwrap();
        std::fs::write(
            dir.join(format!("{}doc.id", crate::store::PART_PREFIX)),
            "\"v1\"",
        )
        .unwrap();
        let url =
            |addr: SocketAddr, path: &str| Url::parse(&format!("http://{addr}{path}")).unwrap();
        let mut connections = Connections::new(true);
        // (url, attempt, whether a part is resumed)
        let asked = [
            (url(a, "/1"), 0, false),
            (url(a, "/2"), 0, false),
            (url(b, "/3"), 0, false),
            (url(a, "/4"), 2, false),
            (url(b, "/5"), 0, false),
            (url(a, "/6"), 0, true),
            (url(a, "/7"), 0, false),
        ];
        let mut want_a = Vec::new();
        let mut want_b = Vec::new();
        for (url, attempt, resume) in &asked {
            let mut part = resume.then(|| Part::for_file(&file).unwrap());
            let answer = connections
                .fetch(url, *attempt, &options, part.as_mut())
                .await;
            answer.unwrap_or_else(|e| panic!("{url:?}: {e}"));
            let range = resume.then_some(("bytes=2-", "\"v1\""));
            let want = if url.port == a.port() {
                &mut want_a
            } else {
                &mut want_b
            };
            want.push(made_whole(url, *attempt, &options, range));
        }
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(connections.opened, 2, "a connection was not kept");
        assert_eq!(*heads_a.lock().unwrap(), want_a);
        assert_eq!(*heads_b.lock().unwrap(), want_b);
        let heads_a = heads_a.lock().unwrap();
        assert!(
            heads_a[2].contains("\r\nX-Attempt: 2\r\n"),
            "{}",
            heads_a[2]
        );
        assert!(
            heads_a[3].contains("\r\nRange: bytes=2-\r\n"),
            "{}",
            heads_a[3]
        );
    }

    /// A listener whose accept queue is full drops SYNs: the connect gives its SYN up
    /// and sends it again (counted) rather than wait for the kernel's retransmit, and
    /// it still ends within its limit, with a timeout, if nobody ever accepts.
    #[tokio::test]
    async fn a_syn_dropped_by_a_full_backlog_is_sent_again_within_the_limit() {
        let socket = TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        // A backlog of 0: one connection waiting to be accepted fills the queue.
        let listener = socket.listen(0).unwrap();
        let addr = listener.local_addr().unwrap();
        let _queued = TcpStream::connect(addr).await.unwrap();
        let mut connections = Connections::new(true);
        let url = Url::parse(&format!("http://{addr}/")).unwrap();
        let limit = Duration::from_millis(1200);
        let options = Options {
            connect_timeout: limit,
            ..Options::default()
        };
        let error = connections.connect(&url, &options).await.unwrap_err();
        assert!(
            matches!(error, FetchError::Timeout { doing: "connecting", after } if after == limit),
            "{error}"
        );
        assert!(connections.syns_resent >= 1, "the SYN was never sent again");
        // Once the queue has room, the next connect gets in.
        let accepted = listener.accept().await.unwrap();
        let resent = connections.syns_resent;
        let options = Options {
            connect_timeout: Duration::from_secs(20),
            ..Options::default()
        };
        let stream = connections
            .connect(&url, &options)
            .await
            .expect("a connect once the backlog has room");
        drop((stream, accepted));
        assert!(connections.syns_resent >= resent);
    }

    /// A server on 127.0.0.1 that answers each connection's requests with `body`, up to
    /// `per_connection` of them, then closes it without saying so beforehand (a
    /// keep-alive server whose idle timeout struck). Returns its address.
    async fn closing_server(per_connection: usize, body: &'static [u8]) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = vec![0; 4096];
                    for _ in 0..per_connection {
                        let mut got = Vec::new();
                        while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                            match socket.read(&mut buf).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => got.extend_from_slice(&buf[..n]),
                            }
                        }
                        let head =
                            format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len());
                        let answered = async {
                            socket.write_all(head.as_bytes()).await?;
                            socket.write_all(body).await
                        };
                        if answered.await.is_err() {
                            return;
                        }
                    }
                    // Dropped: closed after its last answer.
                });
            }
        });
        addr
    }

    /// `times` fetches of one URL of `addr` with one set of connections, each answered
    /// with `body` (a request left waiting fails with the 20 s timeout), `pause` between
    /// them; returns the connections, to count what they opened.
    async fn fetch_times(
        addr: SocketAddr,
        times: usize,
        body: &[u8],
        pause: Duration,
    ) -> Connections {
        let url = Url::parse(&format!("http://{addr}/x")).unwrap();
        let options = Options {
            timeout: Duration::from_secs(20),
            ..Options::default()
        };
        let mut connections = Connections::new(true);
        for i in 0..times {
            let response = connections.fetch(&url, 0, &options, None).await;
            let response = response.unwrap_or_else(|e| panic!("request {i}: {e}"));
            assert_eq!(response.body, body);
            tokio::time::sleep(pause).await;
        }
        connections
    }

    /// A response's readiness left on the socket is forgotten before the next request
    /// ([`Stream::forget_readable`]): the next response, coming later, must still wake
    /// the reader, request after request on one connection.
    #[tokio::test]
    async fn each_response_on_a_kept_connection_wakes_its_reader() {
        let addr = closing_server(50, b"hello").await;
        let connections = fetch_times(addr, 50, b"hello", Duration::ZERO).await;
        assert_eq!(connections.opened, 1, "the connection was not kept");
    }

    /// A kept connection that the server closed while it was idle: forgetting the
    /// readiness must not hide that. The next request on it finds it closed (the end
    /// of the stream, or the reset that the request brings back) and goes again on a
    /// new connection, rather than waiting out its timeout.
    #[tokio::test]
    async fn a_kept_connection_closed_while_idle_is_replaced_not_waited_on() {
        let addr = closing_server(1, b"once").await;
        // A pause for the server's close to arrive before the next request.
        let connections = fetch_times(addr, 5, b"once", Duration::from_millis(20)).await;
        assert_eq!(
            connections.opened, 5,
            "each request needed a new connection"
        );
    }

    /// The slow path of [`send`]: a socket whose send buffer is full takes nothing at
    /// once, and the request must still arrive whole, after what was queued before it.
    #[tokio::test]
    async fn a_request_the_socket_cannot_take_at_once_is_sent_whole_and_in_order() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        // Nobody reads yet: write until the kernel's buffers on both ends are full.
        let chunk = vec![b'x'; 64 * 1024];
        let mut queued = 0;
        while let Ok(n) = client.try_write(&chunk) {
            queued += n;
        }
        assert!(queued > 0, "the socket took nothing at all");
        let request = b"GET /after-a-full-buffer HTTP/1.1\r\n\r\n";
        let mut client = Stream::Plain(client);
        let sending = send(&mut client, |out| out.extend_from_slice(request));
        let reading = async {
            let mut got = Vec::new();
            let mut buf = vec![0; 64 * 1024];
            while got.len() < queued + request.len() {
                let n = server.read(&mut buf).await.unwrap();
                assert!(n > 0, "the connection ended early");
                got.extend_from_slice(&buf[..n]);
            }
            got
        };
        let both = async { tokio::join!(sending, reading) };
        let (sent, got) = tokio::time::timeout(Duration::from_secs(20), both)
            .await
            .expect("the request was not sent within 20 s");
        sent.unwrap();
        assert_eq!(got.len(), queued + request.len());
        assert!(got[..queued].iter().all(|&b| b == b'x'));
        assert_eq!(&got[queued..], request);
    }
}
