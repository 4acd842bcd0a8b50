//! Reading a head line by line, as the bytes arrive.
//!
//! A head (a start line, header lines, an empty line) may reach us in any number of
//! pieces: all at once, a byte at a time, cut in the middle of `Content-Length`. The
//! reader here never goes back over bytes it has handled: it moves bytes into the
//! *current* line until a line feed completes it, handles that line at once (the start
//! line is checked, a header line becomes a field), and forgets it. What it keeps between two pieces is one
//! incomplete line and the fields so far, so the work is proportional to the bytes
//! received however they are cut, and the outcome is the same for every cut: each check
//! happens when the byte that decides it arrives.
//!
//! Line endings: RFC 9112 (section 2.2) lets a recipient accept a bare LF as a line
//! end, and httparse, curl and the browsers do, so we do too: a line ends at LF, and
//! one CR right before it is part of the ending. A CR anywhere else is a control byte
//! in the middle of a line, and the line's own rules reject it.
//!
//! Empty lines *before* the start line are skipped (RFC 9112, section 2.2, for
//! robustness against peers that send a CRLF too many after a body). They still count
//! toward `max_head_bytes`, so an endless stream of them ends in an error too.
//!
//! A header line that starts with a space or a tab is a *fold* (`obs-fold`, RFC 9112
//! section 5.2): it continues the value of the field before it. What to do with it
//! depends on who reads. A server may refuse it (400), and the request parser does; a
//! user agent must replace it with a space, so the response parser builds its reader
//! with [`HeadReader::unfolding`]. Right after the start line there is no field to
//! continue, and such a line is refused either way (RFC 9112, section 2.2).

use super::error::{HttpError, Section};
use super::framing::FramingFields;
use super::headers::{HeadFields, Headers, is_ows, parse_continuation, parse_field_line};
use super::limits::Limits;

/// One line being collected from pieces of input.
#[derive(Debug, Default)]
pub(crate) struct LineReader {
    bytes: Vec<u8>,
}

/// What [`LineReader::fill`] did.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Fill {
    /// The line ended (its LF was taken); `taken` bytes of the input were used.
    Complete { taken: usize },
    /// All `taken` bytes of the input were used and the line goes on.
    Partial { taken: usize },
    /// The line has used its whole budget without ending: it cannot end in time.
    OverBudget,
}

impl LineReader {
    /// Moves bytes from `input` into the line, up to and including its LF, letting the
    /// line grow by at most `budget` more bytes.
    pub fn fill(&mut self, input: &[u8], budget: usize) -> Fill {
        let window = &input[..input.len().min(budget)];
        match memchr::memchr(b'\n', window) {
            Some(lf) => {
                self.bytes.extend_from_slice(&window[..=lf]);
                Fill::Complete { taken: lf + 1 }
            }
            // The budget is used up and no LF: even the LF itself no longer fits.
            None if !input.is_empty() && window.len() == budget => Fill::OverBudget,
            None => {
                self.bytes.extend_from_slice(window);
                Fill::Partial {
                    taken: window.len(),
                }
            }
        }
    }

    /// The bytes collected so far, line ending included once complete.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// The complete line without its ending (`LF` or `CR LF`).
    pub fn text(&self) -> &[u8] {
        without_ending(&self.bytes)
    }

    /// Whether what was collected holds nothing but line-ending bytes.
    pub fn is_blank(&self) -> bool {
        self.bytes.iter().all(|&b| b == b'\r' || b == b'\n')
    }

    pub fn clear(&mut self) {
        self.bytes.clear();
    }
}

