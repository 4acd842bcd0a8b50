//! Exercise `sockets/request-bytes`: an HTTP request is just bytes.
//!
//! No library: a request line, header lines, an empty line, the body. Every line ends
//! with CR LF. The server learns where the body ends from `Content-Length`.

// In your copy the body is `todo!()` and ignores its arguments until you write it:
// no warnings for that.
#![allow(unused_variables)]

/// The bytes of a `POST` request for `path` on `host`, carrying `body`:
///
/// ```text
/// POST /path HTTP/1.1\r\n
/// Host: host\r\n
/// Content-Type: content_type\r\n
/// Content-Length: <body length in bytes>\r\n
/// Connection: close\r\n
/// \r\n
/// <body>
/// ```
///
/// The body is carried byte for byte (it need not be text) and nothing follows it. A
/// `path` that does not start with `/` gets one in front (an empty one becomes `/`); any
/// other path, and `host` (port included), are sent as given.
pub fn post_request(host: &str, path: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    // BEGIN SOLUTION
    let slash = if path.starts_with('/') { "" } else { "/" };
    let mut out = format!(
        "POST {slash}{path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
    // END SOLUTION
}
