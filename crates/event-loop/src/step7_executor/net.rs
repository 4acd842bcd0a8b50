//! Async TCP: a non-blocking mio socket, registered with the reactor, behind `async fn`s.
//!
//! Every operation follows the same three lines, which are the whole trick:
//!
//! 1. if the reactor says the socket may be ready, **try** the system call (`read`,
//!    `write`, `accept`, "is the connect done?");
//! 2. if it says `WouldBlock` (or the reactor knew it would), **leave the task's waker**
//!    in the socket's read or write slot of the reactor, and return `Pending`;
//! 3. when the reactor sees the socket ready, it wakes the task, which is polled again
//!    and goes back to 1.
//!
//! Waiting only after seeing the socket drained is what makes edge-triggered readiness
//! correct (see the [`reactor`](super::reactor) module): a task never waits for an edge
//! that already passed. It also makes spurious wake-ups harmless: a task woken for
//! nothing finds the socket not ready, and waits again.
//!
//! And each operation first spends a unit of the task's budget
//! ([`poll_budget`]): a task whose sockets are always ready
//! must still let the others run.
//!
//! A stream registers itself when it is made and deregisters when it is dropped. So a
//! task that is aborted (its future dropped) closes its sockets: the peer sees the end
//! of the stream, and the descriptor is free again.

use std::future::poll_fn;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::os::fd::{AsRawFd, RawFd};
use std::rc::Rc;
use std::task::{Context, Poll, ready};

use super::executor::{current_reactor, poll_budget};
use super::reactor::{Direction, Reactor, SourceKey};

/// How many times an operation is retried at once after `EINTR` (a signal arrived during
/// the system call) before the error is returned. On a non-blocking socket it barely
/// happens; the bound keeps the loop finite whatever the signals do.
const INTERRUPT_RETRIES: usize = 8;

fn no_reactor() -> io::Error {
    io::Error::other("no reactor: async I/O must run inside block_on")
}

/// A TCP connection driven by the reactor of the executor it was made on.
#[derive(Debug)]
pub struct TcpStream {
    io: mio::net::TcpStream,
    key: SourceKey,
    reactor: Rc<Reactor>,
}

impl TcpStream {
    // ANCHOR: connect
    /// Connects to `addr` without blocking the thread.
    ///
    /// A non-blocking `connect` returns at once ("in progress"); the handshake completes
    /// later, and the socket becomes *writable* then, whether it succeeded or not. So:
    /// wait until writable, then ask the socket how it went (`SO_ERROR`, then
    /// `getpeername`): an error, connected, or not yet (a spurious wake-up: wait again).
    pub async fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
        let reactor = current_reactor().ok_or_else(no_reactor)?;
        let stream = TcpStream::register(mio::net::TcpStream::connect(addr)?, reactor)?;
        poll_fn(|cx| stream.poll_connected(cx)).await?;
        // Requests are small and written whole: Nagle's algorithm would only delay them.
        stream.io.set_nodelay(true)?;
        Ok(stream)
    }

    fn poll_connected(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(error) = self.io.take_error()? {
            return Poll::Ready(Err(error));
        }
        match self.io.peer_addr() {
            Ok(_) => Poll::Ready(Ok(())),
            Err(e) if e.kind() == ErrorKind::NotConnected || is_in_progress(&e) => {
                self.reactor
                    .set_waker(self.key, Direction::Write, cx.waker());
                Poll::Pending
            }
            Err(e) => Poll::Ready(Err(e)),
        }
    }
    // ANCHOR_END: connect

    /// [`connect`](Self::connect) in two halves, for a future written by hand (step 6):
    /// this half starts the handshake and registers the socket, without waiting;
    /// [`poll_connect`](Self::poll_connect) then says when the handshake is done.
    pub fn start_connect(addr: SocketAddr) -> io::Result<TcpStream> {
        let reactor = current_reactor().ok_or_else(no_reactor)?;
        TcpStream::register(mio::net::TcpStream::connect(addr)?, reactor)
    }

    /// The second half of [`start_connect`](Self::start_connect): `Ready(Ok(()))` once
    /// connected, `Ready(Err(_))` if the handshake failed, `Pending` after leaving the
    /// task's waker for writability.
    pub fn poll_connect(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_connected(cx))?;
        self.io.set_nodelay(true)?;
        Poll::Ready(Ok(()))
    }

    /// Wraps a connected (or connecting) non-blocking mio stream: registers it with the
    /// reactor of this thread's executor.
    pub fn from_mio(io: mio::net::TcpStream) -> io::Result<TcpStream> {
        TcpStream::register(io, current_reactor().ok_or_else(no_reactor)?)
    }

    fn register(mut io: mio::net::TcpStream, reactor: Rc<Reactor>) -> io::Result<TcpStream> {
        let key = reactor.register(&mut io)?;
        Ok(TcpStream { io, key, reactor })
    }

    // ANCHOR: poll_read
    /// Reads into `buf`: `Ready(Ok(0))` at the end of the stream; `Pending` after leaving
    /// the task's waker with the reactor, if no byte is there yet.
    pub fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        ready!(poll_budget(cx));
        let (io, reactor, key) = (&mut self.io, &*self.reactor, self.key);
        let result = poll_io(reactor, key, Direction::Read, cx, || io.read(buf));
        // Fewer bytes than asked for: the kernel's buffer is empty now. The next bytes
        // will come with an event; until then, a read would only say WouldBlock.
        if matches!(result, Poll::Ready(Ok(n)) if n > 0 && n < buf.len()) {
            reactor.clear_ready(key, Direction::Read);
        }
        result
    }
    // ANCHOR_END: poll_read

    /// Writes some of `buf`: how many bytes the kernel took, or `Pending` while its send
    /// buffer is full.
    pub fn poll_write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        ready!(poll_budget(cx));
        let (io, reactor, key) = (&mut self.io, &*self.reactor, self.key);
        poll_io(reactor, key, Direction::Write, cx, || io.write(buf))
    }

    /// Reads some bytes into `buf`; 0 means the peer closed its side.
    pub async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_read(cx, buf)).await
    }

    /// Writes some of `buf`; returns how many bytes were taken.
    pub async fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_write(cx, buf)).await
    }

    /// Writes all of `buf`, waiting for room in the send buffer as often as needed.
    pub async fn write_all(&mut self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            match self.write(buf).await? {
                0 => return Err(ErrorKind::WriteZero.into()),
                n => buf = buf.get(n..).unwrap_or_default(),
            }
        }
        Ok(())
    }

    /// Ends one direction (or both) of the connection; `Write` sends the end of stream.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.shutdown(how)
    }

    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.peer_addr()
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.local_addr()
    }
}

