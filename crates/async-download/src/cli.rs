//! The `async-download` command: its flags, the corpus server it starts for trying
//! things out, Ctrl-C, the report and the exit code.
//!
//! The flags are read by clap from one definition ([`Cli`]): each option once, with its
//! default, and `--help`, the errors and the suggestions come from it. What clap cannot
//! say alone (pipelining only with the tokio engines, the server's flags only with
//! `--corpus`, the race's only with `--race`) is said with its relations between
//! arguments, so that every usage error is clap's, with exit code 2.

use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::builder::{PossibleValue, RangedU64ValueParser};
use clap::{Parser, ValueEnum};
use procs::child_server::ChildServer;
use sockets::cli::{FaultList, fault_list, fraction, positive_seconds};
use sockets::url::Url;

use crate::collect::{Collector, Output, Report};
use crate::engine::{EngineKind, Job};
use crate::error::DownloadError;
use crate::feed::{Feed, Lines};
use crate::headers::{Header, MAX_HEADERS, parse_user_agent};
use crate::names::Layout;
use crate::options::Options;
use crate::progress::Progress;
use crate::store::Store;
use crate::target::{self, Line, Target};
use crate::tls::Tls;

// ANCHOR: exit
/// The command's exit codes, so that a script can tell what happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Every document was fetched (or the race ran).
    AllFetched = 0,
    /// Some failed: the report names each one, with its reason.
    SomeFailed = 1,
    /// The command was called wrongly (clap's code for a usage error).
    Usage = 2,
    /// The run could not go on: the output folder, the input, the runtime.
    CouldNotRun = 3,
    /// Interrupted by Ctrl-C: run the same command again, and the journal makes it go
    /// on where it stopped.
    Interrupted = 130,
}
// ANCHOR_END: exit

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit as u8)
    }
}

/// `--per-host` without the flag, for URLs from a list or the command line: what
/// browsers open to one host.
pub const DEFAULT_PER_HOST: usize = 6;

const EXIT_CODES: &str = "\
Exit codes: 0 all fetched, 1 some failed, 2 bad usage, 3 could not run, 130 Ctrl-C
(run the same command again: with --out, only what is missing is fetched).";

