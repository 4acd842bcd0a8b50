//! A download as links of callbacks: connect, send the request, receive the response.
//!
//! Each link is a function that starts something and takes what to call when it is over,
//! `then`. It does what it can at once; where it would wait, it registers a callback on
//! the [`Loop`] (usually itself again) and returns. The state of the link (the bytes sent
//! so far, the parser) lives in the [`Conn`], which every callback of the connection
//! holds a handle to: an `Rc<RefCell<..>>`, because several closures share it and the
//! loop calls them one at a time, never two at once.
//!
//! The links keep the rules of step 3, since the loop is still edge-triggered: each one
//! writes or reads until `WouldBlock` before it registers again, and a connect is over
//! when the socket is writable *and* `SO_ERROR` says no error.
//!
//! Every link ends in one of two ways, and says which to `then`: `Ok` with what the next
//! link needs, or `Err` with why, the connection then already closed (after an error
//! nobody knows where the stream stands). No link sets a timer: a link waits as long as
//! the socket takes. Whoever chains them sets one ([`fetch_one`] leaves that to its
//! caller; [`download`](super::download()) sets one per document).

use std::cell::RefCell;
use std::io::{self, ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::rc::Rc;

use mio::net::TcpStream;
use sockets::http::{Limits, Method, Parsed, Response, ResponseParser};

use super::callback_loop::{Loop, SocketId};
use crate::step2_poll::start_connect;
use crate::step5_scheduler::fetch::{FetchError, check, end_of_stream, write_get};

/// The read buffer of a connection when its caller does not choose one: a document
/// (at most 16 KiB) fits in one read.
pub const READ_BUFFER: usize = 16 * 1024;

/// A connection, as the callbacks of a chain share it. Cloning it clones the handle.
#[derive(Clone)]
pub struct Conn(Rc<RefCell<Connection>>);

struct Connection {
    addr: SocketAddr,
    /// The socket and its id in the loop; `None` once closed (or if it never opened).
    open: Option<(TcpStream, SocketId)>,
    /// What the connection is doing now: the words of a timeout's message.
    doing: &'static str,
    request: Vec<u8>,
    sent: usize,
    /// Lesson 3's codec: it reads the head and the body, in whatever pieces they come.
    parser: ResponseParser,
    buf: Vec<u8>,
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let c = self.0.borrow();
        f.debug_struct("Conn")
            .field("addr", &c.addr)
            .field("open", &c.open.is_some())
            .field("doing", &c.doing)
            .finish()
    }
}

/// What one try at a link's I/O reached.
enum Step<T> {
    Done(T),
    /// `WouldBlock`: wait for this socket.
    Wait(SocketId),
}

// ANCHOR: connect_start
/// Link 1: starts connecting to `addr` and returns the connection at once, not connected
/// yet; `then` gets it once it is, or why it is not. `then` is never called before
/// `connect` returns, even on a failure known at once: the caller may need the
/// connection first (to close it when its timer fires, say).
pub fn connect(
    lp: &mut Loop,
    addr: SocketAddr,
    read_buffer: usize,
    then: impl FnOnce(&mut Loop, Result<Conn, FetchError>) + 'static,
) -> Conn {
    let conn = Conn(Rc::new(RefCell::new(Connection {
        addr,
        open: None,
        doing: "connecting",
        request: Vec::new(),
        sent: 0,
        parser: ResponseParser::new(Method::Get, Limits::default()),
        buf: vec![0; read_buffer.max(1)],
    })));
    match open(lp, addr) {
        Ok(open) => {
            let socket = open.1;
            conn.0.borrow_mut().open = Some(open);
            wait_connected(lp, conn.clone(), socket, then);
        }
        Err(source) => {
            lp.call_soon(move |lp| then(lp, Err(FetchError::Connect { addr, source })));
        }
    }
    conn
}
// ANCHOR_END: connect_start

// ANCHOR: connect_wait
fn open(lp: &mut Loop, addr: SocketAddr) -> io::Result<(TcpStream, SocketId)> {
    let mut stream = TcpStream::from_std(start_connect(addr)?);
    let socket = lp.add(&mut stream)?;
    Ok((stream, socket))
}

/// Writable means the handshake is over, well or badly; the connection says which.
fn wait_connected(
    lp: &mut Loop,
    conn: Conn,
    socket: SocketId,
    then: impl FnOnce(&mut Loop, Result<Conn, FetchError>) + 'static,
) {
    lp.when_writable(socket, move |lp| {
        let connected = conn.0.borrow_mut().connected();
        match connected {
            Ok(true) => then(lp, Ok(conn)),
            // Woken early: the handshake goes on.
            Ok(false) => wait_connected(lp, conn, socket, then),
            Err(error) => {
                close(lp, &conn);
                then(lp, Err(error));
            }
        }
    });
}
// ANCHOR_END: connect_wait

// ANCHOR: send_request
/// Link 2: sends `GET /wiki/{id}` on `conn`; `then` gets the connection back once the
/// whole request is out (at once, before this returns, if the socket took it all).
pub fn send_request(
    lp: &mut Loop,
    conn: Conn,
    id: u64,
    then: impl FnOnce(&mut Loop, Result<Conn, FetchError>) + 'static,
) {
    {
        let mut c = conn.0.borrow_mut();
        let Connection {
            addr,
            request,
            sent,
            doing,
            ..
        } = &mut *c;
        request.clear();
        write_get(*addr, id, request);
        *sent = 0;
        *doing = "sending the request";
    }
    write_rest(lp, conn, then);
}

