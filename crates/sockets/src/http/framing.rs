//! Where a message ends: Content-Length, Transfer-Encoding, or the end of the connection.
//!
//! HTTP/1.1 sends messages back to back on one connection, so the receiver must know
//! exactly where each body ends; a disagreement between two parsers about it is how
//! "request smuggling" and "response splitting" attacks work. RFC 9112 (section 6.3)
//! gives eight rules, in order, and the first that applies decides. Their numbers here
//! are the RFC's, so that you can check each against it:
//!
//! 1. A response to HEAD, and every 1xx, 204 and 304 response, has no body, whatever
//!    its headers say (the response parser applies this one: it needs the method).
//! 2. A 2xx response to CONNECT becomes a tunnel. This codec never sends CONNECT, so
//!    the rule never applies.
//! 3. Transfer-Encoding and Content-Length both present: Transfer-Encoding wins and
//!    Content-Length is ignored, even when it is nonsense. But such a message "ought to
//!    be handled as an error" (it may be an attack), so the connection is not reused
//!    afterwards (`keep_alive` is false): nothing after this body is ever read as the
//!    next response. The same holds for any Transfer-Encoding in an HTTP/1.0 response,
//!    where it did not exist (RFC 9112, section 6.1).
//! 4. Transfer-Encoding whose final coding is `chunked` frames the body in chunks.
//!    In a response whose final coding is anything else (`gzip`, `chunked, deflate`),
//!    the body runs until the server closes the connection. Either way the body's end
//!    is found; what this codec cannot do is *undo* a coding other than one `chunked`
//!    (it has no gzip decoder, and `chunked` twice is forbidden to senders). So such a
//!    response is read to its end, and only then refused with
//!    [`HttpError::UnsupportedTransferEncoding`]: the framing was right, the content is
//!    not readable.
//! 5. A Content-Length that is invalid is an error, never a guess, unless it is a list
//!    (`42, 42`, or the field repeated) whose values are all valid and all equal
//!    (RFC 9110, section 8.6). Empty list elements (`42,`) are ignored, as every list
//!    rule says (RFC 9110, section 5.6.1); a sign, a space inside, hex or nothing at all
//!    is invalid. A user agent must then close the connection and discard the response,
//!    which an error does.
//! 6. A valid Content-Length of N frames a body of N bytes; a connection that closes
//!    before the N-th is a truncated response, never a short one.
//! 7. A request with neither field has no body ([`check_request_has_no_body`]: this
//!    codec reads no request bodies, so a request with Transfer-Encoding or a
//!    Content-Length above 0 is refused).
//! 8. Otherwise, a response's body runs until the server closes the connection, which
//!    therefore cannot carry another response.

use super::error::HttpError;
use super::headers::{FieldLine, Headers, decode_text, trim_ows};
use super::limits::Limits;

/// How the body of a message is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyKind {
    None,
    Length(u64),
    Chunked,
    UntilClose,
}

/// A framing field's value, with where each of its pieces starts in the message: a
/// folded value (RFC 9112, section 5.2) comes in several, and an error about a list
/// item must still point at the item's own byte.
#[derive(Debug)]
struct Noted {
    value: String,
    /// Where the value's first piece starts in the message.
    offset: usize,
    /// The pieces after the first, from folded lines: (where a piece starts in `value`,
    /// where it starts in the message). Nearly always empty, and then not allocated.
    folds: Vec<(usize, usize)>,
}

impl Noted {
    /// The offset in the message of byte `at` of the value.
    fn offset_at(&self, at: usize) -> usize {
        let (start, offset) = self
            .folds
            .iter()
            .rev()
            .find(|(start, _)| *start <= at)
            .copied()
            .unwrap_or((0, self.offset));
        offset + (at - start)
    }

    /// The items of the comma-separated list the value is, trimmed, each with its
    /// offset in the message. Empty items are kept: the caller decides.
    fn items(&self) -> impl Iterator<Item = (usize, &str)> {
        let mut at = 0;
        self.value.split(',').map(move |item| {
            let lead = item.len() - item.trim_start_matches([' ', '\t']).len();
            let here = self.offset_at(at + lead);
            at += item.len() + 1;
            (here, trim_ows(item))
        })
    }
}

