//! The tour of lesson 3: `cargo run --release -p sockets [-- --quick] [-- --json]`.
//!
//! Starts the corpus server in a child process (so that the client's memory and CPU
//! are measured alone), shows one request and response byte by byte, downloads
//! documents one after another and then with lesson 2's thread pool at 1, 8, 64 and 512
//! threads, and sends the client into every fault the server can inject.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use procs::child_server::ChildServer;
use procs::measure::Usage;
use procs::tour::{Inputs, Tour, TourArgs, fmt_bytes};
use sockets::claims::{self, FAULT_KINDS};
use sockets::client::{ClientConfig, ClientError, Connection};
use sockets::corpus::{CHECKSUM_HEADER, verify};
use sockets::http::{Method, RequestHead, write_request};
use sockets::url::Url;
use threads::ThreadPool;

const ABOUT: &str = "Lesson 3 tour: HTTP/1.1 by hand, a blocking client against an offline \
                     Wikipedia, and what threads do for downloads that mostly wait.";

/// The hidden argument with which the tour runs itself as the server's process.
const SERVE_ARG: &str = "--serve-corpus";

// ANCHOR: latency
/// Latency the server adds to every reply in the download experiments: a stand-in for a
/// far-away server, so that downloading is waiting, as on the real network.
const LATENCY: Duration = Duration::from_millis(5);
// ANCHOR_END: latency

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some(SERVE_ARG) {
        return serve(&args[2..]);
    }
    let args = TourArgs::from_env(ABOUT);
    if args.falsify {
        return procs::tour::falsify("sockets", claims::ALL, &args);
    }
    let mut tour = Tour::start("sockets", "HTTP/1.1 by hand, a blocking client", args, 3);
    let latency = LATENCY.as_millis().to_string();
    let server = match ChildServer::start(&[SERVE_ARG, &latency]) {
        Ok(s) => s,
        Err(e) => {
            tour.experiment("server", "Starting the corpus server", "", |_| {
                Err::<(), String>(format!("cannot start the corpus server: {e}"))
            });
            return tour.finish(claims::ALL);
        }
    };
    let base = format!("http://{}", server.addr());
    by_hand(&mut tour, &base);
    // ANCHOR: counts
    let counts: &[usize] = if tour.quick() {
        &[1, 8, 64, 256]
    } else {
        &[1, 8, 64, 512]
    };
    // ANCHOR_END: counts
    downloads(&mut tour, &base, counts);
    faults(&mut tour, &base);
    server.stop();
    tour.finish(claims::ALL)
}

fn by_hand(tour: &mut Tour, base: &str) {
    let result = tour.experiment(
        "by-hand",
        "One request, one response, byte by byte",
        "HTTP/1.1 is text over a TCP connection: a request line, headers, an empty line. \
         The response comes back the same way, with a Content-Length that says where the \
         body ends. The corpus server adds a checksum header, checked here.",
        |exp| {
            let url = Url::parse(&format!("{base}/wiki/42"))?;
            let mut request = Vec::new();
            write_request(
                &RequestHead {
                    method: Method::Get,
                    host: &url.host_header(),
                    target: &url.path,
                    keep_alive: true,
                    user_agent: "course-sockets",
                },
                &mut request,
            );
            for line in String::from_utf8_lossy(&request).split("\r\n") {
                if !line.is_empty() {
                    exp.note(format!("> {line}"));
                }
            }
            let start = Instant::now();
            let mut connection = Connection::open(&url, ClientConfig::default())?;
            let response = connection.get(&url.path)?;
            let took = start.elapsed().as_secs_f64();
            exp.note(format!(
                "< HTTP/1.{} {} {}",
                response.version_minor, response.status, response.reason
            ));
            for (name, value) in response.headers.iter() {
                exp.note(format!("< {name}: {value}"));
            }
            exp.figure("request size", request.len() as f64, "bytes");
            exp.figure("response body", response.body.len() as f64, "bytes");
            exp.figure(
                "connect + request + response (5 ms of it the server's delay)",
                took * 1e3,
                "ms",
            );
            let checksum = response.headers.get(CHECKSUM_HEADER).unwrap_or("");
            Ok::<_, Box<dyn std::error::Error>>((response.status, verify(&response.body, checksum)))
        },
    );
    if let Some((status, verified)) = result {
        tour.judge(
            &claims::BY_HAND,
            Inputs::new().with("status", f64::from(status), "").with(
                "checksum matches",
                f64::from(u8::from(verified)),
                "",
            ),
        );
    }
}

