//! "All of Wikipedia", offline: a corpus of generated articles, and its HTTP answers.
//!
//! No test may download from the internet, so the downloads of lessons 3 to 5 come from
//! this corpus: article `id` is computed from `id` ([`document`]) and carries a checksum
//! header ([`CHECKSUM_HEADER`]), so a client can check what it received without knowing
//! the corpus. Faults can be injected to test the client's robustness ([`FaultPlan`]).
//!
//! The corpus is **sans-IO**: [`respond`] takes a parsed request and returns a
//! [`Reply`] — the bytes to send and a plan for sending them (wait first? close after?
//! send only part? trickle?). It never touches a socket, a thread or a clock. That is
//! what lets three servers carry out the same plans: [`crate::server`] with a thread
//! per connection here, a hand-made event loop in lesson 4, tokio in lesson 5.
//!
//! Routes (`GET` or `HEAD`):
//!
//! | target            | reply                                                          |
//! |-------------------|----------------------------------------------------------------|
//! | `/`               | a short page listing the routes and fault parameters           |
//! | `/wiki/<id>`      | article `id` (a `u64` in plain decimal), with its checksum     |
//! | `/index?n=N`      | the first `N` article paths, one per line (`N` ≤ 1,000,000)    |
//! | anything else     | 404                                                            |
//!
//! Every reply has `Content-Type`, `Content-Length` (unless the fault is a chunked or
//! close-delimited body) and `Connection: keep-alive` or `close` as the request asked.

mod article;
mod checksum;
mod faults;

use std::fmt::Write as _;
use std::time::Duration;

pub use article::{MAX_SIZE, MIN_SIZE, document, document_size, write_document};
pub use checksum::{CHECKSUM_HEADER, Checksum, checksum, verify};
pub use faults::{
    DEFAULT_RETRY_AFTER_SECS, DRIP_PAUSE, DRIP_PIECE, FaultKind, FaultPlan, SLOW_REPLY,
    UnknownFault,
};

use crate::http::{HttpError, Method, Request};

/// The request header by which a retrying client numbers its attempts (0, 1, 2...): each
/// attempt gets its own roll of the global faults (see [`FaultPlan::pick`]).
pub const ATTEMPT_HEADER: &str = "X-Attempt";
/// The most paths `/index` lists (about 14 MB of text).
pub const MAX_INDEX: u64 = 1_000_000;
/// How many paths `/index` lists without `n`.
pub const DEFAULT_INDEX: u64 = 100;
/// The longest wait a query may ask for (`latency`, `pause`): a typo must not park a
/// server thread for hours.
pub const MAX_WAIT: Duration = Duration::from_secs(60);

// ANCHOR: reply
/// What to send, and how: the whole plan for one answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The response: head and body, exactly as they go on the wire.
    pub bytes: Vec<u8>,
    /// Wait this long before sending anything (injected latency).
    pub delay: Duration,
    /// How to send `bytes`, and whether the connection ends after.
    pub action: Action,
    /// The status code in `bytes`; `None` when nothing is sent ([`Action::Drop`]).
    pub status: Option<u16>,
    /// The fault this reply carries out, if any (servers count them).
    pub fault: Option<FaultKind>,
}

/// How a server sends a [`Reply`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Send all the bytes; the connection stays open for the next request.
    Send,
    /// Send all the bytes, then close the connection.
    SendThenClose,
    /// Send nothing and close the connection.
    Drop,
    /// Send the first `keep` bytes, then close: the body is cut short.
    Truncate { keep: usize },
    /// Send `piece` bytes at a time with a `pause` between pieces, then close the
    /// connection if `close`.
    Drip {
        piece: usize,
        pause: Duration,
        close: bool,
    },
}
// ANCHOR_END: reply

impl Reply {
    /// Whether the connection must be closed once this reply is carried out.
    pub fn closes(&self) -> bool {
        match self.action {
            Action::Send => false,
            Action::Drip { close, .. } => close,
            Action::SendThenClose | Action::Drop | Action::Truncate { .. } => true,
        }
    }
}