/// Which framing field a head's last field was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    ContentLength,
    TransferEncoding,
}

/// The Content-Length and Transfer-Encoding fields of a head, with the offsets of their
/// values, noted while the head is read so that errors can point at them.
#[derive(Debug, Default)]
pub(crate) struct FramingFields {
    /// The head's one Content-Length, when its value is a plain number (the usual
    /// head): the number and where it is, with no copy of its text, no list and no
    /// allocation. Any other Content-Length, or a fold of this one, first moves it to
    /// `content_length`, so that the values keep their order.
    plain_length: Option<(u64, usize)>,
    content_length: Vec<Noted>,
    transfer_encoding: Vec<Noted>,
    /// The list the last field of the head went to, if it was a framing field: a
    /// folded line continues it.
    last: Option<Which>,
}

/// What the Transfer-Encoding fields of a head say, read as one list (RFC 9112, section
/// 6.1: several fields are one list, in order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Codings {
    /// Where the first Transfer-Encoding value is.
    pub offset: usize,
    /// Whether `chunked` is the final coding: then chunks frame the body.
    pub chunked_last: bool,
    /// The coding this codec would fail to undo, if any: codings are undone from the
    /// last listed to the first, and every one but a final `chunked` is beyond it (a
    /// second `chunked` too: chunking twice is forbidden to senders). This is the
    /// last such coding in the list, the first that decoding would meet.
    pub unsupported: Option<HttpError>,
}

impl FramingFields {
    /// Keeps `field` if it is one of the framing fields.
    pub fn note(&mut self, field: &FieldLine<'_>) {
        let which = if field.name.eq_ignore_ascii_case(b"content-length") {
            Which::ContentLength
        } else if field.name.eq_ignore_ascii_case(b"transfer-encoding") {
            Which::TransferEncoding
        } else {
            self.last = None;
            return;
        };
        self.last = Some(which);
        let first_length = which == Which::ContentLength
            && self.plain_length.is_none()
            && self.content_length.is_empty();
        if let (true, Some(length)) = (first_length, plain_number(field.value)) {
            self.plain_length = Some((length, field.value_offset));
            return;
        }
        if which == Which::ContentLength {
            self.unplain();
        }
        self.list(which).push(Noted {
            value: decode_text(field.value),
            offset: field.value_offset,
            folds: Vec::new(),
        });
    }

    /// Continues the last field's value with `more` (which starts at byte `offset`),
    /// after one space, if that field was a framing field: a fold undone.
    pub fn extend_last(&mut self, more: &[u8], offset: usize) {
        let Some(which) = self.last else { return };
        if which == Which::ContentLength && !more.is_empty() {
            self.unplain();
        }
        let Some(noted) = self.list(which).last_mut() else {
            return;
        };
        if more.is_empty() {
            return;
        }
        if !noted.value.is_empty() {
            noted.value.push(' ');
        }
        noted.folds.push((noted.value.len(), offset));
        noted.value.push_str(&decode_text(more));
    }

    /// Moves a plain Content-Length to the list, as text, before another framing field
    /// is noted or a fold continues it. The text is the same as received: a plain
    /// number has no leading zero (see [`plain_number`]).
    fn unplain(&mut self) {
        if let Some((length, offset)) = self.plain_length.take() {
            self.content_length.push(Noted {
                value: length.to_string(),
                offset,
                folds: Vec::new(),
            });
        }
    }

    fn list(&mut self, which: Which) -> &mut Vec<Noted> {
        match which {
            Which::ContentLength => &mut self.content_length,
            Which::TransferEncoding => &mut self.transfer_encoding,
        }
    }

