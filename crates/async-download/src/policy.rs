//! What to do with an answer: keep it, try again (after how long), or give up.
//!
//! Every engine asks the same three questions after each attempt, so they are answered
//! here once, as plain functions of the answer — no socket, no clock, no runtime. The
//! engines differ only in *how they wait* between attempts (a thread sleeps, a task
//! awaits a timer); *whether* and *how long* to wait is decided here.
//!
//! - [`check`]: is this response the document? Status 200, and the body matches the
//!   corpus checksum header when there is one. (A body shorter than its Content-Length
//!   never gets here: the codec reports it as truncated.)
//! - [`is_retryable`]: could trying again help? Yes for the network and the server's
//!   passing state (refused, reset, timed out, truncated, 5xx, 429); no for a request
//!   that is wrong in itself (other 4xx, a body over the size limit, a bad URL).
//! - [`retry_delay`]: how long to wait first. The server's `Retry-After` when it gave
//!   one; otherwise exponential backoff with jitter, so that a thousand workers that
//!   failed together do not all come back in the same millisecond.

use std::time::Duration;

use sockets::corpus::{CHECKSUM_HEADER, checksum, verify};
use sockets::http::{HttpError, Response};

use crate::error::FetchError;
use crate::options::Options;

/// A document that passed [`check`]: its body, and how long it is. A body that a run
/// keeping no document did not need was dropped as it came (see [`needs_body`]): then
/// `body` is empty, and `len` alone says what arrived.
#[derive(Debug)]
pub struct Document {
    pub body: Vec<u8>,
    pub len: u64,
}

// ANCHOR: check
/// The document in `response`, or why it is not one. A body with a `Content-Encoding`
/// is decoded first (see [`crate::decode`]), to at most `limit` bytes; the corpus
/// checksum, a checksum of the document, is checked on what was decoded.
pub fn check(response: Response, limit: usize) -> Result<Document, FetchError> {
    if response.status != 200 {
        let retry_after = response
            .headers
            .get("Retry-After")
            .and_then(parse_retry_after);
        return Err(FetchError::Status {
            status: response.status,
            retry_after,
        });
    }
    let (headers, body, dropped) = (response.headers, response.body, response.dropped);
    // Only a body that says it is encoded costs anything more.
    let body = match headers.get(CONTENT_ENCODING) {
        None => body,
        Some(_) => {
            let codings: Vec<&str> = headers.get_all(CONTENT_ENCODING).collect();
            crate::decode::decode(&codings.join(","), body, limit)?
        }
    };
    if let Some(expected) = headers.get(CHECKSUM_HEADER) {
        // Lesson 3's check; the checksum is computed a second time only to say, in the
        // rare failure, what arrived.
        if !verify(&body, expected) {
            return Err(FetchError::Checksum {
                len: body.len(),
                expected: expected.chars().take(32).collect(),
                got: checksum(&body),
            });
        }
    }
    let len = body.len() as u64 + dropped;
    Ok(Document { body, len })
}
// ANCHOR_END: check

const CONTENT_ENCODING: &str = "Content-Encoding";

// ANCHOR: needs_body
/// Whether [`check`] needs the body of a response with this head: a 200's, to decode
/// it or to compare it with the corpus checksum, and nothing else. A run that keeps no
/// document has its parser drop every other body as it comes
/// (`ResponseParser::dropping_bodies`): counted and framed, never copied.
pub fn needs_body(head: &Response) -> bool {
    let headers = &head.headers;
    head.status == 200
        && (headers.get(CONTENT_ENCODING).is_some() || headers.get(CHECKSUM_HEADER).is_some())
}
// ANCHOR_END: needs_body

/// `Retry-After` in its seconds form (`Retry-After: 2`). The HTTP-date form is rare on
/// 503 and 429; it is ignored, and the backoff applies.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if value.is_empty() || value.len() > 9 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok().map(Duration::from_secs)
}

