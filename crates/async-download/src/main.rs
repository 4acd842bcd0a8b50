//! The tour of lesson 5: `cargo run --release -p async-download [-- --quick] [-- --json]`.
//!
//! The downloader at work — a million documents (a hundred thousand with `--quick`)
//! with little memory, a hostile server that drops, truncates, drips and refuses, a run
//! interrupted and resumed — and then the race of every engine the course has built,
//! on the same work, from one connection to ten thousand.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use async_download::claims;
use async_download::engine::{EngineKind, Job};
use async_download::ladder::{self, Rung};
use async_download::race::{self, Race, RacePlan};
use async_download::verify::{FolderCheck, check_corpus_folder};
use async_download::{Options, collect::Collector, feed::Feed, progress::Progress, store::Store};
use procs::child_server::ChildServer;
use procs::measure::Stats;
use procs::tour::{Inputs, Tour, TourArgs};

const ABOUT: &str = "Lesson 5 tour: a million documents, a hostile server, a resumed run, \
                     and the race of every engine from 1 to 10,000 connections.";

struct Sizes {
    million: u64,
    disk: u64,
    faults: u64,
    resume: u64,
    race: RacePlan,
    /// Waiting units per rung of the ladder: processes, threads, tasks, state machines.
    ladder: [usize; 4],
}

impl Sizes {
    fn new(quick: bool) -> Sizes {
        if quick {
            Sizes {
                million: 100_000,
                disk: 2_000,
                faults: 200,
                resume: 2_000,
                race: RacePlan::quick(),
                ladder: [100, 500, 10_000, 500],
            }
        } else {
            Sizes {
                million: 1_000_000,
                disk: 50_000,
                faults: 2_000,
                resume: 20_000,
                race: RacePlan::full(),
                ladder: [200, 1_000, 20_000, 1_000],
            }
        }
    }
}

fn main() -> ExitCode {
    if let Some(exit) = async_download::child_mode::hidden_mode() {
        return exit;
    }
    let args = TourArgs::from_env(ABOUT);
    if args.falsify {
        return procs::tour::falsify("async-download", claims::ALL, &args);
    }
    let sizes = Sizes::new(args.quick);
    let mut tour = Tour::start(
        "async-download",
        "a million documents, and the race",
        args,
        5,
    );
    million(&mut tour, &sizes);
    faults(&mut tour, &sizes);
    resume(&mut tour, &sizes);
    the_race(&mut tour, &sizes);
    ladder(&mut tour, &sizes);
    tour.finish(claims::ALL)
}

type Fallible<T> = Result<T, Box<dyn std::error::Error>>;