    /// The one Content-Length value and where it is, if the field is present (rules 5
    /// and 6): every value of every Content-Length field must be a number, and the
    /// same number.
    pub fn content_length(&self) -> Result<Option<(u64, usize)>, HttpError> {
        if let Some(plain) = self.plain_length {
            return Ok(Some(plain)); // the only one: any other would have moved it
        }
        let mut found: Option<(u64, usize)> = None;
        for noted in &self.content_length {
            let invalid = |offset, reason| HttpError::InvalidContentLength {
                offset,
                value: noted.value.clone(),
                reason,
            };
            let mut values = 0;
            // Empty list elements (`42,`) do not count (RFC 9110, section 5.6.1).
            for (at, item) in noted.items().filter(|(_, item)| !item.is_empty()) {
                values += 1;
                let length = parse_decimal(item).map_err(|reason| invalid(at, reason))?;
                match found {
                    None => found = Some((length, at)),
                    Some((first, _)) if first != length => {
                        return Err(HttpError::ConflictingContentLength {
                            offset: at,
                            first,
                            second: length,
                        });
                    }
                    Some(_) => {}
                }
            }
            if values == 0 {
                return Err(invalid(noted.offset_at(0), "empty"));
            }
        }
        Ok(found)
    }

    /// The transfer codings, if a Transfer-Encoding field is present.
    pub fn transfer_codings(&self) -> Option<Codings> {
        let offset = self.transfer_encoding.first()?.offset_at(0);
        // Empty list elements (`chunked, , `) are allowed by the list rule and skipped.
        let mut codings = self
            .transfer_encoding
            .iter()
            .flat_map(Noted::items)
            .filter(|(_, coding)| !coding.is_empty())
            .peekable();
        let mut chunked_last = false;
        let mut unsupported = None;
        while let Some((at, coding)) = codings.next() {
            let is_chunked = coding.eq_ignore_ascii_case("chunked");
            if codings.peek().is_none() && is_chunked {
                chunked_last = true;
            } else {
                unsupported = Some(HttpError::UnsupportedTransferEncoding {
                    offset: at,
                    value: coding.to_string(),
                });
            }
        }
        Some(Codings {
            offset,
            chunked_last,
            unsupported,
        })
    }

    pub fn has_content_length(&self) -> bool {
        self.plain_length.is_some() || !self.content_length.is_empty()
    }
}

/// A value that is a number as a server usually writes it, `0` or digits without a
/// leading zero, small enough for a `u64` (at most 19 digits): its value. `None` for
/// anything else, which the general rules read.
fn plain_number(value: &[u8]) -> Option<u64> {
    let plain = match value {
        [b'0'] => true,
        [b'1'..=b'9', ..] => value.len() <= 19 && value.iter().all(u8::is_ascii_digit),
        _ => false,
    };
    // Fold the digits by hand: `str::parse` would first check them all again.
    plain.then(|| {
        value
            .iter()
            .fold(0, |n, &digit| n * 10 + u64::from(digit - b'0'))
    })
}

/// `1*DIGIT` as a `u64`.
fn parse_decimal(text: &str) -> Result<u64, &'static str> {
    if text.is_empty() {
        return Err("empty");
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err("not a decimal number");
    }
    text.parse().map_err(|_| "too large")
}

/// Whether the connection may carry another message after this one, as far as the
/// head says (RFC 9112, section 9.3): not with a `close` among the `Connection` tokens
/// (in any field, any case); otherwise always in HTTP/1.1, and in HTTP/1.0 only with a
/// `keep-alive` token.
pub(crate) fn persistent(version_minor: u8, headers: &Headers) -> bool {
    // The name as servers write it: a lookup compares that case first.
    if headers.contains_token("Connection", "close") {
        return false;
    }
    version_minor >= 1 || headers.contains_token("Connection", "keep-alive")
}

/// How a response's body is framed, and whether it must be refused once it is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Framing {
    pub kind: BodyKind,
    /// A transfer coding that cannot be undone: the error to give when the body ends.
    pub refuse_after: Option<Box<HttpError>>,
}

impl Framing {
    /// A body delimited by `kind`, with nothing to refuse.
    pub fn new(kind: BodyKind) -> Framing {
        Framing {
            kind,
            refuse_after: None,
        }
    }
}

