//! A blocking HTTP/1.1 client: one thread, one connection, one response at a time.
//!
//! Every call here *blocks*: `connect` until the handshake is done, `write` until the
//! kernel took the bytes, `read` until some arrive. That is the simple model of lesson 2
//! — a thread that waits costs no CPU — and each wait has a time limit, so a server
//! that never answers costs a timeout, not a hung program.
//!
//! The HTTP itself is the sans-IO codec of [`crate::http`]: this module only moves
//! bytes between it and a `TcpStream`. A [`Connection`] keeps one socket open across
//! requests (keep-alive: no new handshake per document) and opens a new one when the
//! server has closed it.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, Socket, Type};

use crate::http::{
    HttpError, Limits, Method, Parsed, RequestHead, Response, ResponseParser, write_request_with,
};
use crate::url::{Url, UrlError};

// ANCHOR: config
/// What a client waits for, and how long.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Longest wait for a TCP handshake.
    pub connect_timeout: Duration,
    /// Longest wait for one `read` or `write` (not for the whole response).
    pub io_timeout: Duration,
    /// Longest time for a whole exchange, request sent and response received; `None`:
    /// no such limit, only `io_timeout` for each wait. Without it, a server that sends
    /// a byte now and then keeps every single read short and the exchange endless.
    pub exchange_timeout: Option<Duration>,
    pub user_agent: String,
    pub limits: Limits,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            connect_timeout: Duration::from_secs(5),
            io_timeout: Duration::from_secs(10),
            exchange_timeout: None,
            user_agent: concat!("course-sockets/", env!("CARGO_PKG_VERSION")).to_string(),
            limits: Limits::default(),
        }
    }
}
// ANCHOR_END: config

/// Why a request failed; each variant says where.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(transparent)]
    Url(#[from] UrlError),
    #[error("cannot resolve {host}: {source}")]
    Resolve {
        host: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot connect to {addr}: {source}")]
    Connect {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("no answer from {addr} within {timeout:?} while {doing}")]
    Timeout {
        addr: SocketAddr,
        doing: &'static str,
        timeout: Duration,
    },
    #[error("{doing} {addr} failed: {source}")]
    Io {
        addr: SocketAddr,
        doing: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("{addr} closed the connection before any response")]
    ClosedBeforeResponse { addr: SocketAddr },
    #[error("bad response from {addr}: {source}")]
    Http {
        addr: SocketAddr,
        #[source]
        source: HttpError,
    },
}

impl ClientError {
    /// Whether trying again later may succeed (the network or the server's state), as
    /// opposed to a request that is wrong in itself. Lesson 5's retries use this.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ClientError::Connect { .. }
                | ClientError::Timeout { .. }
                | ClientError::Io { .. }
                | ClientError::ClosedBeforeResponse { .. }
                | ClientError::Http {
                    source: HttpError::Truncated { .. },
                    ..
                }
        )
    }
}

pub type Result<T, E = ClientError> = std::result::Result<T, E>;

/// One keep-alive connection to one server, reopened when the server closes it.
#[derive(Debug)]
pub struct Connection {
    host_header: String,
    addrs: Vec<SocketAddr>,
    config: ClientConfig,
    stream: Option<TcpStream>,
    /// Where the current stream is connected, for messages.
    peer: SocketAddr,
    buf: Vec<u8>,
    /// Connections opened so far (1 + reconnections).
    opened: u64,
}

impl Connection {
    /// Resolves `url`'s host (through the system's resolver) and connects.
    pub fn open(url: &Url, config: ClientConfig) -> Result<Connection> {
        let (host, port) = url.socket_target();
        let addrs: Vec<SocketAddr> = (host.as_str(), port)
            .to_socket_addrs()
            .map_err(|source| ClientError::Resolve {
                host: host.clone(),
                source,
            })?
            .collect();
        let Some(&first) = addrs.first() else {
            return Err(ClientError::Resolve {
                host,
                source: std::io::Error::new(ErrorKind::NotFound, "no address"),
            });
        };
        let mut connection = Connection {
            host_header: url.host_header(),
            addrs,
            config,
            stream: None,
            peer: first,
            buf: vec![0; 64 * 1024],
            opened: 0,
        };
        connection.reconnect()?;
        Ok(connection)
    }

    /// How many TCP connections this `Connection` has opened (reuse keeps it at 1).
    pub fn connections_opened(&self) -> u64 {
        self.opened
    }

