//! One run, in order: the clients on nginx with 2 workers, then the servers under wrk.

use std::path::Path;

use async_download::EngineKind;
use procs::child_server::ChildServer;

use crate::board::Board;
use crate::board::compare;
use crate::clients::{engine, run_aiohttp, run_wrk};
use crate::error::PeersError;
use crate::floor::run_floor;
use crate::interrupt::{checkpoint, watch_ctrl_c};
use crate::nginx::Nginx;
use crate::plan::*;
use crate::report::Peers;
use crate::tools::Tools;
use crate::workdir::Workdir;
use crate::write_floor::{load_documents, run_engine_out, run_write_floor, scratch_root};

// ANCHOR: run
/// Runs the benchmark `plan` describes; `log` hears of each step as it ends (for
/// progress). `Err` only when the run could not be prepared or was interrupted
/// ([`PeersError::Interrupted`]); a tool that failed is in the result, as
/// `Figure::Failed`.
pub fn run(plan: &PeerPlan, mut log: impl FnMut(&str)) -> Result<Peers, PeersError> {
    watch_ctrl_c();
    let tools = Tools::detect();
    let mut board = Board::new();
    let mut document_bytes = 0;
    let (write_root, tmpfs) = scratch_root();
    let write_folder = if tmpfs {
        format!("{} (a tmpfs)", write_root.display())
    } else {
        format!(
            "{} (no /dev/shm: the system's temporary folder, maybe a disk)",
            write_root.display()
        )
    };
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
                EVENT_LOOP_NGINX2,
                FLOOR_NGINX2,
                WRITE_FLOOR,
                CURRENT_OUT,
                MULTI_PIPELINED,
                CURRENT_PIPELINED,
            ] {
                board.skip(name, "no peer to compare with: wrk and aiohttp are missing");
            }
        }
        (Ok(nginx), _, _) => {
            let work = Workdir::create(plan, &mut log)?;
            document_bytes = work.bytes;
            let places = Places {
                nginx: &nginx.path,
                work: &work,
                write_root: &write_root,
            };
            clients(plan, &tools, &places, &mut board, &mut log)?;
            servers(plan, &tools, &nginx.path, &work, &mut board, &mut log)?;
        }
    }
    let measurements = board.into_measurements();
    let comparisons = compare(&measurements);
    Ok(Peers {
        machine: async_download::race::machine(),
        plan: plan.clone(),
        document_bytes,
        write_folder,
        servers: crate::report::servers_setup(
            plan.servers_in_own_session,
            procs::session::autogroup_enabled(),
        ),
        tools: tools.list(),
        measurements,
        comparisons,
    })
}
// ANCHOR_END: run

/// Where the clients' run finds what it needs: nginx, the documents, and the folder the
/// `--out` rows write under.
struct Places<'a> {
    nginx: &'a Path,
    work: &'a Workdir,
    write_root: &'a Path,
}

