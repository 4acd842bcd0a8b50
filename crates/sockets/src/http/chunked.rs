//! The chunked transfer coding: a body sent in pieces, each announced by its size.
//!
//! A server that does not know a body's length in advance (it is being generated, or
//! compressed on the fly) can still keep the connection open by sending the body in
//! chunks (RFC 9112, section 7.1):
//!
//! ```text
//! 1a;name=value\r\n           chunk size in hex, optional extensions
//! abcdefghijklmnopqrstuvwxyz\r\n  that many bytes, then CRLF
//! 0\r\n                        the last chunk: size 0
//! Expires: never\r\n           optional trailer fields
//! \r\n                         an empty line ends the body
//! ```
//!
//! The decoder is a state machine with one state per part of that grammar, fed with
//! whatever bytes have arrived. Chunk extensions are checked for stray control bytes and
//! otherwise ignored: a recipient must ignore the extensions it does not understand
//! (RFC 9112, section 7.1.1), and this client understands none. Trailer fields (section
//! 7.1.2) are read with the same rules and limits as header fields, then dropped: RFC
//! 9110 (section 6.5.1) forbids merging them into the headers unless a field says it
//! may, and nothing in this course sends any.

use super::error::HttpError;
use super::framing::check_body_size;
use super::head::{Fill, HeadReader, LineReader};
use super::headers::{is_ows, is_text_byte};
use super::limits::Limits;

/// Where the decoder is in the chunked grammar.
#[derive(Debug)]
enum State {
    /// Reading a chunk-size line.
    Size,
    /// Copying chunk data; `remaining` bytes of this chunk are still to come.
    Data { remaining: u64 },
    /// After the data, expecting its CRLF; `seen_cr` once the CR has come.
    DataEnd { seen_cr: bool },
    /// After the last chunk: trailer lines up to an empty line. Boxed: a head reader
    /// is large, needed once per chunked body, and every parser waiting for a response
    /// would otherwise carry room for it (ten thousand of them, in lesson 5).
    Trailers(Box<HeadReader<()>>),
}

/// Decodes one chunked body from pieces of input.
#[derive(Debug)]
pub(crate) struct ChunkedDecoder {
    state: State,
    line: LineReader,
}

impl ChunkedDecoder {
    pub fn new() -> ChunkedDecoder {
        ChunkedDecoder {
            state: State::Size,
            line: LineReader::default(),
        }
    }

    // ANCHOR: decode
    /// Decodes what it can of `input` (which starts at byte `offset` of the message),
    /// appending the data to `body`, after `before` bytes of data decoded earlier (and
    /// handed out). Returns how many bytes it took, and whether the body ended: the
    /// bytes after that belong to the next message.
    pub fn decode(
        &mut self,
        input: &[u8],
        offset: usize,
        before: u64,
        body: &mut Vec<u8>,
        limits: &Limits,
    ) -> Result<(usize, bool), HttpError> {
        let mut pos = 0;
        while pos < input.len() {
            let rest = &input[pos..];
            let at = offset + pos;
            match &mut self.state {
                State::Size => {
                    let budget = limits.max_chunk_line_bytes.saturating_sub(self.line.len());
                    match self.line.fill(rest, budget) {
                        Fill::Partial { taken } => pos += taken,
                        Fill::OverBudget => {
                            return Err(HttpError::ChunkLineTooLong {
                                offset: at - self.line.len(),
                                limit: limits.max_chunk_line_bytes,
                            });
                        }
                        Fill::Complete { taken } => {
                            pos += taken;
                            let line_offset = offset + pos - self.line.len();
                            let size = parse_chunk_size(self.line.text(), line_offset)?;
                            self.line.clear();
                            self.state = if size == 0 {
                                // Trailer fields are fields: folds are undone there too.
                                State::Trailers(Box::new(HeadReader::trailers().unfolding()))
                            } else {
                                let total = (before + body.len() as u64).saturating_add(size);
                                check_body_size(total, line_offset, limits)?;
                                State::Data { remaining: size }
                            };
                        }
                    }
                }
                State::Data { remaining } => {
                    // `remaining` fits in memory: it passed `max_body_bytes`.
                    let n = rest
                        .len()
                        .min(usize::try_from(*remaining).unwrap_or(usize::MAX));
                    body.extend_from_slice(&rest[..n]);
                    *remaining -= n as u64;
                    pos += n;
                    if *remaining == 0 {
                        self.state = State::DataEnd { seen_cr: false };
                    }
                }
                State::DataEnd { seen_cr } => {
                    // CRLF, or a bare LF as everywhere else in this codec.
                    match rest[0] {
                        b'\r' if !*seen_cr => *seen_cr = true,
                        b'\n' => self.state = State::Size,
                        found => return Err(HttpError::BadChunkTerminator { offset: at, found }),
                    }
                    pos += 1;
                }
                State::Trailers(reader) => {
                    let (taken, trailers) = reader.read(rest, at, limits, |_, _| Ok(()))?;
                    pos += taken;
                    if trailers.is_some() {
                        return Ok((pos, true));
                    }
                }
            }
        }
        Ok((pos, false))
    }
    // ANCHOR_END: decode
}

