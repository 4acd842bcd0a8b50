//! Exercise `event-loop/read-exact`: fill a buffer from a socket, however the bytes come.
//!
//! TCP delivers a byte stream, not messages: one `read` may return any number of bytes
//! from 1 to the buffer's size, whatever the sender wrote at once. Reading an exact
//! number of bytes is a loop, and an end-of-file before the end is an error.

// In your copy the body is `todo!()` and ignores its arguments until you write it:
// no warnings for that.
#![allow(unused_variables, unused_mut, dead_code)]

use std::io;

use event_loop::step7_executor::TcpStream;

/// Reads exactly `buf.len()` bytes from `stream` into `buf`, and not one more (the bytes
/// after them stay in the stream for the next read). An end-of-file before `buf` is full
/// is an `io::ErrorKind::UnexpectedEof` error saying how many bytes came; `Interrupted`
/// reads are retried; any other error is returned as it is; an empty `buf` returns at
/// once. While no byte comes, the task waits for the socket.
pub async fn read_exact(stream: &mut TcpStream, buf: &mut [u8]) -> io::Result<()> {
    // BEGIN SOLUTION
    let mut filled = 0;
    while filled < buf.len() {
        match stream.read(&mut buf[filled..]).await {
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("end of stream after {filled} of {} bytes", buf.len()),
                ));
            }
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
    // END SOLUTION
}
