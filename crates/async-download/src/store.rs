//! The output folder: every document written whole or not at all, never outside it,
//! and recorded so that a killed run can resume.
//!
//! Writing a file straight to its name has a window in which the file exists but is
//! cut short: kill the run there (or read the file there) and a half document looks
//! like a whole one. So [`Store::save`] writes to a temporary file in the same folder
//! and then *renames* it onto the document's name. On Linux a rename within one file
//! system is atomic: anyone opening the name sees the old file or the whole new one,
//! never a part. Only after the rename is the name added to the [`Journal`]; the order
//! matters, because the journal's promise is "this document is on disk, whole".
//!
//! A killed run can leave temporary files behind (`.tmp-<pid>-<n>`, next to the
//! document they were for, in whatever subfolder); [`Store::open`] removes them. Their names start with `.`,
//! which no document's name may, so they can never be mistaken for a document.
//!
//! A killed *process* loses nothing: what it has written is in the kernel and survives
//! it. A power cut or a kernel crash can lose what the kernel had not yet put on the
//! disk, in any order: a journal line can survive its document, which is then empty or
//! short. The store does not `fsync` each document (every save would wait for the disk,
//! a million saves a million times); instead the journal records each document's size,
//! and [`Store::is_done`] trusts a line only while the file has that size. After a
//! crash, a document that is not whole is fetched again.
//!
//! Never outside the folder: a name is checked ([`is_safe_name`]), and so is every
//! folder on the way to it, which must be a real folder, not a symbolic link. An
//! existing link `out/example.com_80 -> /elsewhere` would otherwise take every document
//! of that host elsewhere (`O_EXCL` guards the file's own name, and `rename` follows a
//! link in the folder part of a path).

use std::collections::HashMap;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use crate::error::{DownloadError, FetchError};
use crate::journal::Journal;
use crate::names::is_safe_name;
use rustc_hash::FxHashSet;
use sockets::url::{Url, decimal};

/// How the temporary files' names start. `.` keeps them apart from documents (whose
/// names never start with `.`), and tells `ls` to hide them.
const TEMP_PREFIX: &str = ".tmp-";

/// How a part file's name starts, in the document's folder (see [`crate::part`]): the
/// store notes, when it opens, whether any is there.
pub const PART_PREFIX: &str = ".part-";

/// The output folder: documents written atomically, and the journal of those done.
/// `Store` is `Sync`: share it between threads (or tasks) behind an `Arc`.
#[derive(Debug)]
pub struct Store {
    dir: PathBuf,
    journal: Journal,
    /// What the journal listed when the store was opened, i.e. what earlier runs saved,
    /// with each document's size.
    done: HashMap<String, u64>,
    /// Whether a part file was in the folder when the store was opened: if not, no
    /// document starts with one an earlier run left, and nobody needs to look.
    parts: bool,
    /// The subfolders known to exist, so that a million saves into a few folders make
    /// a few `mkdir`s, not a million. FxHash: the names are the user's (from the URL
    /// list, never from a server), and the set is asked once per document.
    folders: Mutex<FxHashSet<String>>,
    /// This process's id and a counter: together, a temporary name no other save uses.
    pid: u32,
    next_temp: AtomicU64,
}

impl Store {
    /// Opens (creating it if need be) the output folder `dir`: removes the temporary
    /// files a killed run left, and reads the journal.
    ///
    /// Time and memory: the top folder and each of its subfolders is listed once (a
    /// million documents take a moment), and every name the journal lists is kept in
    /// memory for [`is_done`](Store::is_done) — about 110 bytes a name.
    pub fn open(dir: &Path) -> Result<Store, DownloadError> {
        let output_error = |path: &Path| {
            let path = path.to_path_buf();
            move |source| DownloadError::Output { path, source }
        };
        fs::create_dir_all(dir).map_err(output_error(dir))?;
        let parts = remove_temp_files(dir)
            .map_err(|(path, source)| DownloadError::Output { path, source })?;
        let (journal, done) = Journal::open(dir)?;
        Ok(Store {
            dir: dir.to_path_buf(),
            journal,
            done,
            parts,
            folders: Mutex::new(FxHashSet::default()),
            pid: std::process::id(),
            next_temp: AtomicU64::new(0),
        })
    }

    /// The output folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    // ANCHOR: is_done
    /// Whether an earlier run saved `name` whole: the journal, when the store was
    /// opened, listed it, and the file is there now with the size the journal recorded.
    /// (After a power cut the line can have survived a document that did not: the file
    /// is then empty or short, and it is fetched again.) Saves of this run are not added
    /// (the map is only read, so asking takes no lock); a name listed twice in one run
    /// is fetched twice.
    pub fn is_done(&self, name: &str) -> bool {
        self.done.get(name).is_some_and(|&len| {
            // The entry itself, not what a link points to: a document is a plain file.
            fs::symlink_metadata(self.dir.join(name)).is_ok_and(|m| m.is_file() && m.len() == len)
        })
    }
    // ANCHOR_END: is_done

