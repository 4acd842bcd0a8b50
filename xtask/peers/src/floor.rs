//! The floor: the least a client must do to fetch documents over HTTP/1.1, written by
//! hand on tokio, so that the engines' CPU time per document has something to be
//! compared with in the same run.
//!
//! wrk is fast, but it is a load generator: it does not read a list of URLs nor check
//! what it gets. This client does only what a downloader cannot do without: one
//! keep-alive connection per task, a request, the response's head read and checked
//! (status 200, `Content-Length`), the body read and dropped. No redirects, no chunked
//! bodies, no files written. What the engines spend per document beyond this is what
//! they do that a minimal client need not.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use procs::measure::{Usage, ratio};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

use crate::plan::{PeerPlan, Sample};

/// The longest wait for the server: to connect, to take a request, to send bytes.
const WAIT: Duration = Duration::from_secs(10);
/// A response's head must fit in this; it is also each task's reading buffer.
const HEAD_LIMIT: usize = 64 * 1024;

/// Why the minimal client stopped.
#[derive(Debug, thiserror::Error)]
pub enum FloorError {
    #[error("cannot read {path}: {source}")]
    Urls {
        path: String,
        source: std::io::Error,
    },
    #[error("not an http://127.0.0.1:PORT/path URL of the same server: `{0}`")]
    Url(String),
    #[error("{fetched} of {count} documents fetched")]
    Missing { fetched: u64, count: u64 },
    #[error("cannot {what}: no answer within {WAIT:?}")]
    Timeout { what: &'static str },
    #[error("cannot {what}: {source}")]
    Net {
        what: &'static str,
        source: std::io::Error,
    },
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("the server closed the connection in the middle of a response")]
    Closed,
    #[error("a response's head is larger than {HEAD_LIMIT} bytes")]
    HeadTooLarge,
    #[error("not a 200 response: `{0}`")]
    Status(String),
    #[error("no usable Content-Length in the head (chunked bodies are not read)")]
    NoLength,
    #[error("more bytes than the response announced")]
    TooLong,
}

// ANCHOR: floor
/// Fetches the first `count` URLs of the file `urls` (all on one server) with
/// `plan.connections` tasks on one thread, and measures it as `clients::engine` does.
pub fn run_floor(urls: &Path, count: u64, plan: &PeerPlan) -> Result<Sample, FloorError> {
    // Reading the list is counted, as the engines' feed reads it while they run.
    let before = Usage::of_self().ok();
    let started = Instant::now();
    let (addr, paths) = read_urls(urls, count)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let fetched = runtime.block_on(fetch_all(addr, paths, plan.connections))?;
    let wall = started.elapsed().as_secs_f64();
    let after = Usage::of_self().ok();
    if fetched != count {
        return Err(FloorError::Missing { fetched, count });
    }
    let cpu = after.zip(before).map(|(a, b)| a.since(&b).cpu());
    Ok(Sample {
        per_sec: ratio(fetched as f64, wall),
        cpu_us_per_doc: cpu.map(|cpu| cpu * 1e6 / fetched.max(1) as f64),
    })
}

/// `tasks` tasks, each taking the next path until none is left; the documents fetched.
async fn fetch_all(addr: SocketAddr, paths: Vec<String>, tasks: usize) -> Result<u64, FloorError> {
    let paths: Arc<[String]> = paths.into();
    let next = Arc::new(AtomicUsize::new(0));
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..tasks.min(paths.len()) {
        set.spawn(fetch_on_one_connection(addr, paths.clone(), next.clone()));
    }
    let mut fetched = 0;
    while let Some(done) = set.join_next().await {
        fetched += done.map_err(std::io::Error::other)??;
    }
    Ok(fetched)
}

async fn fetch_on_one_connection(
    addr: SocketAddr,
    paths: Arc<[String]>,
    next: Arc<AtomicUsize>,
) -> Result<u64, FloorError> {
    let mut stream = within("connect to the server", TcpStream::connect(addr)).await?;
    // A request is one small write: sent at once, not held back for more.
    stream.set_nodelay(true)?;
    let mut buf = vec![0; HEAD_LIMIT];
    let host = addr.to_string();
    let mut request = String::new();
    let mut fetched = 0;
    // Relaxed: the read-modify-write alone hands out each path once.
    while let Some(path) = paths.get(next.fetch_add(1, Ordering::Relaxed)) {
        request.clear();
        for part in ["GET ", path, " HTTP/1.1\r\nHost: ", &host, "\r\n\r\n"] {
            request.push_str(part);
        }
        within("send a request", stream.write_all(request.as_bytes())).await?;
        read_response(&mut stream, &mut buf).await?;
        fetched += 1;
    }
    Ok(fetched)
}
// ANCHOR_END: floor

