//! The `async-download` command: flags, the corpus server it starts for trying things
//! out, Ctrl-C, the report and the exit code.
//!
//! Exit codes, so that a script can tell what happened: 0 every document was fetched,
//! 1 some failed (the report names each one), 2 the command was called wrongly, 3 the
//! run could not go on (the output folder, the input, the runtime), 130 interrupted by
//! Ctrl-C (run the same command again: the journal makes it go on where it stopped).

use std::io::BufReader;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use procs::child_server::ChildServer;
use sockets::cli::{number, seconds};

use crate::collect::{Collector, Report};
use crate::engine::{EngineKind, Job};
use crate::error::DownloadError;
use crate::feed::{Feed, Lines};
use crate::options::Options;
use crate::progress::Progress;
use crate::store::Store;
use crate::target;

/// The hidden first argument that makes the program a corpus server (in a child
/// process: see [`crate::server::serve_as_child`]).
pub const SERVE_CORPUS: &str = "--serve-corpus";

pub const USAGE: &str = "\
async-download: fetch many documents over HTTP/1.1, concurrently, robustly.

Usage:
  async-download [--corpus N | --urls FILE|-] [--out DIR] [options]
  async-download --race [--quick] [--json FILE] [--svg FILE] [--markdown FILE]
  async-download --peers [--quick] [--json FILE]

Input (one of):
  --corpus N          start the course's corpus server (a child process on 127.0.0.1)
                      and fetch its documents 0..N  [default: --corpus 10000]
  --urls FILE|-       the URLs in FILE (or on stdin with -), one http:// URL a line;
                      blank lines and lines starting with # are skipped

Output:
  --out DIR           save each document under DIR (written atomically; a journal,
                      DIR/.journal, lets a killed or interrupted run resume: run the
                      same command again and only what is missing is fetched)
                      [default: check each document and discard it]
  --json FILE|-       write the report as JSON to FILE (or stdout)
  -q, --quiet         no progress bar and no report on stderr (the bar is never
                      drawn when stderr is not a terminal)

How:
  --engine E          tokio-multi | tokio | event-loop | threads | sequential
                      [default: tokio-multi]
  --concurrency N     documents in flight at once [default: 64]
  --pipeline N        requests sent at once on each connection (HTTP/1.1 pipelining;
                      tokio engines only; for servers known to handle it, as nginx
                      does), 1 to 64 [default: 1: each response before the next request]
  --retries N         tries after the first, for what may succeed later (refused,
                      reset, timed out, truncated, 5xx, 429) [default: 4]
  --timeout SECS      longest wait for one request's whole response [default: 30]
  --connect-timeout SECS  longest wait for a TCP handshake [default: 5]
  --max-size BYTES    refuse a document bigger than this [default: 16777216]

The corpus server (with --corpus):
  --fault-rate R      fraction of requests that meet a fault, 0 to 1 [default: 0]
  --faults LIST       which: latency,drop,unavailable,truncate,chunked,close,drip
                      [default: all]
  --seed N            another seed, other unlucky documents [default: 0]

  -h, --help          this text
  -V, --version       the version

The race (--race): every engine on the same corpus work at concurrency 1, 10, 100,
1000 and 10000 (--quick: 1 and 10000, fewer documents), each run in a process of its
own; prints a table, and writes the figures (--json), a chart (--svg) and the table
(--markdown). `cargo xtask bench` runs it and writes the chart into the book.

Against real peers (--peers): on nginx (2 workers) serving 100,000 documents of 2-8 KB
(--quick: 10,000), the tokio engines against wrk and Python's aiohttp at 100
connections, and the tokio corpus server against nginx (1 worker) under wrk; prints the
figures and each target met or missed. A comparison whose tool is not installed is
skipped (apt-get install nginx wrk; pip install aiohttp).

Exit codes: 0 all fetched, 1 some failed, 2 bad usage, 3 could not run, 130 Ctrl-C.
";

/// Where the URLs come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Corpus(u64),
    File(PathBuf),
    Stdin,
}

/// The command line, read.
#[derive(Debug, Clone)]
pub struct Cli {
    pub input: Input,
    pub engine: EngineKind,
    pub options: Options,
    pub json: Option<String>,
    pub quiet: bool,
    /// Flags for the corpus server's child process.
    pub server_args: Vec<String>,
}

/// Where `--race` writes its results.
#[derive(Debug, Clone, Default)]
pub struct RaceArgs {
    pub quick: bool,
    pub json: Option<String>,
    pub svg: Option<PathBuf>,
    pub markdown: Option<PathBuf>,
}

/// What `--peers` was asked for.
#[derive(Debug, Clone, Default)]
pub struct PeersArgs {
    pub quick: bool,
    pub json: Option<String>,
}

