//! Redirects: where a 301, 302, 303, 307 or 308 sends the client, and when to stop.
//!
//! Every engine follows redirects the same way, so the decisions are made here, as
//! plain functions of the response and the URL it answered — no socket, no clock:
//!
//! - [`is_redirect`]: whether a status is one to follow. The downloader only sends GET,
//!   so all five mean "GET this other URL" (303 says so for every method; 301 and 302
//!   after a POST are turned into a GET by every browser, and 307 and 308 keep the
//!   method, which is GET anyway).
//! - [`resolve`]: the `Location`, absolute (`http://other:8080/x`), without a scheme
//!   (`//other/x`), absolute-path (`/x`) or relative (`x`, `../x`, `?q`), resolved
//!   against the URL that was asked for (RFC 3986, section 5.2), dot segments removed.
//! - [`Hops`]: the URLs visited, so that a loop is seen at its first repeat and a chain
//!   longer than `--max-redirects` stops; and an `https` URL that would send the client
//!   to plain `http` is refused (a downgrade: what was asked for in private would go on
//!   in the clear, where anyone on the path can read and change it). It allocates only once a redirect happens:
//!   a document that is not redirected costs nothing here.
//!
//! The document is saved under the name of the URL that was asked for, and where it
//! ended up is reported (see [`crate::collect::Collector::document`]).

use sockets::http::Response;
use sockets::url::{MAX_URL_BYTES, Scheme, Url, UrlError};

use crate::error::FetchError;

/// `--max-redirects` without the flag: curl's and wget's habit is 50 and 20, browsers'
/// about 20; ten is plenty for any real chain and stops a loop sooner.
pub const DEFAULT_MAX_REDIRECTS: u32 = 10;

/// The longest `Location` looked at: a URL is at most [`MAX_URL_BYTES`] anyway.
const MAX_LOCATION_BYTES: usize = MAX_URL_BYTES;

/// Whether `status` is a redirect the downloader follows.
pub fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

/// The URLs of one attempt's redirect chain, the first one asked for excluded.
#[derive(Debug, Default)]
pub struct Hops {
    visited: Vec<Url>,
}

impl Hops {
    pub fn new() -> Hops {
        Hops::default()
    }

    /// Where the redirect `response` (an answer to `from`, the first URL of the chain
    /// being `asked`) sends the client next, or why the chain stops there: no usable
    /// `Location`, a loop, or more than `max` redirects.
    pub fn next(
        &mut self,
        asked: &Url,
        from: &Url,
        response: &Response,
        max: u32,
    ) -> Result<Url, FetchError> {
        let status = response.status;
        let location = response
            .headers
            .get("Location")
            .ok_or(FetchError::Redirect {
                status,
                reason: "it has no Location header".to_string(),
            })?;
        let to = resolve(from, location).map_err(|e| FetchError::Redirect {
            status,
            reason: format!("its Location {:?} is not usable: {e}", shorten(location)),
        })?;
        if from.scheme == Scheme::Https && to.scheme == Scheme::Http {
            return Err(FetchError::Redirect {
                status,
                reason: format!("it leads from https to plain http ({to}): refused"),
            });
        }
        if to == *asked || self.visited.contains(&to) {
            return Err(FetchError::RedirectLoop {
                to: to.to_string(),
                after: self.visited.len() + 1,
            });
        }
        if self.visited.len() >= max as usize {
            return Err(FetchError::TooManyRedirects { max });
        }
        self.visited.push(to.clone());
        Ok(to)
    }

    /// How many redirects were followed.
    pub fn count(&self) -> usize {
        self.visited.len()
    }
}