/// Reads one response into `buf`: the head, checked, then the body, dropped.
async fn read_response(stream: &mut TcpStream, buf: &mut [u8]) -> Result<(), FloorError> {
    let mut filled = 0;
    let (head_end, length) = loop {
        if let Some(head) = parse_head(&buf[..filled])? {
            break head;
        }
        filled += read_some(stream, &mut buf[filled..]).await?;
    };
    // Requests are not pipelined: nothing may follow the body.
    let mut left = length
        .checked_sub(filled - head_end)
        .ok_or(FloorError::TooLong)?;
    while left > 0 {
        left = left
            .checked_sub(read_some(stream, buf).await?)
            .ok_or(FloorError::TooLong)?;
    }
    Ok(())
}

async fn read_some(stream: &mut TcpStream, buf: &mut [u8]) -> Result<usize, FloorError> {
    match within("read a response", stream.read(buf)).await? {
        0 => Err(FloorError::Closed),
        n => Ok(n),
    }
}

async fn within<T>(
    what: &'static str,
    wait: impl Future<Output = std::io::Result<T>>,
) -> Result<T, FloorError> {
    match timeout(WAIT, wait).await {
        Err(_elapsed) => Err(FloorError::Timeout { what }),
        Ok(done) => done.map_err(|source| FloorError::Net { what, source }),
    }
}

/// `Some((where the body starts, its length))` once `bytes` hold a whole head; `None`
/// while more is needed.
fn parse_head(bytes: &[u8]) -> Result<Option<(usize, usize)>, FloorError> {
    let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") else {
        let full = bytes.len() >= HEAD_LIMIT;
        return if full {
            Err(FloorError::HeadTooLarge)
        } else {
            Ok(None)
        };
    };
    let head = String::from_utf8_lossy(&bytes[..end]);
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or_default();
    let mut words = status.split(' ');
    if !(words.next().is_some_and(|v| v.starts_with("HTTP/1.")) && words.next() == Some("200")) {
        return Err(FloorError::Status(status.chars().take(100).collect()));
    }
    let length = lines
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse().ok())
        .ok_or(FloorError::NoLength)?;
    Ok(Some((end + 4, length)))
}