    /// Whether the folder held a part file (see [`crate::part`]) when the store was
    /// opened: an earlier run's big download, to resume.
    pub fn had_parts(&self) -> bool {
        self.parts
    }

    /// How many documents the journal listed when the store was opened.
    pub fn done_count(&self) -> usize {
        self.done.len()
    }

    // ANCHOR: save
    /// Saves `body` as `name`: written to a temporary file, renamed into place, then
    /// recorded in the journal. Safe to call from many threads at once; saving a name
    /// again replaces the document whole.
    ///
    /// `name` must pass [`is_safe_name`], or nothing is written: whatever made the name,
    /// a document never lands outside the output folder.
    pub fn save(&self, name: &str, body: &[u8]) -> Result<(), FetchError> {
        let folder = self.folder_of(name)?;
        let temp = self.temp_path(folder);
        if let Err(e) = write_new(&temp, body) {
            return Err(FetchError::save(
                name,
                format!("cannot write {}: {e}", temp.display()),
            ));
        }
        // usize to u64 never loses anything on the platforms Rust supports.
        self.place(name, &temp, body.len() as u64)
    }
    // ANCHOR_END: save

    /// Checks `name` (it must pass [`is_safe_name`]) and makes its folder: returns the
    /// folder part of the name, if it has one.
    pub(crate) fn folder_of<'n>(&self, name: &'n str) -> Result<Option<&'n str>, FetchError> {
        if !is_safe_name(name) {
            return Err(FetchError::save(
                name,
                "unsafe name: a relative path of one or two components (or more under a \
                 host's folder) is expected, none empty, none starting with `.`, no \
                 control bytes, at most 255 bytes each"
                    .to_string(),
            ));
        }
        let folder = name.rsplit_once('/').map(|(folder, _)| folder);
        if let Some(folder) = folder {
            self.make_folder(folder).map_err(|e| {
                FetchError::save(name, format!("cannot create the folder {folder}: {e}"))
            })?;
        }
        Ok(folder)
    }

    /// Moves the whole document written at `written` (in `name`'s folder, under a name
    /// starting with `.`) onto `name`, then records it: the two steps every save ends
    /// with.
    pub(crate) fn place(&self, name: &str, written: &Path, len: u64) -> Result<(), FetchError> {
        if let Err(e) = fs::rename(written, self.dir.join(name)) {
            let _ = fs::remove_file(written);
            return Err(FetchError::save(
                name,
                format!("cannot rename {} into place: {e}", written.display()),
            ));
        }
        // The document is in place, whole: now, and only now, the journal may say so.
        self.journal.record(name, len).map_err(|e| {
            FetchError::save(
                name,
                format!(
                    "saved, but not recorded in {}: {e}",
                    self.journal.path().display()
                ),
            )
        })
    }

    /// Records in the journal that the document saved as `name` came, after redirects,
    /// from `url`.
    pub fn landed(&self, name: &str, url: &Url) -> Result<(), FetchError> {
        self.journal
            .record_landed(name, &url.to_string())
            .map_err(|e| FetchError::Save {
                name: name.to_string(),
                reason: format!(
                    "saved, but where it was redirected to is not recorded in {}: {e}",
                    self.journal.path().display()
                ),
            })
    }

    /// Syncs the journal to the disk, once, at the end of a run. Not needed for a
    /// killed run to resume; it narrows what a power cut soon after could lose.
    pub fn finish(&self) -> Result<(), DownloadError> {
        self.journal
            .sync()
            .map_err(|source| DownloadError::Journal {
                path: self.journal.path().to_path_buf(),
                source,
            })
    }

    // ANCHOR: make_folder
    /// Creates the subfolder `folder` (each level of it) unless it is known to exist. A
    /// level that exists already must be a real folder: a symbolic link (or a file) is
    /// refused, naming it, since a save through a link would land outside the output
    /// folder.
    fn make_folder(&self, folder: &str) -> std::io::Result<()> {
        if self.known_folders().contains(folder) {
            return Ok(());
        }
        let mut path = self.dir.clone();
        for part in folder.split('/') {
            path.push(part);
            // Outside the lock: `mkdir` waits for the disk, and other saves need not
            // wait for it. Two threads may both get here; the second gets
            // `AlreadyExists`, and looks at what is there like any other.
            match fs::create_dir(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                    let what = fs::symlink_metadata(&path)?.file_type();
                    if !what.is_dir() {
                        let kind = if what.is_symlink() {
                            "a symbolic link"
                        } else {
                            "not a folder"
                        };
                        return Err(std::io::Error::new(
                            ErrorKind::AlreadyExists,
                            format!(
                                "{} is {kind}: documents are saved only in real folders \
                                 inside the output folder (remove it, or choose another --out)",
                                path.display()
                            ),
                        ));
                    }
                }
                Err(e) => return Err(e),
            }
        }
        self.known_folders().insert(folder.to_string());
        Ok(())
    }
    // ANCHOR_END: make_folder

    fn known_folders(&self) -> std::sync::MutexGuard<'_, FxHashSet<String>> {
        // The set is only ever inserted into, so a panic elsewhere cannot leave it
        // half-changed: a poisoned lock is used as it is.
        self.folders.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `<dir>/<folder>/.tmp-<pid>-<n>`: in the document's own folder, because a rename
    /// is atomic only within one file system. Built in one buffer, one allocation.
    fn temp_path(&self, folder: Option<&str>) -> PathBuf {
        // Relaxed: the read-modify-write alone makes each number unique.
        let n = self.next_temp.fetch_add(1, Ordering::Relaxed);
        let mut temp = OsString::with_capacity(self.dir.as_os_str().len() + 64);
        temp.push(self.dir.as_os_str());
        if let Some(folder) = folder {
            temp.push("/");
            temp.push(folder);
        }
        temp.push("/");
        temp.push(TEMP_PREFIX);
        let mut digits = [0; 20];
        temp.push(decimal(self.pid.into(), &mut digits));
        temp.push("-");
        temp.push(decimal(n, &mut digits));
        PathBuf::from(temp)
    }
}