// ANCHOR: respond
/// The answer to `request`, with the faults of `faults` applied.
pub fn respond(request: &Request, faults: &FaultPlan) -> Reply {
    let head_only = match request.method {
        Method::Get => false,
        Method::Head => true,
    };
    let ask = Ask {
        target: &request.target,
        head_only,
        keep_alive: request.keep_alive(),
        http_1_0: request.version_minor == 0,
        // A header that does not parse counts as no header: it is the client's retry
        // bookkeeping, not something to refuse a download over.
        attempt: request
            .headers
            .get(ATTEMPT_HEADER)
            .and_then(|value| value.trim().parse().ok()),
    };
    answer(&ask, faults)
}
// ANCHOR_END: respond

/// The answer to bytes that did not parse as a request, with the status the codec
/// chose ([`HttpError::status`]): 400 for malformed bytes, 431 for a head over the
/// limits, 501 for a method other than GET and HEAD... The body says what was wrong and
/// at which byte. The connection closes after it: once the stream is malformed, where
/// the next request would start is unknown.
pub fn error_reply(error: &HttpError) -> Reply {
    let status = error.status();
    let ask = Ask {
        target: "",
        head_only: false,
        keep_alive: false,
        http_1_0: false,
        attempt: None,
    };
    let page = Page::text(status, reason(status), format!("{error}\n").into_bytes());
    finish(&ask, &Query::default(), page, None, Duration::ZERO)
}

/// The reason phrase of the statuses the corpus sends (clients ignore it; people read it).
fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}

/// The parts of a request the corpus looks at.
struct Ask<'a> {
    target: &'a str,
    head_only: bool,
    keep_alive: bool,
    /// An HTTP/1.0 client cannot read chunked bodies: it gets a close-delimited one.
    http_1_0: bool,
    attempt: Option<u64>,
}

/// A reply before the faults and the framing: status, headers that matter, body.
struct Page {
    status: u16,
    reason: &'static str,
    body: Vec<u8>,
    /// Articles carry their checksum; error pages and lists do not.
    checksum: bool,
    retry_after: Option<u64>,
}

impl Page {
    fn text(status: u16, reason: &'static str, body: Vec<u8>) -> Page {
        Page {
            status,
            reason,
            body,
            checksum: false,
            retry_after: None,
        }
    }
}

/// Routes the request, picks its fault, builds the reply.
fn answer(ask: &Ask<'_>, plan: &FaultPlan) -> Reply {
    let (path, query) = ask.target.split_once('?').unwrap_or((ask.target, ""));
    let query = match Query::parse(query) {
        Ok(query) => query,
        Err(error) => {
            let page = Page::text(400, "Bad Request", format!("{error}\n").into_bytes());
            return finish(ask, &Query::default(), page, None, plan.latency);
        }
    };
    let (page, id) = match path {
        "/" => (Page::text(200, "OK", HOME.as_bytes().to_vec()), None),
        "/index" => match index(query.n.unwrap_or(DEFAULT_INDEX)) {
            Ok(list) => (Page::text(200, "OK", list), None),
            Err(error) => {
                let page = Page::text(400, "Bad Request", format!("{error}\n").into_bytes());
                (page, None)
            }
        },
        _ => match path.strip_prefix("/wiki/").and_then(parse_id) {
            Some(id) => {
                let page = Page {
                    status: 200,
                    reason: "OK",
                    body: document(id),
                    checksum: true,
                    retry_after: None,
                };
                (page, Some(id))
            }
            None => {
                let body = format!("no such page: {path}\n").into_bytes();
                (Page::text(404, "Not Found", body), None)
            }
        },
    };
    // The query's fault is the test's order; the plan's roll applies to articles only,
    // since it is keyed by the article id.
    let attempt = query.attempt.or(ask.attempt).unwrap_or(0);
    let fault = query
        .fault
        .or_else(|| id.and_then(|id| plan.pick(id, attempt)));
    let mut delay = query.latency.unwrap_or(plan.latency);
    if fault == Some(FaultKind::Latency) {
        delay += SLOW_REPLY;
    }
    finish(ask, &query, page, fault, delay)
}