/// The server and the paths of the first `count` URLs of the file `urls`.
fn read_urls(urls: &Path, count: u64) -> Result<(SocketAddr, Vec<String>), FloorError> {
    let text = std::fs::read_to_string(urls).map_err(|source| FloorError::Urls {
        path: urls.display().to_string(),
        source,
    })?;
    let mut server = None;
    let mut paths = Vec::new();
    for line in text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(count as usize)
    {
        let bad = || FloorError::Url(line.to_string());
        let rest = line.trim().strip_prefix("http://").ok_or_else(bad)?;
        let (authority, path) = rest.split_at(rest.find('/').ok_or_else(bad)?);
        let addr: SocketAddr = authority.parse().map_err(|_| bad())?;
        if *server.get_or_insert(addr) != addr {
            return Err(bad());
        }
        paths.push(path.to_string());
    }
    let addr = server.ok_or(FloorError::Missing { fetched: 0, count })?;
    Ok((addr, paths))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpListener;

    fn head(text: &str) -> Result<Option<(usize, usize)>, FloorError> {
        parse_head(text.as_bytes())
    }

    #[test]
    fn the_head_gives_where_the_body_starts_and_its_length() {
        let text = "HTTP/1.1 200 OK\r\ncontent-LENGTH:  5120\r\n\r\nbody";
        assert_eq!(head(text).unwrap(), Some((text.len() - 4, 5120)));
        let text = "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 0\r\n\r\n";
        assert_eq!(head(text).unwrap(), Some((text.len(), 0)));
        // Not all there yet: more is needed, it is not an error.
        assert_eq!(head("HTTP/1.1 200 OK\r\nContent-Len").unwrap(), None);
        assert_eq!(head("").unwrap(), None);
    }

    #[test]
    fn a_head_it_cannot_use_is_an_error_not_a_panic() {
        let no_length = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
        assert!(matches!(head(no_length), Err(FloorError::NoLength)));
        let bad_length = "HTTP/1.1 200 OK\r\nContent-Length: -3\r\n\r\n";
        assert!(matches!(head(bad_length), Err(FloorError::NoLength)));
        for status in ["HTTP/1.1 404 Not Found", "HTTP/1.1 2000 OK", "SSH-2.0", ""] {
            let text = format!("{status}\r\nContent-Length: 1\r\n\r\n");
            assert!(
                matches!(head(&text), Err(FloorError::Status(_))),
                "{status}"
            );
        }
        let endless = format!("HTTP/1.1 200 OK\r\nX: {}", "a".repeat(HEAD_LIMIT));
        assert!(matches!(head(&endless), Err(FloorError::HeadTooLarge)));
        assert!(parse_head(&[0xff; 100]).unwrap().is_none());
        assert!(parse_head(b"\xff\xfe\r\n\r\n").is_err());
    }

    /// A file of URLs in the temporary folder, removed when dropped.
    struct UrlFile(std::path::PathBuf);

    impl UrlFile {
        fn new(name: &str, lines: &[String]) -> UrlFile {
            let id = std::process::id();
            let path = std::env::temp_dir().join(format!("peers-floor-{id}-{name}.txt"));
            std::fs::write(&path, lines.join("\n") + "\n").unwrap();
            UrlFile(path)
        }
    }

    impl Drop for UrlFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    /// A server on 127.0.0.1 taking `connections` connections, answering each request
    /// with `answer(path)`, the head and the body in separate writes, until the client
    /// closes (or 10 s of silence).
    fn serve(connections: usize, answer: fn(&str) -> (String, Vec<u8>)) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for _ in 0..connections {
                let Ok((mut stream, _)) = listener.accept() else {
                    return;
                };
                std::thread::spawn(move || {
                    stream.set_read_timeout(Some(WAIT)).unwrap();
                    let mut buf = [0; 4096];
                    while let Ok(n @ 1..) = stream.read(&mut buf) {
                        // One request a read: the client sends the next after the answer.
                        let request = String::from_utf8_lossy(&buf[..n]).into_owned();
                        let path = request.split(' ').nth(1).unwrap_or("?");
                        let (head, body) = answer(path);
                        let sent = stream.write_all(head.as_bytes());
                        if sent.and_then(|()| stream.write_all(&body)).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        addr
    }

    fn document(path: &str) -> (String, Vec<u8>) {
        let body = vec![b'x'; 2048 + path.len() * 100];
        let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len());
        (head, body)
    }

    fn urls(addr: SocketAddr, count: usize) -> Vec<String> {
        (0..count)
            .map(|i| format!("http://{addr}/wiki/{i}"))
            .collect()
    }

    #[test]
    fn the_floor_fetches_every_document_once() {
        let addr = serve(3, document);
        let file = UrlFile::new("all", &urls(addr, 40));
        let plan = PeerPlan {
            connections: 3,
            ..PeerPlan::quick()
        };
        let sample = run_floor(&file.0, 30, &plan).unwrap();
        assert!(sample.per_sec > 0.0);
        // More than the file holds: told, not pretended.
        let addr = serve(3, document);
        let file = UrlFile::new("short", &urls(addr, 5));
        let error = run_floor(&file.0, 6, &plan).unwrap_err();
        assert!(
            matches!(
                error,
                FloorError::Missing {
                    fetched: 5,
                    count: 6
                }
            ),
            "{error}"
        );
    }

    #[test]
    fn a_wrong_answer_or_url_stops_the_floor_with_its_reason() {
        let addr = serve(1, |_| ("HTTP/1.1 404 Not Found\r\n\r\n".into(), Vec::new()));
        let file = UrlFile::new("404", &urls(addr, 3));
        let plan = PeerPlan {
            connections: 1,
            ..PeerPlan::quick()
        };
        let error = run_floor(&file.0, 3, &plan).unwrap_err();
        assert!(matches!(error, FloorError::Status(_)), "{error}");
        let file = UrlFile::new("bad", &["https://example.org/".to_string()]);
        let error = run_floor(&file.0, 1, &plan).unwrap_err();
        assert!(matches!(error, FloorError::Url(_)), "{error}");
    }
}
