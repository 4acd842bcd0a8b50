//! The floor of `--out`: the write protocol alone, with no network and no engine.
//!
//! With `--out`, the downloader saves each document through `async_download`'s `Store`:
//! a temporary file created, the body written to it, the file renamed onto the
//! document's name, a line appended to the journal. Here that protocol saves the same
//! documents under the same names, one after another, from memory: what it costs is the
//! least any `--out` can cost. The tokio engine runs with `--out` too, and what it
//! spends per document beyond what it spends without `--out` is set against this floor.
//!
//! Both write to a tmpfs (`/dev/shm`), each into a fresh folder removed afterwards: in
//! memory, no disk's speed is measured, only the CPU the protocol and the kernel spend.

use std::fs::File;
use std::io::{BufRead, BufReader, ErrorKind};
use std::path::{Path, PathBuf};
use std::time::Instant;

use async_download::EngineKind;
use async_download::store::Store;
use async_download::target::{Line, url_lines};
use procs::measure::{Usage, ratio};

use crate::clients::{cpu_per_doc, engine};
use crate::error::PeersError;
use crate::plan::PeerPlan;
use crate::plan::Sample;
use crate::workdir::Workdir;

/// A document to save: the name the engine gives it under `--out`, and its bytes.
pub type Document = (String, Vec<u8>);

/// Where the `--out` rows write: `/dev/shm`, a tmpfs on Linux, or else the system's
/// temporary folder (which may be a disk); `true` for the tmpfs.
pub fn scratch_root() -> (PathBuf, bool) {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        (shm.to_path_buf(), true)
    } else {
        (std::env::temp_dir(), false)
    }
}

/// A fresh folder under a root, removed with all it holds when dropped: after a round,
/// on an error, and when the run is interrupted between steps.
#[derive(Debug)]
pub struct Scratch {
    dir: PathBuf,
}

impl Scratch {
    /// `<root>/course-peers-<what>-<pid>`, empty.
    pub fn create(root: &Path, what: &str) -> Result<Scratch, PeersError> {
        let dir = root.join(format!("course-peers-{what}-{}", std::process::id()));
        // Left by a killed run that had our pid, or by the previous round: nobody else
        // uses this name.
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).map_err(PeersError::write(&dir))?;
        Ok(Scratch { dir })
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        match std::fs::remove_dir_all(&self.dir) {
            Err(e) if e.kind() != ErrorKind::NotFound => {
                eprintln!("peers: cannot remove {}: {e}", self.dir.display());
            }
            _ => {}
        }
    }
}

// ANCHOR: write_floor
/// Saves `documents` through a [`Store`] opened in a fresh folder under `root`, one
/// after another, and removes the folder. Only the loop of saves is measured: the
/// documents are in memory already, and opening the store, like removing the folder,
/// happens once a run, not once a document.
pub fn run_write_floor(root: &Path, documents: &[Document]) -> Result<Sample, PeersError> {
    let scratch = Scratch::create(root, "write-floor")?;
    let store = Store::open(scratch.path()).map_err(PeersError::StoreOpen)?;
    let before = Usage::of_self().ok();
    let started = Instant::now();
    for (name, body) in documents {
        store.save(name, body).map_err(PeersError::Save)?;
    }
    let wall = started.elapsed().as_secs_f64();
    let after = Usage::of_self().ok();
    let count = documents.len() as u64;
    Ok(Sample {
        per_sec: ratio(count as f64, wall),
        cpu_us_per_doc: cpu_per_doc(before, after, count),
    })
}
// ANCHOR_END: write_floor

/// The tokio engine (one thread, unpipelined) fetching the first `count` URLs of `urls`
/// and saving them with `--out` into a fresh folder under `root`, removed afterwards.
pub fn run_engine_out(
    root: &Path,
    urls: &Path,
    count: u64,
    plan: &PeerPlan,
) -> Result<Sample, PeersError> {
    let scratch = Scratch::create(root, "out")?;
    engine(
        EngineKind::Tokio,
        1,
        urls,
        count,
        plan,
        Some(scratch.path()),
    )
}