// ANCHOR: cli
/// Fetch many documents over HTTP/1.1, concurrently, robustly.
///
/// The race (--race): every engine on the same corpus work at concurrency 1, 10, 100,
/// 1000 and 10000 (--quick: 1 and 10000, fewer documents), each run in a process of its
/// own; prints a table, and writes the figures (--json), a chart (--svg) and the table
/// (--markdown). `cargo xtask bench` runs it and writes the chart into target/bench.
#[derive(Debug, Clone, Parser)]
#[command(name = "async-download", version, after_help = EXIT_CODES)]
pub struct Cli {
    /// One URL to fetch (http:// or https://), as with curl or wget: with -o FILE, saved
    /// as FILE
    #[arg(value_name = "URL", help_heading = "Input (one of)",
          conflicts_with_all = ["corpus", "urls"], value_parser = parse_url)]
    pub url: Option<Url>,
    /// Start the course's corpus server (a child process on 127.0.0.1) and fetch its
    /// documents 0..N [default: --corpus 10000]
    #[arg(long, value_name = "N", help_heading = "Input (one of)", conflicts_with = "urls",
          value_parser = clap::value_parser!(u64).range(0..=sockets::corpus::MAX_INDEX))]
    pub corpus: Option<u64>,
    /// The URLs in FILE (or on stdin with -), one http:// or https:// URL a line; blank
    /// lines and lines starting with # are skipped
    #[arg(long, value_name = "FILE|-", help_heading = "Input (one of)")]
    pub urls: Option<String>,

    /// Save each document under DIR (written atomically; a journal, DIR/.journal, lets a
    /// killed or interrupted run resume) [default: check each document and discard it]
    #[arg(long, value_name = "DIR", help_heading = "Output")]
    pub out: Option<PathBuf>,
    /// With a URL: save its document as FILE (- for stdout), written whole or not at
    /// all, with no journal [default: as --out says, or check it and discard it]
    #[arg(
        short = 'o',
        long = "output",
        value_name = "FILE|-",
        help_heading = "Output",
        requires = "url",
        conflicts_with = "out"
    )]
    pub output: Option<PathBuf>,
    /// With --out: save http://h:p/a/b?q as DIR/h_p/%2Fa%2Fb%3Fq, one file per host
    /// folder [default: a folder per path segment, DIR/h_p/a/b%3Fq%: a name without a
    /// `.` ends in %, so no file takes a folder's place; a final / is index.html]
    #[arg(long, help_heading = "Output", requires = "out")]
    pub flat: bool,
    /// Write the report as JSON to FILE (or stdout); with --race, the race's figures
    #[arg(long, value_name = "FILE|-", help_heading = "Output")]
    pub json: Option<String>,
    /// After the run, write the URLs that failed to FILE, one a line, each after a
    /// `# reason` line: a list for --urls FILE, to try them again [default: not written]
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub failed: Option<PathBuf>,
    /// No progress bar and no report on stderr (the bar is never drawn when stderr is
    /// not a terminal)
    #[arg(short, long, help_heading = "Output")]
    pub quiet: bool,

    /// Which engine fetches
    #[arg(
        long,
        value_name = "E",
        default_value = "tokio-multi",
        help_heading = "How"
    )]
    pub engine: EngineKind,
    /// Documents in flight at once (each connection is a descriptor: more than this is
    /// a typo, not a plan)
    #[arg(long, value_name = "N", default_value_t = 64, help_heading = "How",
          value_parser = RangedU64ValueParser::<usize>::new().range(1..=100_000))]
    pub concurrency: usize,
    /// Requests in flight to one host at once, under --concurrency: a host starts
    /// with 2 and gets one more with each answer, up to N [default: 6; with --corpus,
    /// the course's own server: no limit]
    #[arg(long, value_name = "N", help_heading = "How",
          value_parser = RangedU64ValueParser::<usize>::new().range(1..=100_000))]
    pub per_host: Option<usize>,
    /// Requests sent at once on each connection (HTTP/1.1 pipelining; tokio engines
    /// only; for servers known to handle it) [default: 1: each response
    /// before the next request]
    #[arg(long, value_name = "N", help_heading = "How",
          value_parser = RangedU64ValueParser::<usize>::new().range(1..=crate::wire::MAX_PIPELINE as u64))]
    pub pipeline: Option<usize>,
    /// Tries after the first, for what may succeed later (refused, reset, timed out,
    /// truncated, 5xx, 429)
    #[arg(long, value_name = "N", default_value_t = 4, help_heading = "How")]
    pub retries: u32,
    /// Longest wait for one request's whole response, in seconds
    #[arg(long, value_name = "SECS", default_value = "30", help_heading = "How",
          value_parser = positive_seconds)]
    pub timeout: Duration,
    /// Longest wait for a TCP handshake, in seconds
    #[arg(long, value_name = "SECS", default_value = "5", help_heading = "How",
          value_parser = positive_seconds)]
    pub connect_timeout: Duration,
    /// Refuse a document bigger than this [default: 16777216 for a document held in
    /// memory; none for one that --out writes to disk as it comes, which the tokio
    /// engines do with a document over 1 MiB]
    #[arg(long, value_name = "BYTES", help_heading = "How")]
    pub max_size: Option<usize>,

    /// Send this header with every request, as `Name: value` (repeatable; a User-Agent
    /// replaces --user-agent; Host, Content-Length, Transfer-Encoding, Connection and
    /// the other framing headers are refused) [default: none]
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE", help_heading = "How",
          value_parser = Header::parse, action = clap::ArgAction::Append)]
    pub headers: Vec<Header>,
    /// Redirects (301, 302, 303, 307, 308) followed for one document at most; 0: none
    ///
    /// A loop, or one redirect more, fails the document (not retried). It is saved under
    /// the name of the URL asked for; the report and the journal say where it ended up.
    #[arg(long, value_name = "N", default_value_t = crate::redirect::DEFAULT_MAX_REDIRECTS,
          help_heading = "How", value_parser = clap::value_parser!(u32).range(0..=1000))]
    pub max_redirects: u32,
    /// Do not ask for compressed bodies [default: ask with `Accept-Encoding: gzip,
    /// deflate`; what comes compressed is saved decoded, --max-size applying to the
    /// decoded bytes]
    #[arg(long, help_heading = "How")]
    pub no_compress: bool,
    /// The User-Agent header of every request; empty: none
    #[arg(long, value_name = "TEXT", default_value = crate::options::USER_AGENT,
          help_heading = "How", value_parser = parse_user_agent)]
    pub user_agent: String,
    /// Trust the CA certificates in FILE (PEM) too, for https [default: only the web's
    /// CAs, built in (Mozilla's list); a certificate is always verified]
    #[arg(long, value_name = "FILE", help_heading = "How", value_parser = parse_ca_cert)]
    pub ca_cert: Option<Tls>,
    /// Read at most BYTES per second, all connections together (200K, 5M: K and M count
    /// 1,024), tokio engines only; a document must still arrive within --timeout
    /// [default: no limit]
    #[arg(long, value_name = "BYTES", help_heading = "How", value_parser = crate::rate::parse_rate)]
    pub rate: Option<u64>,

    /// The fraction of requests that meet a fault, 0 to 1
    #[arg(long, value_name = "R", help_heading = "The corpus server (with --corpus)",
          conflicts_with = "urls", value_parser = fraction)]
    pub fault_rate: Option<f64>,
    /// Which: latency,drop,unavailable,truncate,chunked,close,drip [default: all]
    #[arg(long, value_name = "LIST", help_heading = "The corpus server (with --corpus)",
          conflicts_with = "urls", value_parser = fault_list)]
    pub faults: Option<FaultList>,
    /// Another seed, other unlucky documents [default: 0]
    #[arg(
        long,
        value_name = "N",
        help_heading = "The corpus server (with --corpus)",
        conflicts_with = "urls"
    )]
    pub seed: Option<u64>,

    /// Race every engine on the same corpus work instead of downloading
    #[arg(long, help_heading = "The race",
          conflicts_with_all = ["url", "corpus", "urls", "out", "output", "failed", "headers", "user_agent", "max_redirects", "no_compress", "ca_cert", "rate", "per_host", "quiet", "pipeline", "fault_rate", "faults", "seed"])]
    pub race: bool,
    /// With --race: 1 and 10000 connections, fewer documents
    #[arg(long, help_heading = "The race", requires = "race")]
    pub quick: bool,
    /// With --race: write the chart (SVG) to FILE
    #[arg(
        long,
        value_name = "FILE",
        help_heading = "The race",
        requires = "race"
    )]
    pub svg: Option<PathBuf>,
    /// With --race: write the table (Markdown) to FILE
    #[arg(
        long,
        value_name = "FILE",
        help_heading = "The race",
        requires = "race"
    )]
    pub markdown: Option<PathBuf>,
}
// ANCHOR_END: cli

