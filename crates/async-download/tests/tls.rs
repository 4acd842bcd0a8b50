//! HTTPS against an in-process rustls server, with certificates made in the test:
//! documents arrive whole over kept-alive and pipelined TLS connections when the test's
//! CA is trusted (`--ca-cert`); an unknown CA, a certificate for another name and a
//! server that never finishes its handshake each fail as one URL with the reason, not
//! retried; SNI and ALPN are sent; the engines without TLS refuse `https` without
//! connecting; a redirect from https to http is refused, and one from http to https is
//! followed.

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use async_download::cli::Cli;
use async_download::feed::Feed;
use async_download::tls::Tls;
use async_download::{EngineKind, Options, Target, download_with};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use sockets::url::Url;

use support::{IO_TIMEOUT, TempDir, TinyServer, fast_options};

/// A CA made for one test, and a server certificate it signed.
struct Pki {
    ca_pem: String,
    cert: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
}

/// A CA, and a certificate from it for `names` (DNS names or addresses).
fn pki(names: &[&str]) -> Pki {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "async-download test CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let cert = CertificateParams::new(names)
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    Pki {
        ca_pem: ca.pem(),
        cert: cert.der().clone(),
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
    }
}

/// `pki`'s CA written to a PEM file in `dir`, and the `Tls` that trusts it.
fn trust(pki: &Pki, dir: &TempDir) -> (PathBuf, Tls) {
    let path = dir.join("ca.pem");
    std::fs::write(&path, &pki.ca_pem).unwrap();
    let tls = Tls::with_ca_file(&path).expect("the test CA is usable");
    (path, tls)
}

/// What the TLS server saw.
#[derive(Debug, Default)]
struct Seen {
    targets: Vec<String>,
    /// The SNI name of each handshake that finished (`None`: none sent).
    sni: Vec<Option<String>>,
    /// The protocol ALPN chose in each handshake that finished.
    alpn: Vec<Option<Vec<u8>>>,
}

/// What the server answers to a target: status, extra head lines, body.
type Answer = fn(&str, SocketAddr) -> (u16, String, Vec<u8>);

/// A blocking HTTPS server on 127.0.0.1: a thread per connection, keep-alive (several
/// requests per connection, pipelined ones included), answers from `answer`.
struct TlsServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    connections: Arc<AtomicUsize>,
    seen: Arc<Mutex<Seen>>,
    accept: Option<JoinHandle<()>>,
}

impl TlsServer {
    fn start(pki: &Pki, answer: Answer) -> TlsServer {
        #[allow(deprecated)] // ring, as the downloader uses (see its `tls` module)
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![pki.cert.clone()], pki.key.clone_key())
            .unwrap();
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(AtomicUsize::new(0));
        let seen = Arc::new(Mutex::new(Seen::default()));
        let accept = std::thread::spawn({
            let (stop, connections, seen) = (stop.clone(), connections.clone(), seen.clone());
            move || {
                let mut threads = Vec::new();
                for tcp in listener.incoming() {
                    // Read after `accept` returned; see `Drop` for what orders the flag before it.
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(tcp) = tcp else { continue };
                    // A count: Relaxed would do; SeqCst is simplest.
                    connections.fetch_add(1, Ordering::SeqCst);
                    let (config, seen) = (config.clone(), seen.clone());
                    threads.push(std::thread::spawn(move || {
                        serve(tcp, config, &seen, answer, addr)
                    }));
                }
                for thread in threads {
                    let _ = thread.join();
                }
            }
        });
        TlsServer {
            addr,
            stop,
            connections,
            seen,
            accept: Some(accept),
        }
    }

    fn url(&self, path: &str) -> Url {
        Url::parse_web(&format!("https://{}{path}", self.addr)).unwrap()
    }

    fn seen<T>(&self, f: impl FnOnce(&Seen) -> T) -> T {
        f(&self.seen.lock().unwrap())
    }

    fn connections(&self) -> usize {
        // A count of accepted connections: any ordering; SeqCst is simplest.
        self.connections.load(Ordering::SeqCst)
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        // Before the wake-up connection: the kernel, passing it to `accept`, orders the two in practice.
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, IO_TIMEOUT);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