impl AsRawFd for TcpStream {
    fn as_raw_fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }
}

impl Drop for TcpStream {
    fn drop(&mut self) {
        // Deregister, then mio's stream closes the descriptor.
        self.reactor.deregister(self.key, &mut self.io);
    }
}

/// A listening socket whose `accept` waits without blocking the thread.
#[derive(Debug)]
pub struct TcpListener {
    io: mio::net::TcpListener,
    key: SourceKey,
    reactor: Rc<Reactor>,
}

impl TcpListener {
    /// Binds `addr` (use `127.0.0.1:0` for any free port) and listens.
    pub fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
        let reactor = current_reactor().ok_or_else(no_reactor)?;
        let mut io = mio::net::TcpListener::bind(addr)?;
        let key = reactor.register(&mut io)?;
        Ok(TcpListener { io, key, reactor })
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.local_addr()
    }

    /// Waits for the next connection.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (io, peer) = poll_fn(|cx| {
            ready!(poll_budget(cx));
            poll_io(&self.reactor, self.key, Direction::Read, cx, || {
                self.io.accept()
            })
        })
        .await?;
        io.set_nodelay(true)?;
        Ok((TcpStream::register(io, self.reactor.clone())?, peer))
    }
}

impl Drop for TcpListener {
    fn drop(&mut self) {
        self.reactor.deregister(self.key, &mut self.io);
    }
}

// ANCHOR: poll_io
/// Steps 1 and 2 of every operation: if the reactor says the socket may be ready, try
/// `op` (again after `EINTR`); on `WouldBlock`, or if it was known not to be ready,
/// leave the waker and return `Pending`.
fn poll_io<T>(
    reactor: &Reactor,
    key: SourceKey,
    direction: Direction,
    cx: &mut Context<'_>,
    mut op: impl FnMut() -> io::Result<T>,
) -> Poll<io::Result<T>> {
    if !reactor.is_ready(key, direction) {
        reactor.set_waker(key, direction, cx.waker());
        return Poll::Pending;
    }
    let mut retries = 0;
    loop {
        match op() {
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                reactor.clear_ready(key, direction);
                reactor.set_waker(key, direction, cx.waker());
                return Poll::Pending;
            }
            Err(e) if e.kind() == ErrorKind::Interrupted && retries < INTERRUPT_RETRIES => {
                retries += 1;
            }
            result => return Poll::Ready(result),
        }
    }
}
// ANCHOR_END: poll_io

/// `EINPROGRESS`: what `getpeername` may say on some systems while a connect is under way.
fn is_in_progress(error: &io::Error) -> bool {
    error.raw_os_error() == Some(nix::errno::Errno::EINPROGRESS as i32)
}
