//! HTTPS: the same HTTP/1.1 bytes, inside TLS.
//!
//! TLS is the one layer of the downloader the course does not write: a handshake with
//! certificate chains, key exchange and record encryption is a field of its own, and
//! getting it slightly wrong is worse than not having it. [rustls] does it. Like the
//! course's HTTP codec, rustls is sans-IO (bytes in, bytes out, no socket), and
//! [tokio-rustls] puts it between a `TcpStream` and the code that reads and writes
//! plaintext. So the codec runs unchanged over TLS: it is fed what the TLS stream
//! decrypts instead of what the socket received (see [`crate::wire`]).
//!
//! The choices:
//!
//! - **Certificates are always verified**, against Mozilla's list of web CAs
//!   ([webpki-roots], built in, so nothing depends on what the machine has installed)
//!   plus the CAs of `--ca-cert FILE` (a company's or a test's own CA). There is no
//!   switch that turns verification off: a download that cannot tell the server from
//!   anyone on the path is not worth making.
//! - **SNI**: the host name is sent in the handshake, so a server with many names
//!   presents the right certificate. An address (`https://127.0.0.1/`) is checked
//!   against the certificate's IP addresses instead.
//! - **ALPN offers only `http/1.1`**: the codec speaks HTTP/1.1, so a server that would
//!   rather speak HTTP/2 is told so in the handshake, not surprised afterwards.
//! - **One configuration per run**, shared by every connection: its session cache lets
//!   a second connection to a host resume the first one's session, a round trip less.
//!
//! [rustls]: https://docs.rs/rustls
//! [tokio-rustls]: https://docs.rs/tokio-rustls
//! [webpki-roots]: https://docs.rs/webpki-roots

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use sockets::url::Url;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::error::FetchError;

/// The one protocol offered by ALPN.
const ALPN_HTTP_1_1: &[u8] = b"http/1.1";

/// How a run speaks TLS: the CAs it trusts. Cheap to clone (one shared configuration).
#[derive(Clone)]
pub struct Tls {
    /// `None`: the web's CAs, in a configuration made the first time a run needs it (a
    /// run without `https` never does).
    config: Option<Arc<ClientConfig>>,
    /// The `--ca-cert` file, if one was added (for the report and `Debug`).
    ca_file: Option<PathBuf>,
}

/// Why `--ca-cert FILE` cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read the CA file {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("the CA file {path} holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)")]
    NoCertificate { path: PathBuf },
    #[error("the CA file {path} holds a certificate that cannot be used as a CA: {reason}")]
    BadCertificate { path: PathBuf, reason: String },
}

impl Tls {
    /// Trusts the web's CAs (Mozilla's list).
    pub fn web() -> Tls {
        Tls {
            config: None,
            ca_file: None,
        }
    }

    /// The configuration: the `--ca-cert` one, or the web's, made once per process.
    fn config(&self) -> Arc<ClientConfig> {
        static WEB: OnceLock<Arc<ClientConfig>> = OnceLock::new();
        match &self.config {
            Some(config) => config.clone(),
            None => WEB
                .get_or_init(|| Arc::new(client_config(web_roots())))
                .clone(),
        }
    }

    /// Trusts the web's CAs and every certificate in the PEM file at `path`.
    pub fn with_ca_file(path: &Path) -> Result<Tls, TlsError> {
        let mut roots = web_roots();
        let read = |source| TlsError::Read {
            path: path.to_path_buf(),
            source,
        };
        let bytes = std::fs::read(path).map_err(read)?;
        let bad = |reason: String| TlsError::BadCertificate {
            path: path.to_path_buf(),
            reason,
        };
        let mut added = 0;
        for cert in CertificateDer::pem_slice_iter(&bytes) {
            let cert = cert.map_err(|e| bad(e.to_string()))?;
            roots.add(cert).map_err(|e| bad(e.to_string()))?;
            added += 1;
        }
        if added == 0 {
            return Err(TlsError::NoCertificate {
                path: path.to_path_buf(),
            });
        }
        Ok(Tls {
            config: Some(Arc::new(client_config(roots))),
            ca_file: Some(path.to_path_buf()),
        })
    }

    // ANCHOR: connect
    /// The TLS handshake with `url`'s host over `tcp`, the certificate verified for the
    /// URL's host name (or address). The caller bounds the wait.
    pub async fn connect(
        &self,
        url: &Url,
        tcp: TcpStream,
    ) -> Result<TlsStream<TcpStream>, FetchError> {
        let name = ServerName::try_from(url.host.clone()).map_err(|e| FetchError::Tls {
            host: url.host.clone(),
            reason: format!("not a name a certificate can be checked against: {e}"),
        })?;
        TlsConnector::from(self.config())
            .connect(name, tcp)
            .await
            .map_err(|e| handshake_error(url, e))
    }
    // ANCHOR_END: connect
}

impl Default for Tls {
    fn default() -> Tls {
        Tls::web()
    }
}

impl fmt::Debug for Tls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tls")
            .field("ca_file", &self.ca_file)
            .finish_non_exhaustive()
    }
}

/// Mozilla's web CAs.
fn web_roots() -> RootCertStore {
    RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    }
}

/// A client configuration trusting `roots`, offering HTTP/1.1 by ALPN. The provider
/// (ring) is named here rather than taken from a process-wide default, which another
/// crate in the build could change.
// rustls marks ring's provider deprecated because it lacks post-quantum key exchange
// (its other provider, aws-lc-rs, has it). ring is kept on purpose: it builds with the
// C compiler rustc already needs, in seconds, where aws-lc-rs is a long C build; the
// sessions are still TLS 1.3 (or 1.2) with X25519 and verified certificates.
#[allow(deprecated)]
fn client_config(roots: RootCertStore) -> ClientConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        // The safe defaults of a built-in provider are always consistent.
        .expect("ring supports TLS 1.2 and 1.3")
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![ALPN_HTTP_1_1.to_vec()];
    config
}

/// What a failed handshake means for the report. rustls says why it refused (an
/// unknown issuer, a name the certificate does not cover, an expired one...): that is
/// final, not worth a retry. Anything else is the connection's trouble.
fn handshake_error(url: &Url, error: io::Error) -> FetchError {
    let refused = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .map(|e| e.to_string());
    match refused {
        Some(reason) => {
            let hint = if reason.contains("UnknownIssuer") {
                " (signed by a CA this run does not trust: --ca-cert FILE adds one)"
            } else {
                ""
            };
            FetchError::Tls {
                host: url.host.clone(),
                reason: format!("{reason}{hint}"),
            }
        }
        None => FetchError::closed_or("the TLS handshake", error),
    }
}