impl ValueEnum for EngineKind {
    fn value_variants<'a>() -> &'a [EngineKind] {
        &EngineKind::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.name()))
    }
}

/// `--ca-cert FILE`, read when the command line is: a file that cannot be used is a
/// usage error, before anything is fetched.
fn parse_ca_cert(text: &str) -> Result<Tls, String> {
    Tls::with_ca_file(Path::new(text)).map_err(|e| e.to_string())
}

/// A URL on the command line, read as `--urls` reads one: a bad one is a usage error.
fn parse_url(text: &str) -> Result<Url, String> {
    Url::parse_web(text).map_err(|e| e.to_string())
}

/// Where the URLs come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    One(Url),
    Corpus(u64),
    File(PathBuf),
    Stdin,
}

impl Cli {
    /// Reads `args` (the program's name first, as in `std::env::args`). `Err` is
    /// clap's: a usage error (exit code 2), or `--help` and `--version` (exit code 0);
    /// `Error::exit` prints it where it belongs.
    pub fn parse_args<I, T>(args: I) -> Result<Cli, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let cli = Cli::try_parse_from(args)?;
        let pipelined = cli.pipeline.is_some_and(|depth| depth > 1);
        if pipelined && !matches!(cli.engine, EngineKind::Tokio | EngineKind::TokioMulti) {
            return Err(<Cli as clap::CommandFactory>::command().error(
                clap::error::ErrorKind::ArgumentConflict,
                format!(
                    "--pipeline: only the tokio engines pipeline, not `{}`",
                    cli.engine.name()
                ),
            ));
        }
        if cli.rate.is_some() && !matches!(cli.engine, EngineKind::Tokio | EngineKind::TokioMulti) {
            return Err(<Cli as clap::CommandFactory>::command().error(
                clap::error::ErrorKind::ArgumentConflict,
                format!(
                    "--rate: only the tokio engines limit the rate, not `{}`",
                    cli.engine.name()
                ),
            ));
        }
        if cli.headers.len() > MAX_HEADERS {
            return Err(<Cli as clap::CommandFactory>::command().error(
                clap::error::ErrorKind::TooManyValues,
                format!(
                    "--header: {} headers given, at most {MAX_HEADERS} are sent",
                    cli.headers.len()
                ),
            ));
        }
        Ok(cli)
    }

    /// Where the URLs come from: `--urls`, or the corpus (10,000 documents unless
    /// `--corpus` says).
    pub fn input(&self) -> Input {
        if let Some(url) = &self.url {
            return Input::One(url.clone());
        }
        match self.urls.as_deref() {
            Some("-") => Input::Stdin,
            Some(path) => Input::File(PathBuf::from(path)),
            None => Input::Corpus(self.corpus.unwrap_or(10_000)),
        }
    }

    /// How the documents' names are laid out under `--out`.
    pub fn layout(&self) -> Layout {
        if self.flat {
            Layout::Flat
        } else {
            Layout::Tree
        }
    }

    /// The download's settings, from the flags and [`Options::default`].
    pub fn options(&self) -> Options {
        let mut options = Options {
            concurrency: self.concurrency,
            pipeline: self.pipeline.unwrap_or(1),
            retries: self.retries,
            timeout: self.timeout,
            connect_timeout: self.connect_timeout,
            max_redirects: self.max_redirects,
            compress: !self.no_compress,
            tls: self.ca_cert.clone().unwrap_or_default(),
            rate: self.rate.map(|r| Arc::new(crate::rate::Rate::new(r))),
            out: self.out.clone(),
            per_host: match (self.per_host, self.input()) {
                (Some(n), _) => Some(n),
                (None, Input::Corpus(_)) => None,
                (None, _) => Some(DEFAULT_PER_HOST),
            },
            ..Options::default()
        };
        if let Some(limit) = self.max_size {
            options.limits.max_body_bytes = limit;
            options.max_spilled = Some(limit);
        }
        // As with curl, a `-H "User-Agent: ..."` replaces the user agent (the last one
        // given, if several): a request never carries two.
        let (agents, headers): (Vec<&Header>, Vec<&Header>) =
            self.headers.iter().partition(|h| h.is_user_agent());
        options.user_agent = match agents.last() {
            Some(agent) => agent.value.clone(),
            None => self.user_agent.clone(),
        };
        options.headers = headers.into_iter().cloned().collect();
        options
    }

    /// The flags for the corpus server's child process.
    pub fn server_args(&self) -> Vec<String> {
        let mut args = Vec::new();
        if let Some(rate) = self.fault_rate {
            args.extend(["--fault-rate".to_string(), rate.to_string()]);
        }
        if let Some(FaultList(kinds)) = &self.faults {
            let names: Vec<&str> = kinds.iter().map(|k| k.name()).collect();
            args.extend(["--faults".to_string(), names.join(",")]);
        }
        if let Some(seed) = self.seed {
            args.extend(["--seed".to_string(), seed.to_string()]);
        }
        args
    }
}

