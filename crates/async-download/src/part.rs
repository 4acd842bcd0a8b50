//! Big documents: written to disk as they come, and resumed where they stopped.
//!
//! A document is normally held whole in memory and saved at once ([`Store::save`]):
//! simple, and for the web's pages and the corpus, cheap. A 2 GB file held whole costs
//! 2 GB, and a download killed at 1.9 GB would start from zero. So a document saved to
//! `--out` (or to `-o FILE`) goes to its **part file** instead once it is known to be big (its
//! `Content-Length`, or what has arrived, passes [`SPILL_AFTER`]): written as it comes,
//! with the codec handing out the body as it arrives
//! ([`ResponseParser::take_body`](sockets::http::ResponseParser::take_body)), and moved
//! into place when whole, as a saved document is.
//!
//! The part file, `.part-<file>` in the document's folder (a name starting with `.`,
//! which no document's has; beside FILE for `-o FILE`), stays when the attempt fails or the run is killed, beside
//! `.part-<file>.id`: the validator the server gave for it, its `ETag` or else its
//! `Last-Modified`. The next attempt (or the next run) asks only for the rest:
//!
//! ```text
//! Range: bytes=1900000000-
//! If-Range: "5f2a-9c3"
//! ```
//!
//! `If-Range` makes the server decide: if the document is still the one the part came
//! from, it answers `206 Partial Content` with the rest (`Content-Range: bytes
//! 1900000000-1999999999/2000000000`), appended to the part; if it changed, or the
//! server does not do ranges, `200` with the whole document, and the part starts over.
//! A `416` (nothing from there on) means the part was whole already if the server's
//! length equals it, and a part to throw away otherwise. Without a validator, a part is
//! not resumed: the rest of another version would make a file that is neither.
//!
//! Only a body sent as it is (no `Content-Encoding`) goes to a part file: a range
//! counts the bytes sent, and the bytes of a compressed body are not the document's. A
//! resumed request therefore asks for `Accept-Encoding: identity`.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use sockets::http::Response;

use crate::error::FetchError;
use crate::store::Store;

/// A body that passes this many bytes goes to its part file.
pub const SPILL_AFTER: usize = 1 << 20;

/// How a part file's name starts, in the document's folder (the store's convention:
/// it looks for them when it opens).
pub use crate::store::PART_PREFIX;

/// What the head of a response means for the part file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Not known yet (a body of unknown length, small so far): hold it in memory.
    Undecided,
    /// The body is held in memory, as for any document (an error status, an encoded
    /// body).
    Hold,
    /// The body goes to the part file as it comes.
    Spill,
    /// A `416` said the part file holds the whole document already.
    Complete,
}

/// Where a whole document goes from its part file.
#[derive(Debug, Clone, Copy)]
enum Home<'s> {
    /// Its name in the output folder: moved there and recorded in the journal.
    Store { store: &'s Store, name: &'s str },
    /// `-o FILE`: moved onto FILE.
    File(&'s Path),
}

/// Where a part file and its validator's file are, and what errors call the document.
#[derive(Debug)]
struct Files {
    name: String,
    path: PathBuf,
    id_path: PathBuf,
}

impl Files {
    fn new(name: String, dir: &Path, file: &str) -> Files {
        Files {
            name,
            path: dir.join(format!("{PART_PREFIX}{file}")),
            id_path: dir.join(format!("{PART_PREFIX}{file}.id")),
        }
    }

    /// The files of the document `name` of `store`, in its folder (made if need be).
    fn in_store(store: &Store, name: &str) -> Result<Files, FetchError> {
        let folder = store.folder_of(name)?;
        let file = name.rsplit('/').next().unwrap_or(name);
        let mut dir = store.dir().to_path_buf();
        if let Some(folder) = folder {
            dir.push(folder);
        }
        Ok(Files::new(name.to_string(), &dir, file))
    }
}

/// The part file of one target, across its attempts.
#[derive(Debug)]
pub struct Part<'s> {
    home: Home<'s>,
    /// Its files, worked out the first time they are needed. Most documents never need
    /// them (small, and no part left by an earlier run): building their paths and
    /// making their folder cost as much as the rest of saving a document, apart from
    /// its system calls.
    files: Option<Files>,
    /// Bytes in the part file when this attempt started, and its validator: what a
    /// `Range` may ask the rest of.
    have: u64,
    validator: Option<String>,
    decision: Decision,
    file: Option<File>,
    /// Bytes in the part file now.
    len: u64,
    /// Whether a part file was there when the target started.
    found: bool,
    /// The bytes an earlier run left that were resumed from: not fetched by this one.
    resumed_from: u64,
    /// Whether an attempt has looked at the disk yet: the first one also notes what
    /// the target started with (`found`, `resumed_from`).
    looked: bool,
}

