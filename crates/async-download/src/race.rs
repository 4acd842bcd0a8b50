//! The race: every engine, the same work, at concurrency 1 to 10,000.
//!
//! The question of the whole course — what does it cost to wait for many things at
//! once? — answered by measurement. One corpus server runs in its own process (each end
//! of a connection needs a descriptor, and the client's memory must be the client's
//! alone); each (engine, concurrency) run is a fresh child process too, so that its
//! peak memory (VmHWM) and its threads are its own, not left over from the run before.
//!
//! For each run: documents per second, CPU time per document (user + system, from
//! `getrusage`), peak resident memory, and the most threads the process had. The
//! results make a Markdown table and an SVG chart, drawn here by hand: two panels,
//! throughput and memory against concurrency on log scales, one line per engine.

use std::net::SocketAddr;
use std::process::{Command, ExitCode};
use std::sync::Arc;
// Relaxed throughout: a peak and a stop flag that publish no other data (`ThreadSampler`).
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use procs::child_server::ChildServer;
use procs::measure::Usage;
use serde::{Deserialize, Serialize};

use crate::collect::Collector;
use crate::engine::{EngineKind, Job};
use crate::feed::Feed;
use crate::options::Options;
use crate::progress::Progress;
use crate::target;

/// The hidden first argument of one race run in a child process.
pub const RACE_ONE: &str = "--race-one";

/// One engine at one concurrency.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Entry {
    pub engine: String,
    pub concurrency: usize,
    pub docs: u64,
    pub ok: u64,
    pub failed: u64,
    pub wall_secs: f64,
    pub docs_per_sec: f64,
    /// User + system CPU time of the client process, per document, in microseconds.
    pub cpu_us_per_doc: f64,
    pub peak_rss_bytes: u64,
    pub peak_threads: u64,
}

/// What to race.
#[derive(Debug, Clone)]
pub struct RacePlan {
    pub engines: Vec<EngineKind>,
    pub concurrency: Vec<usize>,
    /// Documents per run: at least this many...
    pub min_docs: u64,
    /// ...and at least this many per connection, so every connection is used.
    pub docs_per_connection: u64,
    /// The corpus server's tokio worker threads.
    pub server_workers: usize,
}

impl RacePlan {
    /// The full race: concurrency 1, 10, 100, 1,000, 10,000.
    pub fn full() -> RacePlan {
        RacePlan {
            engines: EngineKind::ALL.to_vec(),
            concurrency: vec![1, 10, 100, 1_000, 10_000],
            min_docs: 20_000,
            docs_per_connection: 4,
            server_workers: 2,
        }
    }

    /// A short race for a quick check: concurrency 1 and 10,000 only (the claims are
    /// about 10,000, and what one more connection costs is read between the two). Still
    /// four documents per connection: with fewer, the first threads end before the last
    /// start, and the threads engine's peak memory no longer shows 10,000 of them.
    pub fn quick() -> RacePlan {
        RacePlan {
            concurrency: vec![1, 10_000],
            min_docs: 2_000,
            ..RacePlan::full()
        }
    }

    fn docs(&self, concurrency: usize) -> u64 {
        self.min_docs
            .max(self.docs_per_connection * concurrency as u64)
    }

    /// The runs, in order: the sequential engine runs only at concurrency 1 (it has
    /// one worker whatever is asked).
    pub fn runs(&self) -> Vec<(EngineKind, usize)> {
        let mut runs = Vec::new();
        for &concurrency in &self.concurrency {
            for &engine in &self.engines {
                if engine == EngineKind::Sequential && concurrency > 1 {
                    continue;
                }
                runs.push((engine, concurrency));
            }
        }
        runs
    }
}

/// All the entries of one race, and where it ran.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Race {
    pub machine: String,
    pub entries: Vec<Entry>,
}

impl Race {
    pub fn get(&self, engine: EngineKind, concurrency: usize) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|e| e.engine == engine.name() && e.concurrency == concurrency)
    }
}

