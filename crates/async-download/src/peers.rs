//! Side by side with real peers: the downloader against wrk and Python's aiohttp on
//! nginx, and the tokio corpus server against nginx, all measured in one run.
//!
//! The race ([`crate::race`]) pits the course's engines against each other: it says
//! which of them is fastest, not whether any of them is fast. That needs outsiders
//! people already trust: nginx as the server, wrk (a load generator written in C for
//! exactly this) as the client to beat, and aiohttp as what a Python programmer would
//! write. The targets come from the issue that asked for this benchmark:
//!
//! - nginx with 2 workers serving 100,000 documents of 2 to 8 KB, 100 connections: the
//!   tokio engine fetches at least [`CLIENT_VS_WRK`] times as many documents per second
//!   as wrk, and [`CLIENT_VS_AIOHTTP`] times as many as aiohttp (100 at once, one
//!   `ClientSession`);
//! - under the same wrk load, the tokio corpus server answers at least
//!   [`SERVER_VS_NGINX`] times the requests per second of nginx with 1 worker.
//!
//! Rules, so that the figures mean something. Every figure is measured in this run and
//! every ratio is computed from them, never typed in: a busy machine slows both sides,
//! so a ratio holds where an absolute figure would not. The sides take turns, round
//! after round, and the median of the rounds is kept, so a slow moment hurts one sample
//! and not one side. Each client fetches the same documents from the same server over
//! the same number of connections.
//!
//! The tools are not part of the project (CI never runs this): a comparison whose tool
//! is missing says "skipped" and why; a missed target is a finding, not an error. Only
//! a tool that is there and fails to run makes the command fail.
//!
//! Every process started here is bounded in time and reaped on every path, nginx's
//! workers included (see `Nginx::shut_down`); the temporary folder — half a gigabyte of
//! documents for the full run — is removed at the end, and on Ctrl-C too.

use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use procs::child_server::ChildServer;
use procs::measure::{Stats, Usage, ratio};
use serde::{Deserialize, Serialize};
use sockets::corpus::{document_size, write_document};

use crate::engine::EngineKind;
use crate::feed::Feed;
use crate::options::Options;

/// The tokio engine against wrk: documents per second, at least this many times wrk's.
pub const CLIENT_VS_WRK: f64 = 1.25;
/// The tokio engine against aiohttp: documents per second, at least this many times.
pub const CLIENT_VS_AIOHTTP: f64 = 8.0;
/// The tokio corpus server against nginx with 1 worker: requests per second under wrk.
pub const SERVER_VS_NGINX: f64 = 1.2;

/// The documents' sizes: the issue's "2–8 KB". Corpus ids outside it are skipped.
const DOCUMENT_SIZES: std::ops::RangeInclusive<usize> = 2048..=8192;

/// What to measure, and for how long.
#[derive(Debug, Clone, Serialize)]
pub struct PeerPlan {
    /// Documents nginx serves; each round of an engine fetches them all.
    pub documents: u64,
    /// Documents aiohttp fetches in a round: fewer, since it is some ten times slower
    /// and its rate is steady after a few thousand.
    pub aiohttp_documents: u64,
    /// Connections: wrk's `-c`, the engines' concurrency, aiohttp's workers.
    pub connections: usize,
    /// wrk's threads (`-t`).
    pub wrk_threads: usize,
    /// How long one wrk run lasts (`-d`), in seconds.
    pub wrk_secs: u64,
    /// Each side is measured this many times, in turns, and the median kept.
    pub rounds: usize,
    /// Requests sent at once on each connection in the pipelined rows (wrk's and the
    /// tokio engines' `--pipeline`). Four: nginx with `tcp_nopush` answers 8 pipelined
    /// requests of these sizes some 40 ms late, to wrk and to us alike.
    pub pipeline: usize,
}

impl PeerPlan {
    /// The benchmark the issue describes: 100,000 documents, 5-second wrk runs, the
    /// median of 3 rounds: about two minutes, and 450 MB in the temp folder.
    pub fn full() -> PeerPlan {
        PeerPlan {
            documents: 100_000,
            aiohttp_documents: 20_000,
            connections: 100,
            wrk_threads: 2,
            wrk_secs: 5,
            rounds: 3,
            pipeline: 4,
        }
    }

    /// A check that everything runs: 10,000 documents, one round of 2-second wrk runs.
    pub fn quick() -> PeerPlan {
        PeerPlan {
            documents: 10_000,
            aiohttp_documents: 10_000,
            wrk_secs: 2,
            rounds: 1,
            ..PeerPlan::full()
        }
    }
}

// The measurements, by name. Each is a row of the table and a side of a comparison.
const WRK_NGINX2: &str = "wrk → nginx, 2 workers";
const MULTI_NGINX2: &str = "tokio-multi engine → nginx, 2 workers";
const CURRENT_NGINX2: &str = "tokio engine (current-thread) → nginx, 2 workers";
const WRK_PIPELINED: &str = "wrk, pipelined → nginx, 2 workers";
const MULTI_PIPELINED: &str = "tokio-multi engine, pipelined → nginx, 2 workers";
const CURRENT_PIPELINED: &str = "tokio engine (current-thread), pipelined → nginx, 2 workers";
const AIOHTTP_NGINX2: &str = "aiohttp → nginx, 2 workers";
const WRK_NGINX1: &str = "wrk → nginx, 1 worker";
const WRK_CORPUS1: &str = "wrk → tokio corpus server, 1 worker";

const DOCS_PER_SEC: &str = "documents/s";
const REQUESTS_PER_SEC: &str = "requests/s";

/// Every row, in the order of the table.
const ROWS: [(&str, &str); 9] = [
    (WRK_NGINX2, REQUESTS_PER_SEC),
    (MULTI_NGINX2, DOCS_PER_SEC),
    (CURRENT_NGINX2, DOCS_PER_SEC),
    (WRK_PIPELINED, REQUESTS_PER_SEC),
    (MULTI_PIPELINED, DOCS_PER_SEC),
    (CURRENT_PIPELINED, DOCS_PER_SEC),
    (AIOHTTP_NGINX2, DOCS_PER_SEC),
    (WRK_NGINX1, REQUESTS_PER_SEC),
    (WRK_CORPUS1, REQUESTS_PER_SEC),
];

