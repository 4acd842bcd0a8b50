//! Request headers a user adds (`-H "Name: value"`, as with curl and wget2), and the
//! `User-Agent` (`--user-agent`), checked before anything is sent.
//!
//! A header line goes into every request as it is given, so it is checked once, when
//! the command line is read, and a bad one is a usage error that names it:
//!
//! - the name must be an HTTP token (letters, digits and ``!#$%&'*+-.^_`|~``): a space
//!   or a `:` in it would change what the server reads;
//! - the value may not hold a control byte other than a tab: a `\r\n` in it would add a
//!   header line of its own ("header injection");
//! - the headers that frame a message or a connection are refused: `Host` (it comes
//!   from the URL, and a redirect to another host would carry the wrong one),
//!   `Content-Length`, `Transfer-Encoding`, `Connection`, `Keep-Alive`, `TE`,
//!   `Trailer`, `Upgrade`, `Proxy-Connection`. The downloader sends GETs without a
//!   body, keeps connections open and pipelines on them: a header that changes the
//!   framing would make it misread every response after the first. curl lets you send
//!   them and break the exchange; here it is an error that says why.
//! - `User-Agent` given with `-H` replaces the downloader's own, as with curl (it is the
//!   same as `--user-agent`);
//! - at most [`MAX_HEADERS`] headers, each at most [`MAX_HEADER_BYTES`] bytes: servers
//!   refuse request heads of more than 8 to 16 KiB.

use std::fmt;

/// The most `-H` headers a command may give.
pub const MAX_HEADERS: usize = 64;

/// The longest `Name: value` a header may be, in bytes.
pub const MAX_HEADER_BYTES: usize = 4096;

/// The headers that frame a message or a connection: the downloader's own business.
pub const FRAMING_HEADERS: [&str; 9] = [
    "Host",
    "Content-Length",
    "Transfer-Encoding",
    "Connection",
    "Keep-Alive",
    "TE",
    "Trailer",
    "Upgrade",
    "Proxy-Connection",
];

/// One request header a user added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub name: String,
    pub value: String,
}

impl fmt::Display for Header {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name, self.value)
    }
}

/// Why a header (or a user agent) is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error("{text:?}: a header is written `Name: value`, and this has no `:`")]
    NoColon { text: String },
    #[error("{text:?}: the header has no name before its `:`")]
    NoName { text: String },
    #[error(
        "{name:?}: a header's name is letters, digits and !#$%&'*+-.^_`|~ only (byte {byte:#04x} at {at})"
    )]
    BadName { name: String, byte: u8, at: usize },
    #[error(
        "{name}: its value holds a control byte ({byte:#04x} at {at}); only a tab may be in a value"
    )]
    BadValue { name: String, byte: u8, at: usize },
    #[error(
        "{name}: the downloader frames its requests and connections itself (Host comes from the URL); \
         it refuses {}", FRAMING_HEADERS.join(", ")
    )]
    Framing { name: String },
    #[error("{name}: the header is {len} bytes long, more than {MAX_HEADER_BYTES}")]
    TooLong { name: String, len: usize },
}

impl Header {
    /// Reads `Name: value` (spaces around the value are not part of it), checked as the
    /// module explains.
    ///
    /// ```
    /// use async_download::headers::Header;
    ///
    /// let h = Header::parse("X-Token:  abc ").unwrap();
    /// assert_eq!((h.name.as_str(), h.value.as_str()), ("X-Token", "abc"));
    /// assert!(Header::parse("Content-Length: 5").is_err());
    /// assert!(Header::parse("X: a\r\nHost: evil").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Header, HeaderError> {
        let Some((name, value)) = text.split_once(':') else {
            return Err(HeaderError::NoColon {
                text: shorten(text),
            });
        };
        if name.is_empty() {
            return Err(HeaderError::NoName {
                text: shorten(text),
            });
        }
        if let Some((at, byte)) = name.bytes().enumerate().find(|&(_, b)| !is_tchar(b)) {
            return Err(HeaderError::BadName {
                name: shorten(name),
                byte,
                at,
            });
        }
        if text.len() > MAX_HEADER_BYTES {
            return Err(HeaderError::TooLong {
                name: shorten(name),
                len: text.len(),
            });
        }
        if FRAMING_HEADERS
            .iter()
            .any(|framing| framing.eq_ignore_ascii_case(name))
        {
            return Err(HeaderError::Framing {
                name: name.to_string(),
            });
        }
        let value = value.trim_matches([' ', '\t']);
        check_value(name, value)?;
        Ok(Header {
            name: name.to_string(),
            value: value.to_string(),
        })
    }

    /// Whether this header is the `User-Agent`.
    pub fn is_user_agent(&self) -> bool {
        self.name.eq_ignore_ascii_case("User-Agent")
    }
}

/// Checks a `--user-agent` value as a header's value: no control byte but a tab, at
/// most [`MAX_HEADER_BYTES`] bytes. An empty one sends no `User-Agent` at all.
pub fn parse_user_agent(text: &str) -> Result<String, HeaderError> {
    if text.len() > MAX_HEADER_BYTES {
        return Err(HeaderError::TooLong {
            name: "User-Agent".to_string(),
            len: text.len(),
        });
    }
    check_value("User-Agent", text)?;
    Ok(text.to_string())
}

fn check_value(name: &str, value: &str) -> Result<(), HeaderError> {
    match value
        .bytes()
        .enumerate()
        .find(|&(_, b)| b != b'\t' && (b.is_ascii_control()))
    {
        Some((at, byte)) => Err(HeaderError::BadValue {
            name: shorten(name),
            byte,
            at,
        }),
        None => Ok(()),
    }
}

/// RFC 9110's `tchar`: the bytes a header's name may hold.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// A text as an error shows it: at most 100 characters.
fn shorten(text: &str) -> String {
    match text.char_indices().nth(100) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_headers_read_and_bad_ones_say_why() {
        let h = Header::parse("Accept:text/html").unwrap();
        assert_eq!(h.to_string(), "Accept: text/html");
        assert_eq!(Header::parse("X-Empty:").unwrap().value, "");
        assert_eq!(Header::parse("X: a\tb").unwrap().value, "a\tb");
        assert!(Header::parse("user-agent: me").unwrap().is_user_agent());
        let bad = [
            ("no colon", "no `:`"),
            (": v", "no name"),
            ("X Y: v", "letters, digits"),
            ("X: a\nb", "control byte"),
            ("X: a\rb", "control byte"),
            ("X: a\0b", "control byte"),
            ("host: x", "Host comes from the URL"),
            ("transfer-encoding: chunked", "refuses"),
            ("CONTENT-LENGTH: 1", "refuses"),
            ("Connection: close", "refuses"),
        ];
        for (text, why) in bad {
            let error = Header::parse(text).unwrap_err().to_string();
            assert!(error.contains(why), "{text:?}: {error}");
        }
        let long = format!("X: {}", "v".repeat(MAX_HEADER_BYTES));
        assert!(matches!(
            Header::parse(&long),
            Err(HeaderError::TooLong { .. })
        ));
        assert_eq!(parse_user_agent("").unwrap(), "");
        assert!(parse_user_agent("a\r\nX: y").is_err());
    }
}
