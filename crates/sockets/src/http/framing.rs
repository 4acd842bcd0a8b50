//! Where a message ends: Content-Length, Transfer-Encoding, or the end of the connection.
//!
//! HTTP/1.1 sends messages back to back on one connection, so the receiver must know
//! exactly where each body ends; a disagreement between two parsers about it is how
//! "request smuggling" and "response splitting" attacks work. RFC 9112 (section 6.3)
//! gives the order of the rules, and [`response_body`] follows it:
//!
//! 1. A response to HEAD, and every 1xx, 204 and 304 response, has no body, whatever
//!    its headers say.
//! 2. `Transfer-Encoding: chunked` frames the body in chunks. If Content-Length is
//!    present too, Transfer-Encoding wins and Content-Length is ignored, as the RFC
//!    says; but such a message "ought to be handled as an error" (it may be an attack),
//!    so the connection is not reused afterwards (`keep_alive` is false). The same
//!    holds for chunked in an HTTP/1.0 response, where Transfer-Encoding did not exist.
//!    Any other transfer coding (gzip, or chunked twice) is an error: we could not find
//!    the end of the body.
//! 3. `Content-Length: N` frames a body of N bytes. The field may repeat, or hold a
//!    list (`42, 42`), when all values are equal (RFC 9110, section 8.6); values that
//!    differ are an error, never a guess.
//! 4. Otherwise the body runs until the server closes the connection, which therefore
//!    cannot carry another response.
//!
//! Requests are simpler here: this codec reads no request bodies, so a request with
//! Transfer-Encoding or a Content-Length above 0 is refused ([`check_request_has_no_body`]).

use super::error::HttpError;
use super::headers::{FieldLine, Headers, trim_ows};
use super::limits::Limits;

/// How the body of a message is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyKind {
    None,
    Length(u64),
    Chunked,
    UntilClose,
}

/// The Content-Length and Transfer-Encoding fields of a head, with the offsets of their
/// values, noted while the head is read so that errors can point at them.
#[derive(Debug, Default)]
pub(crate) struct FramingFields {
    content_length: Vec<(usize, String)>,
    transfer_encoding: Vec<(usize, String)>,
}

impl FramingFields {
    /// Keeps `field` if it is one of the framing fields.
    pub fn note(&mut self, field: &FieldLine<'_>) {
        let list = if field.name.eq_ignore_ascii_case("content-length") {
            &mut self.content_length
        } else if field.name.eq_ignore_ascii_case("transfer-encoding") {
            &mut self.transfer_encoding
        } else {
            return;
        };
        list.push((field.value_offset, field.value.to_string()));
    }