/// The comparisons: (name, ours, theirs, target ratio). "The tokio engine" of the issue
/// is compared in both its forms: the default, multi-thread one, and the one thread;
/// and each both as it runs by default (a request waits for the previous response) and
/// pipelined, against wrk as it runs by default. How the pipelined engines compare
/// with wrk pipelined too is told under the table ([`markdown`]).
const COMPARISONS: [(&str, &str, &str, f64); 9] = [
    (
        "tokio-multi engine vs wrk (nginx, 2 workers)",
        MULTI_NGINX2,
        WRK_NGINX2,
        CLIENT_VS_WRK,
    ),
    (
        "tokio engine vs wrk (nginx, 2 workers)",
        CURRENT_NGINX2,
        WRK_NGINX2,
        CLIENT_VS_WRK,
    ),
    (
        "tokio-multi engine, pipelined vs wrk (nginx, 2 workers)",
        MULTI_PIPELINED,
        WRK_NGINX2,
        CLIENT_VS_WRK,
    ),
    (
        "tokio engine, pipelined vs wrk (nginx, 2 workers)",
        CURRENT_PIPELINED,
        WRK_NGINX2,
        CLIENT_VS_WRK,
    ),
    (
        "tokio-multi engine, pipelined vs aiohttp (nginx, 2 workers)",
        MULTI_PIPELINED,
        AIOHTTP_NGINX2,
        CLIENT_VS_AIOHTTP,
    ),
    (
        "tokio engine, pipelined vs aiohttp (nginx, 2 workers)",
        CURRENT_PIPELINED,
        AIOHTTP_NGINX2,
        CLIENT_VS_AIOHTTP,
    ),
    (
        "tokio-multi engine vs aiohttp (nginx, 2 workers)",
        MULTI_NGINX2,
        AIOHTTP_NGINX2,
        CLIENT_VS_AIOHTTP,
    ),
    (
        "tokio engine vs aiohttp (nginx, 2 workers)",
        CURRENT_NGINX2,
        AIOHTTP_NGINX2,
        CLIENT_VS_AIOHTTP,
    ),
    (
        "tokio corpus server vs nginx (1 worker), under wrk",
        WRK_CORPUS1,
        WRK_NGINX1,
        SERVER_VS_NGINX,
    ),
];

/// Everything one run measured: what `--json` writes.
#[derive(Debug, Clone, Serialize)]
pub struct Peers {
    pub machine: String,
    pub plan: PeerPlan,
    /// The documents' total size in bytes (0 when nginx is missing: none were made).
    pub document_bytes: u64,
    pub tools: Vec<Tool>,
    pub measurements: Vec<Measurement>,
    pub comparisons: Vec<Comparison>,
}

impl Peers {
    /// Whether something that was available failed to run (the command's exit code).
    pub fn failed(&self) -> bool {
        self.measurements
            .iter()
            .any(|m| matches!(m.figure, Figure::Failed { .. }))
    }
}

/// A tool this benchmark uses, and whether it was found.
#[derive(Debug, Clone, Serialize)]
pub struct Tool {
    pub name: String,
    /// Its version and where it is, or why it is not used.
    pub status: String,
    pub found: bool,
}

/// One row: a client fetching from a server.
#[derive(Debug, Clone, Serialize)]
pub struct Measurement {
    pub name: String,
    pub unit: String,
    #[serde(flatten)]
    pub figure: Figure,
}

/// What a row holds.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Figure {
    Measured {
        /// The median of the rounds.
        per_sec: f64,
        /// Each round's figure, in order.
        samples: Vec<f64>,
        /// The client's CPU time (user + system) per document, in µs, median of the
        /// rounds: `None` when the kernel would not say.
        cpu_us_per_doc: Option<f64>,
    },
    Skipped {
        reason: String,
    },
    Failed {
        error: String,
    },
}

/// One target of the issue, checked.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub name: String,
    pub ours: String,
    pub theirs: String,
    pub target: f64,
    /// ours / theirs, when both were measured.
    pub ratio: Option<f64>,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// How a comparison came out.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "result", rename_all = "lowercase")]
pub enum Outcome {
    Met,
    Missed,
    Skipped { reason: String },
    Failed { error: String },
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Met => write!(f, "met"),
            Outcome::Missed => write!(f, "missed"),
            Outcome::Skipped { reason } => write!(f, "skipped: {}", cell(reason)),
            Outcome::Failed { error } => write!(f, "failed: {}", cell(error)),
        }
    }
}

// ANCHOR: run
/// Runs the benchmark `plan` describes; `log` hears of each step as it ends (for
/// progress). `Err` only when the run could not be prepared or was interrupted (see
/// [`interrupted`]); a tool that failed is in the result, as [`Figure::Failed`].
pub fn run(plan: &PeerPlan, mut log: impl FnMut(&str)) -> Result<Peers, String> {
    watch_ctrl_c();
    let tools = Tools::detect();
    let mut board = Board::new();
    let mut document_bytes = 0;
    match (&tools.nginx, &tools.wrk, &tools.aiohttp) {
        (Err(reason), _, _) => {
            for (name, _) in ROWS {
                board.skip(name, reason);
            }
        }
        // Without a peer, half a gigabyte of documents would only measure ourselves.
        (Ok(_), Err(no_wrk), Err(no_aiohttp)) => {
            for name in [WRK_NGINX2, WRK_PIPELINED, WRK_NGINX1, WRK_CORPUS1] {
                board.skip(name, no_wrk);
            }
            board.skip(AIOHTTP_NGINX2, no_aiohttp);
            for name in [
                MULTI_NGINX2,
                CURRENT_NGINX2,
                MULTI_PIPELINED,
                CURRENT_PIPELINED,
            ] {
                board.skip(name, "no peer to compare with: wrk and aiohttp are missing");
            }
        }
        (Ok(nginx), _, _) => {
            let work = Workdir::create(plan, &mut log)?;
            document_bytes = work.bytes;
            clients(plan, &tools, &nginx.path, &work, &mut board, &mut log)?;
            servers(plan, &tools, &nginx.path, &work, &mut board, &mut log)?;
        }
    }
    let measurements = board.into_measurements();
    let comparisons = compare(&measurements);
    Ok(Peers {
        machine: crate::race::machine(),
        plan: plan.clone(),
        document_bytes,
        tools: tools.list(),
        measurements,
        comparisons,
    })
}
// ANCHOR_END: run