// ANCHOR: response_body
/// How a response's body is delimited (rules 3 to 8 above; rule 1 is the caller's, as
/// it depends on the request's method). May turn `keep_alive` off.
pub(crate) fn response_body(
    framing: &FramingFields,
    version_minor: u8,
    limits: &Limits,
    keep_alive: &mut bool,
) -> Result<Framing, HttpError> {
    if let Some(codings) = framing.transfer_codings() {
        // Rule 3: Transfer-Encoding overrides Content-Length, but the pair may be an
        // attack; and in HTTP/1.0 it means the framing is faulty (section 6.1).
        if framing.has_content_length() || version_minor == 0 {
            *keep_alive = false;
        }
        // Rule 4: chunks if `chunked` comes last, otherwise until the close; a coding
        // this codec cannot undo is refused, but only once the body has been read.
        let kind = if codings.chunked_last {
            BodyKind::Chunked
        } else {
            *keep_alive = false;
            BodyKind::UntilClose
        };
        let refuse_after = codings.unsupported.map(Box::new);
        return Ok(Framing { kind, refuse_after });
    }
    // Rules 5 and 6: a valid Content-Length, or an error.
    if let Some((length, offset)) = framing.content_length()? {
        check_body_size(length, offset, limits)?;
        return Ok(Framing::new(BodyKind::Length(length)));
    }
    // Rule 8: until the server closes the connection.
    *keep_alive = false;
    Ok(Framing::new(BodyKind::UntilClose))
}
// ANCHOR_END: response_body

/// A request must have no body: no Transfer-Encoding, and Content-Length 0 if any.
pub(crate) fn check_request_has_no_body(framing: &FramingFields) -> Result<(), HttpError> {
    if let Some(codings) = framing.transfer_codings() {
        return Err(match codings.unsupported {
            Some(error) => error,
            None if codings.chunked_last => HttpError::RequestBodyNotSupported {
                offset: codings.offset,
                framing: "Transfer-Encoding: chunked".to_string(),
            },
            // A Transfer-Encoding field that lists no coding at all.
            None => HttpError::UnsupportedTransferEncoding {
                offset: codings.offset,
                value: String::new(),
            },
        });
    }
    match framing.content_length()? {
        Some((length, offset)) if length > 0 => Err(HttpError::RequestBodyNotSupported {
            offset,
            framing: format!("Content-Length: {length}"),
        }),
        _ => Ok(()),
    }
}

