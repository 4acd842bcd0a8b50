//! The temporary folder: the documents nginx serves, the URL lists, the scripts. It is
//! removed when dropped: at the end, on an error and on Ctrl-C.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Instant;

use sockets::corpus::{document_size, write_document};

use crate::error::PeersError;
use crate::interrupt::checkpoint;
use crate::plan::{DOCUMENT_SIZES, PeerPlan};

/// wrk's script. With a `request` function, wrk asks Lua for every request; the
/// requests are made once, in `init`, so that each one costs wrk a table lookup and the
/// peer is as fast as it can be. Each thread has its own Lua state, hence its own copy
/// and its own place in the list. Pipelined, a "request" is `depth` GETs in one string:
/// wrk sends them in one write and counts each response.
const WRK_SCRIPT: &str = include_str!("../scripts/walk.lua");

/// The aiohttp client: what a Python programmer would write — one `ClientSession`, a
/// fixed number of workers taking URLs from one iterator. Prints one JSON line.
const AIOHTTP_SCRIPT: &str = include_str!("../scripts/fetch.py");

/// The temporary folder and what is in it; dropping it removes it all.
#[derive(Debug)]
pub struct Workdir {
    pub dir: PathBuf,
    /// `/wiki/<id>` of each document, one a line: the same paths on nginx (the files
    /// are under `docs/wiki/`) and on the corpus server (which makes them).
    pub paths: PathBuf,
    pub ids: Vec<u64>,
    pub bytes: u64,
    pub wrk_script: PathBuf,
    pub aiohttp_script: PathBuf,
}

impl Workdir {
    /// Makes the folder, the documents and the scripts.
    pub fn create(plan: &PeerPlan, log: &mut dyn FnMut(&str)) -> Result<Workdir, PeersError> {
        let dir = std::env::temp_dir().join(format!("course-peers-{}", std::process::id()));
        // A folder of this name is left from a killed run that had our pid: nobody
        // else uses it.
        let _ = std::fs::remove_dir_all(&dir);
        let io = PeersError::write;
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
    pub fn write_urls(&self, addr: SocketAddr) -> Result<PathBuf, PeersError> {
        let path = self.dir.join(format!("urls-{}.txt", addr.port()));
        let mut text = String::new();
        for id in &self.ids {
            text.push_str(&format!("http://{addr}/wiki/{id}\n"));
        }
        std::fs::write(&path, text).map_err(PeersError::write(&path))?;
        Ok(path)
    }

    /// The file nginx serves as `/wiki/<id>`.
    pub fn document(&self, id: u64) -> PathBuf {
        self.dir.join("docs").join("wiki").join(id.to_string())
    }

    pub fn first_path(&self) -> String {
        self.ids
            .first()
            .map_or("/".into(), |id| format!("/wiki/{id}"))
    }
}

impl Drop for Workdir {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.dir) {
            eprintln!("peers: cannot remove {}: {e}", self.dir.display());
        }
    }
}