/// The clients on nginx with 2 workers: wrk, both tokio engines, aiohttp.
fn clients(
    plan: &PeerPlan,
    tools: &Tools,
    nginx: &Path,
    work: &Workdir,
    board: &mut Board,
    log: &mut dyn FnMut(&str),
) -> Result<(), String> {
    let wrk = tools.wrk.as_ref().map(|w| w.path.as_path());
    let python = tools.aiohttp.as_ref().map(|p| p.path.as_path());
    if let Err(reason) = wrk {
        board.skip(WRK_NGINX2, reason);
        board.skip(WRK_PIPELINED, reason);
    }
    if let Err(reason) = python {
        board.skip(AIOHTTP_NGINX2, reason);
    }
    let clients = [
        WRK_NGINX2,
        MULTI_NGINX2,
        CURRENT_NGINX2,
        WRK_PIPELINED,
        MULTI_PIPELINED,
        CURRENT_PIPELINED,
        AIOHTTP_NGINX2,
    ];
    let server = match Nginx::start(nginx, work, 2) {
        Ok(server) => server,
        Err(error) => {
            log(&format!("nginx (2 workers): FAILED: {error}"));
            for name in clients {
                board.fail(name, &error);
            }
            return Ok(());
        }
    };
    log(&format!("nginx (2 workers) on {}", server.addr));
    let urls = work.write_urls(server.addr)?;
    // A first pass, not counted, so that nobody pays alone for the server's cold start
    // (its workers' first connections, the kernel's first lookups of the files).
    let warm_up = engine(
        EngineKind::TokioMulti,
        1,
        &urls,
        plan.documents.min(5_000),
        plan,
    );
    if let Err(error) = warm_up {
        log(&format!("warm-up: FAILED: {error}"));
        for name in clients {
            board.fail(name, &format!("warm-up: {error}"));
        }
        return Ok(());
    }
    for round in 1..=plan.rounds {
        checkpoint()?;
        for (name, depth) in [(WRK_NGINX2, 1), (WRK_PIPELINED, plan.pipeline)] {
            checkpoint()?;
            if let (Ok(wrk), true) = (wrk, board.wants(name)) {
                let sample = run_wrk(wrk, plan, work, server.addr, plan.wrk_secs, depth);
                board.record(name, sample, round, log);
            }
        }
        for (name, kind, depth) in [
            (MULTI_NGINX2, EngineKind::TokioMulti, 1),
            (CURRENT_NGINX2, EngineKind::Tokio, 1),
            (MULTI_PIPELINED, EngineKind::TokioMulti, plan.pipeline),
            (CURRENT_PIPELINED, EngineKind::Tokio, plan.pipeline),
        ] {
            checkpoint()?;
            if board.wants(name) {
                let sample = engine(kind, depth, &urls, plan.documents, plan);
                board.record(name, sample, round, log);
            }
        }
        checkpoint()?;
        if let (Ok(python), true) = (python, board.wants(AIOHTTP_NGINX2)) {
            let sample = run_aiohttp(python, plan, work, &urls);
            board.record(AIOHTTP_NGINX2, sample, round, log);
        }
    }
    server.stop();
    Ok(())
}

/// The servers under wrk: nginx with 1 worker, the tokio corpus server with 1 worker.
fn servers(
    plan: &PeerPlan,
    tools: &Tools,
    nginx: &Path,
    work: &Workdir,
    board: &mut Board,
    log: &mut dyn FnMut(&str),
) -> Result<(), String> {
    let wrk = match &tools.wrk {
        Ok(wrk) => wrk.path.as_path(),
        Err(reason) => {
            board.skip(WRK_NGINX1, reason);
            board.skip(WRK_CORPUS1, reason);
            return Ok(());
        }
    };
    checkpoint()?;
    let nginx = Nginx::start(nginx, work, 1)
        .inspect_err(|error| {
            log(&format!("nginx (1 worker): FAILED: {error}"));
            board.fail(WRK_NGINX1, error);
        })
        .ok();
    // In a child process of its own, as in the race: the server must not share this
    // process's CPU accounting, nor its runtime with anything else.
    let corpus = ChildServer::start(&[crate::cli::SERVE_CORPUS, "--workers", "1"])
        .map_err(|e| format!("the tokio corpus server would not start: {e}"))
        .inspect_err(|error| {
            log(&format!("FAILED: {error}"));
            board.fail(WRK_CORPUS1, error);
        })
        .ok();
    let mut servers = Vec::new();
    if let Some(nginx) = &nginx {
        log(&format!("nginx (1 worker) on {}", nginx.addr));
        servers.push((WRK_NGINX1, nginx.addr));
    }
    if let Some(corpus) = &corpus {
        log(&format!(
            "tokio corpus server (1 worker) on {}",
            corpus.addr()
        ));
        servers.push((WRK_CORPUS1, corpus.addr()));
    }
    // A short run each first, not counted: the same warm start for both.
    for &(name, addr) in &servers {
        checkpoint()?;
        if let Err(error) = run_wrk(wrk, plan, work, addr, 1, 1) {
            log(&format!("{name}, warm-up: FAILED: {error}"));
            board.fail(name, &format!("warm-up: {error}"));
        }
    }
    for round in 1..=plan.rounds {
        for &(name, addr) in &servers {
            checkpoint()?;
            if board.wants(name) {
                let sample = run_wrk(wrk, plan, work, addr, plan.wrk_secs, 1);
                board.record(name, sample, round, log);
            }
        }
    }
    if let Some(corpus) = corpus {
        corpus.stop();
    }
    if let Some(nginx) = nginx {
        nginx.stop();
    }
    Ok(())
}

/// One round of one client.
#[derive(Debug, Clone, Copy)]
struct Sample {
    per_sec: f64,
    cpu_us_per_doc: Option<f64>,
}

/// The rows as they fill up.
#[derive(Debug)]
struct Board {
    rows: Vec<(&'static str, &'static str, Row)>,
}

#[derive(Debug)]
enum Row {
    Open(Vec<Sample>),
    Skipped(String),
    Failed(String),
}

impl Board {
    fn new() -> Board {
        Board {
            rows: ROWS
                .iter()
                .map(|&(name, unit)| (name, unit, Row::Open(Vec::new())))
                .collect(),
        }
    }

    fn row(&mut self, name: &str) -> Option<&mut Row> {
        self.rows
            .iter_mut()
            .find(|(n, _, _)| *n == name)
            .map(|(_, _, row)| row)
    }

    /// Whether `name` is still to be measured (not skipped, not failed).
    fn wants(&self, name: &str) -> bool {
        self.rows
            .iter()
            .any(|(n, _, row)| *n == name && matches!(row, Row::Open(_)))
    }

    fn skip(&mut self, name: &str, reason: &str) {
        if let Some(row @ Row::Open(_)) = self.row(name) {
            *row = Row::Skipped(reason.to_string());
        }
    }

    /// The first failure is kept: the later ones are usually its consequences.
    fn fail(&mut self, name: &str, error: &str) {
        if let Some(row @ Row::Open(_)) = self.row(name) {
            *row = Row::Failed(error.to_string());
        }
    }

    fn record(
        &mut self,
        name: &str,
        sample: Result<Sample, String>,
        round: usize,
        log: &mut dyn FnMut(&str),
    ) {
        let unit = ROWS
            .iter()
            .find(|(n, _)| *n == name)
            .map_or("", |(_, unit)| unit);
        match sample {
            Ok(sample) => {
                let cpu = sample
                    .cpu_us_per_doc
                    .map_or(String::new(), |us| format!(", {us:.1} µs CPU/doc"));
                log(&format!(
                    "[round {round}] {name}: {:.0} {unit}{cpu}",
                    sample.per_sec
                ));
                if let Some(Row::Open(samples)) = self.row(name) {
                    samples.push(sample);
                }
            }
            Err(error) => {
                log(&format!("[round {round}] {name}: FAILED: {error}"));
                self.fail(name, &error);
            }
        }
    }

    fn into_measurements(self) -> Vec<Measurement> {
        self.rows
            .into_iter()
            .map(|(name, unit, row)| {
                let figure = match row {
                    Row::Skipped(reason) => Figure::Skipped { reason },
                    Row::Failed(error) => Figure::Failed { error },
                    Row::Open(samples) => figure_of(&samples),
                };
                Measurement {
                    name: name.to_string(),
                    unit: unit.to_string(),
                    figure,
                }
            })
            .collect()
    }
}