impl<'s> Part<'s> {
    /// The part file for `name` in `store`, with what an earlier attempt or run left.
    /// Its files are worked out when first needed: a name the store refuses fails
    /// there, or in [`Store::save`].
    pub fn open(store: &'s Store, name: &'s str) -> Part<'s> {
        Part::new(Home::Store { store, name }, None)
    }

    /// The part file for `-o FILE`: beside it, in its folder.
    pub fn for_file(path: &'s Path) -> Result<Part<'s>, FetchError> {
        let Some(file) = path.file_name().and_then(|f| f.to_str()) else {
            return Err(FetchError::save(
                &path.display().to_string(),
                "the name is not a file name in UTF-8".to_string(),
            ));
        };
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let files = Files::new(path.display().to_string(), &dir, file);
        Ok(Part::new(Home::File(path), Some(files)))
    }

    /// Nothing is read from the disk yet: the first attempt does it (see
    /// [`next_attempt`](Part::next_attempt)), once, or not at all in an output folder
    /// that held no part file.
    fn new(home: Home<'s>, files: Option<Files>) -> Part<'s> {
        Part {
            home,
            files,
            have: 0,
            validator: None,
            decision: Decision::Undecided,
            file: None,
            len: 0,
            found: false,
            resumed_from: 0,
            looked: false,
        }
    }

    /// The part's files, worked out now if they were not yet.
    fn files(&mut self) -> Result<&Files, FetchError> {
        match &mut self.files {
            Some(files) => Ok(files),
            empty @ None => match self.home {
                Home::Store { store, name } => Ok(empty.insert(Files::in_store(store, name)?)),
                // Made with the part (see `for_file`).
                Home::File(path) => Err(FetchError::save(
                    &path.display().to_string(),
                    "no part file".to_string(),
                )),
            },
        }
    }

    /// Reads again what is on disk, before an attempt: its length and its validator.
    pub fn next_attempt(&mut self) {
        self.file = None;
        self.decision = Decision::Undecided;
        let first = !self.looked;
        // A store opened without any part file in it has none for this target's first
        // attempt: most documents saved with --out then cost no `stat` here at all.
        let none_left = matches!(self.home, Home::Store { store, .. } if !store.had_parts());
        let found = if first && none_left {
            None
        } else {
            // A name the store refuses has no part file; saving it will say why.
            let files = self.files().ok();
            files.and_then(|files| fs::symlink_metadata(&files.path).ok())
        };
        if first {
            self.looked = true;
            self.found = found.is_some();
        }
        let len = found.filter(|m| m.is_file()).map_or(0, |m| m.len());
        // No part, no validator to read.
        let id_path = self.files.as_ref().map(|files| &files.id_path);
        self.validator = id_path
            .filter(|_| len > 0)
            .and_then(|id_path| fs::read_to_string(id_path).ok())
            .map(|text| text.trim().to_string())
            .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_graphic() || b == b' '));
        self.have = if self.validator.is_some() { len } else { 0 };
        self.len = self.have;
        if first {
            self.resumed_from = self.have;
        }
    }

    // ANCHOR: resume_headers
    /// The `Range` and `If-Range` values of a request that resumes the part, if there is
    /// a part to resume (some bytes, and a validator to check them with).
    pub fn resume_headers(&self) -> Option<(String, &str)> {
        let validator = self.validator.as_deref()?;
        (self.have > 0).then(|| (format!("bytes={}-", self.have), validator))
    }
    // ANCHOR_END: resume_headers

    /// What has been decided for the current response.
    pub fn decision(&self) -> Decision {
        self.decision
    }

    /// Whether the response just read put the whole document in the part file: its
    /// body went there, or a `416` said the part was whole already. (Asked once the
    /// response is complete.)
    pub fn holds_the_document(&self) -> bool {
        matches!(self.decision, Decision::Spill | Decision::Complete)
    }

    /// Removes a part file an earlier attempt or run left, if there is one: the
    /// document was fetched whole in memory after all.
    pub fn discard_if_any(&mut self) {
        if self.found {
            self.discard();
            self.found = false;
        }
    }

    /// Bytes in the part file now.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    // ANCHOR: consider
    /// Decides, from the head of the response being read and the bytes of its body held
    /// so far, where its body goes. Called until it says something else than
    /// [`Decision::Undecided`]. An answer the part cannot use (a `206` for another
    /// range, a `416` for a part that is not whole) throws the part away and is an
    /// error worth a retry, which starts over.
    pub fn consider(&mut self, head: &Response, held: usize) -> Result<Decision, FetchError> {
        let encoded = head.headers.get("Content-Encoding").is_some();
        let decision = match head.status {
            206 if self.have > 0 && !encoded => {
                let from = content_range_start(head);
                if from != Some(self.have) {
                    self.discard();
                    return Err(resume_error(format!(
                        "the server sent a range from {from:?}, not from byte {}",
                        self.have
                    )));
                }
                self.open_file(true)?;
                Decision::Spill
            }
            416 if self.have > 0 => {
                if content_range_total(head) == Some(self.have) {
                    Decision::Complete
                } else {
                    self.discard();
                    return Err(resume_error("the server has no byte after the part".into()));
                }
            }
            200 if !encoded => {
                let big = content_length(head).is_some_and(|n| n > SPILL_AFTER as u64);
                if !(big || held > SPILL_AFTER || self.have > 0) {
                    Decision::Undecided
                } else {
                    // A 200 to a ranged request: the document changed, or the server does
                    // not do ranges. The part starts over.
                    self.keep_validator(head)?;
                    self.open_file(false)?;
                    Decision::Spill
                }
            }
            _ => Decision::Hold,
        };
        self.decision = decision;
        Ok(decision)
    }
    // ANCHOR_END: consider

    /// Appends body bytes to the part file (after [`Decision::Spill`]).
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), FetchError> {
        let (Some(file), Some(files)) = (&mut self.file, &self.files) else {
            return Ok(());
        };
        file.write_all(bytes).map_err(|e| {
            FetchError::save(
                &files.name,
                format!("cannot write {}: {e}", files.path.display()),
            )
        })?;
        self.len += bytes.len() as u64;
        Ok(())
    }

    /// Of the document's bytes, those this run fetched (what the report counts): all of
    /// them, unless a part an earlier run left was resumed.
    pub fn fetched_now(&self) -> u64 {
        self.len.saturating_sub(self.resumed_from)
    }

    /// The document is whole in the part file: it is moved into place and recorded, and
    /// its validator file removed. Returns its length.
    pub fn finish(&mut self) -> Result<u64, FetchError> {
        self.file = None;
        let (len, home) = (self.len, self.home);
        let files = self.files()?;
        match home {
            Home::Store { store, name } => store.place(name, &files.path, len)?,
            Home::File(path) => fs::rename(&files.path, path).map_err(|e| {
                FetchError::save(
                    &files.name,
                    format!("cannot rename {} onto it: {e}", files.path.display()),
                )
            })?,
        }
        let _ = fs::remove_file(&files.id_path);
        Ok(len)
    }

    /// Removes the part file and its validator: what they hold cannot be resumed.
    pub fn discard(&mut self) {
        self.file = None;
        if let Ok(files) = self.files() {
            let _ = fs::remove_file(&files.path);
            let _ = fs::remove_file(&files.id_path);
        }
        self.have = 0;
        self.len = 0;
        self.resumed_from = 0;
        self.validator = None;
    }

    /// Opens the part file: to append to what it has (`resume`), or empty.
    fn open_file(&mut self, resume: bool) -> Result<(), FetchError> {
        let have = self.have;
        let files = self.files()?;
        let opened = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(false)
            .open(&files.path)
            .and_then(|file| {
                // Exactly the bytes the range continues, or none: what a killed write
                // left past them is dropped.
                let len = if resume { have } else { 0 };
                file.set_len(len)?;
                let mut file = file;
                std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(len))?;
                Ok((file, len))
            });
        match opened {
            Ok((file, len)) => {
                self.file = Some(file);
                self.len = len;
                if !resume {
                    self.resumed_from = 0;
                }
                Ok(())
            }
            Err(e) => Err(FetchError::save(
                &files.name,
                format!("cannot open {}: {e}", files.path.display()),
            )),
        }
    }

    /// Keeps the validator of a `200` that starts the part (its ETag, else its
    /// Last-Modified), or removes an old one when it has none: such a part is not
    /// resumed.
    fn keep_validator(&mut self, head: &Response) -> Result<(), FetchError> {
        let validator = head
            .headers
            .get("ETag")
            .filter(|etag| !etag.starts_with("W/"))
            .or_else(|| head.headers.get("Last-Modified"))
            .filter(|v| v.bytes().all(|b| b.is_ascii_graphic() || b == b' '));
        let files = self.files()?;
        let kept = match validator {
            Some(v) => fs::write(&files.id_path, format!("{v}\n")),
            None => match fs::remove_file(&files.id_path) {
                Err(e) if e.kind() != ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            },
        };
        kept.map_err(|e| {
            FetchError::save(
                &files.name,
                format!("cannot write {}: {e}", files.id_path.display()),
            )
        })
    }
}

fn content_length(head: &Response) -> Option<u64> {
    head.headers.get("Content-Length")?.trim().parse().ok()
}

/// The first byte of `Content-Range: bytes FIRST-LAST/TOTAL`.
fn content_range_start(head: &Response) -> Option<u64> {
    let range = head
        .headers
        .get("Content-Range")?
        .trim()
        .strip_prefix("bytes ")?;
    range.split_once('-')?.0.trim().parse().ok()
}

/// The total of `Content-Range: bytes */TOTAL` (or `bytes FIRST-LAST/TOTAL`).
fn content_range_total(head: &Response) -> Option<u64> {
    let range = head
        .headers
        .get("Content-Range")?
        .trim()
        .strip_prefix("bytes ")?;
    range.rsplit_once('/')?.1.trim().parse().ok()
}

fn resume_error(reason: String) -> FetchError {
    FetchError::Resume { reason }
}
