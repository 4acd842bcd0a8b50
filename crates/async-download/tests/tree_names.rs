//! The tree layout's names (the default): a folder per host and one per path segment,
//! `index.html` for a final `/`, the query kept in the name, a file never in a folder's
//! place — and still never outside the output folder, never two URLs in one file.

mod support;

use std::collections::HashSet;
use std::fs;
use std::io::Write;
use std::path::{Component, Path};

use async_download::feed::Feed;
use async_download::names::{
    Layout, MAX_COMPONENT_BYTES, MAX_FOLDERS, MAX_TREE_NAME_BYTES, is_safe_name, name_for,
    tree_name_for,
};
use async_download::store::Store;
use async_download::target::{Line, url_lines_in};
use async_download::{EngineKind, Target, download_with};
use proptest::prelude::*;
use sockets::corpus::FaultPlan;
use sockets::url::Url;

use support::{TempDir, TinyServer, corpus_server, fast_options};

fn url(host: &str, port: u16, path: &str) -> Url {
    Url {
        scheme: Default::default(),
        host: host.to_string(),
        port,
        path: path.to_string(),
    }
}

fn parsed(text: &str) -> String {
    tree_name_for(&Url::parse(text).unwrap_or_else(|e| panic!("{text}: {e}")))
}

/// Safe by the store's rule, every component short enough and a plain one, and,
/// joined to an output folder, inside it.
fn check_contained(name: &str) {
    assert!(is_safe_name(name), "unsafe: {name:?}");
    assert!(name.len() <= MAX_TREE_NAME_BYTES, "too long: {name:?}");
    for component in name.split('/') {
        assert!(component.len() <= MAX_COMPONENT_BYTES, "too long: {name:?}");
    }
    let dir = Path::new("/srv/out");
    let joined = dir.join(name);
    assert!(joined.starts_with(dir), "{joined:?} left {dir:?}");
    let rest: Vec<Component<'_>> = joined.strip_prefix(dir).unwrap().components().collect();
    assert_eq!(rest.len(), name.split('/').count(), "{name:?}");
    assert!(
        rest.iter().all(|c| matches!(c, Component::Normal(_))),
        "{name:?}"
    );
}

#[test]
fn urls_map_to_paths_as_the_table_says() {
    let table = [
        ("http://h:8080/a/b/c.txt", "h_8080/a/b/c.txt"),
        ("http://h/", "h_80/index.html"),
        ("http://h", "h_80/index.html"),
        ("http://h/docs/", "h_80/docs/index.html"),
        ("http://h/docs/index.html", "h_80/docs/index.html%"),
        ("http://h/docs/index.htmlx", "h_80/docs/index.htmlx%"),
        ("http://h/?x=1", "h_80/index.html%3Fx%3D1"),
        ("http://h/index.html?x=1", "h_80/index.html%3Fx%3D1%"),
        ("http://h/wiki/Rust", "h_80/wiki/Rust%"),
        ("http://h/a", "h_80/a%"),
        ("http://h/a/b", "h_80/a/b%"),
        ("http://h/a.b", "h_80/a.b"),
        ("http://h/a.b/c", "h_80/a%2Eb/c%"),
        (
            "http://h/find?q=a b&n=2",
            "h_80/find%3Fq%3Da%2520b%26n%3D2%",
        ),
        ("http://h/f.txt?v=1", "h_80/f.txt%3Fv%3D1"),
        ("http://h/a?b/c", "h_80/a%3Fb%2Fc%"),
        ("http://h/a//b.txt", "h_80/a/%/b.txt"),
        ("http://h/Caf%C3%A9.txt", "h_80/Caf%25C3%25A9.txt"),
        (
            "http://h/../../etc/passwd",
            "h_80/%2E%2E/%2E%2E/etc/passwd%",
        ),
        ("http://h/.hidden/.x", "h_80/%2Ehidden/%2Ex%"),
        ("http://h/a/./b.txt", "h_80/a/%2E/b.txt"),
        ("http://h/~user/", "h_80/%7Euser/index.html"),
        ("http://[::1]:8080/x.y", "%3A%3A1_8080/x.y"),
        ("http://Example.COM/A.txt", "example.com_80/A.txt"),
    ];
    for (text, want) in table {
        let got = parsed(text);
        assert_eq!(got, want, "{text}");
        check_contained(&got);
    }
}