/// A line without its ending (`LF` or `CR LF`).
fn without_ending(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// How many bytes of `input` a whole line takes, its LF included, if its LF is within
/// the first `budget` bytes (the same rule as [`LineReader::fill`]'s).
fn whole_line(input: &[u8], budget: usize) -> Option<usize> {
    let window = &input[..input.len().min(budget)];
    memchr::memchr(b'\n', window).map(|lf| lf + 1)
}

/// A complete head: the parsed start line `S`, the fields, and the framing fields noted
/// on the way.
#[derive(Debug)]
pub(crate) struct Head<S> {
    pub start: S,
    pub headers: Headers,
    pub framing: FramingFields,
}

/// Reads one head (or one trailer section) from pieces of input.
#[derive(Debug)]
pub(crate) struct HeadReader<S> {
    section: Section,
    line: LineReader,
    /// Bytes of this head taken so far, for `max_head_bytes`.
    taken: usize,
    /// Header lines read so far, continuation lines included, for `max_headers`
    /// (a `u32`, beside the flag below, keeps the reader as small as before them).
    lines: u32,
    /// Whether a folded line continues the field before it (responses) or is an
    /// error (requests).
    unfold: bool,
    /// The parsed start line, once its line has been read.
    start: Option<S>,
    headers: HeadFields,
    framing: FramingFields,
}

impl<S> HeadReader<S> {
    /// A reader for a message head: a start line, then header lines.
    pub fn message() -> HeadReader<S> {
        HeadReader {
            section: Section::Head,
            line: LineReader::default(),
            taken: 0,
            lines: 0,
            unfold: false,
            start: None,
            headers: HeadFields::default(),
            framing: FramingFields::default(),
        }
    }

    /// A reader for the head that follows interim (1xx) heads in one exchange: the
    /// `already` bytes they took count toward `max_head_bytes` too.
    pub fn message_after(already: usize) -> HeadReader<S> {
        HeadReader {
            taken: already,
            ..HeadReader::message()
        }
    }

    /// The same reader, but one that undoes folded lines instead of refusing them: what
    /// a user agent must do with a response (RFC 9112, section 5.2).
    pub fn unfolding(self) -> HeadReader<S> {
        HeadReader {
            unfold: true,
            ..self
        }
    }

    /// Whether nothing but empty lines has been received.
    pub fn is_blank(&self) -> bool {
        self.start.is_none() && self.line.is_blank()
    }

    // ANCHOR: read_take
    /// Reads lines from `input` until the head ends or the input runs out. `offset` is
    /// where `input` starts in the message; `parse_start` checks the start line.
    ///
    /// Returns how many bytes were taken, and the head once its empty line was read.
    pub fn read(
        &mut self,
        input: &[u8],
        offset: usize,
        limits: &Limits,
        parse_start: impl Fn(&[u8], usize) -> Result<S, HttpError>,
    ) -> Result<(usize, Option<Head<S>>), HttpError> {
        let mut pos = 0;
        loop {
            let budget = limits.max_head_bytes.saturating_sub(self.taken);
            // A line that came whole in this piece is read where it lies; only a line
            // cut between two pieces is collected first. (Collecting every line would
            // cost a copy of the whole head, and an allocation or more per head.)
            let whole = match self.line.len() {
                0 => whole_line(&input[pos..], budget),
                _ => None,
            };
            let taken = match whole {
                Some(taken) => taken,
                None => match self.line.fill(&input[pos..], budget) {
                    Fill::Partial { taken } => {
                        self.taken += taken;
                        return Ok((pos + taken, None));
                    }
                    Fill::OverBudget => {
                        let head_start = offset + pos - self.taken;
                        return Err(HttpError::HeadTooLarge {
                            section: self.section,
                            offset: head_start + limits.max_head_bytes,
                            limit: limits.max_head_bytes,
                        });
                    }
                    Fill::Complete { taken } => taken,
                },
            };
            // ANCHOR_END: read_take
            // ANCHOR: read_handle
            let start = pos;
            pos += taken;
            self.taken += taken;
            let handled = match whole {
                Some(_) => {
                    let text = without_ending(&input[start..pos]);
                    self.handle_line(text, offset + start, limits, &parse_start)
                }
                None => {
                    // The collected line is taken out while it is handled (and put back
                    // empty, its buffer kept): handling it needs the reader whole.
                    let mut line = std::mem::take(&mut self.line);
                    let line_offset = offset + pos - line.len();
                    let handled = self.handle_line(line.text(), line_offset, limits, &parse_start);
                    line.clear();
                    self.line = line;
                    handled
                }
            };
            if let Some(head) = handled? {
                return Ok((pos, head));
            }
        }
    }
    // ANCHOR_END: read_handle

    // ANCHOR: handle_line
    /// One complete line of the head (`text`, its ending taken off, at `line_offset`).
    /// `Some` once the empty line has ended the head: with the head, or with `None` for
    /// a trailer section, which has no start line to give.
    fn handle_line(
        &mut self,
        text: &[u8],
        line_offset: usize,
        limits: &Limits,
        parse_start: &impl Fn(&[u8], usize) -> Result<S, HttpError>,
    ) -> Result<Option<Option<Head<S>>>, HttpError> {
        if text.is_empty() {
            if self.start.is_none() && self.section == Section::Head {
                // An empty line before the start line: skipped.
                return Ok(None);
            }
            let head = self.start.take().map(|start| Head {
                start,
                headers: self.headers.finish(),
                framing: std::mem::take(&mut self.framing),
            });
            return Ok(Some(head));
        }
        if self.start.is_none() {
            self.start = Some(parse_start(text, line_offset)?);
            return Ok(None);
        }
        if self.lines as usize >= limits.max_headers {
            return Err(HttpError::TooManyHeaders {
                section: self.section,
                offset: line_offset,
                limit: limits.max_headers,
            });
        }
        self.lines = self.lines.saturating_add(1);
        if text.first().copied().is_some_and(is_ows) {
            self.continue_field(text, line_offset)?;
        } else {
            let field = parse_field_line(text, line_offset)?;
            self.framing.note(&field);
            self.headers.push(&field);
        }
        Ok(None)
    }
    // ANCHOR_END: handle_line

    // ANCHOR: continue_field
    /// A header line that starts with whitespace (`text`, at `offset`): a fold of the
    /// field before it, undone or refused, or an error if there is none.
    fn continue_field(&mut self, text: &[u8], offset: usize) -> Result<(), HttpError> {
        let Some(name) = self.headers.last_name() else {
            return Err(HttpError::WhitespaceBeforeFirstField { offset });
        };
        if !self.unfold {
            return Err(HttpError::ObsoleteLineFolding { offset });
        }
        let (more, more_offset) = parse_continuation(text, offset, name)?;
        // Replace the fold with one space (RFC 9112, section 5.2), in the fields and in
        // the framing fields alike, before anything interprets the value.
        self.framing.extend_last(more, more_offset);
        self.headers.extend_last_value(more);
        Ok(())
    }
    // ANCHOR_END: continue_field
}

impl HeadReader<()> {
    /// A reader for the trailer section of a chunked body: header lines, no start line.
    pub fn trailers() -> HeadReader<()> {
        HeadReader {
            section: Section::Trailers,
            start: Some(()),
            ..HeadReader::message()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_stops_at_the_line_feed() {
        let mut line = LineReader::default();
        assert_eq!(line.fill(b"ab", 10), Fill::Partial { taken: 2 });
        assert_eq!(line.fill(b"c\r\nde", 10), Fill::Complete { taken: 3 });
        assert_eq!(line.text(), b"abc");
        line.clear();
        assert_eq!(line.fill(b"x\n", 10), Fill::Complete { taken: 2 });
        assert_eq!(line.text(), b"x");
    }

    #[test]
    fn fill_respects_the_budget() {
        let mut line = LineReader::default();
        // The LF is the budget's last byte: fits.
        assert_eq!(line.fill(b"abc\n", 4), Fill::Complete { taken: 4 });
        line.clear();
        assert_eq!(line.fill(b"abcd\n", 4), Fill::OverBudget);
        assert_eq!(line.fill(b"abc", 4), Fill::Partial { taken: 3 });
        assert_eq!(line.fill(b"d", 1), Fill::OverBudget);
        // Nothing offered: nothing decided yet.
        assert_eq!(line.fill(b"", 0), Fill::Partial { taken: 0 });
    }

    #[test]
    fn trailers_have_no_start_line() {
        let mut reader = HeadReader::trailers();
        let (taken, head) = reader
            .read(b"A: 1\r\n\r\nrest", 10, &Limits::default(), |_, _| Ok(()))
            .unwrap();
        assert_eq!(taken, 8);
        let head = head.unwrap();
        assert_eq!(head.headers.get("a"), Some("1"));
    }
}

/// What an `HTTP-version` field turned out to be.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Version {
    /// `HTTP/1.0` or `HTTP/1.1`: the minor digit.
    Supported(u8),
    /// Well-formed but another version (`HTTP/2.0`, `HTTP/1.2`, `HTTP/2`).
    Unsupported,
    /// Not `HTTP/` and digits at all.
    Malformed,
}

/// `HTTP/1.0` and `HTTP/1.1` are supported; `HTTP/<digit>[.<digit>]` is a version
/// we do not speak; anything else is not a version.
pub(crate) fn parse_version(text: &[u8]) -> Version {
    match text {
        b"HTTP/1.0" => Version::Supported(0),
        b"HTTP/1.1" => Version::Supported(1),
        [b'H', b'T', b'T', b'P', b'/', major]
        | [b'H', b'T', b'T', b'P', b'/', major, b'.', b'0'..=b'9']
            if major.is_ascii_digit() =>
        {
            Version::Unsupported
        }
        _ => Version::Malformed,
    }
}