/// The median of the rounds.
fn figure_of(samples: &[Sample]) -> Figure {
    let per_sec: Vec<f64> = samples.iter().map(|s| s.per_sec).collect();
    let Some(stats) = Stats::from_samples(per_sec.clone()) else {
        return Figure::Skipped {
            reason: "not measured".into(),
        };
    };
    let cpu: Option<Vec<f64>> = samples.iter().map(|s| s.cpu_us_per_doc).collect();
    let cpu = cpu.and_then(Stats::from_samples).map(|s| s.median);
    Figure::Measured {
        per_sec: stats.median,
        samples: per_sec,
        cpu_us_per_doc: cpu,
    }
}

/// Each target, checked against this run's figures.
fn compare(measurements: &[Measurement]) -> Vec<Comparison> {
    let find = |name: &str| measurements.iter().find(|m| m.name == name);
    COMPARISONS
        .iter()
        .map(|&(name, ours, theirs, target)| {
            let (ratio, outcome) = match (find(ours), find(theirs)) {
                (Some(a), Some(b)) => judge(&a.figure, &b.figure, target),
                _ => (
                    None,
                    Outcome::Failed {
                        error: "no such measurement".into(),
                    },
                ),
            };
            Comparison {
                name: name.to_string(),
                ours: ours.to_string(),
                theirs: theirs.to_string(),
                target,
                ratio,
                outcome,
            }
        })
        .collect()
}

/// ours / theirs against `target`; a failure outranks a skip, which outranks a figure,
/// and the peer's reason to be skipped (its tool is missing) is the one told.
fn judge(ours: &Figure, theirs: &Figure, target: f64) -> (Option<f64>, Outcome) {
    match (ours, theirs) {
        (Figure::Failed { error }, _) | (_, Figure::Failed { error }) => (
            None,
            Outcome::Failed {
                error: error.clone(),
            },
        ),
        (_, Figure::Skipped { reason }) | (Figure::Skipped { reason }, _) => (
            None,
            Outcome::Skipped {
                reason: reason.clone(),
            },
        ),
        (Figure::Measured { per_sec: a, .. }, Figure::Measured { per_sec: b, .. }) => {
            let r = ratio(*a, *b);
            // NaN (nothing measured on their side) is not >= anything: missed.
            let outcome = if r >= target {
                Outcome::Met
            } else {
                Outcome::Missed
            };
            (r.is_finite().then_some(r), outcome)
        }
    }
}

// ANCHOR: markdown
/// The run as Markdown: the figures, then the targets.
pub fn markdown(peers: &Peers) -> String {
    let plan = &peers.plan;
    let mut text = format!(
        "{} documents of 2–8 KB ({:.0} MB), {} connections, wrk -t{} -d{}s, median of {} round{}; {}.\n",
        thousands(plan.documents as f64),
        peers.document_bytes as f64 / 1e6,
        plan.connections,
        plan.wrk_threads,
        plan.wrk_secs,
        plan.rounds,
        if plan.rounds == 1 { "" } else { "s" },
        peers.machine,
    );
    let tools: Vec<String> = peers
        .tools
        .iter()
        .map(|t| format!("{}: {}", t.name, t.status))
        .collect();
    text.push_str(&format!(
        "Pipelined: {} requests sent at once on each connection, before the first response.\n",
        plan.pipeline
    ));
    text.push_str(&format!("Tools: {}.\n\n", tools.join("; ")));
    text.push_str("| client → server | figure | client CPU µs/doc | rounds |\n");
    text.push_str("|---|---:|---:|---|\n");
    for m in &peers.measurements {
        let (figure, cpu, rounds) = match &m.figure {
            Figure::Measured {
                per_sec,
                samples,
                cpu_us_per_doc,
            } => (
                format!("{} {}", thousands(*per_sec), m.unit),
                cpu_us_per_doc.map_or("?".into(), |us| format!("{us:.1}")),
                samples
                    .iter()
                    .map(|s| thousands(*s))
                    .collect::<Vec<_>>()
                    .join(" / "),
            ),
            Figure::Skipped { reason } => (
                format!("skipped: {}", cell(reason)),
                String::new(),
                String::new(),
            ),
            Figure::Failed { error } => (
                format!("failed: {}", cell(error)),
                String::new(),
                String::new(),
            ),
        };
        text.push_str(&format!("| {} | {figure} | {cpu} | {rounds} |\n", m.name));
    }
    text.push_str("\n| target | ratio | wanted | result |\n|---|---:|---:|---|\n");
    for c in &peers.comparisons {
        let ratio = c.ratio.map_or("–".into(), |r| format!("{r:.2}x"));
        text.push_str(&format!(
            "| {} | {ratio} | ≥ {}x | {} |\n",
            c.name, c.target, c.outcome
        ));
    }
    text.push_str(&same_footing(&peers.measurements));
    text
}

/// Pipelining against pipelining: how the pipelined engines compare with wrk
/// pipelined as deep (no target; said so that the targets above are read rightly).
fn same_footing(measurements: &[Measurement]) -> String {
    let per_sec = |name: &str| {
        measurements.iter().find_map(|m| match &m.figure {
            Figure::Measured { per_sec, .. } if m.name == name => Some(*per_sec),
            _ => None,
        })
    };
    let Some(wrk) = per_sec(WRK_PIPELINED) else {
        return String::new();
    };
    let ours: Vec<String> = [
        ("tokio-multi", MULTI_PIPELINED),
        ("tokio (current-thread)", CURRENT_PIPELINED),
    ]
    .iter()
    .filter_map(|&(engine, name)| {
        per_sec(name).map(|ours| format!("{engine} {:.2}x", ratio(ours, wrk)))
    })
    .collect();
    if ours.is_empty() {
        return String::new();
    }
    format!(
        "\nBoth sides pipelined, the engines against wrk pipelined as deep: {}.\n",
        ours.join(", ")
    )
}
// ANCHOR_END: markdown