#[test]
fn a_file_and_a_folder_of_one_name_are_both_kept() {
    // `/a` is a document and `/a/b` needs a folder `a`: in any order, both get a place.
    let names: Vec<String> = [
        "http://h/a",
        "http://h/a/b",
        "http://h/a.b",
        "http://h/a.b/c",
    ]
    .iter()
    .map(|t| parsed(t))
    .collect();
    for a in &names {
        for b in &names {
            assert!(!b.starts_with(&format!("{a}/")), "{a} is a folder of {b}");
        }
    }
}

#[test]
fn paths_too_deep_or_too_long_keep_their_flat_name() {
    let deep = format!("http://h/{}x.txt", "d/".repeat(MAX_FOLDERS + 1));
    let u = Url::parse(&deep).unwrap();
    assert_eq!(tree_name_for(&u), name_for(&u));
    let just = format!("http://h/{}x.txt", "d/".repeat(MAX_FOLDERS));
    assert_eq!(
        parsed(&just),
        format!("h_80/{}x.txt", "d/".repeat(MAX_FOLDERS))
    );
    let long = format!("http://h/{}/x", "y".repeat(150));
    check_contained(&parsed(&long));
    let longer = format!("http://h/{}", format!("{}/", "y".repeat(150)).repeat(10));
    let u = Url::parse(&longer).unwrap();
    assert_eq!(tree_name_for(&u), name_for(&u));
    // A very long host is cut, and the URL keeps its flat name too.
    let host = url(&"h".repeat(300), 80, "/a/b.txt");
    assert_eq!(tree_name_for(&host), name_for(&host));
    check_contained(&tree_name_for(&host));
    // A hand-built path without its leading `/`.
    assert_eq!(tree_name_for(&url("h", 1, "x")), "h_1/~x");
    assert_eq!(tree_name_for(&url("h", 1, "")), "h_1/~%");
}

#[test]
fn hostile_urls_stay_inside_the_folder() {
    let long = format!("http://example.com/{}", "a/".repeat(4000));
    let hostile = [
        "http://example.com/../../etc/passwd",
        "http://example.com/%2F..%2F..%2Fetc%2Fpasswd",
        "http://example.com/..%2f..%2f",
        "http://example.com/%00",
        "http://example.com/a/./b/../../..",
        "http://example.com//",
        "http://example.com/?../../x",
        "http://example.com/.hidden",
        "http://example.com/.journal",
        "http://example.com/.tmp-1-1/x",
        "http://example.com/~user/%7E",
        "http://..:8080/",
        "http://./",
        "http://example.com/Café ünï 日本語",
        long.as_str(),
    ];
    for text in hostile {
        check_contained(&parsed(text));
    }
    for u in [
        url("", 80, ""),
        url("..", 80, "/../.."),
        url("h", 80, "/a\0b/\n\r\t\x7f"),
        url("h", 80, &"/".repeat(10_000)),
        url(&"%".repeat(300), 80, &"\0".repeat(300)),
    ] {
        check_contained(&tree_name_for(&u));
    }
}