/// One download run: `threads` workers, each with its own keep-alive connection,
/// taking document ids from a shared counter until `docs` are done.
#[derive(Debug, Clone, Copy)]
struct Run {
    threads: usize,
    docs: usize,
    wall: f64,
    cpu: f64,
    rss: u64,
    failed: usize,
}

impl Run {
    fn docs_per_second(&self) -> f64 {
        self.docs as f64 / self.wall.max(1e-9)
    }
}

// ANCHOR: download_workers
fn download(base: &str, threads: usize, docs: usize) -> Result<Run, String> {
    let url = Url::parse(base).map_err(|e| e.to_string())?;
    let pool = ThreadPool::new(threads).map_err(|e| e.to_string())?;
    let next = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let usage = Usage::of_self().map_err(|e| e.to_string())?;
    let start = Instant::now();
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    for _ in 0..threads {
        let (url, next, failed, done) =
            (url.clone(), next.clone(), failed.clone(), done_tx.clone());
        pool.execute(move || {
            let mut connection = Connection::open(&url, ClientConfig::default()).ok();
            loop {
                // Relaxed: the read-modify-write alone hands out each id once.
                let id = next.fetch_add(1, Ordering::Relaxed);
                if id >= docs as u64 {
                    break;
                }
                let ok = connection.as_mut().is_some_and(|c| {
                    c.get(&format!("/wiki/{id}")).is_ok_and(|r| {
                        r.status == 200
                            && verify(&r.body, r.headers.get(CHECKSUM_HEADER).unwrap_or(""))
                    })
                });
                if !ok {
                    // Relaxed: a count, read once every worker reported through the channel.
                    failed.fetch_add(1, Ordering::Relaxed);
                }
            }
            let _ = done.send(());
        })
        .map_err(|e| e.to_string())?;
    }
    // ANCHOR_END: download_workers
    // ANCHOR: download_measure
    drop(done_tx);
    // Every worker reports when its loop ends; the pool's threads are still alive then,
    // so the memory measured is that of `threads` threads with their connections.
    for _ in 0..threads {
        done_rx
            .recv_timeout(Duration::from_secs(120))
            .map_err(|_| "a download worker did not finish within 120 s".to_string())?;
    }
    let wall = start.elapsed().as_secs_f64();
    let rss = procs::proc::self_status()
        .map_err(|e| e.to_string())?
        .vm_rss;
    let cpu = Usage::of_self()
        .map_err(|e| e.to_string())?
        .since(&usage)
        .cpu();
    pool.shutdown();
    Ok(Run {
        threads,
        docs,
        wall,
        cpu,
        rss,
        // Relaxed: the workers' `done` messages, received above, order their counts before this.
        failed: failed.load(Ordering::Relaxed),
    })
}
// ANCHOR_END: download_measure

