//! `http://host[:port]/path?query`, parsed by hand.
//!
//! A client needs three things from a URL: where to connect (host and port), what to
//! put in the `Host` header, and what to put in the request line (the path and query).
//! That is all [`Url`] keeps. The general URL grammar (RFC 3986, and the WHATWG rules
//! browsers follow) is far larger; this parser accepts the part of it a downloader
//! meets and refuses the rest with an error that says which byte it stopped at.
//!
//! The choices, each a line or two below:
//!
//! - Only `http`. An `https` URL gets its own error ([`UrlError::Https`]): the bytes
//!   would have to go through TLS, and this lesson writes every byte itself. (Lesson 5's
//!   downloader speaks TLS through a library, and parses with [`Url::parse_web`], which
//!   takes `https` too; the rest of the grammar is the same.)
//! - The scheme and host are case-insensitive, so both are lower-cased.
//! - IPv6 literals are written in brackets (`http://[::1]:8080/`), because their colons
//!   would otherwise be mistaken for the port separator. [`Url::host`] keeps the
//!   address *without* brackets, the form `TcpStream::connect` understands;
//!   [`Url::host_header`] puts them back.
//! - The fragment (`#...`) is dropped: it belongs to the browser, never to the request.
//! - In the path and query, a space or a non-ASCII character is percent-encoded (as
//!   browsers do), so `/wiki/Café` is sent as `/wiki/Caf%C3%A9`; a control character
//!   (a newline, a NUL...) is an error, because writing it into a request line would
//!   let the URL inject its own header lines.
//! - `user:password@` is refused: credentials do not belong in a download list.

use std::fmt;
use std::net::Ipv6Addr;
use std::str::FromStr;

/// The longest URL [`Url::parse`] accepts, in bytes. Servers commonly refuse request
/// lines over 8 KiB, so a longer URL could not be fetched anyway.
pub const MAX_URL_BYTES: usize = 8 * 1024;

/// The port of `http` when the URL names none.
pub const DEFAULT_PORT: u16 = 80;

/// The port of `https` when the URL names none.
pub const HTTPS_PORT: u16 = 443;

/// How the bytes travel: in the clear, or inside TLS.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `http://`: the bytes as the codec writes them (the only one [`Url::parse`] takes).
    #[default]
    Http,
    /// `https://`: the same bytes, inside a TLS session ([`Url::parse_web`] only).
    Https,
}

impl Scheme {
    /// `http` or `https`, as written before `://`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }

    /// The port a URL of this scheme means when it names none.
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http => DEFAULT_PORT,
            Scheme::Https => HTTPS_PORT,
        }
    }
}

/// A parsed `http://` URL: what a client needs to connect and to ask.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Url {
    /// `http`, unless [`Url::parse_web`] read an `https` URL.
    pub scheme: Scheme,
    /// The host name or address, lower-cased; an IPv6 address without its brackets.
    pub host: String,
    /// The port, 80 (443 for `https`) when the URL names none.
    pub port: u16,
    /// The path and the query (`/a/b?x=1`): what goes into the request line. Never empty:
    /// `http://host` gives `/`, and `http://host?x` gives `/?x`.
    pub path: String,
}

/// Why a string is not a URL this client can fetch. Offsets count bytes from the start
/// of the string given to [`Url::parse`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("the URL is {len} bytes long; at most {limit} are accepted")]
    TooLong { len: usize, limit: usize },

    #[error("the URL has no scheme: write it as http://host/path")]
    MissingScheme,

    #[error("only http:// URLs are supported, not {scheme}://")]
    NotHttp { scheme: String },

    #[error("https is not supported in this lesson: no TLS (write the URL with http://)")]
    Https,

    #[error("the URL has no host (expected http://host/...)")]
    MissingHost,

    #[error("bad port {port:?} at byte {offset}: {reason}")]
    BadPort {
        offset: usize,
        port: String,
        reason: &'static str,
    },

    #[error("bad IPv6 address {address:?} at byte {offset}")]
    BadIpv6 { offset: usize, address: String },

    #[error("invalid character {found:?} at byte {offset} in the {part}")]
    InvalidCharacter {
        offset: usize,
        found: char,
        part: &'static str,
    },
}