#[test]
fn layout_flat_is_the_old_name_and_a_url_list_uses_the_layout() {
    let u = Url::parse("http://h/a/b.txt").unwrap();
    assert_eq!(Layout::Flat.name_for(&u), "h_80/%2Fa%2Fb.txt");
    assert_eq!(Layout::Tree.name_for(&u), "h_80/a/b.txt");
    assert_eq!(Layout::default(), Layout::Tree);
    let list = "# a comment\nhttp://h/a/b.txt\n";
    let names = |layout| -> Vec<String> {
        url_lines_in(list.as_bytes(), layout)
            .map(|line| match line.unwrap() {
                Line::Target(t) => t.name().to_string(),
                Line::Bad(bad) => panic!("{bad:?}"),
            })
            .collect()
    };
    assert_eq!(names(Layout::Tree), ["h_80/a/b.txt"]);
    assert_eq!(names(Layout::Flat), ["h_80/%2Fa%2Fb.txt"]);
}

#[test]
fn the_store_saves_a_tree_name_and_still_refuses_the_rest() {
    let tmp = TempDir::new("tree-store");
    let out = tmp.join("out");
    let store = Store::open(&out).unwrap();
    store.save("h_80/a/b/c.txt", b"deep").unwrap();
    store.save("h_80/a%", b"the file a").unwrap();
    assert_eq!(fs::read(out.join("h_80/a/b/c.txt")).unwrap(), b"deep");
    assert_eq!(fs::read(out.join("h_80/a%")).unwrap(), b"the file a");
    for bad in [
        "a/b/c",
        "h_80/../x/y",
        "h_80/a/.x",
        "h_/a/b",
        "h_123456/a/b",
    ] {
        assert!(store.save(bad, b"evil").is_err(), "{bad}");
    }
    drop(store);
    // A temporary file a killed run left deep in the tree is removed on the next open.
    fs::write(out.join("h_80/a/b/.tmp-1-1"), b"half").unwrap();
    let store = Store::open(&out).unwrap();
    assert!(!out.join("h_80/a/b/.tmp-1-1").exists());
    assert!(store.is_done("h_80/a/b/c.txt"));
}

/// A server that answers each target with the target itself as the body.
fn echo_server() -> TinyServer {
    TinyServer::start(|target, stream| {
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            target.len()
        );
        let _ = stream.write_all(head.as_bytes());
        let _ = stream.write_all(target.as_bytes());
    })
}

#[test]
fn every_engine_saves_a_tree_and_a_second_run_finds_it() {
    let server = echo_server();
    let paths = [
        "/a",
        "/a/b",
        "/a/b/c.txt",
        "/a/",
        "/a/index.html",
        "/q?x=1&y=/2",
        "/v1.2/x.tar.gz",
        "/v1.2",
    ];
    for kind in EngineKind::ALL {
        let tmp = TempDir::new(&format!("tree-e2e-{}", kind.name()));
        let out = tmp.join("out");
        let targets = || -> Vec<Target> {
            paths
                .iter()
                .map(|p| {
                    Target::from_url(Url::parse(&format!("http://{}{p}", server.addr())).unwrap())
                })
                .collect()
        };
        let report = download_with(
            kind,
            Feed::of_targets(targets().into_iter()),
            fast_options(4, Some(&out)),
        )
        .expect("a run");
        assert_eq!(
            (report.ok, report.failed),
            (paths.len() as u64, 0),
            "{kind:?}: {report:?}"
        );
        let site = format!("127.0.0.1_{}", server.addr().port());
        for (path, file) in paths.iter().zip([
            "a%",
            "a/b%",
            "a/b/c.txt",
            "a/index.html",
            "a/index.html%",
            "q%3Fx%3D1%26y%3D%2F2%",
            "v1%2E2/x.tar.gz",
            "v1.2",
        ]) {
            let saved = fs::read(out.join(&site).join(file))
                .unwrap_or_else(|e| panic!("{kind:?}: {path} as {file}: {e}"));
            assert_eq!(saved, path.as_bytes(), "{kind:?}: {path}");
        }
        // The same list again: everything is found where the first run saved it.
        let again = download_with(
            kind,
            Feed::of_targets(targets().into_iter()),
            fast_options(4, Some(&out)),
        )
        .expect("a second run");
        assert_eq!(
            (again.ok, again.skipped),
            (0, paths.len() as u64),
            "{kind:?}"
        );
    }
}

