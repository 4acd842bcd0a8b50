//! What the benchmark measures: its sizes, its rows (a client fetching from a server)
//! and its targets (one row against another).

use serde::Serialize;

/// The tokio engine against wrk: documents per second, at least this many times wrk's.
pub const CLIENT_VS_WRK: f64 = 1.2;
/// The tokio engine against aiohttp: documents per second, at least this many times.
pub const CLIENT_VS_AIOHTTP: f64 = 8.0;
/// The tokio corpus server against nginx with 1 worker: requests per second under wrk.
pub const SERVER_VS_NGINX: f64 = 1.2;

/// The event-loop engine against the tokio engine: documents per second.
pub const EVENT_LOOP_VS_TOKIO: f64 = 0.95;
/// The tokio-multi engine against the tokio engine (one thread): documents per second.
pub const MULTI_VS_TOKIO: f64 = 1.0;
/// The tokio engine against the minimal client (`floor`): documents per second.
pub const ENGINE_VS_FLOOR: f64 = 0.9;
/// An engine's CPU time per document against the minimal client's, read as the
/// floor's / ours: 0.9 is ours within 1.11 times the floor's.
pub const CPU_VS_FLOOR: f64 = 0.9;
/// What `--out` adds to the tokio engine's CPU time per document against what the write
/// protocol costs alone (the write floor), read as the floor's / what `--out` adds: 0.5
/// is `--out` adding at most twice the protocol's own cost.
pub const OUT_VS_WRITE_FLOOR: f64 = 0.5;

/// What a comparison compares, and so which way its ratio reads. Either way, a ratio
/// at or above the target is good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Documents (or requests) per second: ours / theirs, higher is better.
    PerSec,
    /// The client's CPU time per document: theirs / ours, since less CPU is better.
    CpuPerDoc,
    /// What ours adds to `base` in CPU time per document, against theirs:
    /// theirs / (ours − base). For `--out`: the write protocol alone (theirs) against
    /// the tokio engine saving (ours) less the same engine discarding (`base`). When
    /// ours costs no more than `base`, nothing was added: met, without a ratio.
    AddedCpuPerDoc { base: &'static str },
}

/// The documents' sizes: the "2–8 KB". Corpus ids outside it are skipped.
pub const DOCUMENT_SIZES: std::ops::RangeInclusive<usize> = 2048..=8192;

/// One round of one client: what each measurement gives the board. (Here, with what
/// is measured, so that a client needs nothing of the board to give it.)
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub per_sec: f64,
    pub cpu_us_per_doc: Option<f64>,
}

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
    /// Whether the servers (nginx, the corpus server) start each in a session of its
    /// own, as a daemon runs (`procs::session`), rather than in this command's session.
    /// With the kernel's autogroup on, a server in our session shares one scheduling
    /// group with the clients, thread by thread, so its worker count would set the
    /// clients' share of the cores.
    pub servers_in_own_session: bool,
}