/// Writes `body` to `path` (`-o FILE`) whole or not at all: to a temporary file beside
/// it (`.<name>.tmp-<pid>`), then renamed onto it. No journal: one file needs none.
/// A `path` without a file name (`..`, `/`) is refused with `InvalidInput`.
pub fn write_file(path: &Path, body: &[u8]) -> std::io::Result<()> {
    let Some(name) = path.file_name() else {
        return Err(std::io::Error::new(
            ErrorKind::InvalidInput,
            format!("{} names no file", path.display()),
        ));
    };
    let mut temp_name = OsString::from(".");
    temp_name.push(name);
    // Writing to an OsString cannot fail.
    let _ = write!(temp_name, ".tmp-{}", std::process::id());
    let temp = path.with_file_name(temp_name);
    write_new(&temp, body)?;
    if let Err(e) = fs::rename(&temp, path) {
        let _ = fs::remove_file(&temp);
        return Err(e);
    }
    Ok(())
}

/// Writes `body` to a file that must not exist yet (`O_EXCL`): a temporary name is
/// never shared, and this makes sure of it rather than overwriting something. If the
/// writing fails (a full disk), the file is removed — but only one this call created.
fn write_new(path: &Path, body: &[u8]) -> std::io::Result<()> {
    let mut file = OpenOptions::new().write(true).create_new(true).open(path)?;
    if let Err(e) = file.write_all(body) {
        drop(file);
        let _ = fs::remove_file(path);
        return Err(e);
    }
    Ok(())
}

/// Removes the `.tmp-*` files in `dir` and in its subfolders, at any depth (a tree
/// name has a folder per path segment): where [`Store::save`] puts them. Symbolic
/// links are not followed. Returns the path that could not be read or removed, with
/// why.
/// Removes the temporary files a killed run left; returns whether it saw a part file
/// on the way.
fn remove_temp_files(dir: &Path) -> Result<bool, (PathBuf, std::io::Error)> {
    // Deeper than any name the store accepts: a folder made by hand further down holds
    // no temporary file of ours.
    let mut parts = false;
    remove_temp_files_in(dir, crate::names::MAX_SAFE_COMPONENTS, &mut parts)?;
    Ok(parts)
}

fn remove_temp_files_in(
    dir: &Path,
    depth: usize,
    parts: &mut bool,
) -> Result<(), (PathBuf, std::io::Error)> {
    let entries = fs::read_dir(dir).map_err(|e| (dir.to_path_buf(), e))?;
    for entry in entries {
        let entry = entry.map_err(|e| (dir.to_path_buf(), e))?;
        // The entry's own type: a symbolic link is a link here, not what it points to.
        let kind = entry.file_type().map_err(|e| (entry.path(), e))?;
        let name = entry.file_name();
        let name = name.to_str();
        *parts |= name.is_some_and(|name| name.starts_with(PART_PREFIX));
        let is_temp = name.is_some_and(|name| name.starts_with(TEMP_PREFIX));
        if is_temp && kind.is_file() {
            match fs::remove_file(entry.path()) {
                // Gone already: someone else cleaned up, which is what we wanted.
                Err(e) if e.kind() != ErrorKind::NotFound => return Err((entry.path(), e)),
                _ => {}
            }
        } else if depth > 1 && kind.is_dir() {
            remove_temp_files_in(&entry.path(), depth - 1, parts)?;
        }
    }
    Ok(())
}
