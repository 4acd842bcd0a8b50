//! What the reliability tests (`download.rs`, `tool.rs`) share: temporary folders that
//! clean up after themselves, bounded waits, fast retry settings, the corpus server, and
//! a tiny `std::net` server for answers the corpus never gives (any path, endless bodies).
#![allow(dead_code)] // each test file compiles this module on its own and uses a part

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use async_download::feed::Feed;
use async_download::server::{self, RunningServer, ServerConfig};
use async_download::{Options, Target};
use sockets::client::read_some;
use sockets::corpus::FaultPlan;
use sockets::url::Url;

/// The longest a single blocking read or write of a test server may wait.
pub const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// A fresh folder under the system's temporary folder, removed (with everything in it)
/// when dropped, whether the test passed or panicked.
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// `<tmp>/async-download-<test>-<pid>-<n>`: unique per process and per call.
    pub fn new(test: &str) -> TempDir {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        // Relaxed: the read-modify-write alone makes each number unique.
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("async-download-{test}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create a temporary folder");
        TempDir { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Polls `ready` every 10 ms until it returns `Some`, and panics naming `what` if that
/// has not happened within `limit`.
pub fn wait_for<T>(what: &str, limit: Duration, mut ready: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = ready() {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "gave up after {limit:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Settings that keep a test fast: retries after 10 ms (doubling up to `backoff_max`,
/// which also caps a server's Retry-After), a 5 s deadline per exchange.
pub fn fast_options(concurrency: usize, out: Option<&Path>) -> Options {
    Options {
        concurrency,
        retries: 4,
        backoff_base: Duration::from_millis(10),
        backoff_max: Duration::from_secs(1),
        connect_timeout: Duration::from_secs(5),
        timeout: Duration::from_secs(5),
        out: out.map(Path::to_path_buf),
        ..Options::default()
    }
}

/// A feed of `urls`, each named by the default layout.
pub fn feed_of(urls: Vec<Url>) -> Feed {
    Feed::of_targets(
        urls.into_iter()
            .map(Target::from_url)
            .collect::<Vec<_>>()
            .into_iter(),
    )
}

/// The tokio corpus server on 127.0.0.1, any free port, with two workers.
pub fn corpus_server(faults: FaultPlan) -> RunningServer {
    server::start(ServerConfig {
        addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        faults,
        workers: 2,
    })
    .expect("the corpus server starts")
}

/// Every line of the journal in `out` that records a saved document, as its name.
pub fn journal_names(out: &Path) -> Vec<String> {
    let text = std::fs::read(out.join(async_download::journal::JOURNAL_FILE)).unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    // Only complete lines: the last one may be torn if the writer was killed.
    let complete = match text.rfind('\n') {
        Some(end) => &text[..=end],
        None => "",
    };
    // `saved <bytes> <name>`
    complete
        .lines()
        .filter_map(|line| line.strip_prefix("saved ")?.split_once(' '))
        .map(|(_, name)| name.to_string())
        .collect()
}

/// What a [`TinyServer`] handler is given: the request's target (`/path?query`) and the
/// connection to answer on (with [`IO_TIMEOUT`] on reads and writes).
pub type Handler = dyn Fn(&str, &str, &mut TcpStream) + Send + Sync;

/// A blocking `std::net` server on 127.0.0.1: a thread per connection, one request per
/// connection, answered by a closure. It keeps the targets it was asked for. Dropping
/// it stops it and joins every thread (each is bounded by [`IO_TIMEOUT`]).
pub struct TinyServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    targets: Arc<Mutex<Vec<String>>>,
    heads: Arc<Mutex<Vec<String>>>,
    accept: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for TinyServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TinyServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl TinyServer {
    pub fn start(handler: impl Fn(&str, &mut TcpStream) + Send + Sync + 'static) -> TinyServer {
        TinyServer::start_with_heads(move |target, _head, stream| handler(target, stream))
    }

    /// [`start`](TinyServer::start), with a handler that also gets the request's head
    /// (request line and header lines, up to its blank line).
    pub fn start_with_heads(
        handler: impl Fn(&str, &str, &mut TcpStream) + Send + Sync + 'static,
    ) -> TinyServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("the bound address");
        let stop = Arc::new(AtomicBool::new(false));
        let targets = Arc::new(Mutex::new(Vec::new()));
        let heads = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let accept = std::thread::spawn({
            let stop = stop.clone();
            let targets = targets.clone();
            let heads = heads.clone();
            move || {
                let mut connections = Vec::new();
                for stream in listener.incoming() {
                    // Read after `accept` returned; see `Drop` for what orders the flag before it.
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let handler = handler.clone();
                    let targets = targets.clone();
                    let heads = heads.clone();
                    connections.push(std::thread::spawn(move || {
                        serve_one(stream, &*handler, &targets, &heads);
                    }));
                }
                for connection in connections {
                    let _ = connection.join();
                }
            }
        });
        TinyServer {
            addr,
            stop,
            targets,
            heads,
            accept: Some(accept),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The request heads received so far (each up to its blank line, as sent), in the
    /// order they arrived.
    pub fn heads(&self) -> Vec<String> {
        self.heads.lock().map(|h| h.clone()).unwrap_or_default()
    }

    /// The targets asked for so far, in the order they arrived.
    pub fn targets(&self) -> Vec<String> {
        self.targets.lock().map(|t| t.clone()).unwrap_or_default()
    }
}

impl Drop for TinyServer {
    fn drop(&mut self) {
        // Before the wake-up connection: the kernel, passing it to `accept`, orders the two in practice.
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop up so that it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, IO_TIMEOUT);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

/// Reads one request head (at most 64 KiB) and hands its target to `handler`.
fn serve_one(
    mut stream: TcpStream,
    handler: &Handler,
    targets: &Mutex<Vec<String>>,
    heads: &Mutex<Vec<String>>,
) {
    let _ = stream.set_read_timeout(Some(IO_TIMEOUT));
    let _ = stream.set_write_timeout(Some(IO_TIMEOUT));
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match read_some(&mut stream, &mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
        if head.len() > 64 * 1024 {
            return;
        }
    }
    let head = String::from_utf8_lossy(&head);
    let target = head
        .lines()
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .unwrap_or("")
        .to_string();
    if let Ok(mut all) = heads.lock() {
        all.push(head.to_string());
    }
    if let Ok(mut all) = targets.lock() {
        all.push(target.clone());
    }
    handler(&target, &head, &mut stream);
}

/// A handler that answers every target with `200` and `body`, then closes.
pub fn always_ok(body: &'static [u8]) -> impl Fn(&str, &mut TcpStream) + Send + Sync + 'static {
    move |_target, stream| {
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        let _ = stream.write_all(head.as_bytes());
        let _ = stream.write_all(body);
    }
}

/// A gigabyte: the body the memory tests announce, and the most any of their servers
/// sends, so that even a client with no limit at all cannot take more from them.
pub const GIGABYTE: u64 = 1 << 30;

/// Writes zeros after `head`, 64 KiB at a time, until `total` body bytes are out or the
/// client goes away. With `chunked`, each piece is framed as a chunk (and no last chunk
/// is ever sent). Returns how many body bytes went out.
pub fn stream_zeros(stream: &mut TcpStream, head: &str, total: u64, chunked: bool) -> u64 {
    const PIECE: usize = 64 * 1024;
    if stream.write_all(head.as_bytes()).is_err() {
        return 0;
    }
    let mut framed = Vec::with_capacity(PIECE + 16);
    if chunked {
        framed.extend_from_slice(format!("{PIECE:x}\r\n").as_bytes());
    }
    framed.extend_from_slice(&[0u8; PIECE]);
    if chunked {
        framed.extend_from_slice(b"\r\n");
    }
    let zeros = [0u8; PIECE];
    let mut sent = 0u64;
    while sent < total {
        let take = ((total - sent) as usize).min(PIECE);
        let bytes = if chunked && take == PIECE {
            &framed[..]
        } else {
            &zeros[..take]
        };
        if stream.write_all(bytes).is_err() {
            break;
        }
        sent += take as u64;
    }
    sent
}