#[test]
fn the_corpus_in_the_tree_layout_reads_back() {
    let server = corpus_server(FaultPlan::none());
    let tmp = TempDir::new("tree-corpus");
    let out = tmp.join("out");
    let targets: Vec<Target> = (0..20)
        .map(|id| {
            Target::from_url(Url::parse(&format!("http://{}/wiki/{id}", server.addr())).unwrap())
        })
        .collect();
    let report = download_with(
        EngineKind::TokioMulti,
        Feed::of_targets(targets.into_iter()),
        fast_options(4, Some(&out)),
    )
    .expect("a run");
    assert_eq!((report.ok, report.failed), (20, 0));
    let site = format!("127.0.0.1_{}", server.addr().port());
    for id in 0..20 {
        let saved = fs::read(out.join(&site).join(format!("wiki/{id}%"))).unwrap();
        assert_eq!(saved, sockets::corpus::document(id));
    }
}

/// Text that stresses the layout: separators, dots, escapes, the query mark, the
/// marks `%` and `~`, control bytes, non-ASCII and the pieces of `index.html`.
fn hostile_path(max: usize) -> impl Strategy<Value = String> {
    let pieces = vec![
        "/",
        "/",
        ".",
        "..",
        "%",
        "%2F",
        "%2E",
        "?",
        "=",
        "~",
        "\0",
        "\n",
        "a",
        "b",
        "é",
        "index.html",
        "index",
        ".html",
        "_80",
    ];
    prop::collection::vec(prop::sample::select(pieces), 0..max)
        .prop_map(|v| format!("/{}", v.concat()))
}

proptest! {
    #[test]
    fn no_url_escapes_the_out_folder(host in any::<String>(), port in any::<u16>(), path in any::<String>()) {
        check_contained(&tree_name_for(&url(&host, port, &path)));
        check_contained(&tree_name_for(&url(&host, port, &format!("/{path}"))));
    }

    #[test]
    fn two_different_urls_never_get_one_path_nor_a_file_in_a_folders_place(
        a in (0u16..2, hostile_path(10)),
        b in (0u16..2, hostile_path(10)),
    ) {
        let (ua, ub) = (url("h", a.0, &a.1), url("h", b.0, &b.1));
        let (na, nb) = (tree_name_for(&ua), tree_name_for(&ub));
        check_contained(&na);
        prop_assert_eq!(ua == ub, na == nb, "{:?} {:?}", na, nb);
        prop_assert!(!nb.starts_with(&format!("{na}/")), "{:?} is a folder of {:?}", na, nb);
        prop_assert!(!na.starts_with(&format!("{nb}/")), "{:?} is a folder of {:?}", nb, na);
    }
}

#[test]
fn every_short_path_over_a_hostile_alphabet_has_its_own_place() {
    let alphabet = ["/", ".", "%", "?", "a", "~", "index.html"];
    let mut texts = vec![String::new()];
    let mut last = vec![String::new()];
    for _ in 0..4 {
        last = last
            .iter()
            .flat_map(|t| alphabet.iter().map(move |c| format!("{t}{c}")))
            .collect();
        texts.extend(last.iter().cloned());
    }
    let names: Vec<String> = texts
        .iter()
        .map(|t| tree_name_for(&url("h", 80, &format!("/{t}"))))
        .collect();
    let unique: HashSet<&String> = names.iter().collect();
    assert_eq!(unique.len(), names.len());
    let folders: HashSet<&str> = names
        .iter()
        .flat_map(|n| n.match_indices('/').map(move |(at, _)| &n[..at]))
        .collect();
    for name in &names {
        check_contained(name);
        assert!(!folders.contains(name.as_str()), "{name} is also a folder");
    }
}
