//! The clients, one round each: wrk, aiohttp (a Python script), and the course's tokio
//! engines, run in this process so that their CPU time is this process's own.

use std::fs::File;
use std::io::BufReader;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use async_download::EngineKind;
use async_download::feed::Feed;
use async_download::options::Options;
use procs::measure::{Usage, ratio};
use serde::Deserialize;

use crate::error::PeersError;
use crate::plan::PeerPlan;
use crate::plan::Sample;
use crate::running::run_bounded;
use crate::workdir::Workdir;

/// What wrk said.
#[derive(Debug, Clone, Copy, PartialEq)]
struct WrkReport {
    requests: u64,
    requests_per_sec: f64,
    /// Responses that were not 2xx or 3xx.
    non_2xx: u64,
    /// Connect, read, write and timeout errors together.
    socket_errors: u64,
}

// ANCHOR: wrk
/// wrk against `addr` for `secs` seconds, walking the documents' paths round robin,
/// `depth` requests sent at once on each connection (1: no pipelining).
pub fn run_wrk(
    wrk: &Path,
    plan: &PeerPlan,
    work: &Workdir,
    addr: SocketAddr,
    secs: u64,
    depth: usize,
) -> Result<Sample, PeersError> {
    let mut command = Command::new(wrk);
    command
        .arg(format!("-t{}", plan.wrk_threads))
        .arg(format!("-c{}", plan.connections))
        .arg(format!("-d{secs}s"))
        .arg("-s")
        .arg(&work.wrk_script)
        .arg(format!("http://{addr}/"))
        // After `--`: the script's own arguments (its `init(args)`).
        .arg("--")
        .arg(&work.paths)
        .arg(depth.to_string());
    let before = Usage::of_children().ok();
    // wrk stops itself after `secs`; the margin covers its start and a slow machine.
    let out = run_bounded(command, Duration::from_secs(secs + 30), "wrk")?;
    let after = Usage::of_children().ok();
    if !out.status.success() {
        return Err(PeersError::Failed {
            tool: "wrk",
            status: out.status,
            output: out.output(),
        });
    }
    let report = parse_wrk(&out.stdout).map_err(|problem| PeersError::Answer {
        tool: "wrk",
        problem: format!("{problem}; it printed:"),
        output: out.output(),
    })?;
    // A 404 is answered faster than a document: counting it would flatter the peer. A
    // few socket errors are not a wrong run: when the machine stalls for wrk's 2-second
    // timeout, every connection counts one (100 in 200,000 requests); more than 1% are.
    if report.non_2xx > 0 || report.socket_errors * 100 > report.requests {
        return Err(PeersError::Answer {
            tool: "wrk",
            problem: format!(
                "{} non-2xx responses and {} socket errors",
                report.non_2xx, report.socket_errors
            ),
            output: out.output(),
        });
    }
    Ok(Sample {
        per_sec: report.requests_per_sec,
        cpu_us_per_doc: cpu_per_doc(before, after, report.requests),
    })
}
// ANCHOR_END: wrk

/// Why wrk's report could not be read.
#[derive(Debug, thiserror::Error)]
pub enum WrkReportError {
    #[error("cannot read the line `{0}`")]
    Line(String),
    #[error("no `N requests in` and `Requests/sec:` lines in its report")]
    NoRate,
}

/// Reads the figures of wrk's report:
///
/// ```text
///   250123 requests in 5.00s, 1.12GB read
///   Socket errors: connect 0, read 0, write 0, timeout 0
///   Non-2xx or 3xx responses: 12
/// Requests/sec:  50012.34
/// ```
fn parse_wrk(text: &str) -> Result<WrkReport, WrkReportError> {
    let mut requests = None;
    let mut requests_per_sec = None;
    let mut non_2xx = 0;
    let mut socket_errors = 0;
    for line in text.lines().map(str::trim) {
        if let Some((count, _)) = line.split_once(" requests in ") {
            requests = count.trim().parse::<u64>().ok();
        } else if let Some(rate) = line.strip_prefix("Requests/sec:") {
            requests_per_sec = rate.trim().parse::<f64>().ok();
        } else if let Some(count) = line.strip_prefix("Non-2xx or 3xx responses:") {
            non_2xx = count
                .trim()
                .parse()
                .map_err(|_| WrkReportError::Line(line.to_string()))?;
        } else if let Some(errors) = line.strip_prefix("Socket errors:") {
            // "connect 0, read 0, write 0, timeout 0"
            for part in errors.split(',') {
                let count = part
                    .split_whitespace()
                    .nth(1)
                    .and_then(|n| n.parse::<u64>().ok());
                socket_errors += count.ok_or_else(|| WrkReportError::Line(line.to_string()))?;
            }
        }
    }
    match (requests, requests_per_sec) {
        (Some(requests), Some(rate)) if rate.is_finite() && rate > 0.0 => Ok(WrkReport {
            requests,
            requests_per_sec: rate,
            non_2xx,
            socket_errors,
        }),
        _ => Err(WrkReportError::NoRate),
    }
}

