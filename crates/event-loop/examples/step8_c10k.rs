//! C10K by hand: ten thousand keep-alive connections to the loop server, from one
//! client thread, with the memory per connection on both sides.
//!
//! ```text
//! cargo run --release -p event-loop --example step8_c10k
//! cargo run --release -p event-loop --example step8_c10k -- --connections 2000 --requests 5
//! cargo run --release -p event-loop --example step8_c10k -- --addr 127.0.0.1:8080   # a server of yours
//! ```
//!
//! Each end of a connection is a file descriptor, and this machine may allow a process
//! fewer than twice ten thousand; so the server runs in a process of its own: this same
//! program, started again with `--serve`. The client reads the server's resident memory
//! from /proc before and after opening every connection. For comparison, lesson 2's
//! measure of an idle thread runs in the same run: what a thread-per-connection server
//! would spend on each connection before it did anything at all.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::process::{Command, ExitCode, Stdio};
use std::time::Duration;

use event_loop::step8_server::{self, C10kPlan, LoopServerConfig, run_c10k};

const USAGE: &str = "\
step8_c10k: hold N connections to the loop server from one thread, and measure.

Options:
  --connections N   connections held open at once (default 10000)
  --requests N      articles each connection downloads (default 2)
  --seconds S       the time limit of the whole run (default 120)
  --threads N       idle threads for the comparison (default 1000; 0: skip it)
  --addr ADDR       use a server already running there instead of starting one
  --serve           (internal) be the server: print its address, serve until stdin closes";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--serve") {
        return serve();
    }
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("step8_c10k: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The server side: a loop server in this process, until the parent closes our stdin.
fn serve() -> ExitCode {
    let limit = event_loop::fd_limit::raise_fd_limit();
    let server = match step8_server::start(LoopServerConfig {
        // Opening ten thousand connections takes a moment; none must time out meanwhile.
        idle_timeout: Duration::from_secs(120),
        ..LoopServerConfig::default()
    }) {
        Ok(server) => server,
        Err(e) => {
            eprintln!("step8_c10k --serve: cannot listen: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("listening on http://{}", server.addr());
    if let Ok(limit) = limit {
        println!("descriptors: {} (hard limit {})", limit.soft, limit.hard);
    }
    let _ = std::io::stdout().flush();
    // Blocks until the parent closes the pipe (or dies): the server's lifetime is tied
    // to the experiment's, with no signal handling.
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    println!("server: {}", server.stop());
    ExitCode::SUCCESS
}

fn run(args: &[String]) -> Result<(), String> {
    let mut connections = 10_000usize;
    let mut requests = 2usize;
    let mut seconds = 120u64;
    let mut threads = 1000usize;
    let mut addr: Option<SocketAddr> = None;
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next()
                .ok_or_else(|| format!("{flag} needs a value"))
                .map(String::as_str)
        };
        let bad = |text: &str| format!("{flag}: `{text}` is not a valid value");
        match flag.as_str() {
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            "--connections" => {
                let text = value()?;
                connections = text.parse().map_err(|_| bad(text))?;
            }
            "--requests" => {
                let text = value()?;
                requests = text.parse().map_err(|_| bad(text))?;
            }
            "--seconds" => {
                let text = value()?;
                seconds = text.parse().map_err(|_| bad(text))?;
            }
            "--threads" => {
                let text = value()?;
                threads = text.parse().map_err(|_| bad(text))?;
            }
            "--addr" => {
                let text = value()?;
                addr = Some(text.parse().map_err(|_| bad(text))?);
            }
            other => return Err(format!("unknown option `{other}`\n\n{USAGE}")),
        }
    }

    // Lesson 2's figure first, while no connection is open.
    let per_thread = if threads > 0 {
        let idle = threads::idle::idle_threads(threads, None).map_err(|e| e.to_string())?;
        println!(
            "{threads} idle threads: {:.0} bytes of RSS each, plus a {:.0}-byte kernel stack",
            idle.rss, idle.kernel_stack
        );
        Some(idle.rss + idle.kernel_stack)
    } else {
        None
    };

    let mut server = None;
    let (addr, server_pid) = match addr {
        Some(addr) => (addr, None),
        None => {
            let exe = std::env::current_exe().map_err(|e| e.to_string())?;
            let mut child = Command::new(exe)
                .arg("--serve")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .map_err(|e| format!("cannot start the server process: {e}"))?;
            let mut lines = BufReader::new(child.stdout.take().ok_or("no server stdout")?);
            let mut line = String::new();
            lines.read_line(&mut line).map_err(|e| e.to_string())?;
            let addr = line
                .trim()
                .strip_prefix("listening on http://")
                .ok_or_else(|| format!("the server said {line:?}"))?
                .parse()
                .map_err(|_| format!("the server said {line:?}"))?;
            line.clear();
            let _ = lines.read_line(&mut line);
            print!("server: {line}");
            let pid = child.id();
            server = Some((child, lines));
            (addr, Some(pid))
        }
    };

    let plan = C10kPlan {
        server_pid,
        ..C10kPlan::new(addr, connections, requests, Duration::from_secs(seconds))
    };
    let result = run_c10k(&plan);

    if let Some((mut child, mut lines)) = server {
        drop(child.stdin.take()); // the server's cue to stop
        let mut rest = String::new();
        let _ = lines.read_to_string(&mut rest);
        print!("{rest}");
        let _ = child.wait();
    }
    let report = result.map_err(|e| e.to_string())?;
    println!("{report}");
    if let (Some(thread), Some(connection)) = (per_thread, report.server_bytes_per_connection()) {
        println!(
            "a connection held by the loop costs {connection:.0} bytes of the server's \
             memory; an idle thread {thread:.0}: {:.0}x less",
            thread / connection.max(1.0)
        );
    }
    if report.docs_failed > 0 || report.connect_failures > 0 {
        return Err(format!(
            "{} documents failed, {} connections could not be opened",
            report.docs_failed, report.connect_failures
        ));
    }
    Ok(())
}