/// One connection: the handshake, then request after request until the client closes.
fn serve(
    tcp: TcpStream,
    config: Arc<ServerConfig>,
    seen: &Mutex<Seen>,
    answer: Answer,
    addr: SocketAddr,
) {
    let _ = tcp.set_read_timeout(Some(IO_TIMEOUT));
    let _ = tcp.set_write_timeout(Some(IO_TIMEOUT));
    let Ok(connection) = rustls::ServerConnection::new(config) else {
        return;
    };
    let mut tls = rustls::StreamOwned::new(connection, tcp);
    let mut pending: Vec<u8> = Vec::new();
    let mut buf = [0u8; 4096];
    let mut recorded = false;
    loop {
        // Every head already received is answered before reading more (pipelining).
        while let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            let head: Vec<u8> = pending.drain(..end + 4).collect();
            let head = String::from_utf8_lossy(&head);
            let target = head.split(' ').nth(1).unwrap_or("").to_string();
            seen.lock().unwrap().targets.push(target.clone());
            let (status, lines, body) = answer(&target, addr);
            let reply = format!(
                "HTTP/1.1 {status} X\r\n{lines}Content-Length: {}\r\n\r\n",
                body.len()
            );
            if tls.write_all(reply.as_bytes()).is_err() || tls.write_all(&body).is_err() {
                return;
            }
            let _ = tls.flush();
        }
        let n = match tls.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if !recorded {
            // The handshake is over once plaintext has come.
            let mut seen = seen.lock().unwrap();
            seen.sni.push(tls.conn.server_name().map(str::to_string));
            seen.alpn.push(tls.conn.alpn_protocol().map(<[u8]>::to_vec));
            recorded = true;
        }
        pending.extend_from_slice(&buf[..n]);
        if pending.len() > 1 << 20 {
            return;
        }
    }
}

/// `/doc/N`: 200 and a body that names N; anything else 404.
fn documents(target: &str, _: SocketAddr) -> (u16, String, Vec<u8>) {
    match target.strip_prefix("/doc/") {
        Some(n) => (200, String::new(), body_of(n)),
        None => (404, String::new(), b"not here".to_vec()),
    }
}

fn body_of(n: &str) -> Vec<u8> {
    format!("document {n} ").repeat(100).into_bytes()
}

fn feed(urls: Vec<Url>) -> Feed {
    support::feed_of(urls)
}

fn options(tls: Tls, out: Option<&std::path::Path>) -> Options {
    Options {
        tls,
        ..fast_options(3, out)
    }
}

const TLS_ENGINES: [EngineKind; 2] = [EngineKind::Tokio, EngineKind::TokioMulti];

#[test]
fn documents_arrive_whole_over_kept_tls_connections_when_the_ca_is_trusted() {
    let pki = pki(&["127.0.0.1"]);
    for kind in TLS_ENGINES {
        for pipeline in [1, 4] {
            let server = TlsServer::start(&pki, documents);
            let dir = TempDir::new("tls-ok");
            let (_, tls) = trust(&pki, &dir);
            let out = dir.join("out");
            let urls: Vec<Url> = (0..20).map(|i| server.url(&format!("/doc/{i}"))).collect();
            let options = Options {
                pipeline,
                ..options(tls, Some(&out))
            };
            let report = download_with(kind, feed(urls.clone()), options).expect("a run");
            let case = format!("{kind:?}, --pipeline {pipeline}");
            assert_eq!((report.ok, report.failed), (20, 0), "{case}: {report:?}");
            assert_eq!(report.retried, 0, "{case}");
            for (i, url) in urls.iter().enumerate() {
                let name = Target::from_url(url.clone()).name().to_string();
                assert!(name.starts_with("https+127.0.0.1_"), "{case}: {name}");
                let saved = std::fs::read(out.join(&name)).unwrap();
                assert_eq!(saved, body_of(&i.to_string()), "{case}: {name}");
            }
            // Kept alive: three workers, far fewer handshakes than documents.
            assert!(
                server.connections() <= 6,
                "{case}: {} connections",
                server.connections()
            );
            server.seen(|seen| {
                assert_eq!(seen.targets.len(), 20, "{case}");
                // ALPN: the client offered only http/1.1, so that is what was chosen,
                // though the server would rather have spoken h2.
                assert!(
                    seen.alpn
                        .iter()
                        .all(|p| p.as_deref() == Some(b"http/1.1".as_slice())),
                    "{case}: {:?}",
                    seen.alpn
                );
                // An address is not sent as SNI.
                assert!(
                    seen.sni.iter().all(Option::is_none),
                    "{case}: {:?}",
                    seen.sni
                );
            });
        }
    }
}