// ANCHOR: race
/// Runs `plan`, each run in a child process of its own, against a corpus server in a
/// child process of its own too; `each` is called after every run (for progress).
///
/// Why a new server for every run: when a run ends, its client closes its connections
/// first, so each of them waits in TIME_WAIT on the client's side. Linux lets a new
/// connection to the *same* address and port take over such a port only once it is
/// more than a second old (`net.ipv4.tcp_tw_reuse`); until then, each connection of the
/// next run must search for a local port that none of them holds. A run started at once
/// against the same server was measured spending far more system time per document
/// than the same run a few seconds later. A new server listens on a new port, where no
/// run before stands in the way, so the order of the runs does not matter.
pub fn race(plan: &RacePlan, mut each: impl FnMut(&Entry)) -> Result<Race, RaceError> {
    let workers = plan.server_workers.to_string();
    let mut entries = Vec::new();
    for (engine, concurrency) in plan.runs() {
        let server = ChildServer::start(&[crate::server::SERVE_CORPUS, "--workers", &workers])
            .map_err(RaceError::Server)?;
        let entry = run_in_child(engine, concurrency, plan.docs(concurrency), server.addr());
        server.stop();
        let entry = entry?;
        each(&entry);
        entries.push(entry);
    }
    Ok(Race {
        machine: machine(),
        entries,
    })
}
// ANCHOR_END: race

/// `rounds` more runs of each of `engines` at one concurrency, the engines taking turns
/// (a slow moment of the machine then falls on all of them), each run as in [`race`].
/// A claim comparing two engines reads every round: a difference smaller than the
/// spread of the rounds is too close to call.
pub fn rounds(
    plan: &RacePlan,
    engines: &[EngineKind],
    concurrency: usize,
    rounds: usize,
    mut each: impl FnMut(&Entry),
) -> Result<Vec<Entry>, RaceError> {
    let workers = plan.server_workers.to_string();
    let mut entries = Vec::new();
    for _ in 0..rounds {
        for &engine in engines {
            let server = ChildServer::start(&[crate::server::SERVE_CORPUS, "--workers", &workers])
                .map_err(RaceError::Server)?;
            let entry = run_in_child(engine, concurrency, plan.docs(concurrency), server.addr());
            server.stop();
            let entry = entry?;
            each(&entry);
            entries.push(entry);
        }
    }
    Ok(entries)
}

/// Why the race could not be run to its end.
#[derive(Debug, thiserror::Error)]
pub enum RaceError {
    #[error("cannot start the corpus server: {0}")]
    Server(procs::Error),
    #[error("cannot find this program to run it again: {0}")]
    NoProgram(std::io::Error),
    #[error("{what}: {source}")]
    Run { what: String, source: procs::Error },
    #[error("{what}: the run failed ({status})")]
    Failed {
        what: String,
        status: std::process::ExitStatus,
    },
    #[error("{what}: bad result {line:?}: {source}")]
    BadResult {
        what: String,
        line: String,
        source: serde_json::Error,
    },
}