/// 65432.1 as "65,432".
fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `text` fit for a table cell: one line, no `|`, at most 200 characters (the whole
/// text is in the log and in the JSON).
fn cell(text: &str) -> String {
    let line = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|");
    match line.char_indices().nth(200) {
        Some((at, _)) => format!("{}...", &line[..at]),
        None => line,
    }
}

// ---------------------------------------------------------------------------------
// The tools.

/// A tool that was found.
#[derive(Debug, Clone)]
struct Found {
    /// The program to run (for aiohttp: python3).
    path: PathBuf,
    version: String,
}

/// The tools, or for each missing one the reason its comparisons are skipped.
#[derive(Debug)]
struct Tools {
    nginx: Result<Found, String>,
    wrk: Result<Found, String>,
    aiohttp: Result<Found, String>,
}

impl Tools {
    fn detect() -> Tools {
        Tools {
            nginx: find_nginx(),
            wrk: find_wrk(),
            aiohttp: find_aiohttp(),
        }
    }

    fn list(&self) -> Vec<Tool> {
        [
            ("nginx", &self.nginx),
            ("wrk", &self.wrk),
            ("aiohttp", &self.aiohttp),
        ]
        .into_iter()
        .map(|(name, found)| Tool {
            name: name.to_string(),
            status: match found {
                Ok(f) => format!("{} ({})", f.version, f.path.display()),
                Err(reason) => reason.clone(),
            },
            found: found.is_ok(),
        })
        .collect()
    }
}

/// How long a tool may take to say its version.
const VERSION_LIMIT: Duration = Duration::from_secs(30);

fn find_nginx() -> Result<Found, String> {
    // nginx lives in sbin, which an ordinary user's PATH often leaves out.
    let path = ["nginx", "/usr/sbin/nginx", "/usr/local/sbin/nginx"]
        .into_iter()
        .find_map(|name| procs::spawn::find_program(name).ok())
        .ok_or("nginx not installed (apt-get install nginx)")?;
    // `nginx -v` answers on stderr: "nginx version: nginx/1.22.1".
    let mut command = Command::new(&path);
    command.arg("-v");
    let out = run_bounded(command, VERSION_LIMIT, "nginx -v")?;
    let text = out.stdout.clone() + &out.stderr;
    match text.lines().find_map(|l| l.strip_prefix("nginx version: ")) {
        Some(version) if out.status.success() => Ok(Found {
            path,
            version: version.trim().to_string(),
        }),
        _ => Err(format!(
            "nginx at {} does not run: {}",
            path.display(),
            out.output()
        )),
    }
}

fn find_wrk() -> Result<Found, String> {
    let path = procs::spawn::find_program("wrk")
        .map_err(|_| "wrk not installed (apt-get install wrk)".to_string())?;
    // `wrk -v` prints "wrk 4.1.0 [epoll] Copyright..." and its usage, and exits with 1.
    let mut command = Command::new(&path);
    command.arg("-v");
    let out = run_bounded(command, VERSION_LIMIT, "wrk -v")?;
    let version = out
        .stdout
        .lines()
        .chain(out.stderr.lines())
        .find(|l| l.starts_with("wrk "))
        .map(|l| l.split(" Copyright").next().unwrap_or(l).trim().to_string())
        .ok_or_else(|| format!("wrk at {} does not run: {}", path.display(), out.output()))?;
    Ok(Found { path, version })
}

fn find_aiohttp() -> Result<Found, String> {
    let path = procs::spawn::find_program("python3").map_err(|_| {
        "python3 not installed (apt-get install python3; pip install aiohttp)".to_string()
    })?;
    let mut command = Command::new(&path);
    command.args([
        "-c",
        "import sys, aiohttp; print('aiohttp', aiohttp.__version__, 'on Python', sys.version.split()[0])",
    ]);
    let out = run_bounded(command, VERSION_LIMIT, "python3 -c 'import aiohttp'")?;
    let version = out.stdout.trim();
    if out.status.success() && version.starts_with("aiohttp ") {
        Ok(Found {
            version: version.to_string(),
            path,
        })
    } else {
        Err(format!(
            "aiohttp not installed for {} (pip install aiohttp)",
            path.display()
        ))
    }
}

// ---------------------------------------------------------------------------------
// The clients.

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
fn run_wrk(
    wrk: &Path,
    plan: &PeerPlan,
    work: &Workdir,
    addr: SocketAddr,
    secs: u64,
    depth: usize,
) -> Result<Sample, String> {
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
        return Err(format!("wrk failed ({}): {}", out.status, out.output()));
    }
    let report =
        parse_wrk(&out.stdout).map_err(|e| format!("wrk: {e}; it printed: {}", out.output()))?;
    // A 404 is answered faster than a document: counting it would flatter the peer. A
    // few socket errors are not a wrong run: when the machine stalls for wrk's 2-second
    // timeout, every connection counts one (100 in 200,000 requests); more than 1% are.
    if report.non_2xx > 0 || report.socket_errors * 100 > report.requests {
        return Err(format!(
            "wrk met {} non-2xx responses and {} socket errors: {}",
            report.non_2xx,
            report.socket_errors,
            out.output()
        ));
    }
    Ok(Sample {
        per_sec: report.requests_per_sec,
        cpu_us_per_doc: cpu_per_doc(before, after, report.requests),
    })
}
// ANCHOR_END: wrk

/// Reads the figures of wrk's report:
///
/// ```text
///   250123 requests in 5.00s, 1.12GB read
///   Socket errors: connect 0, read 0, write 0, timeout 0
///   Non-2xx or 3xx responses: 12
/// Requests/sec:  50012.34
/// ```
fn parse_wrk(text: &str) -> Result<WrkReport, String> {
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
                .map_err(|_| format!("cannot read the line `{line}`"))?;
        } else if let Some(errors) = line.strip_prefix("Socket errors:") {
            // "connect 0, read 0, write 0, timeout 0"
            for part in errors.split(',') {
                let count = part
                    .split_whitespace()
                    .nth(1)
                    .and_then(|n| n.parse::<u64>().ok());
                socket_errors += count.ok_or_else(|| format!("cannot read the line `{line}`"))?;
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
        _ => Err("no `N requests in` and `Requests/sec:` lines in its report".into()),
    }
}