// ANCHOR: retryable
/// Whether another attempt may succeed where this one failed.
pub fn is_retryable(error: &FetchError) -> bool {
    match error {
        FetchError::Connect { .. }
        | FetchError::Timeout { .. }
        | FetchError::Io { .. }
        | FetchError::Closed
        // A corrupted body is a transport accident, not the document.
        | FetchError::Checksum { .. }
        // So is a compressed body that does not decode.
        | FetchError::Corrupt { .. }
        | FetchError::Resume { .. } => true,
        FetchError::Http(HttpError::Truncated { .. }) => true,
        FetchError::Status { status, .. } => *status >= 500 || *status == 429 || *status == 408,
        FetchError::Http(_)
        | FetchError::BadUrl(_)
        | FetchError::Resolve { .. }
        | FetchError::Tls { .. }
        | FetchError::NoTls
        | FetchError::Save { .. }
        // A server that redirects wrongly does so again.
        | FetchError::Redirect { .. }
        | FetchError::RedirectLoop { .. }
        | FetchError::TooManyRedirects { .. }
        | FetchError::Encoding { .. }
        | FetchError::DecodedTooLarge { .. }
        | FetchError::Interrupted
        // A bug would only panic again.
        | FetchError::Panicked(_) => false,
    }
}
// ANCHOR_END: retryable

// ANCHOR: delay
/// How long to wait before retry number `retry` (1 for the first retry) after `error`,
/// or `None` if there should be no retry: not retryable, or no retries left.
///
/// Backoff with "equal jitter": the n-th retry waits between half and all of
/// `base * 2^(n-1)` (capped at `backoff_max`), the point in that range drawn from
/// `seed` and `key` so that a run can be repeated exactly. A server's `Retry-After`
/// replaces the backoff (capped at `backoff_max` too: a server asking for an hour is
/// answered with a failure report sooner, not a hung download).
pub fn retry_delay(
    options: &Options,
    key: &str,
    retry: u32,
    error: &FetchError,
) -> Option<Duration> {
    if retry > options.retries || !is_retryable(error) {
        return None;
    }
    if let FetchError::Status {
        retry_after: Some(asked),
        ..
    } = error
    {
        return Some((*asked).min(options.backoff_max));
    }
    let doubling = 1u32 << (retry.saturating_sub(1)).min(20);
    let full = options
        .backoff_base
        .saturating_mul(doubling)
        .min(options.backoff_max);
    let roll = unit_fraction(options.seed ^ hash(key) ^ u64::from(retry));
    Some(full / 2 + full.mul_f64(roll / 2.0))
}
// ANCHOR_END: delay

