//! What to fetch: a URL, and the name its document is stored under.
//!
//! A million URLs are tens of megabytes: read them all first and the downloader's
//! memory grows with its input. So targets are *streamed* — an iterator over the lines
//! of a file (or of stdin, or of the corpus' ids) that the workers pull from as they
//! finish, so that only the documents in flight are ever in memory.

use std::io::BufRead;
use std::net::SocketAddr;
use std::sync::OnceLock;

use sockets::url::{Scheme, Url};

use crate::names::Layout;

/// One document to fetch.
#[derive(Debug, Clone)]
pub struct Target {
    pub url: Url,
    /// Its name, made the first time it is asked for in the default layout: a run that
    /// stores nothing (the race, a run without `--out`) never pays for it, a run that
    /// stores makes it once. A name made otherwise (`--flat`, a corpus id) is made with
    /// the target. (No field says which: a target is held by every waiting task, and
    /// tokio rounds a task up to a multiple of 128 bytes, so 8 bytes more made each
    /// task 128 bytes larger.)
    name: OnceLock<Box<str>>,
}

impl Target {
    /// A target named after its URL, in the default layout ([`Layout::Tree`]).
    pub fn from_url(url: Url) -> Target {
        Target::named(url, Layout::default())
    }

    /// A target named after its URL in `layout`.
    pub fn named(url: Url, layout: Layout) -> Target {
        let name = match layout {
            Layout::Tree => OnceLock::new(),
            Layout::Flat => OnceLock::from(layout.name_for(&url).into_boxed_str()),
        };
        Target { url, name }
    }

    /// The relative path its document is stored under in `--out` (see
    /// [`crate::names`]), and its key in the journal.
    pub fn name(&self) -> &str {
        self.name
            .get_or_init(|| Layout::Tree.name_for(&self.url).into_boxed_str())
    }
}

/// Two targets are the same when they fetch the same URL under the same name, whether
/// or not either name was made yet.
impl PartialEq for Target {
    fn eq(&self, other: &Target) -> bool {
        self.url == other.url && self.name() == other.name()
    }
}

impl Eq for Target {}

/// An input line that is not a URL this downloader can fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    /// 1-based line number.
    pub line: u64,
    pub text: String,
    pub reason: String,
}

/// What one line of a URL list holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    Target(Target),
    Bad(BadLine),
}

/// The longest input line read; a longer one is reported as bad, never held whole.
pub const MAX_LINE_BYTES: usize = 16 * 1024;

// ANCHOR: url_lines
/// The targets of a URL list, one URL a line, read as they are needed. Blank lines and
/// lines starting with `#` are skipped. Reading stops at the first I/O error, which is
/// returned as the last item. Names are in the default layout ([`Layout::Tree`]).
pub fn url_lines<R: BufRead>(input: R) -> impl Iterator<Item = Result<Line, std::io::Error>> {
    url_lines_in(input, Layout::default())
}

/// [`url_lines`], with names in `layout`.
pub fn url_lines_in<R: BufRead>(
    input: R,
    layout: Layout,
) -> impl Iterator<Item = Result<Line, std::io::Error>> {
    let mut input = input;
    let mut number = 0u64;
    let mut buf = Vec::new();
    std::iter::from_fn(move || {
        loop {
            buf.clear();
            number += 1;
            match read_line_bounded(&mut input, &mut buf) {
                Err(e) => return Some(Err(e)),
                Ok(None) => return None,
                Ok(Some(too_long)) => {
                    if let Some(line) = parse_line(number, &buf, too_long, layout) {
                        return Some(Ok(line));
                    }
                }
            }
        }
    })
}
// ANCHOR_END: url_lines

/// Reads one line into `buf`, keeping at most [`MAX_LINE_BYTES`] of it. `Ok(None)` at
/// the end of the input; `Ok(Some(true))` when the line was longer than the limit.
fn read_line_bounded<R: BufRead>(
    input: &mut R,
    buf: &mut Vec<u8>,
) -> std::io::Result<Option<bool>> {
    let mut too_long = false;
    let mut any = false;
    loop {
        let chunk = match input.fill_buf() {
            Ok(chunk) => chunk,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            return Ok(any.then_some(too_long));
        }
        any = true;
        // memchr looks at several bytes at a time: a list of a million URLs is read
        // here, line by line.
        let (piece, end) = match memchr::memchr(b'\n', chunk) {
            Some(at) => (&chunk[..at], Some(at + 1)),
            None => (chunk, None),
        };
        let room = MAX_LINE_BYTES.saturating_sub(buf.len());
        if piece.len() > room {
            too_long = true;
        }
        buf.extend_from_slice(&piece[..piece.len().min(room)]);
        let used = end.unwrap_or(chunk.len());
        input.consume(used);
        if end.is_some() {
            return Ok(Some(too_long));
        }
    }
}

fn parse_line(number: u64, bytes: &[u8], too_long: bool, layout: Layout) -> Option<Line> {
    // A valid line (nearly all) is checked once, the quick way; only a line that is
    // not UTF-8 goes through the slower lossy decoding.
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    };
    let trimmed = text.trim();
    if trimmed.is_empty() || trimmed.starts_with('#') {
        return None;
    }
    let bad = |reason: String| {
        Some(Line::Bad(BadLine {
            line: number,
            text: shorten(trimmed),
            reason,
        }))
    };
    if too_long {
        return bad(format!("the line is longer than {MAX_LINE_BYTES} bytes"));
    }
    match Url::parse_web(trimmed) {
        Ok(url) => Some(Line::Target(Target::named(url, layout))),
        Err(e) => bad(e.to_string()),
    }
}

/// A line as shown in a report: at most 200 characters.
fn shorten(text: &str) -> String {
    match text.char_indices().nth(200) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text.to_string(),
    }
}

// ANCHOR: corpus
/// Documents `0..n` of the corpus server at `addr`, stored as `corpus/<id>`: named by
/// id, not by URL, so that a run resumed against a server on another port finds them.
pub fn corpus(addr: SocketAddr, n: u64) -> impl Iterator<Item = Line> + Send + 'static {
    (0..n).map(move |id| {
        Line::Target(Target {
            url: Url {
                scheme: Scheme::Http,
                host: addr.ip().to_string(),
                port: addr.port(),
                path: format!("/wiki/{id}"),
            },
            name: OnceLock::from(format!("corpus/{id}").into_boxed_str()),
        })
    })
}
// ANCHOR_END: corpus