// ANCHOR: engine
/// This crate's engine `kind`, in this process, fetching the first `count` URLs of the
/// file `urls` with `plan.connections` workers, each on its own keep-alive connection,
/// `pipeline` requests at once on each.
fn engine(
    kind: EngineKind,
    pipeline: usize,
    urls: &Path,
    count: u64,
    plan: &PeerPlan,
) -> Result<Sample, String> {
    let name = kind.name();
    let file =
        File::open(urls).map_err(|e| format!("{name}: cannot open {}: {e}", urls.display()))?;
    let lines = crate::target::url_lines(BufReader::new(file)).take(count as usize);
    let options = Options {
        concurrency: plan.connections,
        pipeline,
        ..Options::default()
    };
    let before = Usage::of_self().ok();
    let started = Instant::now();
    let report = crate::download_with(kind, Feed::new(Box::new(lines)), options)
        .map_err(|e| format!("{name}: {e}"))?;
    let wall = started.elapsed().as_secs_f64();
    let after = Usage::of_self().ok();
    if report.ok != count {
        let first = report.failures.first().map_or(String::new(), |f| {
            format!("; the first: {} ({})", f.url, f.reason)
        });
        return Err(format!(
            "{name}: {} of {count} documents fetched, {} failed{first}",
            report.ok, report.failed
        ));
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
fn run_aiohttp(
    python: &Path,
    plan: &PeerPlan,
    work: &Workdir,
    urls: &Path,
) -> Result<Sample, String> {
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
        return Err(format!("aiohttp failed ({}): {}", out.status, out.output()));
    }
    let report: AiohttpReport = out
        .stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .ok_or_else(|| "no JSON line".to_string())
        .and_then(|l| serde_json::from_str(l).map_err(|e| e.to_string()))
        .map_err(|e| format!("aiohttp: cannot read its result ({e}): {}", out.output()))?;
    if report.docs != count || report.failed > 0 {
        return Err(format!(
            "aiohttp: {} of {count} documents fetched, {} failed: {}",
            report.docs,
            report.failed,
            report.error.as_deref().unwrap_or("?")
        ));
    }
    Ok(Sample {
        per_sec: ratio(report.docs as f64, report.secs),
        // Its own CPU clock over the fetching alone, without the interpreter's start.
        cpu_us_per_doc: Some(report.cpu_secs * 1e6 / report.docs.max(1) as f64),
    })
}

fn cpu_per_doc(before: Option<Usage>, after: Option<Usage>, docs: u64) -> Option<f64> {
    let cpu = after?.since(&before?).cpu();
    (docs > 0).then(|| cpu * 1e6 / docs as f64)
}

// ---------------------------------------------------------------------------------
// The temporary folder: documents, URL lists, scripts.

/// wrk's script. With a `request` function, wrk asks Lua for every request; the
/// requests are made once, in `init`, so that each one costs wrk a table lookup and
/// the peer is as fast as it can be. Each thread has its own Lua state, hence its own
/// copy and its own place in the list. Pipelined, a "request" is `depth` GETs in one
/// string: wrk sends them in one write and counts each response.
const WRK_SCRIPT: &str = r#"-- Written by `async-download --peers`: every request another document, round robin.
-- Arguments: PATHS_FILE [DEPTH]: DEPTH requests sent at once on a connection.
local requests = {}
local next_request = 1

function init(args)
  local depth = tonumber(args[2] or "1")
  local batch = {}
  for path in io.lines(args[1]) do
    batch[#batch + 1] = wrk.format("GET", path)
    if #batch == depth then
      requests[#requests + 1] = table.concat(batch)
      batch = {}
    end
  end
  if #requests == 0 then
    error("no paths in " .. args[1])
  end
end

function request()
  local r = requests[next_request]
  next_request = next_request % #requests + 1
  return r
end
"#;

/// The aiohttp client: what a Python programmer would write — one `ClientSession`, a
/// fixed number of workers taking URLs from one iterator. Prints one JSON line.
const AIOHTTP_SCRIPT: &str = r#"# Written by `async-download --peers`: aiohttp, WORKERS at once, one ClientSession.
# Usage: python3 fetch.py URLS_FILE COUNT WORKERS
import asyncio, json, sys, time

import aiohttp


async def main(urls_file, count, workers):
    with open(urls_file) as f:
        urls = [line.strip() for line, _ in zip(f, range(count))]
    pending = iter(urls)
    result = {"docs": 0, "failed": 0, "bytes": 0, "error": None}

    async def worker(session):
        for url in pending:
            try:
                async with session.get(url) as response:
                    body = await response.read()
                    if response.status == 200:
                        result["docs"] += 1
                        result["bytes"] += len(body)
                    else:
                        result["failed"] += 1
                        result["error"] = result["error"] or f"{url}: HTTP {response.status}"
            except Exception as e:
                result["failed"] += 1
                result["error"] = result["error"] or f"{url}: {e!r}"

    connector = aiohttp.TCPConnector(limit=workers)
    async with aiohttp.ClientSession(connector=connector) as session:
        cpu = time.process_time()
        start = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(workers)))
        result["secs"] = time.perf_counter() - start
        result["cpu_secs"] = time.process_time() - cpu
    print(json.dumps(result))


asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
"#;

/// The temporary folder and what is in it; dropping it removes it all.
#[derive(Debug)]
struct Workdir {
    dir: PathBuf,
    /// `/wiki/<id>` of each document, one a line: the same paths on nginx (the files
    /// are under `docs/wiki/`) and on the corpus server (which makes them).
    paths: PathBuf,
    ids: Vec<u64>,
    bytes: u64,
    wrk_script: PathBuf,
    aiohttp_script: PathBuf,
}

impl Workdir {
    /// Makes the folder, the documents and the scripts.
    fn create(plan: &PeerPlan, log: &mut dyn FnMut(&str)) -> Result<Workdir, String> {
        let dir = std::env::temp_dir().join(format!("async-download-peers-{}", std::process::id()));
        // A folder of this name is left from a killed run that had our pid: nobody
        // else uses it.
        let _ = std::fs::remove_dir_all(&dir);
        let io = |what: &Path| {
            let what = what.display().to_string();
            move |e: std::io::Error| format!("cannot write {what}: {e}")
        };
        std::fs::create_dir(&dir).map_err(io(&dir))?;
        // From here on, dropping `work` removes the folder, on every path.
        let mut work = Workdir {
            paths: dir.join("paths.txt"),
            wrk_script: dir.join("walk.lua"),
            aiohttp_script: dir.join("fetch.py"),
            dir,
            ids: Vec::new(),
            bytes: 0,
        };
        let wiki = work.dir.join("docs").join("wiki");
        std::fs::create_dir_all(&wiki).map_err(io(&wiki))?;
        // Run as root, nginx's workers are `nobody`: they must be able to go in.
        for dir in [&work.dir, &work.dir.join("docs"), &wiki] {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))
                .map_err(io(dir))?;
        }
        log(&format!(
            "writing {} documents of 2-8 KB under {}",
            plan.documents,
            work.dir.display()
        ));
        let started = Instant::now();
        let mut paths = String::new();
        let mut body = Vec::new();
        let ids = (0u64..).filter(|&id| DOCUMENT_SIZES.contains(&document_size(id)));
        for (i, id) in ids.take(plan.documents as usize).enumerate() {
            if i % 1024 == 0 {
                checkpoint()?;
            }
            body.clear();
            write_document(id, &mut body);
            let file = wiki.join(id.to_string());
            std::fs::write(&file, &body).map_err(io(&file))?;
            work.bytes += body.len() as u64;
            work.ids.push(id);
            paths.push_str(&format!("/wiki/{id}\n"));
        }
        std::fs::write(&work.paths, paths).map_err(io(&work.paths))?;
        std::fs::write(&work.wrk_script, WRK_SCRIPT).map_err(io(&work.wrk_script))?;
        std::fs::write(&work.aiohttp_script, AIOHTTP_SCRIPT).map_err(io(&work.aiohttp_script))?;
        log(&format!(
            "{} documents, {:.0} MB, written in {:.1} s",
            work.ids.len(),
            work.bytes as f64 / 1e6,
            started.elapsed().as_secs_f64()
        ));
        Ok(work)
    }

    /// The documents' URLs on `addr`, one a line, for the engines and aiohttp.
    fn write_urls(&self, addr: SocketAddr) -> Result<PathBuf, String> {
        let path = self.dir.join(format!("urls-{}.txt", addr.port()));
        let mut text = String::new();
        for id in &self.ids {
            text.push_str(&format!("http://{addr}/wiki/{id}\n"));
        }
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Ok(path)
    }

    fn first_path(&self) -> String {
        self.ids
            .first()
            .map_or("/".into(), |id| format!("/wiki/{id}"))
    }
}

impl Drop for Workdir {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.dir) {
            eprintln!(
                "async-download --peers: cannot remove {}: {e}",
                self.dir.display()
            );
        }
    }
}

// ---------------------------------------------------------------------------------
// nginx.

/// nginx, running in the foreground as our child; stopped (and its workers with it)
/// by [`Nginx::stop`] or on drop, on every path.
#[derive(Debug)]
struct Nginx {
    program: PathBuf,
    prefix: PathBuf,
    conf: PathBuf,
    child: Option<Child>,
    addr: SocketAddr,
}