fn write_rest(
    lp: &mut Loop,
    conn: Conn,
    then: impl FnOnce(&mut Loop, Result<Conn, FetchError>) + 'static,
) {
    let written = conn.0.borrow_mut().write_some();
    match written {
        Ok(Step::Done(())) => then(lp, Ok(conn)),
        Ok(Step::Wait(socket)) => lp.when_writable(socket, move |lp| write_rest(lp, conn, then)),
        Err(error) => {
            close(lp, &conn);
            then(lp, Err(error));
        }
    }
}
// ANCHOR_END: send_request

// ANCHOR: read_response
/// Link 3: reads the response on `conn`, head and body (the codec takes both); `then`
/// gets the connection back with it. A response that says the connection closes after
/// it (`keep_alive` false) leaves closing to `then`.
pub fn read_response(
    lp: &mut Loop,
    conn: Conn,
    then: impl FnOnce(&mut Loop, Result<(Conn, Response), FetchError>) + 'static,
) {
    conn.0.borrow_mut().doing = "receiving the response";
    let received = conn.0.borrow_mut().read_some();
    match received {
        Ok(Step::Done(response)) => then(lp, Ok((conn, response))),
        Ok(Step::Wait(socket)) => lp.when_readable(socket, move |lp| read_response(lp, conn, then)),
        Err(error) => {
            close(lp, &conn);
            then(lp, Err(error));
        }
    }
}
// ANCHOR_END: read_response

/// Closes `conn`: the loop stops watching it, and the callbacks waiting for it are
/// dropped, never called (so the chain that was running on it stops there). Closing a
/// closed connection does nothing.
pub fn close(lp: &mut Loop, conn: &Conn) {
    let open = conn.0.borrow_mut().open.take();
    if let Some((mut stream, socket)) = open {
        lp.remove(&mut stream, socket);
    }
}

impl Conn {
    /// What the connection is doing ("connecting", "sending the request", "receiving the
    /// response"): what a timer that fires now interrupts.
    pub fn doing(&self) -> &'static str {
        self.0.borrow().doing
    }

    /// Whether it is still open.
    pub fn is_open(&self) -> bool {
        self.0.borrow().open.is_some()
    }
}

// ANCHOR: fetch_one
/// One document on a new connection, the three links chained: `then` gets the body's
/// length (status 200 and checksum verified), or why it failed. The connection is
/// closed before `then` is called, and `then` is never called before `fetch_one`
/// returns. No time limit of its own: close the connection returned (a timer that
/// fires, say) and the chain stops, `then` never called.
pub fn fetch_one(
    lp: &mut Loop,
    addr: SocketAddr,
    id: u64,
    then: impl FnOnce(&mut Loop, Result<usize, FetchError>) + 'static,
) -> Conn {
    connect(
        lp,
        addr,
        READ_BUFFER,
        move |lp, connected| match connected {
            Err(error) => then(lp, Err(error)),
            Ok(conn) => send_request(lp, conn, id, move |lp, sent| match sent {
                Err(error) => then(lp, Err(error)),
                Ok(conn) => read_response(lp, conn, move |lp, received| match received {
                    Err(error) => then(lp, Err(error)),
                    Ok((conn, response)) => {
                        close(lp, &conn);
                        then(lp, check(id, &response));
                    }
                }),
            }),
        },
    )
}
// ANCHOR_END: fetch_one

impl Connection {
    /// After a writable event: `Ok(true)` connected, `Ok(false)` still connecting.
    fn connected(&mut self) -> Result<bool, FetchError> {
        let addr = self.addr;
        let connect_error = |source| FetchError::Connect { addr, source };
        let Some((stream, _)) = &self.open else {
            return Err(closed(self.doing));
        };
        // SO_ERROR: the handshake's failure, if any (reading it clears it).
        if let Some(source) = stream.take_error().map_err(connect_error)? {
            return Err(connect_error(source));
        }
        match stream.peer_addr() {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == ErrorKind::NotConnected => Ok(false),
            Err(source) => Err(connect_error(source)),
        }
    }

    /// Writes the rest of the request until it is all out or the socket is full.
    fn write_some(&mut self) -> Result<Step<()>, FetchError> {
        let doing = self.doing;
        let Connection {
            open,
            request,
            sent,
            ..
        } = self;
        let Some((stream, socket)) = open else {
            return Err(closed(doing));
        };
        while *sent < request.len() {
            match stream.write(&request[*sent..]) {
                Ok(0) => return Err(io_error("sending the request", ErrorKind::WriteZero.into())),
                Ok(n) => *sent += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(Step::Wait(*socket)),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(io_error("sending the request", e)),
            }
        }
        Ok(Step::Done(()))
    }

    /// Reads and feeds the codec until a response is whole or the socket is drained
    /// (edge-triggered: reading one buffer and waiting again could wait forever).
    fn read_some(&mut self) -> Result<Step<Response>, FetchError> {
        let doing = self.doing;
        let Connection {
            open, parser, buf, ..
        } = self;
        let Some((stream, socket)) = open else {
            return Err(closed(doing));
        };
        loop {
            let n = match stream.read(buf) {
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(Step::Wait(*socket)),
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(io_error("receiving the response", e)),
            };
            if n == 0 {
                return end_of_stream(parser).map(Step::Done);
            }
            // One request at a time: nothing can follow the response in these bytes.
            if let Parsed::Done { message, .. } = parser.feed(&buf[..n])? {
                return Ok(Step::Done(message));
            }
        }
    }
}

/// The error of a link asked to work on a connection already closed.
fn closed(doing: &'static str) -> FetchError {
    io_error(
        doing,
        io::Error::new(ErrorKind::NotConnected, "the connection was closed"),
    )
}

fn io_error(doing: &'static str, source: io::Error) -> FetchError {
    FetchError::Io { doing, source }
}