/// What the command line asks for.
#[derive(Debug)]
pub enum Command {
    Download(Box<Cli>),
    /// `--race`: every engine at every concurrency (see [`crate::race`]).
    Race(RaceArgs),
    /// `--peers`: side by side with nginx, wrk and aiohttp (see [`crate::peers`]).
    Peers(PeersArgs),
    Help,
    Version,
}

// ANCHOR: parse
/// Reads the arguments (without the program's name). `Err` is a usage error.
pub fn parse(args: &[String]) -> Result<Command, String> {
    let mut cli = Cli {
        input: Input::Corpus(10_000),
        engine: EngineKind::TokioMulti,
        options: Options::default(),
        json: None,
        quiet: false,
        server_args: Vec::new(),
    };
    if args.first().map(String::as_str) == Some("--race") {
        return parse_race(&args[1..]).map(Command::Race);
    }
    if args.first().map(String::as_str) == Some("--peers") {
        return parse_peers(&args[1..]).map(Command::Peers);
    }
    let mut input_given = false;
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        let flag = flag.as_str();
        let mut value = |what: &str| {
            args.next()
                .map(String::as_str)
                .ok_or_else(|| format!("{flag} needs a value: {what}"))
        };
        match flag {
            "-h" | "--help" => return Ok(Command::Help),
            "-V" | "--version" => return Ok(Command::Version),
            "-q" | "--quiet" => cli.quiet = true,
            "--corpus" | "--urls" if input_given => {
                return Err("give one input: --corpus N or --urls FILE".into());
            }
            "--corpus" => {
                let n: u64 = number(flag, value("a number of documents")?)?;
                if n > sockets::corpus::MAX_INDEX {
                    return Err(format!(
                        "--corpus: at most {} documents",
                        sockets::corpus::MAX_INDEX
                    ));
                }
                cli.input = Input::Corpus(n);
                input_given = true;
            }
            "--urls" => {
                let path = value("a file, or - for stdin")?;
                cli.input = if path == "-" {
                    Input::Stdin
                } else {
                    Input::File(PathBuf::from(path))
                };
                input_given = true;
            }
            "--out" => cli.options.out = Some(PathBuf::from(value("a folder")?)),
            "--json" => cli.json = Some(value("a file, or - for stdout")?.to_string()),
            "--engine" => {
                let name = value("an engine")?;
                cli.engine = EngineKind::parse(name).ok_or_else(|| {
                    let names: Vec<&str> = EngineKind::ALL.iter().map(|k| k.name()).collect();
                    format!("--engine: `{name}` is not one of {}", names.join(", "))
                })?;
            }
            "--concurrency" => {
                cli.options.concurrency = number(flag, value("a number")?)?;
                // Each connection is a descriptor; more than this is a typo, not a plan.
                if !(1..=100_000).contains(&cli.options.concurrency) {
                    return Err("--concurrency: from 1 to 100000".into());
                }
            }
            "--pipeline" => {
                cli.options.pipeline = number(flag, value("a number")?)?;
                if !(1..=crate::wire::MAX_PIPELINE).contains(&cli.options.pipeline) {
                    return Err(format!(
                        "--pipeline: from 1 to {}",
                        crate::wire::MAX_PIPELINE
                    ));
                }
            }
            "--retries" => cli.options.retries = number(flag, value("a number")?)?,
            "--timeout" => cli.options.timeout = positive(flag, value("seconds")?)?,
            "--connect-timeout" => cli.options.connect_timeout = positive(flag, value("seconds")?)?,
            "--max-size" => cli.options.limits.max_body_bytes = number(flag, value("bytes")?)?,
            "--fault-rate" | "--faults" | "--seed" => {
                let v = value("a value")?.to_string();
                cli.server_args.extend([flag.to_string(), v]);
            }
            other => return Err(format!("unknown option `{other}`")),
        }
    }
    if cli.options.pipeline > 1 && !matches!(cli.engine, EngineKind::Tokio | EngineKind::TokioMulti)
    {
        return Err(format!(
            "--pipeline: only the tokio engines pipeline, not `{}`",
            cli.engine.name()
        ));
    }
    if !cli.server_args.is_empty() && !matches!(cli.input, Input::Corpus(_)) {
        return Err(
            "--fault-rate, --faults and --seed are for the corpus server (--corpus)".into(),
        );
    }
    Ok(Command::Download(Box::new(cli)))
}
// ANCHOR_END: parse

fn parse_race(args: &[String]) -> Result<RaceArgs, String> {
    let mut race = RaceArgs::default();
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        let flag = flag.as_str();
        let mut value = || {
            args.next()
                .cloned()
                .ok_or_else(|| format!("{flag} needs a file"))
        };
        match flag {
            "--quick" => race.quick = true,
            "--json" => race.json = Some(value()?),
            "--svg" => race.svg = Some(PathBuf::from(value()?)),
            "--markdown" => race.markdown = Some(PathBuf::from(value()?)),
            other => return Err(format!("--race: unknown option `{other}`")),
        }
    }
    Ok(race)
}