/// A fraction in [0, 1) from a 64-bit seed (splitmix64's finaliser: every input bit
/// moves about half of the output bits).
fn unit_fraction(seed: u64) -> f64 {
    let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

/// The key's corpus checksum: enough to give each document its own jitter.
fn hash(key: &str) -> u64 {
    let mut sum = sockets::corpus::Checksum::new();
    sum.update(key.as_bytes());
    sum.value()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sockets::http::{Headers, Truncation};

    fn check_(response: Response) -> Result<Vec<u8>, FetchError> {
        let document = check(response, 1 << 20)?;
        assert_eq!(document.len, document.body.len() as u64);
        Ok(document.body)
    }

    fn response(status: u16, headers: &[(&str, &str)], body: &[u8]) -> Response {
        let mut h = Headers::new();
        for (name, value) in headers {
            h.push(*name, *value);
        }
        Response {
            version_minor: 1,
            status,
            reason: "".into(),
            headers: h,
            body: body.to_vec(),
            dropped: 0,
            keep_alive: true,
        }
    }

    #[test]
    fn a_200_with_the_right_checksum_is_the_document() {
        let sum = checksum(b"hello");
        let body = check_(response(200, &[(CHECKSUM_HEADER, &sum)], b"hello")).unwrap();
        assert_eq!(body, b"hello");
        // No checksum header (an ordinary server): the body is taken as it is.
        assert_eq!(check_(response(200, &[], b"x")).unwrap(), b"x");
    }

    #[test]
    fn only_a_200_that_is_encoded_or_has_a_checksum_needs_its_body() {
        let sum = checksum(b"hello");
        assert!(needs_body(&response(200, &[(CHECKSUM_HEADER, &sum)], b"")));
        assert!(needs_body(&response(
            200,
            &[("content-encoding", "gzip")],
            b""
        )));
        assert!(!needs_body(&response(
            200,
            &[("Content-Type", "text/html")],
            b""
        )));
        // A checksum or a coding on an answer that is not the document changes nothing:
        // `check` refuses it by its status alone.
        for status in [206, 301, 404, 503] {
            let head = response(
                status,
                &[(CHECKSUM_HEADER, &sum), ("Content-Encoding", "gzip")],
                b"",
            );
            assert!(!needs_body(&head), "{status}");
        }
    }

    #[test]
    fn a_dropped_body_is_a_document_of_its_length() {
        let mut dropped = response(200, &[], b"");
        dropped.dropped = 4096;
        let document = check(dropped, 1 << 20).unwrap();
        assert_eq!((document.body.len(), document.len), (0, 4096));
        // A body partly held (the codec never does this, but the sum is the rule).
        let mut both = response(200, &[], b"abc");
        both.dropped = 2;
        assert_eq!(check(both, 1 << 20).unwrap().len, 5);
    }

    #[test]
    fn a_wrong_checksum_is_refused_and_retryable() {
        let sum = checksum(b"hello");
        let error = check_(response(200, &[(CHECKSUM_HEADER, &sum)], b"hellO")).unwrap_err();
        assert!(
            matches!(error, FetchError::Checksum { len: 5, .. }),
            "{error}"
        );
        assert!(is_retryable(&error));
    }

    #[test]
    fn statuses_split_into_retryable_and_final() {
        for (status, retry) in [
            (500, true),
            (503, true),
            (429, true),
            (408, true),
            (404, false),
            (403, false),
            (400, false),
        ] {
            let error = check_(response(status, &[], b"")).unwrap_err();
            assert_eq!(is_retryable(&error), retry, "status {status}");
        }
        let truncated = FetchError::Http(HttpError::Truncated {
            offset: 10,
            what: Truncation::Head,
        });
        assert!(is_retryable(&truncated));
    }

    #[test]
    fn retry_after_in_seconds_is_read_and_honoured_up_to_the_cap() {
        let error = check_(response(503, &[("Retry-After", "2")], b"")).unwrap_err();
        let options = Options::default();
        assert_eq!(
            retry_delay(&options, "k", 1, &error),
            Some(Duration::from_secs(2))
        );
        let greedy = check_(response(503, &[("Retry-After", "86400")], b"")).unwrap_err();
        assert_eq!(
            retry_delay(&options, "k", 1, &greedy),
            Some(options.backoff_max)
        );
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("-1"), None);
        assert_eq!(parse_retry_after("99999999999999999999"), None);
    }

    #[test]
    fn backoff_doubles_with_jitter_in_its_range_and_stops_after_the_last_retry() {
        let options = Options {
            retries: 5,
            backoff_base: Duration::from_millis(100),
            backoff_max: Duration::from_millis(1000),
            ..Options::default()
        };
        let error = FetchError::Closed;
        for retry in 1..=5u32 {
            let full = Duration::from_millis(100 * (1 << (retry - 1))).min(options.backoff_max);
            for key in ["a", "b", "c", "d"] {
                let delay = retry_delay(&options, key, retry, &error).unwrap();
                assert!(
                    delay >= full / 2 && delay <= full,
                    "retry {retry}: {delay:?} not in [{:?}, {full:?}]",
                    full / 2
                );
            }
        }
        assert_eq!(retry_delay(&options, "a", 6, &error), None);
        assert_eq!(
            retry_delay(&options, "a", 1, &FetchError::BadUrl("x".into())),
            None
        );
    }

    #[test]
    fn jitter_spreads_documents_apart() {
        let options = Options::default();
        let delays: std::collections::HashSet<Duration> = (0..100)
            .map(|i| retry_delay(&options, &format!("doc{i}"), 3, &FetchError::Closed).unwrap())
            .collect();
        assert!(delays.len() > 90, "only {} distinct delays", delays.len());
    }
}
