//! The journal: an append-only record of the documents saved, so that a killed run
//! resumes where it stopped instead of starting again.
//!
//! Why not just look at which files exist? Because a file that exists says nothing of
//! *which run* wrote it or whether it is the document the list asks for, and because
//! checking a million files one `stat` at a time is slow. The journal is one file,
//! `.journal` in the output folder, with one line per saved document and its size:
//!
//! ```text
//! saved 5312 example.com_80/wiki/Rust%
//! saved 2048 corpus/17
//! ```
//!
//! Lines are only ever *appended*, each with a single `write` to a file opened with
//! `O_APPEND`, and nothing is buffered in the process. So when the run is killed —
//! Ctrl-C, the OOM killer, `kill -9` — every line written so far is already in the
//! kernel and survives; only the line being written at that instant can be torn (cut
//! short, with no `\n`). [`Journal::open`] ignores such a last line and cuts it off, so
//! the next line starts clean. A torn line only costs a download done again.
//!
//! The line starts with a word (`saved`) so that the format can grow: a line this
//! version does not understand is skipped, not an error (its document is fetched again).
//!
//! A power cut or a kernel crash is another matter: lines and documents reach the disk
//! when the kernel decides, not in the order they were written. On ext4, a journal line
//! can survive while its document's data did not (the file then exists, empty or
//! short). So a line records the document's size, and the store trusts a line only while
//! the file has that size (see [`crate::store::Store::is_done`]): after a crash, a
//! document that is not whole is fetched again, whatever the journal says. Syncing every
//! document instead would make each save wait for the disk. One run at a time may use
//! an output folder: two runs appending to the same journal are not coordinated.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use crate::error::DownloadError;
use crate::names::is_safe_name;
use sockets::url::decimal;

/// The journal's file name in the output folder. It starts with `.`, which no
/// document's name may (see [`crate::names::is_safe_name`]), so no document can
/// overwrite it.
pub const JOURNAL_FILE: &str = ".journal";

/// The word that starts the line of a saved document: `saved <bytes> <name>`.
const SAVED: &str = "saved ";

/// The word that starts the line of a redirected document, after its `saved` line:
/// `landed <url> <name>`, the URL it came from in the end (read by people and scripts;
/// a resumed run skips these lines, which it does not need).
const LANDED: &str = "landed ";

/// The record of saved documents; [`record`](Journal::record) may be called from many
/// threads at once.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    /// One writer at a time, so that lines never interleave (`O_APPEND` alone makes a
    /// single `write` atomic with respect to the file's end, but the lock also guards
    /// the reused line buffer and the known length).
    appender: Mutex<Appender>,
}

#[derive(Debug)]
struct Appender {
    file: File,
    /// The file's length after the last complete line: where to cut back to if a write
    /// fails half-way (a full disk), so that the next line does not start mid-line.
    len: u64,
    /// The line being written, kept from one call to the next so that recording a name
    /// allocates nothing.
    line: Vec<u8>,
}

impl Journal {
    /// Opens (creating it if need be) `<dir>/.journal`, and returns it with the names
    /// it lists and the size recorded for each. A torn last line is dropped and cut off
    /// the file; lines not understood are skipped.
    ///
    /// Memory: the set holds every name the journal lists, about 100 bytes each with the
    /// set's own overhead — some 100 MB for a million documents.
    pub fn open(dir: &Path) -> Result<(Journal, HashMap<String, u64>), DownloadError> {
        let path = dir.join(JOURNAL_FILE);
        let error = |source| DownloadError::Journal {
            path: path.clone(),
            source,
        };
        // `append`: every write goes to the end of the file, whatever the file offset
        // (which reading moves), in one step the kernel does not interleave.
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(error)?;
        let (done, complete) = read_entries(&file).map_err(error)?;
        let on_disk = file.metadata().map_err(error)?.len();
        if on_disk > complete {
            // A torn last line (the run was killed while writing it). Cut it off, or
            // the next line would be glued to it and be lost too.
            file.set_len(complete).map_err(error)?;
        }
        let appender = Appender {
            file,
            len: complete,
            line: Vec::with_capacity(256),
        };
        let journal = Journal {
            path,
            appender: Mutex::new(appender),
        };
        Ok((journal, done))
    }