fn parse_peers(args: &[String]) -> Result<PeersArgs, String> {
    let mut peers = PeersArgs::default();
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        match flag.as_str() {
            "--quick" => peers.quick = true,
            "--json" => {
                let file = args.next().ok_or("--json needs a file, or - for stdout")?;
                peers.json = Some(file.clone());
            }
            other => return Err(format!("--peers: unknown option `{other}`")),
        }
    }
    Ok(peers)
}

fn positive(flag: &str, text: &str) -> Result<Duration, String> {
    let d = seconds(flag, text)?;
    if d.is_zero() {
        return Err(format!("{flag}: must be more than 0"));
    }
    Ok(d)
}

/// The whole command: what `main` calls.
pub fn main() -> ExitCode {
    if let Some(exit) = hidden_mode() {
        return exit;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cli = match parse(&args) {
        Ok(Command::Download(cli)) => cli,
        Ok(Command::Race(race)) => return run_race(&race),
        Ok(Command::Peers(peers)) => return run_peers(&peers),
        Ok(Command::Help) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Ok(Command::Version) => {
            println!("async-download {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("async-download: {message}\n\nRun `async-download --help` for the options.");
            return ExitCode::from(2);
        }
    };
    match run(&cli) {
        Ok(report) => {
            if !cli.quiet {
                eprint!("{}", report.summary());
            }
            if let Some(json) = &cli.json {
                if let Err(e) = write_json(json, &report) {
                    eprintln!("async-download: cannot write the report to {json}: {e}");
                    return ExitCode::from(3);
                }
            }
            if !report.panics.is_empty() && cli.quiet {
                // Quiet or not, a bug is said: the summary above says it otherwise.
                for panic in &report.panics {
                    eprintln!("async-download: a bug: the program panicked {panic}");
                }
            }
            if report.interrupted {
                ExitCode::from(130)
            } else if report.failed > 0 || !report.panics.is_empty() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(error) => {
            eprintln!("async-download: {error}");
            ExitCode::from(3)
        }
    }
}

/// The modes a program of this crate runs in when it starts itself again as a child
/// process: the corpus server, or one run of the race. `None`: not one of those.
/// Every binary of the crate calls this first.
pub fn hidden_mode() -> Option<ExitCode> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some(SERVE_CORPUS) => Some(crate::server::serve_as_child(&args[1..])),
        Some(crate::race::RACE_ONE) => Some(crate::race::child_main(&args[1..])),
        _ => None,
    }
}

/// `--race`: runs the race, prints each run as it ends and the table at the end, and
/// writes the files asked for.
pub fn run_race(args: &RaceArgs) -> ExitCode {
    let plan = if args.quick {
        crate::race::RacePlan::quick()
    } else {
        crate::race::RacePlan::full()
    };
    let runs = plan.runs().len();
    let mut done = 0;
    let race = crate::race::race(&plan, |e| {
        done += 1;
        eprintln!(
            "[{done}/{runs}] {:<11} concurrency {:>6}: {:>8.0} documents/s, {:>6.1} µs CPU/doc, {:>7.1} MiB, {} threads",
            e.engine,
            e.concurrency,
            e.docs_per_sec,
            e.cpu_us_per_doc,
            e.peak_rss_bytes as f64 / (1024.0 * 1024.0),
            e.peak_threads
        );
    });
    let race = match race {
        Ok(race) => race,
        Err(e) => {
            eprintln!("async-download --race: {e}");
            return ExitCode::from(3);
        }
    };
    let table = crate::race::markdown(&race);
    println!("{table}");
    let mut writes: Vec<(String, String)> = Vec::new();
    if let Some(path) = &args.svg {
        writes.push((path.display().to_string(), crate::race::svg(&race)));
    }
    if let Some(path) = &args.markdown {
        writes.push((path.display().to_string(), table));
    }
    if let Some(path) = &args.json {
        match serde_json::to_string_pretty(&race) {
            Ok(text) if path == "-" => println!("{text}"),
            Ok(text) => writes.push((path.clone(), text + "\n")),
            Err(e) => eprintln!("async-download --race: {e}"),
        }
    }
    for (path, text) in writes {
        if let Err(e) = std::fs::write(&path, text) {
            eprintln!("async-download --race: cannot write {path}: {e}");
            return ExitCode::from(3);
        }
        eprintln!("wrote {path}");
    }
    ExitCode::SUCCESS
}

/// `--peers`: measures, prints the table (stdout) and writes the figures (`--json`).
/// Exit 0 even when a target is missed — it is a report; 3 when a tool that is
/// installed failed to run, 130 on Ctrl-C.
pub fn run_peers(args: &PeersArgs) -> ExitCode {
    let plan = if args.quick {
        crate::peers::PeerPlan::quick()
    } else {
        crate::peers::PeerPlan::full()
    };
    let peers = match crate::peers::run(&plan, |line| eprintln!("{line}")) {
        Ok(peers) => peers,
        Err(e) if crate::peers::interrupted() => {
            eprintln!("async-download --peers: {e}");
            return ExitCode::from(130);
        }
        Err(e) => {
            eprintln!("async-download --peers: {e}");
            return ExitCode::from(3);
        }
    };
    println!("{}", crate::peers::markdown(&peers));
    if let Some(path) = &args.json {
        let written = serde_json::to_string_pretty(&peers)
            .map_err(std::io::Error::other)
            .and_then(|text| match path.as_str() {
                "-" => {
                    println!("{text}");
                    Ok(())
                }
                _ => std::fs::write(path, text + "\n"),
            });
        if let Err(e) = written {
            eprintln!("async-download --peers: cannot write {path}: {e}");
            return ExitCode::from(3);
        }
    }
    if peers.failed() {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    }
}

/// Runs the download the command line describes.
pub fn run(cli: &Cli) -> Result<Report, DownloadError> {
    let mut options = cli.options.clone();
    // A wish for more connections than descriptors would fail as EMFILE, one connection
    // at a time: raise the soft limit to the hard one first (each connection is one
    // descriptor here; the corpus server is another process).
    if options.concurrency > 512 {
        let _ = event_loop::fd_limit::raise_fd_limit();
    }
    let store = match &options.out {
        Some(dir) => Some(Store::open(dir)?),
        None => None,
    };
    let mut server = None;
    let (lines, total): (Lines, Option<u64>) = match &cli.input {
        Input::Corpus(n) => {
            let mut args = vec![SERVE_CORPUS];
            args.extend(cli.server_args.iter().map(String::as_str));
            let child =
                ChildServer::start(&args).map_err(|e| DownloadError::Server(e.to_string()))?;
            let lines = target::corpus(child.addr(), *n).map(Ok);
            server = Some(child);
            (Box::new(lines), Some(*n))
        }
        Input::File(path) => {
            let file = std::fs::File::open(path).map_err(|source| DownloadError::Input {
                what: path.display().to_string(),
                source,
            })?;
            (Box::new(target::url_lines(BufReader::new(file))), None)
        }
        Input::Stdin => (
            Box::new(target::url_lines(BufReader::new(std::io::stdin()))),
            None,
        ),
    };
    let progress = if cli.quiet {
        Progress::hidden()
    } else {
        Progress::stderr(total)
    };
    options.concurrency = cli.engine.workers(options.concurrency);
    let job = Arc::new(Job {
        feed: Feed::new(lines),
        collector: Collector::new(store, progress),
        options,
    });
    stop_on_ctrl_c(job.clone());
    let report = crate::engine::run(cli.engine, job);
    if let Some(server) = server {
        server.stop();
    }
    report
}

// ANCHOR: ctrl_c
/// On the first Ctrl-C, stop handing out documents (the ones in flight finish, and
/// the journal keeps what was saved); on a second one, exit at once — nothing is lost
/// then either: a document is in its file whole, or not at all.
fn stop_on_ctrl_c(job: Arc<Job>) {
    on_ctrl_c(
        "finishing the documents in flight",
        Box::new(move || job.feed.stop()),
    );
}

/// Runs `first` on the first Ctrl-C (after saying `what` it does), and exits with 130
/// on a second one. A thread of its own waits for the signal, with tokio's
/// `ctrl_c`, whatever engine (or none) the program runs.
pub fn on_ctrl_c(what: &'static str, first: Box<dyn FnOnce() + Send>) {
    let spawned = std::thread::Builder::new()
        .name("ctrl-c".into())
        .spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async {
                if tokio::signal::ctrl_c().await.is_ok() {
                    eprintln!("\ninterrupted: {what} (Ctrl-C again to quit now)");
                    first();
                }
                if tokio::signal::ctrl_c().await.is_ok() {
                    std::process::exit(130);
                }
            });
        });
    // Without the thread, Ctrl-C keeps its default: the process ends at once, which
    // the journal makes safe too.
    drop(spawned);
}
// ANCHOR_END: ctrl_c

fn write_json(to: &str, report: &Report) -> std::io::Result<()> {
    let text = serde_json::to_string_pretty(report).map_err(std::io::Error::other)?;
    if to == "-" {
        println!("{text}");
        Ok(())
    } else {
        std::fs::write(to, text + "\n")
    }
}