impl Url {
    /// Parses `http://host[:port][/path][?query][#fragment]`.
    ///
    /// Leading and trailing whitespace is ignored (a URL pasted from a file often ends
    /// in a newline); whitespace inside the URL is not.
    pub fn parse(s: &str) -> Result<Url, UrlError> {
        parse_with(s, false)
    }

    /// [`Url::parse`], taking `https://` URLs too (port 443 by default): for a client
    /// that speaks TLS, which this lesson's does not.
    pub fn parse_web(s: &str) -> Result<Url, UrlError> {
        parse_with(s, true)
    }

    /// The value of the `Host` header: `host`, or `host:port` when the port is not the
    /// scheme's (80 for `http`; with an IPv6 address in brackets: `[::1]:8080`).
    pub fn host_header(&self) -> String {
        let mut digits = [0; 20];
        let pieces = self.host_header_pieces(&mut digits);
        let mut header = String::with_capacity(pieces.iter().map(|p| p.len()).sum());
        pieces.iter().for_each(|piece| header.push_str(piece));
        header
    }

    /// [`host_header`](Url::host_header) written into `room`, not into a new `String`:
    /// a downloader writes a request for every document, and this spares each one an
    /// allocation. `None` if it does not fit (a host name has at most 253 bytes).
    pub fn host_header_in<'a>(&self, room: &'a mut [u8]) -> Option<&'a str> {
        let mut digits = [0; 20];
        let pieces = self.host_header_pieces(&mut digits);
        let len = pieces.iter().map(|p| p.len()).sum();
        let out = room.get_mut(..len)?;
        let mut at = 0;
        for piece in pieces {
            out[at..at + piece.len()].copy_from_slice(piece.as_bytes());
            at += piece.len();
        }
        std::str::from_utf8(out).ok()
    }

    /// The Host header in pieces: `[`, the host, `]` (brackets for an IPv6 address
    /// only), `:` and the port (only when it is not the scheme's). Put together by
    /// hand rather than by `write!`: once per request, the formatting machinery costs
    /// more than the copying.
    fn host_header_pieces<'a>(&'a self, digits: &'a mut [u8; 20]) -> [&'a str; 5] {
        let v6 = byte_at(&self.host, b':').is_some();
        let (open, close) = if v6 { ("[", "]") } else { ("", "") };
        let (colon, port) = if self.port != self.scheme.default_port() {
            (":", decimal(self.port.into(), digits))
        } else {
            ("", "")
        };
        [open, &self.host, close, colon, port]
    }

    /// What to connect to, in the form `TcpStream::connect` takes: `(host, port)`, the
    /// host without brackets. A name is resolved by the caller (or by `connect`).
    pub fn socket_target(&self) -> (String, u16) {
        (self.host.clone(), self.port)
    }
}

/// A URL's `Host` header, for `write!`.
struct HostHeader<'a>(&'a Url);

impl fmt::Display for HostHeader<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut digits = [0; 20];
        self.0
            .host_header_pieces(&mut digits)
            .iter()
            .try_for_each(|piece| f.write_str(piece))
    }
}

/// `n` in decimal, written at the end of `digits` (a `u64` has at most twenty): a number
/// without the formatting machinery, which costs more than the digits where a number is
/// written for every request or every document (a port here; a downloader's file names
/// and journal lines).
pub fn decimal(mut n: u64, digits: &mut [u8; 20]) -> &str {
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    // Only ASCII digits were written: this never fails.
    std::str::from_utf8(&digits[start..]).unwrap_or_default()
}

impl fmt::Display for Url {
    /// The URL in its normal form: `http://host[:port]/path?query`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = self.scheme.as_str();
        write!(f, "{scheme}://{}{}", HostHeader(self), self.path)
    }
}

impl FromStr for Url {
    type Err = UrlError;

    fn from_str(s: &str) -> Result<Url, UrlError> {
        Url::parse(s)
    }
}