/// The whole command: what `main` calls.
pub fn main() -> ExitCode {
    if let Some(exit) = crate::child_mode::hidden_mode() {
        return exit;
    }
    let cli = match Cli::parse_args(std::env::args_os()) {
        Ok(cli) => cli,
        // --help and --version (exit 0), or a usage error (exit 2).
        Err(e) => e.exit(),
    };
    if cli.race {
        return run_race(&cli).into();
    }
    match run(&cli) {
        Ok(report) => {
            if !cli.quiet {
                eprint!("{}", report.summary());
            }
            if let Some(json) = &cli.json {
                if let Err(e) = write_json(json, &report) {
                    eprintln!("async-download: cannot write the report to {json}: {e}");
                    return Exit::CouldNotRun.into();
                }
            }
            if let Some(path) = &cli.failed {
                if let Err(e) = std::fs::write(path, report.failed_list()) {
                    eprintln!(
                        "async-download: cannot write the failed URLs to {}: {e}",
                        path.display()
                    );
                    return Exit::CouldNotRun.into();
                }
            }
            if !report.panics.is_empty() && cli.quiet {
                // Quiet or not, a bug is said: the summary above says it otherwise.
                for panic in &report.panics {
                    eprintln!("async-download: a bug: the program panicked {panic}");
                }
            }
            if report.interrupted {
                Exit::Interrupted.into()
            } else if report.failed > 0 || !report.panics.is_empty() {
                Exit::SomeFailed.into()
            } else {
                Exit::AllFetched.into()
            }
        }
        Err(error) => {
            eprintln!("async-download: {error}");
            Exit::CouldNotRun.into()
        }
    }
}