/// `HEX [BWS] [; extensions]` (a size line without its ending) as a size.
fn parse_chunk_size(line: &[u8], offset: usize) -> Result<u64, HttpError> {
    let bad = |at: usize, reason: String| HttpError::BadChunkSize {
        offset: offset + at,
        reason,
    };
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 {
        return Err(bad(0, "expected the chunk size in hexadecimal".to_string()));
    }
    let mut size: u64 = 0;
    for &digit in &line[..digits] {
        let value = u64::from(char::from(digit).to_digit(16).unwrap_or(0));
        size = size
            .checked_mul(16)
            .and_then(|s| s.checked_add(value))
            .ok_or_else(|| bad(0, "the chunk size does not fit in 64 bits".to_string()))?;
    }
    // Whitespace may follow the size (before `;`, RFC 9112 says; after it, senders do).
    let after = digits + line[digits..].iter().take_while(|&&b| is_ows(b)).count();
    match line.get(after) {
        None => Ok(size),
        Some(b';') => match line[after..].iter().position(|&b| !is_text_byte(b)) {
            Some(i) => Err(bad(
                after + i,
                format!("control byte {:#04x} in a chunk extension", line[after + i]),
            )),
            None => Ok(size),
        },
        Some(&b) => Err(bad(
            after,
            format!("unexpected byte {b:#04x} after the chunk size"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size(line: &str) -> Result<u64, HttpError> {
        parse_chunk_size(line.as_bytes(), 10)
    }

    #[test]
    fn chunk_sizes() {
        assert_eq!(size("0"), Ok(0));
        assert_eq!(size("1a"), Ok(26));
        assert_eq!(size("1A"), Ok(26));
        assert_eq!(size("0001a"), Ok(26));
        assert_eq!(size("ffffffffffffffff"), Ok(u64::MAX));
        assert_eq!(size("5 "), Ok(5));
        assert_eq!(size("5;name=value;x"), Ok(5));
        assert_eq!(size("5 ; name = \"quoted value\""), Ok(5));
    }

    #[test]
    fn bad_chunk_sizes() {
        let offset = |line: &str| match size(line) {
            Err(HttpError::BadChunkSize { offset, .. }) => offset,
            other => panic!("{line:?}: {other:?}"),
        };
        assert_eq!(offset(""), 10);
        assert_eq!(offset("x"), 10);
        assert_eq!(offset("-1"), 10);
        assert_eq!(offset("10000000000000000"), 10);
        assert_eq!(offset("5x"), 11);
        assert_eq!(offset("5 6"), 12);
        assert_eq!(offset("5;a\0"), 13);
    }

    #[test]
    fn decodes_in_one_piece() {
        let mut decoder = ChunkedDecoder::new();
        let mut body = Vec::new();
        let input = b"4\r\nWiki\r\n5;ext\r\npedia\r\n0\r\nX-Trailer: 1\r\n\r\nNEXT";
        let (taken, done) = decoder
            .decode(input, 0, 0, &mut body, &Limits::default())
            .unwrap();
        assert!(done);
        assert_eq!(&input[taken..], b"NEXT");
        assert_eq!(body, b"Wikipedia");
    }

    #[test]
    fn bad_terminator() {
        let mut decoder = ChunkedDecoder::new();
        let mut body = Vec::new();
        let err = decoder.decode(b"3\r\nabcd\r\n", 0, 0, &mut body, &Limits::default());
        assert_eq!(
            err,
            Err(HttpError::BadChunkTerminator {
                offset: 6,
                found: b'd'
            })
        );
        let mut decoder = ChunkedDecoder::new();
        let err = decoder.decode(b"3\r\nabc\r\r", 0, 0, &mut body, &Limits::default());
        assert_eq!(
            err,
            Err(HttpError::BadChunkTerminator {
                offset: 7,
                found: b'\r'
            })
        );
    }
}