    /// `GET target` on this connection.
    pub fn get(&mut self, target: &str) -> Result<Response> {
        self.request(Method::Get, target)
    }

    /// `HEAD target` on this connection.
    pub fn head(&mut self, target: &str) -> Result<Response> {
        self.request(Method::Head, target)
    }

    // ANCHOR: request
    /// Sends one request and reads its response. If a kept-alive socket turns out to
    /// have been closed by the server (it may close an idle connection at any moment),
    /// the request is sent once more on a new connection: safe for GET and HEAD, which
    /// change nothing on the server.
    pub fn request(&mut self, method: Method, target: &str) -> Result<Response> {
        self.request_with(method, target, &[])
    }

    /// [`request`](Self::request) with more header lines (`(name, value)` pairs).
    pub fn request_with(
        &mut self,
        method: Method,
        target: &str,
        extra: &[(&str, &str)],
    ) -> Result<Response> {
        let reused = self.stream.is_some();
        if !reused {
            self.reconnect()?;
        }
        match self.exchange(method, target, extra) {
            Err(ClientError::ClosedBeforeResponse { .. }) if reused => {
                self.reconnect()?;
                self.exchange(method, target, extra)
            }
            other => other,
        }
    }
    // ANCHOR_END: request

    // ANCHOR: exchange_write
    /// Writes the request and reads the response on the current stream.
    fn exchange(
        &mut self,
        method: Method,
        target: &str,
        extra: &[(&str, &str)],
    ) -> Result<Response> {
        let peer = self.peer;
        let io_timeout = self.config.io_timeout;
        let mut request = Vec::with_capacity(256);
        write_request_with(
            &RequestHead {
                method,
                host: &self.host_header,
                target,
                keep_alive: true,
                user_agent: &self.config.user_agent,
            },
            extra,
            &mut request,
        );
        let Some(stream) = self.stream.as_mut() else {
            return Err(ClientError::ClosedBeforeResponse { addr: peer });
        };
        if let Err(e) = stream.write_all(&request) {
            self.stream = None;
            // A write on a socket the server already closed fails with a reset or a
            // broken pipe: for a reused connection, that is a "closed before response".
            return Err(match e.kind() {
                ErrorKind::BrokenPipe
                | ErrorKind::ConnectionReset
                | ErrorKind::ConnectionAborted => ClientError::ClosedBeforeResponse { addr: peer },
                _ => io_error(peer, "writing the request to", io_timeout, e),
            });
        }
        // ANCHOR_END: exchange_write
        // ANCHOR: exchange_read
        let mut parser = ResponseParser::new(method, self.config.limits);
        let mut received = 0usize;
        let deadline = self
            .config
            .exchange_timeout
            .map(|t| (procs::deadline::from_now(t), t));
        let response = loop {
            // With a deadline for the whole exchange, no read may wait past it.
            if let Some((deadline, whole)) = deadline {
                let left = deadline.saturating_duration_since(Instant::now());
                let wait = left.min(io_timeout);
                if wait.is_zero() || stream.set_read_timeout(Some(wait)).is_err() {
                    self.stream = None;
                    return Err(ClientError::Timeout {
                        addr: peer,
                        doing: "receiving the whole response",
                        timeout: whole,
                    });
                }
            }
            let n = match stream.read(&mut self.buf) {
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                // The wait was cut short by the deadline: check it at the loop's top.
                Err(e)
                    if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
                        && deadline.is_some_and(|(d, _)| Instant::now() >= d) =>
                {
                    continue;
                }
                Err(e) => {
                    self.stream = None;
                    return Err(match e.kind() {
                        ErrorKind::ConnectionReset if received == 0 => {
                            ClientError::ClosedBeforeResponse { addr: peer }
                        }
                        _ => io_error(peer, "reading the response from", io_timeout, e),
                    });
                }
            };
            // ANCHOR_END: exchange_read
            // ANCHOR: exchange_end
            if n == 0 {
                // End of stream: a close-delimited body ends here; no byte at all means
                // the server closed an idle connection before reading our request.
                self.stream = None;
                return match parser.finish() {
                    Ok(Some(response)) => Ok(response),
                    Ok(None) => Err(ClientError::ClosedBeforeResponse { addr: peer }),
                    Err(source) => Err(ClientError::Http { addr: peer, source }),
                };
            }
            received += n;
            match parser.feed(&self.buf[..n]) {
                Ok(Parsed::NeedMore) => {}
                Ok(Parsed::Done { message, .. }) => break message,
                Err(source) => {
                    self.stream = None;
                    return Err(ClientError::Http { addr: peer, source });
                }
            }
        };
        if !response.keep_alive {
            self.stream = None;
        }
        Ok(response)
    }
    // ANCHOR_END: exchange_end