/// A fresh, empty folder under the target directory for this tour's files.
fn scratch(name: &str) -> Fallible<PathBuf> {
    let dir =
        std::env::temp_dir().join(format!("async-download-tour-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn start_server(args: &[&str]) -> Fallible<ChildServer> {
    let mut all = vec![async_download::server::SERVE_CORPUS];
    all.extend_from_slice(args);
    Ok(ChildServer::start(&all)?)
}

fn million(tour: &mut Tour, sizes: &Sizes) {
    let n = sizes.million;
    let result = tour.experiment(
        "million",
        "A million documents, discarded after checking; then some written to disk",
        "tokio-multi with 256 connections fetches the corpus from a server in another \
         process, checking every checksum; the client runs in a child process of its own \
         so its peak memory is its alone. Then the same engine saves documents under a \
         folder (temporary file, rename, journal line each), and the two rates give the \
         cost of the disk.",
        |exp| {
            // A tenth of the documents first, each run with a server of its own (see
            // `race::race` on why): ten times the work must not cost more per document.
            let server = start_server(&["--workers", "2"])?;
            let tenth = race::run_in_child(EngineKind::TokioMulti, 256, n / 10, server.addr());
            server.stop();
            let tenth = tenth?;
            let server = start_server(&["--workers", "2"])?;
            let entry = race::run_in_child(EngineKind::TokioMulti, 256, n, server.addr());
            let disk = scratch("disk");
            let outcome = entry.map_err(|e| e.to_string()).and_then(|entry| {
                let dir = disk.map_err(|e| e.to_string())?;
                let memory = async_download::download_corpus(
                    EngineKind::TokioMulti,
                    server.addr(),
                    sizes.disk,
                    Options {
                        concurrency: 256,
                        ..Options::default()
                    },
                )
                .map_err(|e| e.to_string())?;
                let saved = async_download::download_corpus(
                    EngineKind::TokioMulti,
                    server.addr(),
                    sizes.disk,
                    Options {
                        concurrency: 256,
                        out: Some(dir.clone()),
                        ..Options::default()
                    },
                )
                .map_err(|e| e.to_string())?;
                let check = check_corpus_folder(&dir, sizes.disk).map_err(|e| e.to_string())?;
                let _ = std::fs::remove_dir_all(&dir);
                Ok((entry, memory, saved, check))
            });
            server.stop();
            let (entry, memory, saved, check) = outcome?;
            exp.figure("documents", entry.ok as f64, "");
            exp.figure("failed", entry.failed as f64, "");
            exp.figure("wall time", entry.wall_secs, "s");
            exp.figure("documents/s", entry.docs_per_sec, "docs/s");
            exp.figure("client CPU per document", entry.cpu_us_per_doc, "µs");
            exp.figure("client peak RSS", entry.peak_rss_bytes as f64, "bytes");
            exp.figure("client threads", entry.peak_threads as f64, "");
            exp.figure(
                "time for 1,000,000 at this rate",
                1e6 / entry.docs_per_sec.max(1e-9),
                "s",
            );
            exp.figure(
                "documents/s, discarding (disk comparison)",
                memory.docs_per_sec,
                "docs/s",
            );
            exp.figure("documents/s, saving to disk", saved.docs_per_sec, "docs/s");
            let per_doc = 1e6 / saved.docs_per_sec.max(1e-9) - 1e6 / memory.docs_per_sec.max(1e-9);
            exp.figure("disk cost per document (wall)", per_doc, "µs");
            exp.note(format!(
                "{} files checked on disk: {} exact, {} corrupt, {} missing, {} temporary",
                sizes.disk,
                check.complete,
                check.corrupt.len(),
                check.missing,
                check.temporary
            ));
            exp.figure(
                format!("client CPU per document, {} documents", tenth.docs),
                tenth.cpu_us_per_doc,
                "µs",
            );
            exp.figure(
                format!("client peak RSS, {} documents", tenth.docs),
                tenth.peak_rss_bytes as f64,
                "bytes",
            );
            Ok::<_, Box<dyn std::error::Error>>((entry, tenth, check))
        },
    );
    let Some((entry, tenth, check)) = result else {
        return;
    };
    tour.headline(
        "docs/s (tokio-multi, 256 connections)",
        entry.docs_per_sec,
        "docs/s",
    );
    tour.headline("client peak RSS", entry.peak_rss_bytes as f64, "bytes");
    tour.judge(
        &claims::ALL_DOCUMENTS,
        Inputs::new()
            .with("documents asked for", entry.docs as f64, "")
            .with("documents verified", entry.ok as f64, "")
            .with("documents failed", entry.failed as f64, "")
            .with("documents saved to disk", sizes.disk as f64, "")
            .with("files exact on disk", check.complete as f64, "")
            .with(
                "files corrupt, missing or temporary",
                (check.corrupt.len() as u64 + check.missing + check.temporary) as f64,
                "",
            ),
    );
    tour.judge(
        &claims::SMALL_MEMORY,
        Inputs::new().with("documents", entry.docs as f64, "").with(
            "peak RSS",
            entry.peak_rss_bytes as f64,
            "bytes",
        ),
    );
    tour.judge(
        &claims::FLAT_COST,
        Inputs::new()
            .with("documents, smaller run", tenth.docs as f64, "")
            .with("documents, larger run", entry.docs as f64, "")
            .with("CPU per document, smaller run", tenth.cpu_us_per_doc, "µs")
            .with("CPU per document, larger run", entry.cpu_us_per_doc, "µs")
            .with(
                "peak RSS, smaller run",
                tenth.peak_rss_bytes as f64,
                "bytes",
            )
            .with("peak RSS, larger run", entry.peak_rss_bytes as f64, "bytes"),
    );
}

/// The fault matrix: every engine against a server that misbehaves on purpose.
fn faults(tour: &mut Tour, sizes: &Sizes) {
    let n = sizes.faults;
    let result = tour.experiment(
        "faults",
        "A hostile server: every engine, every fault",
        "The server meets 15% of requests with a fault: a dropped connection, a 503 with \
         Retry-After, a truncated body, a slow drip, a chunked or close-delimited body, a \
         latency. Each engine saves the documents under a folder of its own; afterwards \
         every file is compared with the corpus. Retries (with backoff, honouring \
         Retry-After) turn every transient failure into a document.",
        |exp| {
            let server = start_server(&["--fault-rate", "0.15", "--seed", "7"])?;
            // The engines run side by side: this is about what arrives, not how fast,
            // and the sequential engine spends most of its time in Retry-After waits.
            let addr = server.addr();
            let outcomes: Vec<Result<_, String>> = std::thread::scope(|scope| {
                let runs: Vec<_> = EngineKind::ALL
                    .into_iter()
                    .map(|kind| scope.spawn(move || hostile_run(kind, addr, n)))
                    .collect();
                runs.into_iter()
                    .map(|run| run.join().unwrap_or_else(|_| Err("the run panicked".into())))
                    .collect()
            });
            server.stop();
            let mut rows = Vec::new();
            for outcome in outcomes {
                let (kind, report, check) = outcome?;
                exp.note(format!(
                    "{:<11} {:>5} ok, {} failed, {:>4} retried; on disk: {} exact, {} corrupt, {} missing, {} temporary ({:.1} s)",
                    kind.name(), report.ok, report.failed, report.retried,
                    check.complete, check.corrupt.len(), check.missing, check.temporary, report.wall_secs
                ));
                rows.push((kind, report, check));
            }
            let retried: u64 = rows.iter().map(|r| r.1.retried).sum();
            exp.figure("attempts retried, all engines", retried as f64, "");
            Ok::<_, Box<dyn std::error::Error>>(rows)
        },
    );
    let Some(rows) = result else { return };
    let perfect = rows
        .iter()
        .filter(|(_, r, c)| r.failed == 0 && c.is_perfect(n))
        .count();
    let retried: u64 = rows.iter().map(|r| r.1.retried).sum();
    tour.judge(
        &claims::FAULTS_SURVIVED,
        Inputs::new()
            .with("documents per engine", n as f64, "")
            .with("engines", EngineKind::ALL.len() as f64, "")
            .with("engines perfect", perfect as f64, "")
            .with("attempts retried", retried as f64, ""),
    );
}

/// One engine's download of `n` documents from the hostile server at `addr` into a
/// folder of its own, and what is on disk afterwards.
fn hostile_run(
    kind: EngineKind,
    addr: std::net::SocketAddr,
    n: u64,
) -> Result<(EngineKind, async_download::Report, FolderCheck), String> {
    let dir = scratch(kind.name()).map_err(|e| e.to_string())?;
    let options = Options {
        concurrency: if kind == EngineKind::Sequential {
            1
        } else {
            64
        },
        retries: 8,
        backoff_base: Duration::from_millis(20),
        backoff_max: Duration::from_secs(2),
        timeout: Duration::from_secs(5),
        out: Some(dir.clone()),
        ..Options::default()
    };
    let report =
        async_download::download_corpus(kind, addr, n, options).map_err(|e| e.to_string())?;
    let check = check_corpus_folder(&dir, n).map_err(|e| e.to_string())?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok((kind, report, check))
}

/// A run stopped part-way (as Ctrl-C does), then the same run again.
fn resume(tour: &mut Tour, sizes: &Sizes) {
    let n = sizes.resume;
    let result = tour.experiment(
        "resume",
        "Interrupted, then resumed: only what is missing is fetched",
        "A download into a folder is stopped when about a third is done (the feed stops \
         handing out work, as on Ctrl-C), then started again with the same folder: the \
         journal says what was saved, and the second run fetches only the rest.",
        |exp| {
            let server = start_server(&[])?;
            let outcome = (|| -> Fallible<_> {
                let dir = scratch("resume")?;
                let first = stopped_run(server.addr(), n, &dir, n / 3)?;
                let second = async_download::download_corpus(
                    EngineKind::TokioMulti,
                    server.addr(),
                    n,
                    Options {
                        concurrency: 64,
                        out: Some(dir.clone()),
                        ..Options::default()
                    },
                )?;
                let check = check_corpus_folder(&dir, n)?;
                let _ = std::fs::remove_dir_all(&dir);
                Ok((first, second, check))
            })();
            server.stop();
            let (first, second, check) = outcome?;
            exp.figure("first run: saved before the stop", first.ok as f64, "");
            exp.figure("second run: skipped (journal)", second.skipped as f64, "");
            exp.figure("second run: fetched", second.ok as f64, "");
            exp.note(format!(
                "on disk: {} exact of {n}, {} corrupt, {} missing, {} temporary",
                check.complete,
                check.corrupt.len(),
                check.missing,
                check.temporary
            ));
            Ok::<_, Box<dyn std::error::Error>>((first, second, check))
        },
    );
    let Some((first, second, check)) = result else {
        return;
    };
    tour.judge(
        &claims::RESUME_FETCHES_THE_REST,
        Inputs::new()
            .with("documents", n as f64, "")
            .with(
                "first run stopped early",
                f64::from(u8::from(first.interrupted)),
                "",
            )
            .with("first run: saved before the stop", first.ok as f64, "")
            .with("second run: skipped (journal)", second.skipped as f64, "")
            .with("second run: fetched", second.ok as f64, "")
            .with("files exact on disk", check.complete as f64, "")
            .with(
                "files corrupt, missing or temporary",
                (check.corrupt.len() as u64 + check.missing + check.temporary) as f64,
                "",
            ),
    );
}

/// A download of `n` documents that stops handing out work after `stop_after`.
fn stopped_run(
    addr: std::net::SocketAddr,
    n: u64,
    dir: &Path,
    stop_after: u64,
) -> Fallible<async_download::Report> {
    let job = Arc::new(Job {
        feed: Feed::new(Box::new(async_download::target::corpus(addr, n).map(Ok))),
        collector: Collector::new(Some(Store::open(dir)?), Progress::hidden()),
        gate: async_download::polite::HostGate::new(None),
        options: Options {
            concurrency: 64,
            out: Some(dir.to_path_buf()),
            ..Options::default()
        },
    });
    let watcher = {
        let job = job.clone();
        std::thread::spawn(move || {
            while job.collector.finished() < stop_after && !job.feed.is_stopped() {
                std::thread::sleep(Duration::from_millis(1));
            }
            job.feed.stop();
        })
    };
    let report = async_download::engine::run(EngineKind::TokioMulti, job.clone());
    job.feed.stop();
    let _ = watcher.join();
    Ok(report?)
}

/// The engines the race's claims compare, raced again at the top concurrency.
const HEAD_TO_HEAD: [EngineKind; 4] = [
    EngineKind::Threads,
    EngineKind::EventLoop,
    EngineKind::Tokio,
    EngineKind::TokioMulti,
];

fn the_race(tour: &mut Tour, sizes: &Sizes) {
    let plan = &sizes.race;
    let top = plan.concurrency.iter().copied().max().unwrap_or(1);
    let result = tour.experiment(
        "race",
        "The race: every engine, 1 to 10,000 connections",
        "The same corpus documents through every engine, each run in a process of its \
         own against one server process: documents per second, CPU per document, the \
         client's peak memory and its threads. The threads engine pays a thread per \
         connection; the async engines a task and a socket.",
        |exp| {
            let race = race::race(plan, |e| {
                eprintln!(
                    "  {:<11} {:>6} connections: {:>7.0} docs/s",
                    e.engine, e.concurrency, e.docs_per_sec
                );
            })
            .map_err(|e| e.to_string())?;
            for line in race::markdown(&race).lines() {
                exp.note(line.to_string());
            }
            for e in &race.entries {
                if e.concurrency == top || e.concurrency == 1 {
                    exp.figure(
                        format!("{} at {}: documents/s", e.engine, e.concurrency),
                        e.docs_per_sec,
                        "docs/s",
                    );
                    exp.figure(
                        format!("{} at {}: peak RSS", e.engine, e.concurrency),
                        e.peak_rss_bytes as f64,
                        "bytes",
                    );
                }
            }
            // What one more connection costs: the growth of peak memory from one
            // connection to the most, per connection added.
            for e in race
                .entries
                .iter()
                .filter(|e| e.concurrency == top && top > 1)
            {
                let Some(one) = race
                    .entries
                    .iter()
                    .find(|o| o.engine == e.engine && o.concurrency == 1)
                else {
                    continue;
                };
                let grown = e.peak_rss_bytes.saturating_sub(one.peak_rss_bytes);
                exp.figure(
                    format!("{}: peak RSS per connection", e.engine),
                    grown as f64 / (top - 1) as f64,
                    "bytes",
                );
            }
            exp.figure(
                "one tokio worker's future (a task's state)",
                async_download::engine::worker_future_bytes() as f64,
                "bytes",
            );
            exp.figure(
                "one document's fetch future (boxed, while it is in flight)",
                async_download::engine::fetch_future_bytes() as f64,
                "bytes",
            );
            // The engines the claims compare, raced again at the top concurrency, in
            // turns: with the race's own run, three rounds each.
            let again = race::rounds(plan, &HEAD_TO_HEAD, top, 2, |e| {
                eprintln!(
                    "  {:<11} {:>6} connections: {:>7.0} docs/s (again)",
                    e.engine, e.concurrency, e.docs_per_sec
                );
            })
            .map_err(|e| e.to_string())?;
            Ok::<(Race, Vec<race::Entry>), String>((race, again))
        },
    );
    let Some((race, again)) = result else { return };
    // The book shows this very race: its table and chart go into the record.
    if let Some(dir) = tour.record_dir() {
        for (name, text) in [
            ("race.md", race::markdown(&race)),
            ("race.svg", race::svg(&race)),
        ] {
            let path = dir.join(name);
            if let Err(e) = std::fs::create_dir_all(dir).and_then(|()| std::fs::write(&path, text))
            {
                eprintln!("error: cannot write {}: {e}", path.display());
            }
        }
    }
    // Every round of an engine at the top concurrency: the race's run and the runs again.
    let rates = |kind: EngineKind| -> Vec<f64> {
        race.entries
            .iter()
            .chain(&again)
            .filter(|e| e.engine == kind.name() && e.concurrency == top)
            .map(|e| e.docs_per_sec)
            .collect()
    };
    let get = |kind: EngineKind, c: usize| race.get(kind, c).cloned();
    let (Some(threads), Some(tokio)) = (get(EngineKind::Threads, top), get(EngineKind::Tokio, top))
    else {
        return;
    };
    tour.headline(
        &format!("threads RSS / tokio RSS at {top}"),
        threads.peak_rss_bytes as f64 / tokio.peak_rss_bytes.max(1) as f64,
        "x",
    );
    let connections = || Inputs::new().with("connections", top as f64, "");
    tour.judge(
        &claims::ASYNC_MEMORY,
        connections()
            .with("threads peak RSS", threads.peak_rss_bytes as f64, "bytes")
            .with("tokio peak RSS", tokio.peak_rss_bytes as f64, "bytes"),
    );
    // The faster of the two tokio engines, by the median of its rounds.
    let median = |rounds: &[f64]| {
        procs::measure::Stats::from_samples(rounds.to_vec()).map_or(0.0, |s| s.median)
    };
    let best_tokio = if median(&rates(EngineKind::TokioMulti)) > median(&rates(EngineKind::Tokio)) {
        EngineKind::TokioMulti
    } else {
        EngineKind::Tokio
    };
    tour.judge(
        &claims::TOKIO_BEATS_THREADS,
        connections()
            .with_rounds("tokio documents/s", &rates(best_tokio), "docs/s")
            .with_rounds("threads documents/s", &rates(EngineKind::Threads), "docs/s"),
    );
    tour.judge(
        &claims::LOOP_BEATS_THREADS,
        connections()
            .with_rounds(
                "event-loop documents/s",
                &rates(EngineKind::EventLoop),
                "docs/s",
            )
            .with_rounds("threads documents/s", &rates(EngineKind::Threads), "docs/s"),
    );
    tour.judge(
        &claims::LOOP_NEAR_TOKIO,
        connections()
            .with_rounds(
                "event-loop documents/s",
                &rates(EngineKind::EventLoop),
                "docs/s",
            )
            .with_rounds("tokio documents/s", &rates(EngineKind::Tokio), "docs/s"),
    );
}

/// Rounds of each rung of the ladder.
const LADDER_ROUNDS: usize = 3;

// ANCHOR: ladder
/// The course's first claim, answered with figures: what one waiting unit costs, from a
/// process down to a state machine, and how many of each this machine's memory holds.
fn ladder(tour: &mut Tour, sizes: &Sizes) {
    let [processes, threads, tasks, machines] = sizes.ladder;
    let rounds = tour.experiment(
        "ladder",
        "The ladder: what a waiting download costs, four ways",
        "Each way of waiting for the network the course has met, measured in this run, \
         many at once: a process blocked on a pipe (lesson 1), a thread at a gate \
         (lesson 2), lesson 4's state machine that has sent its request and waits for the \
         answer, and a tokio task awaiting a channel. A process and a thread cost pages \
         and kernel memory; a state machine and a task cost only heap, from a few hundred \
         bytes to about a KiB. The socket every download needs is the same on every rung \
         and left out.",
        |exp| {
            let mut rounds: Vec<[f64; 4]> = Vec::new();
            for _ in 0..LADDER_ROUNDS {
                rounds.push([
                    procs::idle::idle_processes(processes)?.per_process(),
                    threads::idle::idle_threads(threads, None)?.per_thread(),
                    ladder::measure_in_child(Rung::TokioTask, tasks)?,
                    ladder::measure_in_child(Rung::StateMachine, machines)?,
                ]);
            }
            // ANCHOR_END: ladder
            let available = procs::proc::meminfo()?.mem_available as f64;
            exp.figure("memory available now", available, "bytes");
            for (k, (rung, n)) in RUNGS.iter().zip(sizes.ladder).enumerate() {
                let each = Stats::median_of(rounds.iter().map(|r| r[k]).collect());
                exp.figure(format!("{rung}: memory per waiting unit"), each, "bytes");
                exp.figure(
                    format!("{rung}: waiting units that memory would hold"),
                    (available / each).floor(),
                    "",
                );
                exp.note(format!(
                    "{rung}: {} at once, {LADDER_ROUNDS} rounds",
                    procs::tour::fmt_number(n as f64)
                ));
            }
            Ok::<_, Box<dyn std::error::Error>>(rounds)
        },
    );
    let Some(rounds) = rounds else { return };
    let rung = |k: usize| rounds.iter().map(|r| r[k]).collect::<Vec<f64>>();
    tour.headline(
        "memory per waiting tokio task",
        Stats::median_of(rung(2)),
        "bytes",
    );
    let mut inputs = Inputs::new();
    for (k, name) in RUNGS.iter().enumerate() {
        inputs = inputs.with_rounds(name, &rung(k), "bytes");
    }
    tour.judge(&claims::LADDER, inputs);
}

/// The ladder's rungs, from the heaviest.
const RUNGS: [&str; 4] = ["process", "thread", "tokio task", "state machine"];