/// How long nginx may take to answer its first request.
const NGINX_START: Duration = Duration::from_secs(10);

impl Nginx {
    // ANCHOR: nginx_start
    /// Starts nginx with `workers` worker processes, serving `work`'s documents on a
    /// free port of 127.0.0.1, and waits until it serves the first one.
    fn start(program: &Path, work: &Workdir, workers: usize) -> Result<Nginx, String> {
        let addr = free_port()?;
        let name = format!("nginx-{workers}");
        let conf = work.dir.join(format!("{name}.conf"));
        let text = nginx_conf(&work.dir, &name, workers, addr)?;
        std::fs::write(&conf, text).map_err(|e| format!("cannot write {}: {e}", conf.display()))?;
        let stderr_path = work.dir.join(format!("{name}.stderr"));
        let stderr = File::create(&stderr_path)
            .map_err(|e| format!("cannot write {}: {e}", stderr_path.display()))?;
        // `-p` with a final slash: nginx puts its own temporary folders under it.
        let mut prefix = work.dir.clone().into_os_string();
        prefix.push("/");
        let child = Command::new(program)
            .arg("-p")
            .arg(&prefix)
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", program.display()))?;
        let mut nginx = Nginx {
            program: program.to_path_buf(),
            prefix: PathBuf::from(prefix),
            conf,
            child: Some(child),
            addr,
        };
        // On an error, `nginx` is dropped here, and stopped.
        nginx.wait_until_ready(
            &work.first_path(),
            &[&stderr_path, &work.dir.join(format!("{name}.error.log"))],
        )?;
        Ok(nginx)
    }
    // ANCHOR_END: nginx_start

    fn wait_until_ready(&mut self, path: &str, logs: &[&Path]) -> Result<(), String> {
        let logs = || {
            logs.iter()
                .filter_map(|p| std::fs::read_to_string(p).ok())
                .collect::<Vec<_>>()
                .join("")
                .trim()
                .to_string()
        };
        let deadline = Instant::now() + NGINX_START;
        while Instant::now() < deadline {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                return Err(format!("nginx stopped at once ({status}): {}", logs()));
            }
            match probe(self.addr, path) {
                Ok(line) if line.split_whitespace().nth(1) == Some("200") => return Ok(()),
                Ok(line) => {
                    return Err(format!(
                        "nginx answered `{line}` for {path} (started as root, its workers \
                         run as `nobody`: can they read {}?) {}",
                        self.prefix.display(),
                        logs()
                    ));
                }
                // Not listening yet.
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        Err(format!(
            "nginx did not answer on {} within {NGINX_START:?}: {}",
            self.addr,
            logs()
        ))
    }

    fn stop(mut self) {
        self.shut_down();
    }

    // ANCHOR: nginx_stop
    /// Stops nginx and reaps it. Killing the master alone is not enough: its workers
    /// would live on, orphans still serving the port. So nginx is asked to stop the
    /// way it documents (`-s stop`: it signals its workers, waits for them, and exits),
    /// for at most a few seconds; only then is the master killed, and its workers by
    /// their pids.
    fn shut_down(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if let Ok(Some(_)) = child.try_wait() {
            return; // It has ended (Ctrl-C reaches it too), and its workers with it.
        }
        let mut quit = Command::new(&self.program);
        quit.arg("-p")
            .arg(&self.prefix)
            .arg("-c")
            .arg(&self.conf)
            .args(["-s", "stop"]);
        let _ = run_bounded(quit, Duration::from_secs(5), "nginx -s stop");
        if wait_at_most(&mut child, Duration::from_secs(5)) {
            return;
        }
        let workers = children_of(child.id());
        let _ = child.kill();
        let _ = child.wait();
        if !workers.is_empty() {
            let mut kill = Command::new("kill");
            kill.arg("-KILL").args(workers.iter().map(i32::to_string));
            let _ = run_bounded(kill, Duration::from_secs(5), "kill");
        }
    }
    // ANCHOR_END: nginx_stop
}

impl Drop for Nginx {
    fn drop(&mut self) {
        self.shut_down();
    }
}

/// nginx's configuration: the issue's, with every path in `dir`.
fn nginx_conf(dir: &Path, name: &str, workers: usize, addr: SocketAddr) -> Result<String, String> {
    let quoted = |path: PathBuf| -> Result<String, String> {
        let text = path.to_str().ok_or("the temp folder's path is not UTF-8")?;
        // `$` starts a variable in `root`; quotes and backslashes would need escapes.
        if text.contains(['"', '\\', '$']) || text.chars().any(char::is_control) {
            return Err(format!(
                "nginx cannot be given the path {text:?}: set TMPDIR to a plainer folder"
            ));
        }
        Ok(format!("\"{text}\""))
    };
    Ok(format!(
        "# Written by `async-download --peers`.
worker_processes {workers};
daemon off;
master_process on;
error_log {log};
pid {pid};
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_requests 1000000;
    keepalive_timeout 60;
    sendfile on;
    tcp_nopush on;
    default_type text/plain;
    server {{
        listen {addr};
        root {docs};
    }}
}}
",
        log = quoted(dir.join(format!("{name}.error.log")))?,
        pid = quoted(dir.join(format!("{name}.pid")))?,
        docs = quoted(dir.join("docs"))?,
    ))
}

/// A port of 127.0.0.1 that nobody listens on now (the kernel's pick for port 0).
fn free_port() -> Result<SocketAddr, String> {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("cannot find a free port: {e}"))
}

/// GETs `path` from `addr` and returns the status line of the answer.
fn probe(addr: SocketAddr, path: &str) -> std::io::Result<String> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(1))?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    stream.set_write_timeout(Some(Duration::from_secs(2)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut head = Vec::new();
    stream.take(64 * 1024).read_to_end(&mut head)?;
    let text = String::from_utf8_lossy(&head);
    Ok(text.lines().next().unwrap_or("").to_string())
}

/// The pids whose parent is `pid`, from /proc.
fn children_of(pid: u32) -> Vec<i32> {
    let Ok(pids) = procs::proc::pids_in(Path::new(procs::proc::PROC_ROOT)) else {
        return Vec::new();
    };
    pids.into_iter()
        .filter(|&p| procs::proc::read_stat(p).is_ok_and(|s| s.ppid as i64 == i64::from(pid)))
        .collect()
}

// ---------------------------------------------------------------------------------
// Running a tool.

/// How a tool run ended, and what it printed.
#[derive(Debug)]
struct Finished {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl Finished {
    /// What it printed, for an error message: the end of it, if it is long.
    fn output(&self) -> String {
        let text = format!("{}\n{}", self.stdout.trim(), self.stderr.trim());
        let lines: Vec<&str> = text.trim().lines().collect();
        let tail = lines.len().saturating_sub(40);
        format!("\n{}", lines[tail..].join("\n"))
    }
}

// ANCHOR: run_bounded
/// Runs `command` to its end, for at most `limit`: past it, the command is killed (and
/// reaped either way). Its output is read by two threads while it runs, so that a
/// chatty tool never blocks on a full pipe.
fn run_bounded(mut command: Command, limit: Duration, what: &str) -> Result<Finished, String> {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command
        .spawn()
        .map_err(|e| format!("{what}: cannot start: {e}"))?;
    let stdout = read_all(child.stdout.take());
    let stderr = read_all(child.stderr.take());
    let ended = wait_at_most(&mut child, limit);
    if !ended {
        let _ = child.kill();
    }
    let status = child.wait();
    let (stdout, stderr) = (joined(stdout), joined(stderr));
    match status {
        Ok(status) if ended => Ok(Finished {
            status,
            stdout,
            stderr,
        }),
        Ok(_) => Err(format!(
            "{what}: still running after {limit:?}, stopped: {}\n{}",
            stdout.trim(),
            stderr.trim()
        )),
        Err(e) => Err(format!("{what}: {e}")),
    }
}
// ANCHOR_END: run_bounded

/// Whether `child` ended within `limit` (polled: a few milliseconds late at most).
fn wait_at_most(child: &mut Child, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => return true,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            Ok(None) | Err(_) => return false,
        }
    }
}