/// Applies the fault to the page and frames it: the head, the body, the action.
fn finish(
    ask: &Ask<'_>,
    query: &Query,
    mut page: Page,
    fault: Option<FaultKind>,
    delay: Duration,
) -> Reply {
    match fault {
        Some(FaultKind::Drop) => {
            return Reply {
                bytes: Vec::new(),
                delay,
                action: Action::Drop,
                status: None,
                fault,
            };
        }
        Some(FaultKind::Unavailable) => {
            let secs = query.retry_after.unwrap_or(DEFAULT_RETRY_AFTER_SECS);
            let body = format!("unavailable: retry after {secs} s\n").into_bytes();
            page = Page::text(503, "Service Unavailable", body);
            page.retry_after = Some(secs);
        }
        _ => {}
    }
    let framing = match fault {
        Some(FaultKind::Chunked) if !ask.http_1_0 => Framing::Chunked,
        Some(FaultKind::Chunked | FaultKind::Close) => Framing::Close,
        _ => Framing::Length,
    };
    // Without a length, only the close can tell the client where the body ends.
    let keep_alive = ask.keep_alive && framing != Framing::Close;

    let mut bytes = Vec::with_capacity(HEAD_ROOM + page.body.len() + page.body.len() / 64);
    let mut head = String::with_capacity(HEAD_ROOM);
    // Writing into a String cannot fail: the `let _` drops an always-Ok result.
    let _ = write!(
        head,
        "HTTP/1.1 {} {}\r\nContent-Type: text/plain; charset=utf-8\r\n",
        page.status, page.reason
    );
    match framing {
        Framing::Length => {
            let _ = write!(head, "Content-Length: {}\r\n", page.body.len());
        }
        Framing::Chunked => head.push_str("Transfer-Encoding: chunked\r\n"),
        Framing::Close => {}
    }
    if page.checksum {
        let _ = write!(head, "{CHECKSUM_HEADER}: {}\r\n", checksum(&page.body));
    }
    if let Some(secs) = page.retry_after {
        let _ = write!(head, "Retry-After: {secs}\r\n");
    }
    head.push_str(if keep_alive {
        "Connection: keep-alive\r\n\r\n"
    } else {
        "Connection: close\r\n\r\n"
    });
    bytes.extend_from_slice(head.as_bytes());
    let head_len = bytes.len();
    // HEAD: the same head as GET (length and checksum of the body it would get), no body.
    if !ask.head_only {
        match framing {
            Framing::Length | Framing::Close => bytes.extend_from_slice(&page.body),
            Framing::Chunked => write_chunked(&page.body, &mut bytes),
        }
    }

    let action = match fault {
        Some(FaultKind::Truncate) => Action::Truncate {
            keep: head_len + (bytes.len() - head_len) / 2,
        },
        Some(FaultKind::Drip) => Action::Drip {
            piece: query.piece.unwrap_or(DRIP_PIECE),
            pause: query.pause.unwrap_or(DRIP_PAUSE),
            close: !keep_alive,
        },
        _ if keep_alive => Action::Send,
        _ => Action::SendThenClose,
    };
    Reply {
        bytes,
        delay,
        action,
        status: Some(page.status),
        fault,
    }
}

/// Room for a head: the status line and five short headers.
const HEAD_ROOM: usize = 192;

/// Where the body ends, as the head tells the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    /// `Content-Length`: the usual way.
    Length,
    /// `Transfer-Encoding: chunked`: each chunk says its size, a zero-size one ends.
    Chunked,
    /// Neither: the body ends when the connection closes.
    Close,
}

/// Encodes `body` as chunks of varied sizes (1 byte to 4 KiB, spread over the orders of
/// magnitude), the first one with an extension — both things a parser must handle.
fn write_chunked(body: &[u8], out: &mut Vec<u8>) {
    let mut state = body.len() as u64;
    let mut rest = body;
    let mut first = true;
    while !rest.is_empty() {
        state = article::mix(state.wrapping_add(0x9e37_79b9_7f4a_7c15));
        let limit = 1u64 << (state % 13); // 1 to 4096
        let size = (1 + (state >> 8) % limit) as usize;
        let (chunk, after) = rest.split_at(size.min(rest.len()));
        let extension = if first { ";corpus=lesson-3" } else { "" };
        let mut line = String::with_capacity(24);
        let _ = write!(line, "{:x}{extension}\r\n", chunk.len());
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
        rest = after;
        first = false;
    }
    out.extend_from_slice(b"0\r\n\r\n");
}