// ANCHOR: engine
/// This crate's engine `kind`, in this process, fetching the first `count` URLs of the
/// file `urls` with `plan.connections` workers, each on its own keep-alive connection,
/// `pipeline` requests at once on each; saving the documents in the folder `out`
/// (`--out`), or checking and dropping them (`None`).
pub fn engine(
    kind: EngineKind,
    pipeline: usize,
    urls: &Path,
    count: u64,
    plan: &PeerPlan,
    out: Option<&Path>,
) -> Result<Sample, PeersError> {
    let name = kind.name();
    let file = File::open(urls).map_err(|source| PeersError::Engine {
        engine: name,
        source: async_download::DownloadError::Input {
            what: urls.display().to_string(),
            source,
        },
    })?;
    let lines = async_download::target::url_lines(BufReader::new(file)).take(count as usize);
    let options = Options {
        concurrency: plan.connections,
        pipeline,
        // The same request as the other clients' (wrk sends no Accept-Encoding): the
        // race compares clients, not what a server does with compression.
        compress: false,
        out: out.map(Path::to_path_buf),
        ..Options::default()
    };
    let before = Usage::of_self().ok();
    let started = Instant::now();
    let report = async_download::download_with(kind, Feed::new(Box::new(lines)), options).map_err(
        |source| PeersError::Engine {
            engine: name,
            source,
        },
    )?;
    let wall = started.elapsed().as_secs_f64();
    let after = Usage::of_self().ok();
    if report.ok != count {
        let first = report.failures.first().map_or(String::new(), |f| {
            format!("; the first: {} ({})", f.url, f.reason)
        });
        return Err(PeersError::Answer {
            tool: name,
            problem: format!(
                "{} of {count} documents fetched, {} failed{first}",
                report.ok, report.failed
            ),
            output: String::new(),
        });
    }
    Ok(Sample {
        per_sec: ratio(report.ok as f64, wall),
        cpu_us_per_doc: cpu_per_doc(before, after, report.ok),
    })
}
// ANCHOR_END: engine

/// What the aiohttp script prints, as one JSON line.
#[derive(Debug, Deserialize)]
struct AiohttpReport {
    docs: u64,
    failed: u64,
    secs: f64,
    cpu_secs: f64,
    error: Option<String>,
}

/// The aiohttp script on the first `plan.aiohttp_documents` URLs of `urls`.
pub fn run_aiohttp(
    python: &Path,
    plan: &PeerPlan,
    work: &Workdir,
    urls: &Path,
) -> Result<Sample, PeersError> {
    let count = plan.aiohttp_documents.min(plan.documents);
    let mut command = Command::new(python);
    command
        .arg(&work.aiohttp_script)
        .arg(urls)
        .arg(count.to_string())
        .arg(plan.connections.to_string());
    // aiohttp does a few thousand documents a second: 20,000 take seconds, not minutes.
    let out = run_bounded(command, Duration::from_secs(300), "aiohttp")?;
    if !out.status.success() {
        return Err(PeersError::Failed {
            tool: "aiohttp",
            status: out.status,
            output: out.output(),
        });
    }
    let report: AiohttpReport = out
        .stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .and_then(|l| serde_json::from_str(l).ok())
        .ok_or_else(|| PeersError::Answer {
            tool: "aiohttp",
            problem: "no line of JSON with its result".into(),
            output: out.output(),
        })?;
    if report.docs != count || report.failed > 0 {
        return Err(PeersError::Answer {
            tool: "aiohttp",
            problem: format!(
                "{} of {count} documents fetched, {} failed: {}",
                report.docs,
                report.failed,
                report.error.as_deref().unwrap_or("?")
            ),
            output: String::new(),
        });
    }
    Ok(Sample {
        per_sec: ratio(report.docs as f64, report.secs),
        // Its own CPU clock over the fetching alone, without the interpreter's start.
        cpu_us_per_doc: Some(report.cpu_secs * 1e6 / report.docs.max(1) as f64),
    })
}

/// CPU time (user + system) per document between two readings, in µs: `None` when
/// the kernel would not say, or for no document.
pub fn cpu_per_doc(before: Option<Usage>, after: Option<Usage>, docs: u64) -> Option<f64> {
    let cpu = after?.since(&before?).cpu();
    (docs > 0).then(|| cpu * 1e6 / docs as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    const WRK_OUTPUT: &str = "Running 5s test @ http://127.0.0.1:8080/
  2 threads and 100 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.98ms  512.00us  12.00ms   80.00%
    Req/Sec    25.10k     1.20k   27.00k    70.00%
  250123 requests in 5.00s, 1.12GB read
Requests/sec:  50012.34
Transfer/sec:    229.12MB
";

    #[test]
    fn wrk_report_is_read() {
        let report = parse_wrk(WRK_OUTPUT).unwrap();
        assert_eq!(
            report,
            WrkReport {
                requests: 250_123,
                requests_per_sec: 50_012.34,
                non_2xx: 0,
                socket_errors: 0,
            }
        );
        let bad = WRK_OUTPUT.replace(
            "Requests/sec",
            "  Socket errors: connect 0, read 2, write 0, timeout 1\n  Non-2xx or 3xx responses: 7\nRequests/sec",
        );
        let report = parse_wrk(&bad).unwrap();
        assert_eq!((report.non_2xx, report.socket_errors), (7, 3));
    }

    #[test]
    fn odd_wrk_output_is_an_error_not_a_panic() {
        for text in [
            "",
            "unable to connect to 127.0.0.1:9 Connection refused",
            "250 requests in 5s\nRequests/sec: lots",
            "250 requests in 5s\nRequests/sec: 0.00",
            "x requests in 5s\nRequests/sec: 12.5",
        ] {
            assert!(parse_wrk(text).is_err(), "{text:?}");
        }
        let garbled = WRK_OUTPUT.replace(
            "Requests/sec",
            "Non-2xx or 3xx responses: many\nRequests/sec",
        );
        assert!(parse_wrk(&garbled).is_err());
    }
}