/// The first bytes of a header value for an error message (a hostile server may send
/// one of many kilobytes).
fn shorten(text: &str) -> &str {
    let mut end = text.len().min(200);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Why a `Location` cannot be followed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocationError {
    #[error("it is empty")]
    Empty,
    #[error("it is {len} bytes long; at most {limit} are followed")]
    TooLong { len: usize, limit: usize },
    #[error(transparent)]
    Url(#[from] UrlError),
}

// ANCHOR: resolve
/// `location` resolved against `base`, the URL whose response carried it.
pub fn resolve(base: &Url, location: &str) -> Result<Url, LocationError> {
    let location = location.trim();
    if location.is_empty() {
        return Err(LocationError::Empty);
    }
    if location.len() > MAX_LOCATION_BYTES {
        return Err(LocationError::TooLong {
            len: location.len(),
            limit: MAX_LOCATION_BYTES,
        });
    }
    // The fragment belongs to the browser.
    let location = location.split('#').next().unwrap_or_default();
    if has_scheme(location) {
        let mut url = Url::parse_web(location)?;
        url.path = remove_dot_segments(&url.path);
        return Ok(url);
    }
    if let Some(rest) = location.strip_prefix("//") {
        // `//host/x`: the base's scheme, another host.
        let mut url = Url::parse_web(&format!("{}://{rest}", base.scheme.as_str()))?;
        url.path = remove_dot_segments(&url.path);
        return Ok(url);
    }
    let (base_path, _) = split_query(&base.path);
    let merged = if location.starts_with('/') {
        location.to_string()
    } else if location.is_empty() {
        // A lone fragment: the same URL.
        base.path.clone()
    } else if location.starts_with('?') {
        // `?q`: the same path, another query.
        format!("{base_path}{location}")
    } else {
        // Relative: in the base's folder (what comes after its last `/` is replaced).
        let folder = &base_path[..base_path.rfind('/').map_or(0, |i| i + 1)];
        format!("{folder}{location}")
    };
    let (path, query) = split_query(&merged);
    let path = remove_dot_segments(path);
    Ok(Url::parse_web(&format!(
        "{}://{}{path}{query}",
        base.scheme.as_str(),
        base.host_header()
    ))?)
}
// ANCHOR_END: resolve

/// Whether `text` starts with a scheme (`http:`, `https:`, `ftp:`...), by RFC 3986's
/// grammar: a letter, then letters, digits, `+`, `-`, `.`, then `:`.
fn has_scheme(text: &str) -> bool {
    let Some(colon) = text.find(':') else {
        return false;
    };
    let scheme = &text[..colon];
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// The path and the query (with its `?`, or empty).
fn split_query(path: &str) -> (&str, &str) {
    match path.find('?') {
        Some(at) => path.split_at(at),
        None => (path, ""),
    }
}

/// RFC 3986's `remove_dot_segments` for a path starting with `/` (the query, if any,
/// is kept as it is): `/a/./b/../c` is `/a/c`, and `..` never climbs above `/`.
fn remove_dot_segments(path_and_query: &str) -> String {
    let (path, query) = split_query(path_and_query);
    if !path.contains("/.") {
        return path_and_query.to_string();
    }
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let last = segments.len().saturating_sub(1);
    // A path ending in `.` or `..` names a folder: it keeps its final `/`.
    let mut folder = false;
    for (i, segment) in segments.iter().enumerate() {
        match *segment {
            "." => folder = i == last,
            ".." => {
                out.pop();
                folder = i == last;
            }
            other => {
                out.push(other);
                folder = false;
            }
        }
    }
    let mut text = String::with_capacity(path_and_query.len());
    for segment in &out {
        text.push('/');
        text.push_str(segment);
    }
    if folder || text.is_empty() {
        text.push('/');
    }
    text.push_str(query);
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use sockets::http::Headers;

    fn url(text: &str) -> Url {
        Url::parse_web(text).unwrap()
    }

    fn resolved(base: &str, location: &str) -> String {
        resolve(&url(base), location)
            .unwrap_or_else(|e| panic!("{location:?}: {e}"))
            .to_string()
    }

    #[test]
    fn locations_resolve_as_rfc_3986_says() {
        let base = "http://a.example:8080/b/c/d?q";
        for (location, expected) in [
            ("http://other.example/x", "http://other.example/x"),
            (
                "HTTP://Other.Example:81/x?y#z",
                "http://other.example:81/x?y",
            ),
            ("//other.example:9/x", "http://other.example:9/x"),
            ("/x/y", "http://a.example:8080/x/y"),
            ("g", "http://a.example:8080/b/c/g"),
            ("./g", "http://a.example:8080/b/c/g"),
            ("g/", "http://a.example:8080/b/c/g/"),
            ("?y", "http://a.example:8080/b/c/d?y"),
            ("g?y", "http://a.example:8080/b/c/g?y"),
            ("#s", "http://a.example:8080/b/c/d?q"),
            (".", "http://a.example:8080/b/c/"),
            ("..", "http://a.example:8080/b/"),
            ("../g", "http://a.example:8080/b/g"),
            ("../../g", "http://a.example:8080/g"),
            ("../../../../g", "http://a.example:8080/g"),
            ("/./g/../h", "http://a.example:8080/h"),
            ("g?y/../x", "http://a.example:8080/b/c/g?y/../x"),
            ("  /spaced  ", "http://a.example:8080/spaced"),
        ] {
            assert_eq!(resolved(base, location), expected, "{location:?}");
        }
        assert_eq!(resolved("http://h/", "x"), "http://h/x");
        assert_eq!(resolved("http://h", "x"), "http://h/x");
        assert_eq!(resolved("http://[::1]:81/a", "b"), "http://[::1]:81/b");
    }

    #[test]
    fn an_https_base_keeps_its_scheme_and_its_port() {
        let base = "https://a.example/b/c";
        assert_eq!(resolved(base, "d"), "https://a.example/b/d");
        assert_eq!(resolved(base, "/x"), "https://a.example/x");
        assert_eq!(resolved(base, "?q"), "https://a.example/b/c?q");
        assert_eq!(resolved(base, "//other:8443/x"), "https://other:8443/x");
        assert_eq!(resolve(&url(base), "//other/x").unwrap().port, 443);
        assert_eq!(resolved("https://h:8443/a", "b"), "https://h:8443/b");
        assert_eq!(resolved("http://h/a", "https://h/x"), "https://h/x");
    }

    #[test]
    fn https_to_http_is_refused_and_http_to_https_is_followed() {
        let asked = url("https://h/a");
        let error = Hops::new()
            .next(&asked, &asked, &redirect(301, Some("http://h/a")), 10)
            .unwrap_err();
        assert!(
            matches!(&error, FetchError::Redirect { status: 301, reason } if reason.contains("from https to plain http")),
            "{error}"
        );
        assert!(!crate::policy::is_retryable(&error));
        // The same hop from http is an upgrade, followed.
        let plain = url("http://h/a");
        let to = Hops::new()
            .next(&plain, &plain, &redirect(301, Some("https://h/a")), 10)
            .unwrap();
        assert_eq!(to.to_string(), "https://h/a");
        // A chain that went up to https may not come down again.
        let mut hops = Hops::new();
        let up = hops
            .next(&plain, &plain, &redirect(302, Some("https://h/b")), 10)
            .unwrap();
        assert!(
            hops.next(&plain, &up, &redirect(302, Some("http://h/c")), 10)
                .is_err()
        );
    }

    #[test]
    fn unusable_locations_are_errors_not_panics() {
        let base = url("http://h/a");
        assert_eq!(resolve(&base, ""), Err(LocationError::Empty));
        assert!(matches!(
            resolve(&base, "ftp://h/x"),
            Err(LocationError::Url(UrlError::NotHttp { .. }))
        ));
        assert!(resolve(&base, "http://").is_err());
        assert!(resolve(&base, "/a\u{0}b").is_err());
        assert!(matches!(
            resolve(&base, &"/x".repeat(MAX_URL_BYTES)),
            Err(LocationError::TooLong { .. })
        ));
        // Any bytes at all: an error or a URL, never a panic.
        for location in ["//", "///", "http:x", "::", "//[::1", "/\u{e9}", "..", "?"] {
            let _ = resolve(&base, location);
        }
    }

    fn redirect(status: u16, location: Option<&str>) -> Response {
        let mut headers = Headers::new();
        if let Some(location) = location {
            headers.push("Location", location);
        }
        Response {
            version_minor: 1,
            status,
            reason: "".into(),
            headers,
            body: Vec::new(),
            dropped: 0,
            keep_alive: true,
        }
    }

    #[test]
    fn hops_stop_at_a_loop_and_past_the_limit() {
        let asked = url("http://h/a");
        let mut hops = Hops::new();
        let b = hops
            .next(&asked, &asked, &redirect(301, Some("/b")), 10)
            .unwrap();
        assert_eq!(b.to_string(), "http://h/b");
        let error = hops
            .next(&asked, &b, &redirect(302, Some("/a")), 10)
            .unwrap_err();
        assert!(matches!(error, FetchError::RedirectLoop { .. }), "{error}");

        let mut hops = Hops::new();
        let mut from = asked.clone();
        for i in 0..3 {
            from = hops
                .next(&asked, &from, &redirect(307, Some(&format!("/{i}"))), 3)
                .unwrap();
        }
        let error = hops
            .next(&asked, &from, &redirect(308, Some("/9")), 3)
            .unwrap_err();
        assert_eq!(error, FetchError::TooManyRedirects { max: 3 });

        let error = Hops::new()
            .next(&asked, &asked, &redirect(301, None), 3)
            .unwrap_err();
        assert!(matches!(error, FetchError::Redirect { status: 301, .. }));
        assert!(!crate::policy::is_retryable(&error));
    }

    #[test]
    fn the_five_redirect_statuses() {
        let followed: Vec<u16> = (100..600).filter(|&s| is_redirect(s)).collect();
        assert_eq!(followed, [301, 302, 303, 307, 308]);
    }
}
