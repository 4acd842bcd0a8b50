//! Exercise `sockets/status-line`: the first line of every response.
//!
//! `HTTP/1.1 404 Not Found`: a version, one space, three digits, one space, a reason
//! phrase meant for people (it may be empty, and may contain spaces).
//!
//! RFC 9110 defines the codes from 100 to 599 and calls the others invalid, but tells a
//! client to read a response with an invalid code as a 5xx rather than refuse it. So
//! this parser, like the lesson's codec, takes any three digits from 100 to 999.

// In your copy the body is `todo!()` and ignores its arguments until you write it:
// no warnings for that.
#![allow(unused_variables)]

/// A parsed status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusLine {
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor: u8,
    pub code: u16,
    pub reason: String,
}

/// What is wrong with a status line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatusLineError {
    #[error("the version is not HTTP/1.0 or HTTP/1.1")]
    Version,
    #[error("the status code is not three digits from 100 to 999")]
    Code,
    #[error("a single space must follow the version and the code")]
    Space,
}

/// Parses a status line (without its CR LF): `HTTP/1.x SP DDD SP reason`, checked left
/// to right, the first wrong piece naming the error:
///
/// - the first 8 bytes are the version, exactly `HTTP/1.0` or `HTTP/1.1` (else
///   [`Version`](StatusLineError::Version));
/// - `SP` is exactly one space, not a tab nor two spaces (else
///   [`Space`](StatusLineError::Space));
/// - `DDD` is exactly three ASCII digits from 100 to 999, no sign (else
///   [`Code`](StatusLineError::Code); a fourth digit may be `Code` or `Space`);
/// - then either nothing (`HTTP/1.1 204`, an empty reason), or one space and the reason:
///   everything after that space, kept as is, spaces included (else `Space`).
///
/// A character of several bytes is an error like any other, never a panic.
pub fn parse_status_line(line: &str) -> Result<StatusLine, StatusLineError> {
    // BEGIN SOLUTION
    let minor = match line.get(..8) {
        Some("HTTP/1.0") => 0,
        Some("HTTP/1.1") => 1,
        _ => return Err(StatusLineError::Version),
    };
    let rest = line[8..].strip_prefix(' ').ok_or(StatusLineError::Space)?;
    if rest.starts_with(' ') {
        return Err(StatusLineError::Space);
    }
    let digits = rest.get(..3).ok_or(StatusLineError::Code)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(StatusLineError::Code);
    }
    let code: u16 = digits.parse().map_err(|_| StatusLineError::Code)?;
    if !(100..=999).contains(&code) {
        return Err(StatusLineError::Code);
    }
    let reason = match &rest[3..] {
        "" => "",
        after => after.strip_prefix(' ').ok_or(StatusLineError::Space)?,
    };
    Ok(StatusLine {
        minor,
        code,
        reason: reason.to_string(),
    })
    // END SOLUTION
}