    // ANCHOR: record
    /// Appends the line of `name`, saved with `bytes` bytes, with a single `write` (`write_all` loops only if the
    /// kernel takes part of it, which for a regular file means the disk is full; the
    /// part written is then cut off again). Once this returns `Ok`, a killed process
    /// cannot lose the line.
    ///
    /// A name the store would refuse (see [`is_safe_name`]) is refused here too, with
    /// `InvalidInput`: [`open`](Journal::open) would skip its line, so it would never
    /// read back — and a newline in it could forge a line of its own.
    pub fn record(&self, name: &str, bytes: u64) -> std::io::Result<()> {
        let mut digits = [0; 20];
        self.append(SAVED, decimal(bytes, &mut digits).as_bytes(), name)
    }
    // ANCHOR_END: record

    /// Appends `landed <url> <name>`: the document saved as `name` came from `url` after
    /// redirects. The URL must be printable ASCII with no space (a [`Url`]'s normal form
    /// is), or the line could be read wrongly.
    ///
    /// [`Url`]: sockets::url::Url
    pub fn record_landed(&self, name: &str, url: &str) -> std::io::Result<()> {
        if url.is_empty() || !url.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("{url:?} cannot be written on a journal line"),
            ));
        }
        self.append(LANDED, url.as_bytes(), name)
    }

    // ANCHOR: append
    /// Appends `<word><field> <name>` with a single `write`.
    fn append(&self, word: &str, field: &[u8], name: &str) -> std::io::Result<()> {
        if !is_safe_name(name) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("{name:?} is not a safe name, so it cannot be a journal entry"),
            ));
        }
        // A thread that panicked while holding the lock left nothing half-done that
        // matters here (`len` is updated last), so a poisoned lock is used as it is.
        let mut appender = self.appender.lock().unwrap_or_else(PoisonError::into_inner);
        let Appender { file, len, line } = &mut *appender;
        line.clear();
        line.extend_from_slice(word.as_bytes());
        line.extend_from_slice(field);
        line.push(b' ');
        line.extend_from_slice(name.as_bytes());
        line.push(b'\n');
        match file.write_all(line) {
            Ok(()) => {
                // usize to u64 never loses anything on the platforms Rust supports.
                *len += line.len() as u64;
                Ok(())
            }
            Err(e) => {
                // Best effort: if even this fails, the next open drops the torn line.
                let _ = file.set_len(*len);
                Err(e)
            }
        }
    }
    // ANCHOR_END: append

    /// Asks the kernel to put the journal on the disk (`fsync`), for a run that ends
    /// normally. Not needed against a killed process, only against a power cut.
    pub fn sync(&self) -> std::io::Result<()> {
        let appender = self.appender.lock().unwrap_or_else(PoisonError::into_inner);
        appender.file.sync_data()
    }

    /// Where the journal is.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Reads the names the journal lists, and the length of its complete lines: the bytes
/// after them are a torn line, which is ignored. Read line by line, so that only the
/// set grows with the journal, never a copy of the whole file.
fn read_entries(file: &File) -> std::io::Result<(HashMap<String, u64>, u64)> {
    let mut reader = BufReader::with_capacity(64 * 1024, file);
    let mut done = HashMap::new();
    let mut complete = 0u64;
    let mut line = Vec::new();
    loop {
        line.clear();
        let read = reader.read_until(b'\n', &mut line)?;
        if read == 0 || line.last() != Some(&b'\n') {
            // The end, possibly after a torn line (no `\n`): not counted as complete.
            return Ok((done, complete));
        }
        complete += read as u64;
        if let Some((name, len)) = saved_entry(&line[..line.len() - 1]) {
            done.insert(name.to_string(), len);
        }
    }
}

/// The name and size on a line `saved <bytes> <name>`, if the line is one and the name
/// is safe. Anything else — another word (an older version's `ok <name>` too), bytes
/// that are not UTF-8, an unsafe name — is not understood and is skipped: its document
/// is fetched again, and a name the store would refuse can never be asked about anyway.
fn saved_entry(line: &[u8]) -> Option<(&str, u64)> {
    let text = std::str::from_utf8(line).ok()?;
    let (len, name) = text.strip_prefix(SAVED)?.split_once(' ')?;
    let len = len.parse().ok()?;
    is_safe_name(name).then_some((name, len))
}