/// The clients on nginx with 2 workers: wrk, the tokio and event-loop engines, the
/// minimal client, the write protocol alone and the tokio engine with `--out`, aiohttp.
fn clients(
    plan: &PeerPlan,
    tools: &Tools,
    places: &Places<'_>,
    board: &mut Board,
    log: &mut dyn FnMut(&str),
) -> Result<(), PeersError> {
    let work = places.work;
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
        EVENT_LOOP_NGINX2,
        FLOOR_NGINX2,
        WRITE_FLOOR,
        CURRENT_OUT,
        WRK_PIPELINED,
        MULTI_PIPELINED,
        CURRENT_PIPELINED,
        AIOHTTP_NGINX2,
    ];
    let server = match Nginx::start(places.nginx, work, 2, plan.servers_in_own_session) {
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
        None,
    );
    if let Err(error) = warm_up {
        log(&format!("warm-up: FAILED: {error}"));
        for name in clients {
            board.fail(name, format!("warm-up: {error}"));
        }
        return Ok(());
    }
    // The write floor's documents, in memory before any clock starts: read once, saved
    // in every round.
    let documents = if board.wants(WRITE_FLOOR) {
        load_documents(work, &urls, plan.documents)
            .inspect_err(|error| {
                log(&format!("{WRITE_FLOOR}: FAILED: {error}"));
                board.fail(WRITE_FLOOR, error);
            })
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    for round in 1..=plan.rounds {
        checkpoint()?;
        for (name, depth) in [(WRK_NGINX2, 1), (WRK_PIPELINED, plan.pipeline)] {
            checkpoint()?;
            if let (Ok(wrk), true) = (wrk, board.wants(name)) {
                let sample = run_wrk(wrk, plan, work, server.addr, plan.wrk_secs, depth);
                board.record(name, sample, round, log);
            }
        }
        // The engines, and the floor beside them on the same URLs: what their CPU per
        // document is set against. Then the same for `--out`: the write protocol alone
        // on the same documents, and the tokio engine saving them.
        for (name, client) in [
            (MULTI_NGINX2, Client::Engine(EngineKind::TokioMulti, 1)),
            (CURRENT_NGINX2, Client::Engine(EngineKind::Tokio, 1)),
            (EVENT_LOOP_NGINX2, Client::Engine(EngineKind::EventLoop, 1)),
            (FLOOR_NGINX2, Client::Floor),
            (WRITE_FLOOR, Client::WriteFloor),
            (CURRENT_OUT, Client::EngineOut),
            (
                MULTI_PIPELINED,
                Client::Engine(EngineKind::TokioMulti, plan.pipeline),
            ),
            (
                CURRENT_PIPELINED,
                Client::Engine(EngineKind::Tokio, plan.pipeline),
            ),
        ] {
            checkpoint()?;
            if board.wants(name) {
                let count = plan.documents;
                let sample = match client {
                    Client::Engine(kind, depth) => engine(kind, depth, &urls, count, plan, None),
                    Client::Floor => run_floor(&urls, count, plan).map_err(PeersError::from),
                    Client::WriteFloor => run_write_floor(places.write_root, &documents),
                    Client::EngineOut => run_engine_out(places.write_root, &urls, count, plan),
                };
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

/// What runs in this process, on the URLs of nginx with 2 workers.
#[derive(Debug, Clone, Copy)]
enum Client {
    /// An engine, this many requests at once on a connection.
    Engine(EngineKind, usize),
    /// The minimal client (`floor`).
    Floor,
    /// The write protocol alone, no network (`write_floor`).
    WriteFloor,
    /// The tokio engine (one thread, unpipelined) with `--out`.
    EngineOut,
}

/// The servers under wrk: nginx with 1 worker, the tokio corpus server with 1 worker.
fn servers(
    plan: &PeerPlan,
    tools: &Tools,
    nginx: &Path,
    work: &Workdir,
    board: &mut Board,
    log: &mut dyn FnMut(&str),
) -> Result<(), PeersError> {
    let wrk = match &tools.wrk {
        Ok(wrk) => wrk.path.as_path(),
        Err(reason) => {
            board.skip(WRK_NGINX1, reason);
            board.skip(WRK_CORPUS1, reason);
            return Ok(());
        }
    };
    checkpoint()?;
    let nginx = Nginx::start(nginx, work, 1, plan.servers_in_own_session)
        .inspect_err(|error| {
            log(&format!("nginx (1 worker): FAILED: {error}"));
            board.fail(WRK_NGINX1, error);
        })
        .ok();
    // In a child process of its own, as in the race: the server must not share this
    // process's CPU accounting, nor its runtime with anything else. In a session of its
    // own as nginx is, so that both servers are scheduled alike.
    let corpus = ChildServer::command(&[async_download::server::SERVE_CORPUS, "--workers", "1"])
        .and_then(|mut command| {
            if plan.servers_in_own_session {
                procs::session::in_own_session(&mut command);
            }
            ChildServer::start_command(command)
        })
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
            board.fail(name, format!("warm-up: {error}"));
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