fn downloads(tour: &mut Tour, base: &str, counts: &[usize]) {
    let title = format!(
        "Downloading with {} threads",
        counts
            .iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let runs = tour.experiment(
        "downloads",
        &title,
        "Each document takes the server 5 ms to answer, as a distant server would. One \
         thread spends almost all its time waiting; more threads wait at the same time. \
         CPU time stays a small part of wall time: the threads mostly sleep in read(). \
         Each thread costs memory (its stack, its connection's buffer).",
        |exp| {
            let mut runs = Vec::new();
            for &threads in counts {
                // Enough documents that every thread has a few dozen to fetch.
                let docs = (threads * 24).max(200);
                let run = download(base, threads, docs)?;
                exp.note(format!(
                    "{threads:>4} threads: {docs:>6} docs in {:>6.0} ms, {:>7.0} docs/s, CPU/wall {:.2}, RSS {}, {} failed",
                    run.wall * 1e3,
                    run.docs_per_second(),
                    run.cpu / run.wall,
                    fmt_bytes(run.rss as f64),
                    run.failed
                ));
                exp.figure(format!("docs/s with {threads} threads"), run.docs_per_second(), "docs/s");
                exp.figure(format!("CPU/wall with {threads} threads"), run.cpu / run.wall, "");
                exp.figure(format!("RSS with {threads} threads"), run.rss as f64, "bytes");
                runs.push(run);
            }
            Ok::<_, String>(runs)
        },
    );
    let Some(runs) = runs else { return };
    let find = |n: usize| runs.iter().find(|r| r.threads == n).copied();
    let (Some(one), Some(eight), Some(sixty_four), Some(most)) =
        (find(1), find(8), find(64), runs.last().copied())
    else {
        return;
    };
    tour.headline(
        "docs/s with 64 threads",
        sixty_four.docs_per_second(),
        "docs/s",
    );
    tour.judge(
        &claims::THREADS_OVERLAP_WAITS,
        Inputs::new()
            .with("64 threads", sixty_four.docs_per_second(), "docs/s")
            .with("1 thread", one.docs_per_second(), "docs/s"),
    );
    tour.judge(
        &claims::MOSTLY_WAITING,
        Inputs::new()
            .with("CPU time, 8 threads", eight.cpu * 1e3, "ms")
            .with("wall time, 8 threads", eight.wall * 1e3, "ms"),
    );
    let per_thread = (most.rss as f64 - eight.rss as f64) / (most.threads - eight.threads) as f64;
    tour.judge(
        &claims::MEMORY_GROWS,
        Inputs::new()
            .with("threads, most", most.threads as f64, "")
            .with("RSS per extra thread", per_thread, "bytes"),
    );
    let failed: usize = runs.iter().map(|r| r.failed).sum();
    tour.judge(
        &claims::DOWNLOADS_COMPLETE,
        Inputs::new()
            .with(
                "documents",
                runs.iter().map(|r| r.docs).sum::<usize>() as f64,
                "",
            )
            .with("documents failed", failed as f64, ""),
    );
}

fn faults(tour: &mut Tour, base: &str) {
    let kinds = FAULT_KINDS;
    let outcomes = tour.experiment(
        "faults",
        "When the server misbehaves",
        "The server can drop the connection, answer 503, cut a body short, send it chunked \
         or delimited by closing, or drip it slowly. The client must deliver a verified \
         document or a clear error — never hang (every wait has a timeout), never panic.",
        |exp| {
            let config = ClientConfig {
                io_timeout: Duration::from_secs(5),
                ..ClientConfig::default()
            };
            let mut outcomes = Vec::new();
            for kind in kinds {
                let url = Url::parse(&format!("{base}/wiki/7?fault={kind}&latency=0"))?;
                let start = Instant::now();
                let outcome =
                    Connection::open(&url, config.clone()).and_then(|mut c| c.get(&url.path));
                let took = start.elapsed().as_secs_f64();
                let text = match &outcome {
                    Ok(r) => {
                        let ok = verify(&r.body, r.headers.get(CHECKSUM_HEADER).unwrap_or(""));
                        format!(
                            "status {}, {} body bytes, checksum {}",
                            r.status,
                            r.body.len(),
                            if ok { "ok" } else { "absent or wrong" }
                        )
                    }
                    Err(e) => format!("error: {e}"),
                };
                exp.note(format!("{kind:>12}: {text} ({:.0} ms)", took * 1e3));
                outcomes.push((
                    kind,
                    outcome.map(|r| {
                        (
                            r.status,
                            verify(&r.body, r.headers.get(CHECKSUM_HEADER).unwrap_or("")),
                        )
                    }),
                    took,
                ));
            }
            Ok::<_, Box<dyn std::error::Error>>(outcomes)
        },
    );
    let Some(outcomes) = outcomes else { return };
    // What each fault must produce: a verified 200, a 503, or a clear error.
    let mut inputs = Inputs::new();
    for (kind, outcome, _) in &outcomes {
        let fine = matches!(
            (*kind, outcome),
            ("unavailable", Ok((503, _)))
                | ("chunked" | "close" | "drip", Ok((200, true)))
                | ("drop", Err(ClientError::ClosedBeforeResponse { .. }))
                | ("truncate", Err(ClientError::Http { .. }))
        );
        inputs = inputs.with(
            &format!("{kind}: as expected"),
            f64::from(u8::from(fine)),
            "",
        );
    }
    let slowest = outcomes
        .iter()
        .map(|(_, _, took)| *took)
        .fold(0.0, f64::max);
    tour.judge(
        &claims::FAULTS_HANDLED,
        inputs.with("slowest fault", slowest, "s"),
    );
}

/// The child: lesson 3's corpus server, `args[0]` milliseconds of latency per reply.
fn serve(args: &[String]) -> ExitCode {
    let latency = args
        .first()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(0);
    sockets::server::serve_as_child(Duration::from_millis(latency))
}