    /// The one Content-Length value and where it is, if the field is present.
    pub fn content_length(&self) -> Result<Option<(u64, usize)>, HttpError> {
        let mut found: Option<(u64, usize)> = None;
        for (offset, value) in &self.content_length {
            for (at, item) in list_items(value, *offset) {
                let length =
                    parse_decimal(item).map_err(|reason| HttpError::InvalidContentLength {
                        offset: at,
                        value: value.clone(),
                        reason,
                    })?;
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
        }
        Ok(found)
    }

    /// Where the Transfer-Encoding value is, if the field is present and says exactly
    /// `chunked`; an error for any other coding.
    pub fn chunked(&self) -> Result<Option<usize>, HttpError> {
        let Some((first_offset, first_value)) = self.transfer_encoding.first() else {
            return Ok(None);
        };
        let mut codings = 0;
        for (offset, value) in &self.transfer_encoding {
            // Empty list items (`chunked, , `) are allowed by the list rule and skipped.
            for (_, coding) in list_items(value, *offset).filter(|(_, c)| !c.is_empty()) {
                codings += 1;
                if codings > 1 || !coding.eq_ignore_ascii_case("chunked") {
                    return Err(HttpError::UnsupportedTransferEncoding {
                        offset: *offset,
                        value: value.clone(),
                    });
                }
            }
        }
        if codings == 0 {
            return Err(HttpError::UnsupportedTransferEncoding {
                offset: *first_offset,
                value: first_value.clone(),
            });
        }
        Ok(Some(*first_offset))
    }

    pub fn has_content_length(&self) -> bool {
        !self.content_length.is_empty()
    }
}

/// The items of a comma-separated list value, trimmed, each with its offset.
fn list_items(value: &str, offset: usize) -> impl Iterator<Item = (usize, &str)> {
    let mut at = offset;
    value.split(',').map(move |item| {
        let trimmed = trim_ows(item);
        let lead = item.len() - item.trim_start_matches([' ', '\t']).len();
        let here = at + lead;
        at += item.len() + 1;
        (here, trimmed)
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
/// head says: HTTP/1.1 is persistent unless `Connection: close`; HTTP/1.0 only with
/// `Connection: keep-alive` (RFC 9112, section 9.3).
pub(crate) fn persistent(version_minor: u8, headers: &Headers) -> bool {
    if headers.contains_token("connection", "close") {
        return false;
    }
    version_minor >= 1 || headers.contains_token("connection", "keep-alive")
}

// ANCHOR: response_body
/// How a response's body is delimited (rules 2 to 4 above; rule 1 is the caller's, as
/// it depends on the request's method). May turn `keep_alive` off.
pub(crate) fn response_body(
    framing: &FramingFields,
    version_minor: u8,
    limits: &Limits,
    keep_alive: &mut bool,
) -> Result<BodyKind, HttpError> {
    if framing.chunked()?.is_some() {
        if framing.has_content_length() || version_minor == 0 {
            *keep_alive = false;
        }
        return Ok(BodyKind::Chunked);
    }
    if let Some((length, offset)) = framing.content_length()? {
        check_body_size(length, offset, limits)?;
        return Ok(BodyKind::Length(length));
    }
    *keep_alive = false;
    Ok(BodyKind::UntilClose)
}
// ANCHOR_END: response_body

/// A request must have no body: no Transfer-Encoding, and Content-Length 0 if any.
pub(crate) fn check_request_has_no_body(framing: &FramingFields) -> Result<(), HttpError> {
    if let Some(offset) = framing.chunked()? {
        return Err(HttpError::RequestBodyNotSupported {
            offset,
            framing: "Transfer-Encoding: chunked".to_string(),
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
                name,
                value: (*value).into(),
                value_offset: i * 100,
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
            ("-1", "not a decimal number"),
            ("+5", "not a decimal number"),
            ("0x10", "not a decimal number"),
            ("1 2", "not a decimal number"),
            ("42,", "empty"),
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
    fn transfer_encoding_values() {
        assert_eq!(fields(&[]).chunked(), Ok(None));
        assert_eq!(
            fields(&[("Transfer-Encoding", "chunked")]).chunked(),
            Ok(Some(0))
        );
        assert_eq!(
            fields(&[("Transfer-Encoding", " Chunked ,")]).chunked(),
            Ok(Some(0))
        );
        for list in [
            &[("Transfer-Encoding", "gzip, chunked")][..],
            &[("Transfer-Encoding", "chunked, chunked")],
            &[
                ("Transfer-Encoding", "gzip"),
                ("Transfer-Encoding", "chunked"),
            ],
            &[
                ("Transfer-Encoding", "chunked"),
                ("Transfer-Encoding", "chunked"),
            ],
            &[("Transfer-Encoding", "identity")],
            &[("Transfer-Encoding", "")],
            &[("Transfer-Encoding", "chunked;q=1")],
        ] {
            let err = fields(list).chunked().unwrap_err();
            assert!(
                matches!(err, HttpError::UnsupportedTransferEncoding { .. }),
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

    #[test]
    fn chunked_wins_over_content_length_but_ends_the_connection() {
        let limits = Limits::default();
        let mut keep_alive = true;
        let both = fields(&[
            ("Content-Length", "nonsense"),
            ("Transfer-Encoding", "chunked"),
        ]);
        assert_eq!(
            response_body(&both, 1, &limits, &mut keep_alive),
            Ok(BodyKind::Chunked)
        );
        assert!(!keep_alive);
        let mut keep_alive = true;
        let chunked = fields(&[("Transfer-Encoding", "chunked")]);
        assert_eq!(
            response_body(&chunked, 1, &limits, &mut keep_alive),
            Ok(BodyKind::Chunked)
        );
        assert!(keep_alive);
        assert_eq!(
            response_body(&chunked, 0, &limits, &mut keep_alive),
            Ok(BodyKind::Chunked)
        );
        assert!(!keep_alive);
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
            response_body(&ten, 1, &limits, &mut keep_alive),
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
            response_body(&fields(&[]), 1, &limits, &mut keep_alive),
            Ok(BodyKind::UntilClose)
        );
        assert!(!keep_alive);
    }
}