// ANCHOR: parse
/// [`Url::parse`] (`web`: false) and [`Url::parse_web`] (`web`: true): one grammar, two
/// lists of schemes.
fn parse_with(s: &str, web: bool) -> Result<Url, UrlError> {
    if s.len() > MAX_URL_BYTES {
        return Err(UrlError::TooLong {
            len: s.len(),
            limit: MAX_URL_BYTES,
        });
    }
    // `start` keeps the offsets in errors pointing into the string as given.
    let trimmed = s.trim_start();
    let start = s.len() - trimmed.len();
    let s = trimmed.trim_end();

    let sep = scheme_end(s).ok_or(UrlError::MissingScheme)?;
    let (scheme_text, rest) = (&s[..sep], &s[sep + 3..]);
    let scheme = check_scheme(scheme_text, start, web)?;
    let rest_at = start + scheme_text.len() + "://".len();

    // The authority (host and port) ends at the first `/`, `?` or `#`.
    // (Bytes, not chars: an ASCII byte is never part of a longer character.)
    let authority_len = rest
        .bytes()
        .position(|b| matches!(b, b'/' | b'?' | b'#'))
        .unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_len);
    let (host, port) = parse_authority(authority, rest_at)?;
    let port = port.unwrap_or(scheme.default_port());
    let path = parse_path(path, rest_at + authority_len)?;
    Ok(Url {
        scheme,
        host,
        port,
        path,
    })
}
// ANCHOR_END: parse

/// Where the first `://` is in `s`. Found by plain byte loops: `s.find("://")` would set
/// up a general substring search for each of a list's URLs, only to stop a few bytes
/// in. Nearly always the first colon starts it; only when it does not are the other
/// places tried.
fn scheme_end(s: &str) -> Option<usize> {
    match byte_at(s, b':') {
        Some(colon) if s.as_bytes()[colon..].starts_with(b"://") => Some(colon),
        _ => s.as_bytes().windows(3).position(|w| w == b"://"),
    }
}

// ANCHOR: check_scheme
/// `http` passes, and `https` when `web`; any other well-formed scheme gets its own
/// error.
fn check_scheme(scheme: &str, at: usize, web: bool) -> Result<Scheme, UrlError> {
    // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )   (RFC 3986, section 3.1)
    if scheme.is_empty() {
        return Err(UrlError::MissingScheme);
    }
    for (i, c) in scheme.char_indices() {
        let ok = c.is_ascii_alphabetic()
            || (i > 0 && (c.is_ascii_digit() || matches!(c, '+' | '-' | '.')));
        if !ok {
            return Err(UrlError::InvalidCharacter {
                offset: at + i,
                found: c,
                part: "scheme",
            });
        }
    }
    // Compared without making a lowercase copy: every URL of a list passes here.
    if scheme.eq_ignore_ascii_case("http") {
        Ok(Scheme::Http)
    } else if !scheme.eq_ignore_ascii_case("https") {
        Err(UrlError::NotHttp {
            scheme: scheme.to_ascii_lowercase(),
        })
    } else if web {
        Ok(Scheme::Https)
    } else {
        Err(UrlError::Https)
    }
}
// ANCHOR_END: check_scheme

/// `host`, `host:port`, `[v6]` or `[v6]:port`; `at` is the authority's offset. The
/// port is `None` when the URL names none: the scheme's default.
fn parse_authority(authority: &str, at: usize) -> Result<(String, Option<u16>), UrlError> {
    // `user:password@` is named for what it is. No `@` passes the other checks (it is
    // neither a host byte nor a digit), so it is looked for only once they fail: one
    // pass fewer over every good authority, the same error for every bad one.
    read_authority(authority, at).map_err(|error| match byte_at(authority, b'@') {
        Some(i) => UrlError::InvalidCharacter {
            offset: at + i,
            found: '@',
            part: "host (user:password@ is not supported)",
        },
        None => error,
    })
}

