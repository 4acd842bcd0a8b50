//! Checks a folder of corpus documents against the corpus itself.
//!
//! The downloader checks each document as it arrives; this checks the *result* on
//! disk, independently: every `corpus/<id>` file must be document `id` exactly, and no
//! temporary file may be left behind. The tour and the fault-matrix tests use it to
//! show "zero corrupt or partial files" rather than assume it.

use std::path::Path;

use sockets::corpus::document;

/// What a folder holds, compared with corpus documents `0..n`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FolderCheck {
    /// Files that are exactly their document.
    pub complete: u64,
    /// Files whose bytes differ from their document (ids listed, at most 20).
    pub corrupt: Vec<u64>,
    /// Documents with no file.
    pub missing: u64,
    /// Temporary files left behind (names starting with `.tmp`).
    pub temporary: u64,
}

impl FolderCheck {
    /// All `n` documents present and exact, nothing else left.
    pub fn is_perfect(&self, n: u64) -> bool {
        self.complete == n && self.corrupt.is_empty() && self.missing == 0 && self.temporary == 0
    }
}

/// Compares `dir/corpus/<id>` with document `id` for every id in `0..n`, and counts
/// temporary files in `dir` and its subfolders.
pub fn check_corpus_folder(dir: &Path, n: u64) -> std::io::Result<FolderCheck> {
    let mut check = FolderCheck::default();
    for id in 0..n {
        match std::fs::read(dir.join("corpus").join(id.to_string())) {
            Ok(bytes) if bytes == document(id) => check.complete += 1,
            Ok(_) => {
                if check.corrupt.len() < 20 {
                    check.corrupt.push(id);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => check.missing += 1,
            Err(e) => return Err(e),
        }
    }
    for folder in [dir.to_path_buf(), dir.join("corpus")] {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with(".tmp") {
                check.temporary += 1;
            }
        }
    }
    Ok(check)
}