    // ANCHOR: connect
    /// Opens a new TCP connection to the first address that answers.
    fn reconnect(&mut self) -> Result<()> {
        self.stream = None;
        let mut last = None;
        for &addr in &self.addrs {
            match connect(addr, &self.config) {
                Ok(stream) => {
                    self.stream = Some(stream);
                    self.peer = addr;
                    self.opened += 1;
                    return Ok(());
                }
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or(ClientError::ClosedBeforeResponse { addr: self.peer }))
    }
    // ANCHOR_END: connect
}

// ANCHOR: socket
/// A socket with the options std's `TcpStream::connect` cannot set before connecting,
/// then handed over to std for reading and writing.
fn connect(addr: SocketAddr, config: &ClientConfig) -> Result<TcpStream> {
    let fail = |source| ClientError::Connect { addr, source };
    let socket =
        Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP)).map_err(fail)?;
    // Requests are small and sent whole: without TCP_NODELAY, Nagle's algorithm may
    // hold a request back waiting for the previous one's acknowledgement.
    socket.set_tcp_nodelay(true).map_err(fail)?;
    socket
        .connect_timeout(&addr.into(), config.connect_timeout)
        .map_err(|e| match e.kind() {
            ErrorKind::TimedOut | ErrorKind::WouldBlock => ClientError::Timeout {
                addr,
                doing: "connecting",
                timeout: config.connect_timeout,
            },
            _ => fail(e),
        })?;
    socket
        .set_read_timeout(Some(config.io_timeout))
        .map_err(fail)?;
    socket
        .set_write_timeout(Some(config.io_timeout))
        .map_err(fail)?;
    Ok(socket.into())
}
// ANCHOR_END: socket

fn io_error(
    addr: SocketAddr,
    doing: &'static str,
    timeout: Duration,
    source: std::io::Error,
) -> ClientError {
    match source.kind() {
        // A read or write timeout shows up as WouldBlock on Unix.
        ErrorKind::WouldBlock | ErrorKind::TimedOut => ClientError::Timeout {
            addr,
            doing,
            timeout,
        },
        _ => ClientError::Io {
            addr,
            doing,
            source,
        },
    }
}

/// One `read`, made again when a signal interrupts it before any byte came.
///
/// The kernel restarts most interrupted reads by itself, but not on a socket with a
/// read timeout: there a signal, or even a stop and continue (Ctrl-Z then `fg`, a
/// debugger, a supervisor that pauses the process), makes `read` fail with
/// `Interrupted` (signal(7), "Socket interfaces"). Nothing was lost: ask again. (The
/// client's own loop does the same by hand, because it must look at its deadline
/// before asking again.)
pub fn read_some(stream: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    loop {
        match stream.read(buf) {
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            done => return done,
        }
    }
}

// ANCHOR: fetch
/// Fetches one URL on a new connection, with the default configuration.
pub fn fetch(url: &str) -> Result<Response> {
    fetch_with(url, ClientConfig::default())
}

/// Fetches one URL on a new connection.
pub fn fetch_with(url: &str, config: ClientConfig) -> Result<Response> {
    let url = Url::parse(url)?;
    let mut connection = Connection::open(&url, config)?;
    connection.get(&url.path)
}
// ANCHOR_END: fetch

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader interrupted `left` times before it gives its bytes, then fails.
    struct Interrupted<'a> {
        left: usize,
        bytes: &'a [u8],
    }

    impl Read for Interrupted<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.left > 0 {
                self.left -= 1;
                return Err(ErrorKind::Interrupted.into());
            }
            if self.bytes.is_empty() {
                return Err(ErrorKind::TimedOut.into());
            }
            let n = self.bytes.len().min(buf.len());
            buf[..n].copy_from_slice(&self.bytes[..n]);
            self.bytes = &self.bytes[n..];
            Ok(n)
        }
    }

    #[test]
    fn read_some_asks_again_when_interrupted_and_passes_other_errors_on() {
        let mut reader = Interrupted {
            left: 3,
            bytes: b"hello",
        };
        let mut buf = [0u8; 16];
        assert_eq!(read_some(&mut reader, &mut buf).unwrap(), 5);
        assert_eq!(&buf[..5], b"hello");
        let error = read_some(&mut reader, &mut buf).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::TimedOut);
    }
}