/// `length` bytes against `max_body_bytes`.
pub(crate) fn check_body_size(
    length: u64,
    offset: usize,
    limits: &Limits,
) -> Result<(), HttpError> {
    if length > limits.max_body_bytes as u64 {
        return Err(HttpError::BodyTooLarge {
            offset,
            size: length,
            limit: limits.max_body_bytes,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(list: &[(&str, &str)]) -> FramingFields {
        let mut framing = FramingFields::default();
        for (i, (name, value)) in list.iter().enumerate() {
            framing.note(&FieldLine {
                name: name.as_bytes(),
                value: value.as_bytes(),
                value_offset: i * 100,
                ascii: value.is_ascii(),
            });
        }
        framing
    }

    #[test]
    fn content_length_values() {
        assert_eq!(fields(&[]).content_length(), Ok(None));
        assert_eq!(
            fields(&[("Content-Length", "42")]).content_length(),
            Ok(Some((42, 0)))
        );
        assert_eq!(
            fields(&[("content-length", "42"), ("CONTENT-LENGTH", "42, 42")]).content_length(),
            Ok(Some((42, 0)))
        );
        // Empty list elements are ignored (RFC 9110, section 5.6.1).
        assert_eq!(
            fields(&[("Content-Length", ", 42,,")]).content_length(),
            Ok(Some((42, 2)))
        );
        assert_eq!(
            fields(&[("Content-Length", "42"), ("Content-Length", "7")]).content_length(),
            Err(HttpError::ConflictingContentLength {
                offset: 100,
                first: 42,
                second: 7
            })
        );
        assert_eq!(
            fields(&[("Content-Length", "42, 7")]).content_length(),
            Err(HttpError::ConflictingContentLength {
                offset: 4,
                first: 42,
                second: 7
            })
        );
        for (value, reason) in [
            ("", "empty"),
            (" , ", "empty"),
            ("-1", "not a decimal number"),
            ("+5", "not a decimal number"),
            ("0x10", "not a decimal number"),
            ("1 2", "not a decimal number"),
            ("99999999999999999999", "too large"),
        ] {
            let err = fields(&[("Content-Length", value)])
                .content_length()
                .unwrap_err();
            assert!(
                matches!(err, HttpError::InvalidContentLength { reason: r, .. } if r == reason),
                "{value:?}: {err:?}"
            );
        }
    }

    #[test]
    fn a_plain_length_is_read_as_the_list_rules_read_it() {
        let values = [
            "0",
            "7",
            "42",
            "1234567890123456789",
            "9999999999999999999",
            "18446744073709551615",
            "18446744073709551616",
            "007",
            "00",
            "4a",
            "",
        ];
        for value in values {
            let plain = fields(&[("Content-Length", value)]);
            // A trailing empty element changes nothing, but is no plain number.
            let listed = fields(&[("Content-Length", &format!("{value},"))]);
            assert!(listed.plain_length.is_none());
            let wanted = value.len() <= 19 && !value.starts_with("00") && value != "007";
            let wanted = wanted && !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit());
            assert_eq!(plain.plain_length.is_some(), wanted, "{value:?}");
            match (plain.content_length(), listed.content_length()) {
                (Ok(a), Ok(b)) => assert_eq!(a, b, "{value:?}"),
                (Err(a), Err(_)) => assert!(
                    matches!(a, HttpError::InvalidContentLength { .. }),
                    "{value:?}: {a:?}"
                ),
                (a, b) => panic!("{value:?}: {a:?} but listed {b:?}"),
            }
        }
        // A second field, equal or not, and a fold of the first, see its text.
        let twice = fields(&[("Content-Length", "42"), ("Content-Length", "42")]);
        assert_eq!(twice.content_length(), Ok(Some((42, 0))));
        let mut folded = fields(&[("Content-Length", "42")]);
        folded.extend_last(b"7", 40);
        let error = folded.content_length().unwrap_err();
        assert!(
            matches!(&error, HttpError::InvalidContentLength { value, .. } if value == "42 7"),
            "{error:?}"
        );
        // Another framing field leaves it plain, and both are read.
        let both = fields(&[("Content-Length", "42"), ("Transfer-Encoding", "chunked")]);
        assert!(both.has_content_length() && both.transfer_codings().is_some());
        assert_eq!(both.content_length(), Ok(Some((42, 0))));
    }

    #[test]
    fn a_folded_value_keeps_the_offsets_of_its_pieces() {
        let mut framing = fields(&[("Content-Length", "5,")]);
        // The fold's continuation starts at byte 40 of the message.
        framing.extend_last(b"6", 40);
        assert_eq!(
            framing.content_length(),
            Err(HttpError::ConflictingContentLength {
                offset: 40,
                first: 5,
                second: 6
            })
        );
        // A field that is not a framing field is not continued.
        let mut framing = fields(&[("Content-Length", "5"), ("X-Other", "1")]);
        framing.extend_last(b"6", 40);
        assert_eq!(framing.content_length(), Ok(Some((5, 0))));
    }

    fn codings(list: &[(&str, &str)]) -> (bool, Option<(usize, String)>) {
        let codings = fields(list)
            .transfer_codings()
            .expect("a Transfer-Encoding");
        let unsupported = codings.unsupported.map(|e| match e {
            HttpError::UnsupportedTransferEncoding { offset, value } => (offset, value),
            other => panic!("{other:?}"),
        });
        (codings.chunked_last, unsupported)
    }

    #[test]
    fn transfer_encoding_values() {
        assert_eq!(fields(&[]).transfer_codings(), None);
        let none = None;
        assert_eq!(
            codings(&[("Transfer-Encoding", "chunked")]),
            (true, none.clone())
        );
        assert_eq!(
            codings(&[("Transfer-Encoding", " Chunked ,")]),
            (true, none.clone())
        );
        // No coding listed at all: present, but nothing to undo.
        assert_eq!(codings(&[("Transfer-Encoding", "")]), (false, none));
        for (list, chunked_last, at, coding) in [
            (
                &[("Transfer-Encoding", "gzip, chunked")][..],
                true,
                0,
                "gzip",
            ),
            (
                &[("Transfer-Encoding", "chunked, chunked")],
                true,
                0,
                "chunked",
            ),
            (
                &[
                    ("Transfer-Encoding", "gzip"),
                    ("Transfer-Encoding", "chunked"),
                ],
                true,
                0,
                "gzip",
            ),
            (
                &[("Transfer-Encoding", "chunked, deflate")],
                false,
                9,
                "deflate",
            ),
            (
                &[
                    ("Transfer-Encoding", "chunked"),
                    ("Transfer-Encoding", "identity"),
                ],
                false,
                100,
                "identity",
            ),
            (&[("Transfer-Encoding", "identity")], false, 0, "identity"),
            (
                &[("Transfer-Encoding", "chunkedchunked")],
                false,
                0,
                "chunkedchunked",
            ),
            (
                &[("Transfer-Encoding", "chunked;q=1")],
                false,
                0,
                "chunked;q=1",
            ),
        ] {
            assert_eq!(
                codings(list),
                (chunked_last, Some((at, coding.to_string()))),
                "{list:?}"
            );
        }
    }

    #[test]
    fn persistence() {
        let mut h = Headers::new();
        assert!(persistent(1, &h));
        assert!(!persistent(0, &h));
        h.push("Connection", "Keep-Alive");
        assert!(persistent(0, &h));
        h.push("Connection", "close");
        assert!(!persistent(1, &h));
        assert!(!persistent(0, &h));
    }

    fn kind(list: &[(&str, &str)], version_minor: u8) -> (Result<Framing, HttpError>, bool) {
        let mut keep_alive = true;
        let framing = response_body(
            &fields(list),
            version_minor,
            &Limits::default(),
            &mut keep_alive,
        );
        (framing, keep_alive)
    }

    #[test]
    fn chunked_wins_over_content_length_but_ends_the_connection() {
        let chunked = Ok(Framing::new(BodyKind::Chunked));
        let both = [
            ("Content-Length", "nonsense"),
            ("Transfer-Encoding", "chunked"),
        ];
        assert_eq!(kind(&both, 1), (chunked.clone(), false));
        let alone = [("Transfer-Encoding", "chunked")];
        assert_eq!(kind(&alone, 1), (chunked.clone(), true));
        assert_eq!(kind(&alone, 0), (chunked, false));
    }

    #[test]
    fn a_final_coding_other_than_chunked_runs_until_the_close() {
        let (framing, keep_alive) = kind(&[("Transfer-Encoding", "chunked, gzip")], 1);
        let framing = framing.unwrap();
        assert_eq!((framing.kind, keep_alive), (BodyKind::UntilClose, false));
        assert!(matches!(
            framing.refuse_after.as_deref(),
            Some(HttpError::UnsupportedTransferEncoding { offset: 9, .. })
        ));
        // Over a Content-Length too: it is ignored (rule 3).
        let (framing, _) = kind(&[("Content-Length", "5"), ("Transfer-Encoding", "gzip")], 1);
        assert_eq!(framing.unwrap().kind, BodyKind::UntilClose);
    }

    #[test]
    fn length_or_until_close() {
        let limits = Limits {
            max_body_bytes: 10,
            ..Limits::default()
        };
        let mut keep_alive = true;
        let ten = fields(&[("Content-Length", "10")]);
        assert_eq!(
            response_body(&ten, 1, &limits, &mut keep_alive).map(|f| f.kind),
            Ok(BodyKind::Length(10))
        );
        assert!(keep_alive);
        let eleven = fields(&[("Content-Length", "11")]);
        assert_eq!(
            response_body(&eleven, 1, &limits, &mut keep_alive),
            Err(HttpError::BodyTooLarge {
                offset: 0,
                size: 11,
                limit: 10
            })
        );
        assert_eq!(
            response_body(&fields(&[]), 1, &limits, &mut keep_alive).map(|f| f.kind),
            Ok(BodyKind::UntilClose)
        );
        assert!(!keep_alive);
    }
}