fn read_all(pipe: Option<impl Read + Send + 'static>) -> Option<JoinHandle<String>> {
    let mut pipe = pipe?;
    std::thread::Builder::new()
        .name("peers-output".into())
        .spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            String::from_utf8_lossy(&bytes).into_owned()
        })
        .ok()
}

fn joined(reader: Option<JoinHandle<String>>) -> String {
    reader.and_then(|r| r.join().ok()).unwrap_or_default()
}

// ---------------------------------------------------------------------------------
// Ctrl-C.

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Whether Ctrl-C stopped the run (the command's exit code is then 130).
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::Relaxed)
}

fn checkpoint() -> Result<(), String> {
    if interrupted() {
        Err("interrupted".into())
    } else {
        Ok(())
    }
}

/// On Ctrl-C, the run stops after the step in hand, so that nginx is stopped and the
/// temporary folder removed; a second Ctrl-C exits at once. (The terminal sends the
/// signal to nginx, wrk and Python too: they stop by themselves.)
fn watch_ctrl_c() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        crate::cli::on_ctrl_c(
            "cleaning up",
            Box::new(|| INTERRUPTED.store(true, Ordering::Relaxed)),
        );
    });
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

    fn measured(per_sec: f64) -> Figure {
        Figure::Measured {
            per_sec,
            samples: vec![per_sec],
            cpu_us_per_doc: None,
        }
    }

    #[test]
    fn ratios_come_from_the_figures() {
        let (r, outcome) = judge(&measured(65_000.0), &measured(50_000.0), 1.25);
        assert_eq!((r, outcome), (Some(1.3), Outcome::Met));
        let (r, outcome) = judge(&measured(60_000.0), &measured(50_000.0), 1.25);
        assert_eq!((r, outcome), (Some(1.2), Outcome::Missed));
        let (r, outcome) = judge(&measured(60_000.0), &measured(0.0), 1.25);
        assert_eq!((r, outcome), (None, Outcome::Missed));
    }

    #[test]
    fn a_failure_outranks_a_skip_which_outranks_a_figure() {
        let skipped = Figure::Skipped {
            reason: "wrk not installed".into(),
        };
        let failed = Figure::Failed {
            error: "boom".into(),
        };
        assert_eq!(
            judge(&measured(1.0), &skipped, 1.0).1,
            Outcome::Skipped {
                reason: "wrk not installed".into()
            }
        );
        assert_eq!(
            judge(&skipped, &failed, 1.0).1,
            Outcome::Failed {
                error: "boom".into()
            }
        );
    }

    #[test]
    fn every_comparison_names_a_row() {
        let board = Board::new();
        let measurements = board.into_measurements();
        for c in compare(&measurements) {
            assert_ne!(
                c.outcome,
                Outcome::Failed {
                    error: "no such measurement".into()
                },
                "{}",
                c.name
            );
        }
    }

    #[test]
    fn a_board_keeps_the_first_failure_and_the_median() {
        let mut board = Board::new();
        let mut quiet = |_: &str| {};
        for per_sec in [3.0, 1.0, 2.0] {
            let sample = Sample {
                per_sec,
                cpu_us_per_doc: Some(per_sec * 10.0),
            };
            board.record(MULTI_NGINX2, Ok(sample), 1, &mut quiet);
        }
        board.record(WRK_NGINX2, Err("first".into()), 1, &mut quiet);
        board.fail(WRK_NGINX2, "second");
        board.skip(AIOHTTP_NGINX2, "no aiohttp");
        assert!(!board.wants(WRK_NGINX2));
        let rows = board.into_measurements();
        let row = |name: &str| {
            rows.iter()
                .find(|m| m.name == name)
                .map(|m| m.figure.clone())
        };
        assert!(matches!(
            row(MULTI_NGINX2),
            Some(Figure::Measured { per_sec, cpu_us_per_doc: Some(cpu), .. }) if per_sec == 2.0 && cpu == 20.0
        ));
        assert!(matches!(row(WRK_NGINX2), Some(Figure::Failed { error }) if error == "first"));
        assert!(matches!(row(AIOHTTP_NGINX2), Some(Figure::Skipped { .. })));
    }

    #[test]
    fn nginx_conf_quotes_its_paths_and_refuses_what_it_cannot_quote() {
        let addr = SocketAddr::from(([127, 0, 0, 1], 8080));
        let conf = nginx_conf(Path::new("/tmp/a b"), "nginx-2", 2, addr).unwrap();
        assert!(conf.contains("worker_processes 2;"));
        assert!(conf.contains("root \"/tmp/a b/docs\";"));
        assert!(conf.contains("listen 127.0.0.1:8080;"));
        assert!(nginx_conf(Path::new("/tmp/$x"), "nginx-2", 2, addr).is_err());
        assert!(nginx_conf(Path::new("/tmp/\"x"), "nginx-2", 2, addr).is_err());
    }

    #[test]
    fn numbers_are_grouped_by_thousands() {
        assert_eq!(thousands(65_432.4), "65,432");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(1_000_000.0), "1,000,000");
    }

    #[test]
    fn the_command_line_reaches_the_benchmark() {
        let args = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let parsed = crate::cli::parse(&args(&["--peers", "--quick", "--json", "out.json"]));
        assert!(matches!(
            parsed,
            Ok(crate::cli::Command::Peers(p)) if p.quick && p.json.as_deref() == Some("out.json")
        ));
        assert!(crate::cli::parse(&args(&["--peers", "--json"])).is_err());
        assert!(crate::cli::parse(&args(&["--peers", "--svg", "x"])).is_err());
    }

    #[test]
    fn a_tool_that_runs_too_long_is_stopped_and_reaped() {
        // A minute of sleep: returning well before that means the tool was stopped, on
        // a busy machine as on a quiet one (the limit is 100 ms; 20 s is far from both).
        let mut command = Command::new("sleep");
        command.arg("60");
        let started = Instant::now();
        let result = run_bounded(command, Duration::from_millis(100), "sleep");
        assert!(result.is_err());
        assert!(started.elapsed() < Duration::from_secs(20));
    }
}
