//! The output folder: documents written whole, never outside it, and a journal that
//! lets a killed run resume.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use async_download::error::{DownloadError, FetchError};
use async_download::journal::{JOURNAL_FILE, Journal};
use async_download::store::Store;

/// A fresh folder under the system's temporary folder, removed when dropped. Tests
/// put the store in `<root>/out`, so that anything written beside it shows.
struct TempRoot(PathBuf);

impl TempRoot {
    fn new(test: &str) -> TempRoot {
        let root = std::env::temp_dir().join(format!(
            "async-download-store-{test}-{}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(&root).unwrap();
        TempRoot(root)
    }

    fn out(&self) -> PathBuf {
        self.0.join("out")
    }
}

impl Drop for TempRoot {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// The names in `dir`, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

/// Every `.tmp-*` file in `dir` and its subfolders.
fn temp_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name().to_string_lossy().starts_with(".tmp-") {
            found.push(entry.path());
        } else if entry.file_type().unwrap().is_dir() {
            found.extend(temp_files(&entry.path()));
        }
    }
    found
}

fn journal_text(out: &Path) -> String {
    fs::read_to_string(out.join(JOURNAL_FILE)).unwrap()
}

#[test]
fn a_saved_document_reads_back() {
    let root = TempRoot::new("read-back");
    let store = Store::open(&root.out()).unwrap();
    assert_eq!(store.dir(), root.out());
    store.save("example.com_80/%2Fa", b"hello").unwrap();
    store.save("top-level", b"").unwrap();
    assert_eq!(
        fs::read(root.out().join("example.com_80/%2Fa")).unwrap(),
        b"hello"
    );
    assert_eq!(fs::read(root.out().join("top-level")).unwrap(), b"");
    assert!(temp_files(&root.out()).is_empty());
    store.finish().unwrap();
}

/// The store tells whether a part file (a big download an earlier run left) was in
/// the folder when it opened, at any depth a name can have: if none was, a document's
/// first attempt need not look for one.
#[test]
fn a_part_file_left_anywhere_is_seen_when_the_store_opens() {
    let root = TempRoot::new("parts");
    assert!(!Store::open(&root.out()).unwrap().had_parts());
    let deep = root.out().join("example.com_80/a/b");
    fs::create_dir_all(&deep).unwrap();
    fs::write(deep.join("document.txt"), b"whole").unwrap();
    assert!(!Store::open(&root.out()).unwrap().had_parts());
    fs::write(deep.join(".part-big.iso"), b"half").unwrap();
    assert!(Store::open(&root.out()).unwrap().had_parts());
}

#[test]
fn the_journal_survives_a_reopen() {
    let root = TempRoot::new("reopen");
    {
        let store = Store::open(&root.out()).unwrap();
        assert_eq!(store.done_count(), 0);
        store.save("corpus/1", b"one").unwrap();
        store.save("corpus/2", b"two").unwrap();
        // `is_done` answers for earlier runs: this run's saves are not added.
        assert!(!store.is_done("corpus/1"));
    }
    let store = Store::open(&root.out()).unwrap();
    assert_eq!(store.done_count(), 2);
    assert!(store.is_done("corpus/1"));
    assert!(store.is_done("corpus/2"));
    assert!(!store.is_done("corpus/3"));
    assert_eq!(
        journal_text(&root.out()),
        "saved 3 corpus/1\nsaved 3 corpus/2\n"
    );
}

#[test]
fn a_torn_last_line_is_ignored_and_the_journal_goes_on_cleanly() {
    let root = TempRoot::new("torn");
    {
        let store = Store::open(&root.out()).unwrap();
        store.save("corpus/1", b"one").unwrap();
    }
    // A run killed while writing its next line, after lines this version does not
    // understand (another word, an unsafe name, bytes that are not UTF-8).
    let mut journal = fs::OpenOptions::new()
        .append(true)
        .open(root.out().join(JOURNAL_FILE))
        .unwrap();
    journal
        .write_all(b"later-format x\nsaved 4 ../../evil\nok corpus/1\n\xff\xfe\nsaved 4 corpus/")
        .unwrap();
    drop(journal);

    {
        let store = Store::open(&root.out()).unwrap();
        assert_eq!(store.done_count(), 1);
        assert!(store.is_done("corpus/1"));
        assert!(!store.is_done("corpus/"));
        store.save("corpus/3", b"three").unwrap();
    }
    let text = fs::read(root.out().join(JOURNAL_FILE)).unwrap();
    assert!(
        text.ends_with(b"\xff\xfe\nsaved 5 corpus/3\n"),
        "{}",
        String::from_utf8_lossy(&text)
    );

    let store = Store::open(&root.out()).unwrap();
    assert_eq!(store.done_count(), 2);
    assert!(store.is_done("corpus/1"));
    assert!(store.is_done("corpus/3"));
}

#[test]
fn the_journal_alone_reads_what_it_wrote() {
    let root = TempRoot::new("journal");
    fs::create_dir_all(root.out()).unwrap();
    let (journal, done) = Journal::open(&root.out()).unwrap();
    assert!(done.is_empty());
    journal.record("a/b", 7).unwrap();
    journal.record("with space", 0).unwrap();
    // What would not read back as itself is refused, and nothing is written.
    for unsafe_name in ["two\nlines", "", "../x", "cr\r"] {
        let refused = journal.record(unsafe_name, 1).unwrap_err();
        assert_eq!(refused.kind(), std::io::ErrorKind::InvalidInput);
    }
    journal.sync().unwrap();
    drop(journal);
    let (_, done) = Journal::open(&root.out()).unwrap();
    let expected: HashMap<String, u64> = [("a/b", 7), ("with space", 0)]
        .iter()
        .map(|&(name, len)| (name.to_string(), len))
        .collect();
    assert_eq!(done, expected);
    assert_eq!(
        journal_text(&root.out()),
        "saved 7 a/b\nsaved 0 with space\n"
    );
}

#[test]
fn stale_temporary_files_are_removed_at_open() {
    let root = TempRoot::new("stale");
    let out = root.out();
    fs::create_dir_all(out.join("h_80")).unwrap();
    fs::write(out.join(".tmp-123-4"), b"half a doc").unwrap();
    fs::write(out.join("h_80/.tmp-99-0"), b"half another").unwrap();
    fs::write(out.join("h_80/doc"), b"a whole doc").unwrap();
    fs::write(out.join(".keep"), b"not ours").unwrap();

    let store = Store::open(&out).unwrap();
    assert!(temp_files(&out).is_empty());
    assert_eq!(fs::read(out.join("h_80/doc")).unwrap(), b"a whole doc");
    assert_eq!(listing(&out), [".journal", ".keep", "h_80"]);
    drop(store);
}

#[test]
fn unsafe_names_are_refused_and_nothing_lands_outside() {
    let root = TempRoot::new("unsafe");
    let store = Store::open(&root.out()).unwrap();
    let absolute = root.0.join("absolute").to_string_lossy().into_owned();
    let long = "a".repeat(256);
    let names = [
        "",
        "..",
        ".",
        "../escape",
        "a/../../escape",
        absolute.as_str(),
        "a/b/c",
        "a//b",
        "a/",
        ".journal",
        ".tmp-1-1",
        "a/.hidden",
        "a\0b",
        "a\nok ../x",
        long.as_str(),
    ];
    for name in names {
        match store.save(name, b"evil") {
            Err(FetchError::Save {
                name: refused,
                reason,
            }) => {
                assert_eq!(refused, name);
                assert!(reason.contains("unsafe name"), "{reason}");
            }
            other => panic!("{name:?}: {other:?}"),
        }
    }
    assert_eq!(listing(&root.0), ["out"]);
    assert_eq!(listing(&root.out()), [".journal"]);
    assert_eq!(journal_text(&root.out()), "");
}

#[test]
fn saving_again_replaces_the_document_whole() {
    let root = TempRoot::new("replace");
    let store = Store::open(&root.out()).unwrap();
    let path = root.out().join("h_80/doc");
    store.save("h_80/doc", &[b'a'; 100_000]).unwrap();
    store.save("h_80/doc", b"short").unwrap();
    assert_eq!(fs::read(&path).unwrap(), b"short");

    // A reader never sees a mix or a part while another thread keeps replacing it.
    let (big, small) = (vec![b'a'; 200_000], vec![b'b'; 30_000]);
    store.save("h_80/doc", &big).unwrap();
    let stop = AtomicBool::new(false);
    let reads = AtomicUsize::new(0);
    std::thread::scope(|s| {
        s.spawn(|| {
            // Relaxed: a stop flag and a count that publish no data; the scope's join orders the last read.
            while !stop.load(Ordering::Relaxed) {
                let seen = fs::read(&path).unwrap();
                assert!(seen == big || seen == small, "a part: {} bytes", seen.len());
                reads.fetch_add(1, Ordering::Relaxed);
            }
        });
        for i in 0..300 {
            store
                .save("h_80/doc", if i % 2 == 0 { &small } else { &big })
                .unwrap();
        }
        // Relaxed: see the loop above.
        stop.store(true, Ordering::Relaxed);
    });
    assert!(reads.load(Ordering::Relaxed) > 0);
    assert!(temp_files(&root.out()).is_empty());
}

#[test]
fn eight_threads_save_a_thousand_documents_each() {
    let root = TempRoot::new("threads");
    let store = Store::open(&root.out()).unwrap();
    let name = |t: usize, i: usize| format!("f{}/{t}-{i}", i % 7);
    let body = |t: usize, i: usize| format!("document {t}-{i};").repeat(i % 5 + 1);
    std::thread::scope(|s| {
        for t in 0..8 {
            let store = &store;
            s.spawn(move || {
                for i in 0..1000 {
                    store.save(&name(t, i), body(t, i).as_bytes()).unwrap();
                }
            });
        }
    });
    store.finish().unwrap();
    drop(store);

    for t in 0..8 {
        for i in 0..1000 {
            let saved = fs::read_to_string(root.out().join(name(t, i))).unwrap();
            assert_eq!(saved, body(t, i));
        }
    }
    assert!(temp_files(&root.out()).is_empty());
    let text = journal_text(&root.out());
    let lines: HashSet<&str> = text.lines().collect();
    assert_eq!(
        text.lines().count(),
        8000,
        "one line each, none torn or glued"
    );
    assert_eq!(lines.len(), 8000);
    let store = Store::open(&root.out()).unwrap();
    assert_eq!(store.done_count(), 8000);
    assert!(store.is_done(&name(7, 999)));
}

#[test]
fn a_file_where_a_folder_must_go_is_an_error_not_a_loss() {
    let root = TempRoot::new("clash");
    let store = Store::open(&root.out()).unwrap();
    store.save("a", b"first").unwrap();
    let err = store.save("a/b", b"second").unwrap_err();
    assert!(
        matches!(&err, FetchError::Save { name, .. } if name == "a/b"),
        "{err}"
    );
    assert_eq!(fs::read(root.out().join("a")).unwrap(), b"first");
}

#[test]
fn an_unusable_output_folder_is_a_clear_error() {
    let root = TempRoot::new("unusable");
    let file = root.0.join("a-file");
    fs::write(&file, b"").unwrap();
    match Store::open(&file) {
        Err(DownloadError::Output { path, .. }) => assert_eq!(path, file),
        other => panic!("{other:?}"),
    }
    // A journal that is a folder.
    fs::create_dir_all(root.out().join(JOURNAL_FILE)).unwrap();
    match Store::open(&root.out()) {
        Err(DownloadError::Journal { path, .. }) => assert_eq!(path, root.out().join(JOURNAL_FILE)),
        other => panic!("{other:?}"),
    }
}

/// What a power cut can leave on ext4 (delayed allocation): the journal's lines reached
/// the disk, but some documents' data did not. The files exist, empty or cut short;
/// one was never renamed into place; the journal's last line is torn.
#[test]
fn after_a_power_cut_only_the_whole_documents_are_trusted() {
    let root = TempRoot::new("power-cut");
    let out = root.out();
    {
        let store = Store::open(&out).unwrap();
        for id in 0..6 {
            store.save(&format!("corpus/{id}"), &[b'x'; 100]).unwrap();
        }
    }
    fs::write(out.join("corpus/1"), b"").unwrap(); // the data never reached the disk
    fs::write(out.join("corpus/2"), [b'x'; 60]).unwrap(); // only part of it did
    fs::remove_file(out.join("corpus/3")).unwrap(); // the rename was lost
    fs::write(out.join("corpus/4"), [b'x'; 150]).unwrap(); // not the size recorded
    let mut journal = fs::OpenOptions::new()
        .append(true)
        .open(out.join(JOURNAL_FILE))
        .unwrap();
    journal.write_all(b"saved 100 corpus/6").unwrap(); // torn: no end of line
    drop(journal);
    fs::write(out.join("corpus/6"), [b'x'; 100]).unwrap();

    let store = Store::open(&out).unwrap();
    let done: Vec<u32> = (0..8)
        .filter(|id| store.is_done(&format!("corpus/{id}")))
        .collect();
    // Fetched again: the empty, the short, the missing, the resized, the torn, the new.
    assert_eq!(done, [0, 5]);
}

#[test]
fn a_symbolic_link_in_the_folder_part_of_a_name_is_refused() {
    let root = TempRoot::new("symlink");
    let out = root.out();
    let elsewhere = root.0.join("elsewhere");
    fs::create_dir_all(&elsewhere).unwrap();
    fs::create_dir_all(&out).unwrap();
    std::os::unix::fs::symlink(&elsewhere, out.join("example.com_80")).unwrap();
    fs::write(out.join("a_file"), b"not a folder").unwrap();
    let store = Store::open(&out).unwrap();
    for (name, kind) in [
        ("example.com_80/page", "a symbolic link"),
        ("a_file/page", "not a folder"),
    ] {
        match store.save(name, b"evil") {
            Err(FetchError::Save { reason, .. }) => {
                assert!(reason.contains(kind), "{name}: {reason}");
                assert!(
                    reason.contains("--out"),
                    "{name}: says what to do: {reason}"
                );
            }
            other => panic!("{name}: {other:?}"),
        }
    }
    assert!(
        listing(&elsewhere).is_empty(),
        "a save went through the link"
    );
    // A real folder is fine, and a link to a file is no document either.
    store.save("real_80/page", b"ok").unwrap();
    std::os::unix::fs::symlink(out.join("real_80/page"), out.join("real_80/link")).unwrap();
    drop(store);
    let store = Store::open(&out).unwrap();
    assert!(store.is_done("real_80/page"));
    assert!(!store.is_done("real_80/link"));
}