/// [`parse_authority`], saying nothing special of an `@`.
fn read_authority(authority: &str, at: usize) -> Result<(String, Option<u16>), UrlError> {
    let (host, port_part) = if let Some(inner) = authority.strip_prefix('[') {
        let close = inner.find(']').ok_or_else(|| UrlError::BadIpv6 {
            offset: at,
            address: authority.to_string(),
        })?;
        let address = &inner[..close];
        if address.parse::<Ipv6Addr>().is_err() {
            return Err(UrlError::BadIpv6 {
                offset: at + 1,
                address: address.to_string(),
            });
        }
        // After `]` comes the end of the authority or `:port`, nothing else.
        let after = &inner[close + 1..];
        let after_at = at + 1 + close + 1;
        let port_part = match after.strip_prefix(':') {
            Some(port) => Some((port, after_at + 1)),
            None => match after.chars().next() {
                None => None,
                Some(c) => {
                    return Err(UrlError::InvalidCharacter {
                        offset: after_at,
                        found: c,
                        part: "host (expected `:port` after `]`)",
                    });
                }
            },
        };
        (address.to_ascii_lowercase(), port_part)
    } else {
        let (host, port_part) = match byte_at(authority, b':') {
            Some(colon) => (
                &authority[..colon],
                Some((&authority[colon + 1..], at + colon + 1)),
            ),
            None => (authority, None),
        };
        check_host_name(host, at)?;
        (host.to_ascii_lowercase(), port_part)
    };
    if host.is_empty() {
        return Err(UrlError::MissingHost);
    }
    let port = match port_part {
        Some((text, offset)) => parse_port(text, offset)?,
        None => None,
    };
    Ok((host, port))
}

/// A DNS name or an IPv4 address: letters, digits, `-`, `.`, and the `_` and `~` that
/// RFC 3986 also allows. Percent-encoded and non-ASCII names (which would need
/// punycode) are refused.
fn check_host_name(host: &str, at: usize) -> Result<(), UrlError> {
    let allowed = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~');
    // A byte that is not allowed starts a character (every allowed byte is ASCII, so
    // the scan never stops inside one): that character is the one to name.
    match host.bytes().position(|b| !allowed(b)) {
        Some(i) => Err(UrlError::InvalidCharacter {
            offset: at + i,
            found: host[i..].chars().next().unwrap_or('?'),
            part: "host",
        }),
        None => Ok(()),
    }
}

/// Where the ASCII byte `b` first is in `text`. A plain loop: the parts of a URL are
/// short, and `str::find` sets up a search that costs more than it saves on them.
fn byte_at(text: &str, b: u8) -> Option<usize> {
    text.bytes().position(|x| x == b)
}

/// `1..=65535`. An empty port (`http://host:/`) means the default, as RFC 3986 allows.
fn parse_port(text: &str, offset: usize) -> Result<Option<u16>, UrlError> {
    let bad = |reason| UrlError::BadPort {
        offset,
        port: text.to_string(),
        reason,
    };
    if text.is_empty() {
        return Ok(None);
    }
    // The digits folded by hand, in one pass: `str::parse` would check them again. A
    // `u32` holds any five digits; more than five are too many anyway.
    let mut port: u32 = 0;
    for b in text.bytes() {
        if !b.is_ascii_digit() {
            return Err(bad("a port is a number"));
        }
        port = (port * 10 + u32::from(b - b'0')).min(1 << 16);
    }
    match u16::try_from(port) {
        Ok(0) => Err(bad("port 0 cannot be connected to")),
        Ok(port) => Ok(Some(port)),
        Err(_) => Err(bad("a port is at most 65535")),
    }
}

