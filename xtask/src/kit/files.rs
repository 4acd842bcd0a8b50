//! Files in and out: which files the course has, and writing the kit into its folder.
//!
//! The kit holds the repository's files *as git sees them*: tracked files and new files
//! not ignored, so `target/`, editor backups and anything in `.gitignore` stay out
//! without a second list of exclusions to keep in sync. Without git (a course unpacked
//! from an archive) the tree is walked instead, skipping `target/` and `.git/`.
//!
//! Writing is the dangerous half: the kit must land in its folder and nowhere else. So
//! the folder must be new or empty (nothing of the user's is overwritten), every path
//! written is checked to be a plain relative path (no `..`, no root), and the folders
//! inside are created by us, so no symlink can redirect a write.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};
use std::process::Command;

use crate::error::Error;

/// One file of the course, read into memory (the course is small; having every file's
/// bytes at hand lets the checks and the stripping be plain functions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// Relative to the workspace root, e.g. `crates/procs/src/lib.rs`.
    pub path: PathBuf,
    pub bytes: Vec<u8>,
    /// Keeps scripts runnable in the kit.
    pub executable: bool,
}

impl Source {
    /// The file as text, when it is text.
    pub fn text(&self) -> Option<&str> {
        std::str::from_utf8(&self.bytes).ok()
    }
}

/// The repository's files, relative to `root`, sorted: from git when it can tell,
/// otherwise from walking the tree.
pub fn list(root: &Path) -> Result<Vec<PathBuf>, Error> {
    let mut paths = match git_list(root) {
        Some(paths) => paths,
        None => walk(root)?,
    };
    paths.sort();
    paths.dedup();
    Ok(paths)
}

/// `git ls-files --cached --others --exclude-standard`: tracked files plus untracked
/// ones that are not ignored. `None` when git is missing or `root` is not a repository.
fn git_list(root: &Path) -> Option<Vec<PathBuf>> {
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    // -z: names separated by NUL and not quoted, so any file name comes through as is.
    let paths = out
        .stdout
        .split(|&b| b == 0)
        .filter(|name| !name.is_empty())
        .map(|name| PathBuf::from(OsStr::from_bytes(name)))
        // A file deleted but not yet staged is still "cached": it is not there to copy.
        .filter(|path| root.join(path).symlink_metadata().is_ok())
        .collect();
    Some(paths)
}