impl PeerPlan {
    /// The benchmark the issue describes: 100,000 documents, 5-second wrk runs, the
    /// median of 3 rounds: about two minutes, and 450 MB in the temp folder; as much
    /// again in memory (the write floor's documents) and, one `--out` row at a time, in
    /// `/dev/shm`.
    pub fn full() -> PeerPlan {
        PeerPlan {
            documents: 100_000,
            aiohttp_documents: 20_000,
            connections: 100,
            wrk_threads: 2,
            wrk_secs: 5,
            rounds: 3,
            pipeline: 4,
            servers_in_own_session: true,
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
pub const WRK_NGINX2: &str = "wrk → nginx, 2 workers";
pub const MULTI_NGINX2: &str = "tokio-multi engine → nginx, 2 workers";
pub const CURRENT_NGINX2: &str = "tokio engine (current-thread) → nginx, 2 workers";
pub const EVENT_LOOP_NGINX2: &str = "event-loop engine → nginx, 2 workers";
pub const FLOOR_NGINX2: &str = "minimal tokio client (the floor) → nginx, 2 workers";
pub const WRITE_FLOOR: &str = "the write protocol alone (the floor of --out), to tmpfs";
pub const CURRENT_OUT: &str = "tokio engine --out tmpfs → nginx, 2 workers";
pub const WRK_PIPELINED: &str = "wrk, pipelined → nginx, 2 workers";
pub const MULTI_PIPELINED: &str = "tokio-multi engine, pipelined → nginx, 2 workers";
pub const CURRENT_PIPELINED: &str = "tokio engine (current-thread), pipelined → nginx, 2 workers";
pub const AIOHTTP_NGINX2: &str = "aiohttp → nginx, 2 workers";
pub const WRK_NGINX1: &str = "wrk → nginx, 1 worker";
pub const WRK_CORPUS1: &str = "wrk → tokio corpus server, 1 worker";

pub const DOCS_PER_SEC: &str = "documents/s";
pub const REQUESTS_PER_SEC: &str = "requests/s";

/// Every row, in the order of the table.
pub const ROWS: [(&str, &str); 13] = [
    (WRK_NGINX2, REQUESTS_PER_SEC),
    (MULTI_NGINX2, DOCS_PER_SEC),
    (CURRENT_NGINX2, DOCS_PER_SEC),
    (EVENT_LOOP_NGINX2, DOCS_PER_SEC),
    (FLOOR_NGINX2, DOCS_PER_SEC),
    (WRITE_FLOOR, DOCS_PER_SEC),
    (CURRENT_OUT, DOCS_PER_SEC),
    (WRK_PIPELINED, REQUESTS_PER_SEC),
    (MULTI_PIPELINED, DOCS_PER_SEC),
    (CURRENT_PIPELINED, DOCS_PER_SEC),
    (AIOHTTP_NGINX2, DOCS_PER_SEC),
    (WRK_NGINX1, REQUESTS_PER_SEC),
    (WRK_CORPUS1, REQUESTS_PER_SEC),
];

/// The comparisons: (name, ours, theirs, what is compared, target ratio). "The tokio
/// engine" is compared in both its forms: the default, multi-thread one, and the one
/// thread; and each both as it runs by default (a request waits for the previous
/// response) and pipelined, against wrk as it runs by default. How the pipelined engines
/// compare with wrk pipelined too is told under the table (`report::markdown`). The
/// engines are then set against each other, and against the minimal client, the floor:
/// in documents per second and in CPU time per document. Last, what `--out` adds to the
/// tokio engine is set against the write protocol alone.
pub const COMPARISONS: [(&str, &str, &str, Metric, f64); 15] = [
    (
        "tokio-multi engine vs wrk (nginx, 2 workers)",
        MULTI_NGINX2,
        WRK_NGINX2,
        Metric::PerSec,
        CLIENT_VS_WRK,
    ),
    (
        "tokio engine vs wrk (nginx, 2 workers)",
        CURRENT_NGINX2,
        WRK_NGINX2,
        Metric::PerSec,
        CLIENT_VS_WRK,
    ),
    (
        "tokio-multi engine, pipelined vs wrk (nginx, 2 workers)",
        MULTI_PIPELINED,
        WRK_NGINX2,
        Metric::PerSec,
        CLIENT_VS_WRK,
    ),
    (
        "tokio engine, pipelined vs wrk (nginx, 2 workers)",
        CURRENT_PIPELINED,
        WRK_NGINX2,
        Metric::PerSec,
        CLIENT_VS_WRK,
    ),
    (
        "tokio-multi engine, pipelined vs aiohttp (nginx, 2 workers)",
        MULTI_PIPELINED,
        AIOHTTP_NGINX2,
        Metric::PerSec,
        CLIENT_VS_AIOHTTP,
    ),
    (
        "tokio engine, pipelined vs aiohttp (nginx, 2 workers)",
        CURRENT_PIPELINED,
        AIOHTTP_NGINX2,
        Metric::PerSec,
        CLIENT_VS_AIOHTTP,
    ),
    (
        "tokio-multi engine vs aiohttp (nginx, 2 workers)",
        MULTI_NGINX2,
        AIOHTTP_NGINX2,
        Metric::PerSec,
        CLIENT_VS_AIOHTTP,
    ),
    (
        "tokio engine vs aiohttp (nginx, 2 workers)",
        CURRENT_NGINX2,
        AIOHTTP_NGINX2,
        Metric::PerSec,
        CLIENT_VS_AIOHTTP,
    ),
    (
        "tokio corpus server vs nginx (1 worker), under wrk",
        WRK_CORPUS1,
        WRK_NGINX1,
        Metric::PerSec,
        SERVER_VS_NGINX,
    ),
    (
        "event-loop engine vs tokio engine (nginx, 2 workers)",
        EVENT_LOOP_NGINX2,
        CURRENT_NGINX2,
        Metric::PerSec,
        EVENT_LOOP_VS_TOKIO,
    ),
    (
        "tokio-multi engine vs tokio engine (nginx, 2 workers)",
        MULTI_NGINX2,
        CURRENT_NGINX2,
        Metric::PerSec,
        MULTI_VS_TOKIO,
    ),
    (
        "tokio engine vs the minimal client (nginx, 2 workers)",
        CURRENT_NGINX2,
        FLOOR_NGINX2,
        Metric::PerSec,
        ENGINE_VS_FLOOR,
    ),
    (
        "tokio engine vs the minimal client, CPU per document",
        CURRENT_NGINX2,
        FLOOR_NGINX2,
        Metric::CpuPerDoc,
        CPU_VS_FLOOR,
    ),
    (
        "event-loop engine vs the minimal client, CPU per document",
        EVENT_LOOP_NGINX2,
        FLOOR_NGINX2,
        Metric::CpuPerDoc,
        CPU_VS_FLOOR,
    ),
    (
        "--out's cost per document vs the write protocol's",
        CURRENT_OUT,
        WRITE_FLOOR,
        Metric::AddedCpuPerDoc {
            base: CURRENT_NGINX2,
        },
        OUT_VS_WRITE_FLOOR,
    ),
];