#[test]
fn the_host_name_is_sent_by_sni_and_checked_against_the_certificate() {
    let pki = pki(&["localhost"]);
    let server = TlsServer::start(&pki, documents);
    let dir = TempDir::new("tls-sni");
    let (_, tls) = trust(&pki, &dir);
    let port = server.addr.port();
    let url = Url::parse_web(&format!("https://localhost:{port}/doc/7")).unwrap();
    let report = download_with(EngineKind::Tokio, feed(vec![url]), options(tls, None)).unwrap();
    assert_eq!((report.ok, report.failed), (1, 0), "{report:?}");
    server.seen(|seen| assert_eq!(seen.sni, [Some("localhost".to_string())]));
}

/// The one failure of a run of `url`, with the number of attempts it took.
fn only_failure(kind: EngineKind, url: Url, options: Options) -> (String, u32) {
    let report = download_with(kind, feed(vec![url]), options).expect("a run");
    assert_eq!((report.ok, report.failed), (0, 1), "{kind:?}: {report:?}");
    let failure = &report.failures[0];
    (failure.reason.clone(), failure.attempts)
}

#[test]
fn a_certificate_from_an_unknown_ca_fails_once_and_names_the_way_out() {
    let pki = pki(&["127.0.0.1"]);
    let server = TlsServer::start(&pki, documents);
    for kind in TLS_ENGINES {
        // Only the web's CAs: the test's CA is unknown.
        let (reason, attempts) =
            only_failure(kind, server.url("/doc/1"), options(Tls::web(), None));
        assert!(
            reason.starts_with("TLS with 127.0.0.1 failed"),
            "{kind:?}: {reason}"
        );
        assert!(reason.contains("UnknownIssuer"), "{kind:?}: {reason}");
        assert!(reason.contains("--ca-cert"), "{kind:?}: {reason}");
        assert_eq!(
            attempts, 1,
            "{kind:?}: a refused certificate is not retried"
        );
    }
    server.seen(|seen| assert!(seen.targets.is_empty(), "no request may be sent: {seen:?}"));
}

#[test]
fn a_certificate_for_another_name_is_refused_even_from_a_trusted_ca() {
    let pki = pki(&["other.example"]);
    let server = TlsServer::start(&pki, documents);
    let dir = TempDir::new("tls-name");
    let (_, tls) = trust(&pki, &dir);
    for kind in TLS_ENGINES {
        let (reason, attempts) =
            only_failure(kind, server.url("/doc/1"), options(tls.clone(), None));
        assert!(
            reason.starts_with("TLS with 127.0.0.1 failed"),
            "{kind:?}: {reason}"
        );
        assert!(reason.contains("not valid for name"), "{kind:?}: {reason}");
        assert_eq!(attempts, 1, "{kind:?}");
    }
    server.seen(|seen| assert!(seen.targets.is_empty(), "{seen:?}"));
}

#[test]
fn a_server_that_never_finishes_the_handshake_times_out_as_one_failure() {
    // Accepts, reads, and says nothing: the handshake waits for a ServerHello.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = silent.local_addr().unwrap();
    let holder = std::thread::spawn(move || {
        let (mut tcp, _) = silent.accept().unwrap();
        let _ = tcp.set_read_timeout(Some(IO_TIMEOUT));
        let mut buf = [0u8; 4096];
        while let Ok(n) = tcp.read(&mut buf) {
            if n == 0 {
                break;
            }
        }
    });
    let url = Url::parse_web(&format!("https://{addr}/x")).unwrap();
    let options = Options {
        retries: 0,
        connect_timeout: Duration::from_millis(1500),
        ..options(Tls::web(), None)
    };
    let (reason, _) = only_failure(EngineKind::Tokio, url, options);
    assert!(reason.contains("while the TLS handshake"), "{reason}");
    holder.join().unwrap();
}