/// Every file under `root`, relative to it, skipping build output and git's own folder.
pub fn walk(root: &Path) -> Result<Vec<PathBuf>, Error> {
    let mut found = Vec::new();
    let mut pending = vec![PathBuf::new()];
    while let Some(rel) = pending.pop() {
        let dir = root.join(&rel);
        let entries = std::fs::read_dir(&dir).map_err(Error::read(&dir))?;
        for entry in entries {
            let entry = entry.map_err(Error::read(&dir))?;
            let name = entry.file_name();
            let path = rel.join(&name);
            let kind = entry.file_type().map_err(Error::read(&path))?;
            if kind.is_dir() {
                if name != "target" && name != ".git" {
                    pending.push(path);
                }
            } else {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// Reads the files at `paths` (relative to `root`). Every problem is reported, not
/// just the first.
pub fn read(root: &Path, paths: &[PathBuf]) -> Result<Vec<Source>, Vec<String>> {
    let mut sources = Vec::new();
    let mut problems = Vec::new();
    for path in paths {
        if !is_plain_relative(path) {
            problems.push(format!("{}: not a plain relative path", path.display()));
            continue;
        }
        let full = root.join(path);
        let meta = match full.symlink_metadata() {
            Ok(meta) => meta,
            Err(e) => {
                problems.push(format!("{}: cannot read: {e}", path.display()));
                continue;
            }
        };
        // A symlink could point anywhere (outside the course, at a secret): copying
        // what it points to is not safe, and recreating it may not work for a student.
        if meta.file_type().is_symlink() {
            problems.push(format!(
                "{}: is a symbolic link; the kit copies only regular files",
                path.display()
            ));
            continue;
        }
        match std::fs::read(&full) {
            Ok(bytes) => sources.push(Source {
                path: path.clone(),
                bytes,
                executable: meta.permissions().mode() & 0o111 != 0,
            }),
            Err(e) => problems.push(format!("{}: cannot read: {e}", path.display())),
        }
    }
    if problems.is_empty() {
        Ok(sources)
    } else {
        Err(problems)
    }
}

/// True for `a/b/c.rs`: only normal components, so joining it to a folder stays inside.
pub fn is_plain_relative(path: &Path) -> bool {
    path.components().next().is_some()
        && path.components().all(|c| matches!(c, Component::Normal(_)))
}

/// Checks that `out` can receive a kit: new, or an empty folder, and not inside the
/// course (the kit is a repository of its own, and the course's `git ls-files` would
/// start listing it), except under `target/`, which git ignores.
pub fn check_out_dir(root: &Path, out: &Path) -> Result<(), Error> {
    if out.exists() {
        if !out.is_dir() {
            return Err(Error::course(
                "kit --out",
                format!("{} exists and is not a folder", out.display()),
            ));
        }
        let mut entries = std::fs::read_dir(out).map_err(Error::read(out))?;
        if entries.next().is_some() {
            return Err(Error::course(
                "kit --out",
                format!(
                    "{} is not empty: give a new or empty folder, so that nothing in it is \
                 overwritten or mixed into the kit",
                    out.display()
                ),
            ));
        }
    }
    let out_abs = resolved(out);
    let root_abs = resolved(root);
    if out_abs.starts_with(&root_abs) && !out_abs.starts_with(root_abs.join("target")) {
        return Err(Error::course(
            "kit --out",
            format!(
                "{} is inside the course repository: write the kit outside it (it is a \
             repository of its own), e.g. /tmp/student-kit",
                out.display()
            ),
        ));
    }
    Ok(())
}

/// The absolute path of `path` with symlinks resolved, for the part of it that exists.
fn resolved(path: &Path) -> PathBuf {
    if let Ok(real) = path.canonicalize() {
        return real;
    }
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    match (absolute.parent(), absolute.file_name()) {
        (Some(parent), Some(name)) if parent != absolute => resolved(parent).join(name),
        _ => absolute,
    }
}

/// One file to write: a relative path, its bytes, whether it is executable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutFile<'a> {
    pub path: &'a Path,
    pub bytes: &'a [u8],
    pub executable: bool,
}

/// Writes `files` under `out`, which `check_out_dir` accepted.
pub fn write<'a>(out: &Path, files: impl IntoIterator<Item = OutFile<'a>>) -> Result<usize, Error> {
    std::fs::create_dir_all(out).map_err(Error::write(out))?;
    let mut written = 0;
    for file in files {
        // Paths come from git or the registry; a bad one would be a bug, but a bug
        // here writes outside the folder, so it is checked every time.
        if !is_plain_relative(file.path) {
            return Err(Error::course(
                "kit --out",
                format!(
                    "refusing to write {}: not a plain relative path",
                    file.path.display()
                ),
            ));
        }
        let target = out.join(file.path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(Error::write(parent))?;
        }
        std::fs::write(&target, file.bytes).map_err(Error::write(&target))?;
        if file.executable {
            let mode = std::fs::Permissions::from_mode(0o755);
            std::fs::set_permissions(&target, mode).map_err(|e| Error::Write {
                path: target.clone(),
                source: e,
            })?;
        }
        written += 1;
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-files-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn walking_skips_target_and_git() {
        let root = temp("walk");
        for file in [
            "a.txt",
            "src/b.rs",
            "target/debug/x",
            ".git/HEAD",
            "c/target/y",
        ] {
            let path = root.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "x").unwrap();
        }
        let found = walk(&root).unwrap();
        assert_eq!(
            found,
            [PathBuf::from("a.txt"), PathBuf::from("src/b.rs")],
            "{found:?}"
        );
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn only_plain_relative_paths_are_written() {
        assert!(is_plain_relative(Path::new("a/b.rs")));
        assert!(!is_plain_relative(Path::new("../x")));
        assert!(!is_plain_relative(Path::new("/etc/passwd")));
        assert!(!is_plain_relative(Path::new("a/../../x")));
        assert!(!is_plain_relative(Path::new("")));
        let out = temp("write");
        let bad = OutFile {
            path: Path::new("../escaped"),
            bytes: b"x",
            executable: false,
        };
        assert!(
            write(&out, [bad])
                .unwrap_err()
                .to_string()
                .contains("refusing")
        );
        assert!(!out.parent().unwrap().join("escaped").exists());
        let good = OutFile {
            path: Path::new("bin/run"),
            bytes: b"#!/bin/sh\n",
            executable: true,
        };
        assert_eq!(write(&out, [good]).unwrap(), 1);
        let mode = std::fs::metadata(out.join("bin/run"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o111, 0o111);
        std::fs::remove_dir_all(out).unwrap();
    }

    #[test]
    fn the_output_folder_must_be_new_or_empty_and_outside_the_course() {
        let root = temp("outdir");
        let course = root.join("course");
        std::fs::create_dir_all(course.join("target")).unwrap();
        assert!(check_out_dir(&course, &root.join("new/kit")).is_ok());
        std::fs::create_dir_all(root.join("empty")).unwrap();
        assert!(check_out_dir(&course, &root.join("empty")).is_ok());
        std::fs::write(root.join("empty/x"), "x").unwrap();
        let err = check_out_dir(&course, &root.join("empty"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("not empty"), "{err}");
        let err = check_out_dir(&course, &root.join("empty/x"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a folder"), "{err}");
        let err = check_out_dir(&course, &course.join("kit"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("inside the course"), "{err}");
        assert!(check_out_dir(&course, &course.join("target/kit")).is_ok());
        std::fs::remove_dir_all(root).unwrap();
    }
}