/// The first `count` documents of the URL list `urls` as the engines fetch them: each
/// one's name under `--out` and its bytes, read from the files nginx serves (the list
/// is written in the order of `work.ids`).
pub fn load_documents(
    work: &Workdir,
    urls: &Path,
    count: u64,
) -> Result<Vec<Document>, PeersError> {
    let file = File::open(urls).map_err(|source| PeersError::Read {
        path: urls.to_path_buf(),
        source,
    })?;
    let names = names_of(BufReader::new(file), count).map_err(|problem| PeersError::Urls {
        path: urls.to_path_buf(),
        problem,
    })?;
    if names.len() > work.ids.len() {
        return Err(PeersError::Urls {
            path: urls.to_path_buf(),
            problem: format!(
                "{} URLs for {} documents on disk",
                names.len(),
                work.ids.len()
            ),
        });
    }
    names
        .into_iter()
        .zip(&work.ids)
        .map(|(name, &id)| {
            let path = work.document(id);
            let body = std::fs::read(&path).map_err(|source| PeersError::Read { path, source })?;
            Ok((name, body))
        })
        .collect()
}

/// The names the engine saves the first `count` URLs of a list under: read as it reads
/// them (`url_lines`, the default layout), so that they are the same names. A list
/// shorter than `count`, or a line that is not a URL, is an error.
pub fn names_of(input: impl BufRead, count: u64) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    for line in url_lines(input).take(count as usize) {
        match line.map_err(|e| format!("cannot read it: {e}"))? {
            Line::Target(target) => names.push(target.name().to_string()),
            Line::Bad(bad) => return Err(format!("line {}: {}", bad.line, bad.reason)),
        }
    }
    if names.len() as u64 != count {
        return Err(format!("{} URLs, {count} wanted", names.len()));
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A folder of its own under the system's temporary folder, for one test.
    fn test_root(test: &str) -> Scratch {
        Scratch::create(&std::env::temp_dir(), &format!("test-{test}")).unwrap()
    }

    fn entries(dir: &Path) -> usize {
        std::fs::read_dir(dir).unwrap().count()
    }

    fn documents(n: u64) -> Vec<Document> {
        let urls: String = (0..n)
            .map(|i| format!("http://127.0.0.1:8080/wiki/{i}\n"))
            .collect();
        let names = names_of(urls.as_bytes(), n).unwrap();
        names
            .into_iter()
            .enumerate()
            .map(|(i, name)| (name, vec![b'a' + (i % 26) as u8; 100 + i]))
            .collect()
    }

    #[test]
    fn names_are_the_engines_names_and_a_short_list_is_an_error() {
        let url = "http://127.0.0.1:8080/wiki/7";
        let names = names_of(format!("{url}\n").as_bytes(), 1).unwrap();
        let target = async_download::Target::from_url(sockets::url::Url::parse(url).unwrap());
        assert_eq!(names, [target.name()]);
        assert!(names[0].starts_with("127.0.0.1_8080/"), "{names:?}");
        assert!(names_of("http://127.0.0.1:8080/wiki/7\n".as_bytes(), 2).is_err());
        assert!(names_of("not a url\n".as_bytes(), 1).is_err());
    }

    #[test]
    fn the_write_floor_saves_every_document_and_leaves_no_folder_behind() {
        let root = test_root("write-floor");
        let sample = run_write_floor(root.path(), &documents(20)).unwrap();
        assert!(sample.per_sec > 0.0, "{sample:?}");
        if let Some(cpu) = sample.cpu_us_per_doc {
            assert!(cpu >= 0.0, "{sample:?}");
        }
        assert_eq!(entries(root.path()), 0, "the scratch folder is removed");
    }

    #[test]
    fn a_failed_save_is_an_error_and_still_leaves_no_folder_behind() {
        let root = test_root("write-floor-fails");
        let mut docs = documents(5);
        // A name outside the output folder: the store refuses it.
        docs[3].0 = "../escaped".to_string();
        let error = run_write_floor(root.path(), &docs).unwrap_err();
        assert!(matches!(error, PeersError::Save(_)), "{error}");
        assert_eq!(entries(root.path()), 0, "the scratch folder is removed");
        assert!(!root.path().join("escaped").exists());
    }
}