#[test]
fn the_engines_without_tls_refuse_https_without_connecting() {
    let pki = pki(&["127.0.0.1"]);
    let server = TlsServer::start(&pki, documents);
    let dir = TempDir::new("tls-refused");
    let (_, tls) = trust(&pki, &dir);
    for kind in [
        EngineKind::Sequential,
        EngineKind::Threads,
        EngineKind::EventLoop,
    ] {
        let (reason, attempts) =
            only_failure(kind, server.url("/doc/1"), options(tls.clone(), None));
        assert!(reason.contains("https needs TLS"), "{kind:?}: {reason}");
        assert!(reason.contains("--engine tokio"), "{kind:?}: {reason}");
        assert_eq!(attempts, 1, "{kind:?}");
    }
    assert_eq!(
        server.connections(),
        0,
        "an engine without TLS connected anyway"
    );
}

/// `/down`: a redirect to plain http on port 9 of 127.0.0.1 (never connected to).
fn downgrading(target: &str, _: SocketAddr) -> (u16, String, Vec<u8>) {
    match target {
        "/down" => (
            301,
            "Location: http://127.0.0.1:9/x\r\n".to_string(),
            Vec::new(),
        ),
        other => documents(other, SocketAddr::from(([127, 0, 0, 1], 0))),
    }
}

#[test]
fn a_redirect_from_https_to_http_is_refused_and_one_to_https_is_followed() {
    let pki = pki(&["127.0.0.1"]);
    let server = TlsServer::start(&pki, downgrading);
    let dir = TempDir::new("tls-redirect");
    let (_, tls) = trust(&pki, &dir);
    let secure = server.url("/doc/5").to_string();
    let plain = TinyServer::start(move |_, stream| {
        let head = format!("HTTP/1.1 302 Found\r\nLocation: {secure}\r\nContent-Length: 0\r\n\r\n");
        let _ = stream.write_all(head.as_bytes());
    });
    for kind in TLS_ENGINES {
        let (reason, attempts) =
            only_failure(kind, server.url("/down"), options(tls.clone(), None));
        assert!(
            reason.contains("from https to plain http"),
            "{kind:?}: {reason}"
        );
        assert_eq!(attempts, 1, "{kind:?}");

        let out = dir.join(&format!("out-{kind:?}"));
        let asked = Url::parse(&format!("http://{}/up", plain.addr())).unwrap();
        let report = download_with(
            kind,
            feed(vec![asked.clone()]),
            options(tls.clone(), Some(&out)),
        )
        .expect("a run");
        assert_eq!((report.ok, report.failed), (1, 0), "{kind:?}: {report:?}");
        assert_eq!(
            report.redirected[0].landed,
            server.url("/doc/5").to_string()
        );
        let name = Target::from_url(asked).name().to_string();
        assert_eq!(
            std::fs::read(out.join(&name)).unwrap(),
            body_of("5"),
            "{kind:?}"
        );
    }
}

#[test]
fn a_ca_file_that_cannot_be_used_is_a_usage_error_naming_it() {
    let dir = TempDir::new("tls-cli");
    let missing = dir.join("missing.pem");
    let empty = dir.join("empty.pem");
    std::fs::write(&empty, "no certificate here\n").unwrap();
    for (path, says) in [
        (&missing, "cannot read the CA file"),
        (&empty, "holds no PEM certificate"),
    ] {
        let error = Cli::parse_args([
            "async-download",
            "https://127.0.0.1:1/",
            "--ca-cert",
            path.to_str().unwrap(),
        ])
        .unwrap_err()
        .to_string();
        assert!(error.contains(says), "{error}");
        assert!(error.contains(path.to_str().unwrap()), "{error}");
    }
    // A usable one is taken, and an https URL with it.
    let pki = pki(&["127.0.0.1"]);
    let (ca, _) = trust(&pki, &dir);
    let cli = Cli::parse_args([
        "async-download",
        "https://127.0.0.1:1/",
        "--ca-cert",
        ca.to_str().unwrap(),
    ])
    .expect("usable");
    assert!(format!("{:?}", cli.options().tls).contains("ca.pem"));
}