/// One run in a child process: this program again, with [`RACE_ONE`], printing its
/// entry as JSON. Its peak memory and threads are its own. A run still going after
/// [`RUN_LIMIT`] is stuck: it is killed, and the race reports it.
pub fn run_in_child(
    engine: EngineKind,
    concurrency: usize,
    docs: u64,
    addr: SocketAddr,
) -> Result<Entry, RaceError> {
    let me = std::env::current_exe().map_err(RaceError::NoProgram)?;
    let what = format!("{} at concurrency {concurrency}", engine.name());
    let mut command = Command::new(me);
    command.args([
        RACE_ONE,
        engine.name(),
        &concurrency.to_string(),
        &docs.to_string(),
        &addr.to_string(),
    ]);
    // One line of JSON: a few hundred bytes.
    let out = procs::bounded::output_within(command, RUN_LIMIT, 64 * 1024).map_err(|source| {
        RaceError::Run {
            what: what.clone(),
            source,
        }
    })?;
    if !out.status.success() {
        return Err(RaceError::Failed {
            what,
            status: out.status,
        });
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().next().unwrap_or("").trim();
    serde_json::from_str(line).map_err(|source| RaceError::BadResult {
        what,
        line: line.to_string(),
        source,
    })
}

/// The longest one run of the race may take: a million documents take about half a
/// minute on 2 cores, so a run past this is stuck, not slow.
pub const RUN_LIMIT: Duration = Duration::from_secs(600);

// ANCHOR: run_one
/// One run in this process: `docs` corpus documents from `addr` on `engine` with
/// `concurrency` workers, discarding the bodies (after checking them).
pub fn run_one(engine: EngineKind, concurrency: usize, docs: u64, addr: SocketAddr) -> Entry {
    if concurrency > 512 {
        let _ = event_loop::fd_limit::raise_fd_limit();
    }
    let sampler = ThreadSampler::start();
    let before = Usage::of_self().unwrap_or_default();
    let options = Options {
        concurrency: engine.workers(concurrency),
        ..Options::default()
    };
    let targets = target::corpus(addr, docs);
    let job = Arc::new(Job {
        feed: Feed::new(Box::new(targets.map(Ok))),
        collector: Collector::new(None, Progress::hidden()),
        gate: crate::polite::HostGate::new(options.per_host),
        options,
    });
    let started = Instant::now();
    let report = crate::engine::run(engine, job);
    let wall = started.elapsed().as_secs_f64();
    let cpu = Usage::of_self().unwrap_or_default().since(&before).cpu();
    let peak_threads = sampler.stop();
    // ANCHOR_END: run_one
    let (ok, failed, peak) = match &report {
        Ok(r) => (r.ok, r.failed, r.peak_rss_bytes),
        Err(_) => (0, docs, 0),
    };
    Entry {
        engine: engine.name().to_string(),
        concurrency,
        docs,
        ok,
        failed,
        wall_secs: wall,
        docs_per_sec: if wall > 0.0 { ok as f64 / wall } else { 0.0 },
        cpu_us_per_doc: if ok > 0 { cpu * 1e6 / ok as f64 } else { 0.0 },
        peak_rss_bytes: peak,
        peak_threads,
    }
}

/// The child's side of [`run_in_child`]: `ENGINE CONCURRENCY DOCS ADDR`.
pub fn child_main(args: &[String]) -> ExitCode {
    let parsed = (|| {
        let engine = EngineKind::parse(args.first()?)?;
        let concurrency = args.get(1)?.parse().ok()?;
        let docs = args.get(2)?.parse().ok()?;
        let addr = args.get(3)?.parse().ok()?;
        Some((engine, concurrency, docs, addr))
    })();
    let Some((engine, concurrency, docs, addr)) = parsed else {
        eprintln!("{RACE_ONE} ENGINE CONCURRENCY DOCS ADDR: bad arguments {args:?}");
        return ExitCode::from(procs::exit::Exit::Usage);
    };
    let entry = run_one(engine, concurrency, docs, addr);
    match serde_json::to_string(&entry) {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

/// Samples this process's thread count every 10 ms, keeping the most seen (itself not
/// counted).
struct ThreadSampler {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl ThreadSampler {
    fn start() -> ThreadSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(0));
        let (s, p) = (stop.clone(), peak.clone());
        let handle = std::thread::Builder::new()
            .name("thread-sampler".into())
            .spawn(move || {
                // Relaxed: the flag publishes no data; the sampler only has to stop soon after.
                while !s.load(Relaxed) {
                    if let Ok(status) = procs::proc::self_status() {
                        p.fetch_max(status.threads.saturating_sub(1), Relaxed);
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
            })
            .ok();
        ThreadSampler { stop, peak, handle }
    }

    fn stop(mut self) -> u64 {
        // Relaxed: see the sampler's loop; the join below waits for it to notice.
        self.stop.store(true, Relaxed);
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
        // Read after the join, which makes every update of `peak` visible.
        self.peak.load(Relaxed)
    }
}

/// "N cores, MODEL" from /proc/cpuinfo, for labelling results.
pub fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".to_string());
    format!("{cores} cores, {model}")
}

// ANCHOR: markdown
/// The race as a Markdown table, one row per run.
pub fn markdown(race: &Race) -> String {
    let mut text = String::from(
        "| engine | concurrency | documents/s | CPU µs/doc | peak RSS MiB | threads | failed |\n\
         |---|---:|---:|---:|---:|---:|---:|\n",
    );
    for e in &race.entries {
        text.push_str(&format!(
            "| {} | {} | {:.0} | {:.1} | {:.1} | {} | {} |\n",
            e.engine,
            e.concurrency,
            e.docs_per_sec,
            e.cpu_us_per_doc,
            e.peak_rss_bytes as f64 / (1024.0 * 1024.0),
            e.peak_threads,
            e.failed,
        ));
    }
    text.push_str(&format!("\nMeasured on {}.\n", race.machine));
    text
}
// ANCHOR_END: markdown

/// A panel of the chart: its title, and the value it plots.
type Panel = (&'static str, fn(&Entry) -> f64);

/// Colours of the engines' lines, in [`EngineKind::ALL`] order.
const COLOURS: [&str; 5] = ["#7f7f7f", "#d62728", "#2ca02c", "#1f77b4", "#9467bd"];

/// The race as an SVG chart: documents/s (left) and peak RSS (right) against
/// concurrency, log scales, one line per engine.
pub fn svg(race: &Race) -> String {
    let (panel_w, panel_h, margin) = (360.0, 240.0, 60.0);
    let width = margin + 2.0 * (panel_w + margin);
    let height = panel_h + 2.0 * margin + 30.0;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    );
    let max_c = race
        .entries
        .iter()
        .map(|e| e.concurrency)
        .max()
        .unwrap_or(1)
        .max(10) as f64;
    let panels: [Panel; 2] = [
        ("documents per second", |e| e.docs_per_sec),
        ("peak RSS of the client (MiB)", |e| {
            e.peak_rss_bytes as f64 / (1024.0 * 1024.0)
        }),
    ];
    for (p, (title, value)) in panels.iter().enumerate() {
        let x0 = margin + p as f64 * (panel_w + margin);
        let y0 = margin;
        let max_v = race.entries.iter().map(value).fold(1.0f64, f64::max);
        let min_v = race
            .entries
            .iter()
            .map(value)
            .filter(|v| *v > 0.0)
            .fold(max_v, f64::min);
        let (lo, hi) = (
            min_v.log10().floor(),
            max_v.log10().ceil().max(min_v.log10().floor() + 1.0),
        );
        let x = |c: f64| x0 + c.max(1.0).log10() / max_c.log10() * panel_w;
        let y = |v: f64| y0 + panel_h - (v.max(1e-9).log10() - lo) / (hi - lo) * panel_h;
        out.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-weight=\"bold\">{title}</text>\n\
             <rect x=\"{x0}\" y=\"{y0}\" width=\"{panel_w}\" height=\"{panel_h}\" fill=\"none\" stroke=\"#333\"/>\n",
            x0 + panel_w / 2.0,
            y0 - 10.0
        ));
        let mut c = 1.0;
        while c <= max_c * 1.001 {
            out.push_str(&format!(
                "<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"#ddd\"/>\
                 <text x=\"{0}\" y=\"{3}\" text-anchor=\"middle\">{4}</text>\n",
                x(c),
                y0,
                y0 + panel_h,
                y0 + panel_h + 16.0,
                c as u64
            ));
            c *= 10.0;
        }
        let mut decade = lo;
        while decade <= hi + 1e-9 {
            let v = 10f64.powf(decade);
            out.push_str(&format!(
                "<line x1=\"{x0}\" y1=\"{0}\" x2=\"{1}\" y2=\"{0}\" stroke=\"#ddd\"/>\
                 <text x=\"{2}\" y=\"{3}\" text-anchor=\"end\">{4}</text>\n",
                y(v),
                x0 + panel_w,
                x0 - 4.0,
                y(v) + 4.0,
                if v >= 1.0 {
                    format!("{v:.0}")
                } else {
                    format!("{v}")
                }
            ));
            decade += 1.0;
        }
        out.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">concurrency (connections)</text>\n",
            x0 + panel_w / 2.0,
            y0 + panel_h + 34.0
        ));
        for (kind, colour) in EngineKind::ALL.iter().zip(COLOURS) {
            let points: Vec<(f64, f64)> = race
                .entries
                .iter()
                .filter(|e| e.engine == kind.name() && value(e) > 0.0)
                .map(|e| (x(e.concurrency as f64), y(value(e))))
                .collect();
            if points.is_empty() {
                continue;
            }
            let line: Vec<String> = points
                .iter()
                .map(|(px, py)| format!("{px:.1},{py:.1}"))
                .collect();
            out.push_str(&format!(
                "<polyline points=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"/>\n",
                line.join(" ")
            ));
            for (px, py) in &points {
                out.push_str(&format!(
                    "<circle cx=\"{px:.1}\" cy=\"{py:.1}\" r=\"3\" fill=\"{colour}\"/>\n"
                ));
            }
        }
    }
    // The legend, under both panels.
    let legend_y = height - 14.0;
    for (i, (kind, colour)) in EngineKind::ALL.iter().zip(COLOURS).enumerate() {
        let lx = margin + i as f64 * 150.0;
        out.push_str(&format!(
            "<line x1=\"{lx}\" y1=\"{0}\" x2=\"{1}\" y2=\"{0}\" stroke=\"{colour}\" stroke-width=\"3\"/>\
             <text x=\"{2}\" y=\"{3}\">{4}</text>\n",
            legend_y - 4.0,
            lx + 24.0,
            lx + 30.0,
            legend_y,
            kind.name()
        ));
    }
    out.push_str(&format!(
        "<text x=\"{}\" y=\"20\" text-anchor=\"middle\" fill=\"#555\">Measured on {}</text>\n</svg>\n",
        width / 2.0,
        xml_escape(&race.machine)
    ));
    out
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(engine: EngineKind, concurrency: usize, docs_per_sec: f64) -> Entry {
        Entry {
            engine: engine.name().to_string(),
            concurrency,
            docs: 1_000,
            ok: 1_000,
            failed: 0,
            wall_secs: 1.0,
            docs_per_sec,
            cpu_us_per_doc: 10.0,
            peak_rss_bytes: 4 << 20,
            peak_threads: 1,
        }
    }

    #[test]
    fn the_chart_puts_a_dot_on_every_point_of_each_line() {
        let race = Race {
            machine: "2 cores, <test> & co".to_string(),
            entries: vec![
                entry(EngineKind::Tokio, 1, 10_000.0),
                entry(EngineKind::Tokio, 100, 60_000.0),
                entry(EngineKind::Threads, 1, 9_000.0),
                entry(EngineKind::Threads, 100, 40_000.0),
            ],
        };
        let svg = svg(&race);
        assert!(svg.starts_with("<svg ") && svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("2 cores, &lt;test&gt; &amp; co"), "{svg}");
        // Two panels, two engines each: four lines, each of two points, each with a dot
        // at the same place.
        let lines: Vec<&str> = svg.lines().filter(|l| l.starts_with("<polyline")).collect();
        assert_eq!(lines.len(), 4, "{svg}");
        for line in lines {
            let points = line.split('"').nth(1).unwrap();
            for point in points.split(' ') {
                let (x, y) = point.split_once(',').unwrap();
                let dot = format!("<circle cx=\"{x}\" cy=\"{y}\"");
                assert!(svg.contains(&dot), "no dot at {point}");
            }
        }
    }
}