/// `--race`: runs the race, prints each run as it ends and the table at the end, and
/// writes the files asked for.
pub fn run_race(cli: &Cli) -> Exit {
    let plan = if cli.quick {
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
            return Exit::CouldNotRun;
        }
    };
    let table = crate::race::markdown(&race);
    println!("{table}");
    let mut writes: Vec<(String, String)> = Vec::new();
    if let Some(path) = &cli.svg {
        writes.push((path.display().to_string(), crate::race::svg(&race)));
    }
    if let Some(path) = &cli.markdown {
        writes.push((path.display().to_string(), table));
    }
    if let Some(path) = &cli.json {
        match serde_json::to_string_pretty(&race) {
            Ok(text) if path == "-" => println!("{text}"),
            Ok(text) => writes.push((path.clone(), text + "\n")),
            Err(e) => eprintln!("async-download --race: {e}"),
        }
    }
    for (path, text) in writes {
        if let Err(e) = std::fs::write(&path, text) {
            eprintln!("async-download --race: cannot write {path}: {e}");
            return Exit::CouldNotRun;
        }
        eprintln!("wrote {path}");
    }
    Exit::AllFetched
}

/// Runs the download the command line describes.
pub fn run(cli: &Cli) -> Result<Report, DownloadError> {
    let mut options = cli.options();
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
    let (lines, total): (Lines, Option<u64>) = match cli.input() {
        Input::Corpus(n) => {
            let mut args = vec![crate::server::SERVE_CORPUS];
            let server_args = cli.server_args();
            args.extend(server_args.iter().map(String::as_str));
            let child =
                ChildServer::start(&args).map_err(|e| DownloadError::Server(e.to_string()))?;
            let lines = target::corpus(child.addr(), n).map(Ok);
            server = Some(child);
            (Box::new(lines), Some(n))
        }
        Input::One(url) => {
            let line = Line::Target(Target::named(url, cli.layout()));
            (Box::new(std::iter::once(Ok(line))), Some(1))
        }
        Input::File(path) => {
            let file = std::fs::File::open(&path).map_err(|source| DownloadError::Input {
                what: path.display().to_string(),
                source,
            })?;
            (
                Box::new(target::url_lines_in(BufReader::new(file), cli.layout())),
                None,
            )
        }
        Input::Stdin => (
            Box::new(target::url_lines_in(
                BufReader::new(std::io::stdin()),
                cli.layout(),
            )),
            None,
        ),
    };
    let progress = if cli.quiet {
        Progress::hidden()
    } else {
        Progress::stderr(total)
    };
    options.concurrency = cli.engine.workers(options.concurrency);
    let mut collector = Collector::new(store, progress);
    match cli.output.as_deref() {
        Some(path) if path.as_os_str() == "-" => collector = collector.with_output(Output::Stdout),
        Some(path) => collector = collector.with_output(Output::File(path.to_path_buf())),
        None => {}
    }
    let job = Arc::new(Job {
        feed: Feed::new(lines),
        collector,
        gate: crate::polite::HostGate::new(options.per_host),
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
    crate::ctrl_c::on_ctrl_c(
        "finishing the documents in flight",
        Box::new(move || job.feed.stop()),
    );
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
