//! Exercise `sockets/fetch-raw`: one request over a TCP connection, by hand.
//!
//! `connect`, `write`, `read`: each of them can block, so each gets a time limit. The
//! simplest way to know where the response ends is to ask the server to close the
//! connection after it (`Connection: close`) and read until end-of-file.

// In your copy the body is `todo!()` and ignores its arguments until you write it:
// no warnings for that.
#![allow(unused_variables)]

use std::net::SocketAddr;
use std::time::Duration;

/// The most a response may be; more is an error, not an exhausted memory.
pub const MAX_RESPONSE: usize = 16 << 20;

/// Connects to `addr`, sends a whole request head, and returns every byte the server
/// sends until it closes the connection:
///
/// - the head is `GET path HTTP/1.1`, a `Host: host` field (`host` as given), a
///   `Connection: close` field and the empty line that ends it, each line ended by
///   CR LF, nothing after it; all of it is sent, however many writes that takes;
/// - the connect (a server whose backlog is full never answers), every write (a server
///   that stops reading) and every read wait at most `timeout`, asleep in a blocking
///   call, not in a loop that polls; a timeout is an error, never the end of the
///   response, and so is a connection that cannot be made;
/// - a write or read that a signal interrupts (`Interrupted`) is retried, not an error;
/// - a response of exactly [`MAX_RESPONSE`] bytes is returned; a longer one is an
///   `InvalidData` error, found as soon as the bytes read pass the limit (a server may
///   never stop sending).
pub fn fetch_raw(
    addr: SocketAddr,
    host: &str,
    path: &str,
    timeout: Duration,
) -> std::io::Result<Vec<u8>> {
    // BEGIN SOLUTION
    use std::io::{Read, Write};
    use std::net::TcpStream;

    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes())?;
    let mut response = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = match stream.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if n == 0 {
            return Ok(response);
        }
        if response.len() + n > MAX_RESPONSE {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("the response is longer than {MAX_RESPONSE} bytes"),
            ));
        }
        response.extend_from_slice(&buf[..n]);
    }
    // END SOLUTION
}
