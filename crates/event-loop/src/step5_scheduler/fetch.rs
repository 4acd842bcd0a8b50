//! What one download asks and checks, whatever does the waiting.
//!
//! Steps 5 and 7 fetch the same documents from the same corpus with the same codec; only
//! *how they wait* differs (a hand-written state machine, then an `async fn`). So the
//! request, the checks of the answer and the errors live here, once: when the two
//! engines are compared, they do the same work.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use sockets::corpus::{CHECKSUM_HEADER, verify};
use sockets::http::{HttpError, Method, RequestHead, Response, write_request};

/// The `User-Agent` of this lesson's downloads.
pub const USER_AGENT: &str = concat!("course-event-loop/", env!("CARGO_PKG_VERSION"));

/// Why one document could not be fetched; each variant says where.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("cannot connect to {addr}: {source}")]
    Connect {
        addr: SocketAddr,
        #[source]
        source: io::Error,
    },
    #[error("{doing} failed: {source}")]
    Io {
        doing: &'static str,
        #[source]
        source: io::Error,
    },
    #[error("no answer within {after:?} while {doing}")]
    Timeout {
        doing: &'static str,
        after: Duration,
    },
    #[error("the server closed the connection before any response")]
    Closed,
    #[error("bad response: {0}")]
    Http(#[from] HttpError),
    #[error("document {id}: status {status}")]
    Status { id: u64, status: u16 },
    #[error("document {id}: no {CHECKSUM_HEADER} header")]
    NoChecksum { id: u64 },
    #[error("document {id}: checksum mismatch over {len} bytes")]
    Checksum { id: u64, len: usize },
}

/// The path of document `id` in the corpus.
pub fn target(id: u64) -> String {
    format!("/wiki/{id}")
}

/// Appends `GET /wiki/{id}` for server `addr`, asking to keep the connection open.
pub fn write_get(addr: SocketAddr, id: u64, out: &mut Vec<u8>) {
    let host = addr.to_string();
    let target = target(id);
    write_request(
        &RequestHead {
            method: Method::Get,
            host: &host,
            target: &target,
            keep_alive: true,
            user_agent: USER_AGENT,
        },
        out,
    );
}

/// Checks the answer for document `id`: status 200 and a body that matches its
/// checksum header. Returns the body's length.
pub fn check(id: u64, response: &Response) -> Result<usize, FetchError> {
    if response.status != 200 {
        return Err(FetchError::Status {
            id,
            status: response.status,
        });
    }
    let Some(sum) = response.headers.get(CHECKSUM_HEADER) else {
        return Err(FetchError::NoChecksum { id });
    };
    if !verify(&response.body, sum) {
        return Err(FetchError::Checksum {
            id,
            len: response.body.len(),
        });
    }
    Ok(response.body.len())
}

/// What the end of the stream means for a response being read: the end of a
/// close-delimited body, an idle connection closed by the server, or a cut.
pub fn end_of_stream(parser: &mut sockets::http::ResponseParser) -> Result<Response, FetchError> {
    match parser.finish() {
        Ok(Some(response)) => Ok(response),
        Ok(None) => Err(FetchError::Closed),
        Err(error) => Err(FetchError::Http(error)),
    }
}
