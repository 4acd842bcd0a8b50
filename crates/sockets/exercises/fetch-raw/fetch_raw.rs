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

/// Connects to `addr` (waiting at most `timeout`), sends
/// `GET path HTTP/1.1` with `Host: host` and `Connection: close`, and returns every byte
/// the server sends until it closes the connection. Every read and write waits at most
/// `timeout`, asleep, and one that times out is an error; one that a signal interrupts
/// is retried. A response longer than [`MAX_RESPONSE`] is an `InvalidData` error, found
/// as soon as the bytes read pass the limit.
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