/// The path and query, fragment dropped, with spaces and non-ASCII percent-encoded.
fn parse_path(text: &str, at: usize) -> Result<String, UrlError> {
    // One pass finds both the fragment and whether anything needs encoding: nearly
    // every path is visible ASCII up to its end or its `#`, and is then copied whole,
    // not a character at a time.
    let first_other = text
        .bytes()
        .position(|b| b == b'#' || !b.is_ascii_graphic());
    let (text, plain) = match first_other {
        None => (text, true),
        Some(i) if text.as_bytes()[i] == b'#' => (&text[..i], true),
        Some(_) => match byte_at(text, b'#') {
            Some(fragment) => (&text[..fragment], false),
            None => (text, false),
        },
    };
    let mut path = String::with_capacity(text.len() + 1);
    if !text.starts_with('/') {
        // Empty, or the query right after the host (`http://h?q`).
        path.push('/');
    }
    if plain {
        path.push_str(text);
        return Ok(path);
    }
    for (i, c) in text.char_indices() {
        if c.is_ascii_graphic() {
            path.push(c);
        } else if c == ' ' || !c.is_ascii() {
            let mut utf8 = [0; 4];
            for byte in c.encode_utf8(&mut utf8).bytes() {
                path.push_str(&format!("%{byte:02X}"));
            }
        } else {
            return Err(UrlError::InvalidCharacter {
                offset: at + i,
                found: c,
                part: "path",
            });
        }
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where `s` has a character a URL may not hold there, and which one.
    fn invalid(s: &str) -> (usize, char) {
        match Url::parse(s) {
            Err(UrlError::InvalidCharacter { offset, found, .. }) => (offset, found),
            other => panic!("{s:?}: {other:?}"),
        }
    }

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    #[test]
    fn host_port_and_path() {
        let u = url("http://example.com:8080/a/b?x=1&y=2");
        assert_eq!(u.host, "example.com");
        assert_eq!(u.port, 8080);
        assert_eq!(u.path, "/a/b?x=1&y=2");
        assert_eq!(u.host_header(), "example.com:8080");
        assert_eq!(u.socket_target(), ("example.com".to_string(), 8080));
        assert_eq!(u.to_string(), "http://example.com:8080/a/b?x=1&y=2");
    }

    #[test]
    fn defaults_and_normal_form() {
        let u = url("HTTP://Example.COM");
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("example.com", 80, "/")
        );
        assert_eq!(u.host_header(), "example.com");
        assert_eq!(u.to_string(), "http://example.com/");
        assert_eq!(url("http://h:80/x").to_string(), "http://h/x");
        assert_eq!(url("http://h:/x").port, 80);
        assert_eq!(url("  http://h/x\n").path, "/x");
    }

    #[test]
    fn query_kept_fragment_dropped() {
        assert_eq!(url("http://h?q=1").path, "/?q=1");
        assert_eq!(url("http://h/p?q=1#frag").path, "/p?q=1");
        assert_eq!(url("http://h#frag").path, "/");
        assert_eq!(url("http://h/p#a?b").path, "/p");
        // What follows the `#` is dropped unread, encodable or not; what comes before
        // it is still encoded.
        assert_eq!(url("http://h/p#a b\tc").path, "/p");
        assert_eq!(url("http://h/a b#c d").path, "/a%20b");
        assert_eq!(url("http://h/é?x#y").path, "/%C3%A9?x");
    }

    #[test]
    fn spaces_and_non_ascii_are_percent_encoded() {
        assert_eq!(
            url("http://h/wiki/Café au lait").path,
            "/wiki/Caf%C3%A9%20au%20lait"
        );
    }

    #[test]
    fn host_header_in_room_is_the_host_header_or_nothing() {
        for text in [
            "http://example.com/",
            "http://example.com:8080/",
            "http://[::1]:8080/x",
            "http://[2001:DB8::1]/",
        ] {
            let u = url(text);
            let mut room = [0; 300];
            assert_eq!(u.host_header_in(&mut room), Some(u.host_header().as_str()));
            // One byte short of the header: it does not fit, and says so.
            let mut small = vec![0; u.host_header().len() - 1];
            assert_eq!(u.host_header_in(&mut small), None, "{text}");
        }
    }

    #[test]
    fn decimal_writes_every_u64_as_format_does() {
        let mut digits = [0; 20];
        for n in [0, 1, 9, 10, 80, 65_535, 1 << 32, u64::MAX - 1, u64::MAX] {
            assert_eq!(decimal(n, &mut digits), n.to_string());
        }
    }

    #[test]
    fn host_header_ports_in_decimal_the_default_left_out() {
        for (text, header) in [
            ("http://h:1/", "h:1"),
            ("http://h:10/", "h:10"),
            ("http://h:8080/", "h:8080"),
            ("http://h:65535/", "h:65535"),
            ("http://h:80/", "h"),
            ("https://h:443/", "h"),
            ("https://h:80/", "h:80"),
            ("http://[::1]:9/", "[::1]:9"),
        ] {
            let u = Url::parse_web(text).unwrap();
            assert_eq!(u.host_header(), header, "{text}");
            assert!(u.to_string().contains(header), "{text}");
        }
    }

    #[test]
    fn a_bad_host_character_is_named_whole() {
        assert_eq!(
            Url::parse("http://ex\u{e4}mple.org/"),
            Err(UrlError::InvalidCharacter {
                offset: 9,
                found: '\u{e4}',
                part: "host"
            })
        );
        assert!(matches!(
            Url::parse("http://a b/"),
            Err(UrlError::InvalidCharacter {
                offset: 8,
                found: ' ',
                ..
            })
        ));
    }

    #[test]
    fn ipv6_literals() {
        let u = url("http://[::1]:8080/x");
        assert_eq!(u.host, "::1");
        assert_eq!(u.port, 8080);
        assert_eq!(u.host_header(), "[::1]:8080");
        assert_eq!(u.socket_target(), ("::1".to_string(), 8080));
        assert_eq!(u.to_string(), "http://[::1]:8080/x");
        let u = url("http://[2001:DB8::1]/");
        assert_eq!((u.host.as_str(), u.port), ("2001:db8::1", 80));
        assert_eq!(u.host_header(), "[2001:db8::1]");
        assert!(matches!(
            Url::parse("http://[::1/"),
            Err(UrlError::BadIpv6 { offset: 7, .. })
        ));
        assert!(matches!(
            Url::parse("http://[::g]/"),
            Err(UrlError::BadIpv6 { offset: 8, .. })
        ));
        assert!(matches!(
            Url::parse("http://[::1]x/"),
            Err(UrlError::InvalidCharacter {
                offset: 12,
                found: 'x',
                ..
            })
        ));
        assert_eq!(
            Url::parse("http://[]/").unwrap_err(),
            UrlError::BadIpv6 {
                offset: 8,
                address: String::new()
            }
        );
    }

    #[test]
    fn https_has_its_own_clear_error() {
        let err = Url::parse("https://example.com/").unwrap_err();
        assert_eq!(err, UrlError::Https);
        assert!(
            err.to_string()
                .contains("https is not supported in this lesson: no TLS")
        );
        assert_eq!(Url::parse("HTTPS://x/").unwrap_err(), UrlError::Https);
    }

    #[test]
    fn parse_web_takes_https_with_its_own_port() {
        let u = Url::parse_web("HTTPS://Example.com/a?b").unwrap();
        assert_eq!(u.scheme, Scheme::Https);
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("example.com", 443, "/a?b")
        );
        assert_eq!(u.host_header(), "example.com");
        assert_eq!(u.to_string(), "https://example.com/a?b");
        let u = Url::parse_web("https://h:80/").unwrap();
        assert_eq!((u.port, u.host_header()), (80, "h:80".to_string()));
        assert_eq!(u.to_string(), "https://h:80/");
        assert_eq!(Url::parse_web("https://h:/").unwrap().port, 443);
        // http is the same either way; the port of http stays 80, 443 is named.
        assert_eq!(Url::parse_web("http://h/x").unwrap(), url("http://h/x"));
        assert_eq!(url("http://h:443/").host_header(), "h:443");
        assert_eq!(
            Url::parse_web("ftp://h/").unwrap_err(),
            UrlError::NotHttp {
                scheme: "ftp".into()
            }
        );
    }

    #[test]
    fn other_schemes_and_missing_scheme() {
        assert_eq!(
            Url::parse("ftp://h/").unwrap_err(),
            UrlError::NotHttp {
                scheme: "ftp".into()
            }
        );
        assert_eq!(
            Url::parse("example.com/x").unwrap_err(),
            UrlError::MissingScheme
        );
        assert_eq!(
            Url::parse("localhost:8080").unwrap_err(),
            UrlError::MissingScheme
        );
        assert_eq!(Url::parse("://h/").unwrap_err(), UrlError::MissingScheme);
        assert!(matches!(
            Url::parse("ht tp://h/"),
            Err(UrlError::InvalidCharacter {
                offset: 2,
                found: ' ',
                part: "scheme"
            })
        ));
    }

    #[test]
    fn missing_host() {
        for s in [
            "http://",
            "http:///x",
            "http://:8080/",
            "http://?q",
            "http://[::1",
        ] {
            let err = Url::parse(s).unwrap_err();
            assert!(
                matches!(err, UrlError::MissingHost | UrlError::BadIpv6 { .. }),
                "{s:?}: {err:?}"
            );
        }
        assert_eq!(Url::parse("http:///x").unwrap_err(), UrlError::MissingHost);
    }

    #[test]
    fn bad_ports() {
        let port = |s: &str| match Url::parse(s) {
            Err(UrlError::BadPort { offset, port, .. }) => (offset, port),
            other => panic!("{s:?}: {other:?}"),
        };
        assert_eq!(port("http://h:0/"), (9, "0".into()));
        assert_eq!(port("http://h:65536/"), (9, "65536".into()));
        assert_eq!(port("http://h:99999999999999999999/").0, 9);
        assert_eq!(port("http://h:8o/"), (9, "8o".into()));
        assert_eq!(port("http://h:-1/"), (9, "-1".into()));
        assert_eq!(port("http://h:1:2/"), (9, "1:2".into()));
        assert_eq!(port("http://[::1]:x/"), (13, "x".into()));
        assert_eq!(url("http://h:65535/").port, 65535);
        // Leading zeros are digits like any other.
        assert_eq!(url("http://h:00000000000080/").port, 80);
        assert_eq!(port("http://h:000065536/"), (9, "000065536".into()));
        assert_eq!(port("http://h:000/"), (9, "000".into()));
    }

    #[test]
    fn the_scheme_ends_at_the_first_colon_slash_slash() {
        // A colon before the `://` makes the scheme invalid, not missing.
        assert_eq!(invalid("ht:tp://h/"), (2, ':'));
        assert_eq!(invalid("  a:b://h/"), (3, ':'));
        assert_eq!(Url::parse("http:/h/"), Err(UrlError::MissingScheme));
        assert_eq!(
            Url::parse("http:h://x"),
            Err(UrlError::InvalidCharacter {
                offset: 4,
                found: ':',
                part: "scheme",
            })
        );
        assert_eq!(url("http://h:1/a://b").path, "/a://b");
    }

    #[test]
    fn invalid_characters_name_their_offset() {
        assert_eq!(invalid("http://user:pw@h/"), (14, '@'));
        // An `@` is named whatever else the authority gets wrong, wherever it is.
        assert_eq!(invalid("http://user@h:1/"), (11, '@'));
        assert_eq!(invalid("http://h:80@x/"), (11, '@'));
        assert_eq!(invalid("http://[::1]@x/"), (12, '@'));
        assert_eq!(invalid("http://[::1@]/"), (11, '@'));
        assert_eq!(invalid("http://a b@c/"), (10, '@'));
        assert_eq!(invalid("http://ex ample/"), (9, ' '));
        assert_eq!(invalid("http://exämple/"), (9, 'ä'));
        assert_eq!(invalid("http://h/a\r\nX-Evil: 1"), (10, '\r'));
        assert_eq!(invalid("http://h/\0"), (9, '\0'));
        // Offsets count from the string as given, leading whitespace included.
        assert_eq!(invalid("  http://h/a\tb"), (12, '\t'));
    }

    #[test]
    fn too_long() {
        let long = format!("http://h/{}", "a".repeat(MAX_URL_BYTES));
        assert!(matches!(
            Url::parse(&long),
            Err(UrlError::TooLong {
                limit: MAX_URL_BYTES,
                ..
            })
        ));
        let fits = format!("http://h/{}", "a".repeat(MAX_URL_BYTES - 9));
        assert_eq!(url(&fits).path.len(), MAX_URL_BYTES - 8);
    }

    #[test]
    fn from_str_and_display_round_trip() {
        for s in [
            "http://a/",
            "http://a:81/b?c",
            "http://[::1]:8080/x?y=z",
            "http://10.0.0.1/",
        ] {
            let u: Url = s.parse().unwrap();
            assert_eq!(u.to_string(), s);
            assert_eq!(Url::parse(&u.to_string()).unwrap(), u);
        }
    }
}
