//! nginx as a child process: a configuration of our own in the temporary folder, started
//! in the foreground (in a session of its own unless asked otherwise: see
//! `procs::session`), ready when it serves the first document, and stopped with its
//! workers on every path.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::PeersError;
use crate::running::run_bounded;
use crate::workdir::Workdir;

/// nginx, running in the foreground as our child; stopped (and its workers with it)
/// by [`Nginx::stop`] or on drop, on every path.
#[derive(Debug)]
pub struct Nginx {
    program: PathBuf,
    prefix: PathBuf,
    conf: PathBuf,
    child: Option<Child>,
    pub addr: SocketAddr,
}

/// How long nginx may take to answer its first request.
const NGINX_START: Duration = Duration::from_secs(10);

impl Nginx {
    // ANCHOR: nginx_start
    /// Starts nginx with `workers` worker processes, serving `work`'s documents on a
    /// free port of 127.0.0.1, and waits until it serves the first one. With
    /// `own_session`, it runs in a session of its own, as a daemon does: scheduled
    /// apart from this program's threads where the kernel groups them by session.
    pub fn start(
        program: &Path,
        work: &Workdir,
        workers: usize,
        own_session: bool,
    ) -> Result<Nginx, PeersError> {
        let addr = free_port()?;
        let name = format!("nginx-{workers}");
        let conf = work.dir.join(format!("{name}.conf"));
        let text = nginx_conf(&work.dir, &name, workers, addr)?;
        std::fs::write(&conf, text).map_err(PeersError::write(&conf))?;
        let stderr_path = work.dir.join(format!("{name}.stderr"));
        let stderr = File::create(&stderr_path).map_err(PeersError::write(&stderr_path))?;
        // `-p` with a final slash: nginx puts its own temporary folders under it.
        let mut prefix = work.dir.clone().into_os_string();
        prefix.push("/");
        let mut command = Command::new(program);
        if own_session {
            procs::session::in_own_session(&mut command);
        }
        let child = command
            .arg("-p")
            .arg(&prefix)
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .map_err(|e| PeersError::Nginx(format!("cannot start {}: {e}", program.display())))?;
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

    fn wait_until_ready(&mut self, path: &str, logs: &[&Path]) -> Result<(), PeersError> {
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
                return Err(PeersError::Nginx(format!(
                    "stopped at once ({status}): {}",
                    logs()
                )));
            }
            match probe(self.addr, path) {
                Ok(line) if line.split_whitespace().nth(1) == Some("200") => return Ok(()),
                Ok(line) => {
                    return Err(PeersError::Nginx(format!(
                        "answered `{line}` for {path} (started as root, its workers \
                         run as `nobody`: can they read {}?) {}",
                        self.prefix.display(),
                        logs()
                    )));
                }
                // Not listening yet.
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        Err(PeersError::Nginx(format!(
            "did not answer on {} within {NGINX_START:?}: {}",
            self.addr,
            logs()
        )))
    }

    pub fn stop(mut self) {
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
            return; // It has ended, and its workers with it.
        }
        let mut quit = Command::new(&self.program);
        quit.arg("-p")
            .arg(&self.prefix)
            .arg("-c")
            .arg(&self.conf)
            .args(["-s", "stop"]);
        let _ = run_bounded(quit, Duration::from_secs(5), "nginx -s stop");
        if procs::bounded::reaped_within(&mut child, Duration::from_secs(5)) {
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
fn nginx_conf(
    dir: &Path,
    name: &str,
    workers: usize,
    addr: SocketAddr,
) -> Result<String, PeersError> {
    let quoted = |path: PathBuf| -> Result<String, PeersError> {
        let text = path
            .to_str()
            .ok_or_else(|| PeersError::Path(path.display().to_string()))?;
        // `$` starts a variable in `root`; quotes and backslashes would need escapes.
        if text.contains(['"', '\\', '$']) || text.chars().any(char::is_control) {
            return Err(PeersError::Path(text.to_string()));
        }
        Ok(format!("\"{text}\""))
    };
    Ok(format!(
        "# Written by `cargo xtask bench --peers`.
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
fn free_port() -> Result<SocketAddr, PeersError> {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map_err(PeersError::Port)
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