/// `0`, `7`, `123`: plain decimal without sign or leading zeros, so that each article
/// has exactly one path.
fn parse_id(text: &str) -> Option<u64> {
    let canonical = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    if canonical { text.parse().ok() } else { None }
}

/// `/wiki/0` to `/wiki/{n-1}`, one per line.
fn index(n: u64) -> Result<Vec<u8>, QueryError> {
    if n > MAX_INDEX {
        return Err(QueryError::TooMany(n));
    }
    // Each line is "/wiki/" (6 bytes), at most 6 digits for ids under a million, "\n".
    let mut list = String::with_capacity(n as usize * 13);
    for id in 0..n {
        let _ = writeln!(list, "/wiki/{id}");
    }
    Ok(list.into_bytes())
}

/// The query parameters the corpus understands; others are ignored.
#[derive(Debug, Default)]
struct Query {
    fault: Option<FaultKind>,
    latency: Option<Duration>,
    retry_after: Option<u64>,
    attempt: Option<u64>,
    n: Option<u64>,
    piece: Option<usize>,
    pause: Option<Duration>,
}

impl Query {
    /// Parses `a=1&b=2`. A known parameter with a bad value is an error, with a message
    /// for the 400 page: a test that mistyped `fault=trunacte` should hear about it,
    /// not get a healthy reply.
    fn parse(query: &str) -> Result<Query, QueryError> {
        let mut parsed = Query::default();
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "fault" => parsed.fault = Some(value.parse()?),
                "latency" => parsed.latency = Some(millis(key, value)?),
                "pause" => parsed.pause = Some(millis(key, value)?),
                "retry_after" => parsed.retry_after = Some(number(key, value, 86_400)?),
                "attempt" => parsed.attempt = Some(number(key, value, u64::MAX)?),
                "n" => parsed.n = Some(number(key, value, u64::MAX)?),
                "piece" => parsed.piece = Some(number(key, value, 1 << 20)?.max(1) as usize),
                _ => {}
            }
        }
        Ok(parsed)
    }
}

/// A query parameter the corpus knows, with a value it cannot use: the message of the
/// 400 page.
#[derive(Debug, thiserror::Error)]
enum QueryError {
    #[error(transparent)]
    Fault(#[from] UnknownFault),
    #[error("n={0} is more than the {MAX_INDEX} paths /index lists")]
    TooMany(u64),
    #[error("{key} must be a whole number from 0 to {max}, not `{value}`")]
    Number {
        key: String,
        max: u64,
        value: String,
    },
}

/// A decimal number up to `max`.
fn number(key: &str, value: &str, max: u64) -> Result<u64, QueryError> {
    let parsed = if value.bytes().all(|b| b.is_ascii_digit()) {
        value.parse::<u64>().ok()
    } else {
        None
    };
    match parsed {
        Some(n) if n <= max => Ok(n),
        _ => Err(QueryError::Number {
            key: key.to_string(),
            max,
            value: value.to_string(),
        }),
    }
}

/// Milliseconds up to [`MAX_WAIT`].
fn millis(key: &str, value: &str) -> Result<Duration, QueryError> {
    number(key, value, MAX_WAIT.as_millis() as u64).map(Duration::from_millis)
}

/// The page at `/`.
const HOME: &str = "\
The offline Wikipedia of lesson 3: generated articles, and faults on request.

Routes (GET or HEAD):
  /wiki/<id>      article <id> (0 to 18446744073709551615), 1 to 16 KiB of text,
                  with its 64-bit checksum in the X-Checksum header
  /index?n=N      the first N article paths, one per line (N up to 1000000, default 100)
  /               this page

Fault parameters, on any route:
  fault=KIND      latency | drop | unavailable | truncate | chunked | close | drip
  latency=MS      wait before replying (up to 60000)
  retry_after=S   the Retry-After of fault=unavailable (default 1)
  piece=B         the piece size of fault=drip (default 1024 bytes)
  pause=MS        the pause between drip pieces (default 20)
  attempt=N       which attempt this is (or the X-Attempt header): the server's random
                  faults are rolled per (id, attempt), so a retry that says so gets a
                  fresh roll
";
