//! No import circles between the files of a crate: a test that keeps it so.
//!
//! A circle (`cli` uses `race`, `race` uses `cli`) means neither file can be read, or
//! moved, without the other; in a course read file by file, each file should lean only
//! on files below it. The test reads every crate's `src/`, takes each module's
//! `crate::...` paths (outside its tests), and looks for a cycle among the modules.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each module of the crate whose sources are in `src` (`a::b` for `src/a/b.rs` or
/// `src/a/b/mod.rs`; the crate root for `lib.rs`, `main.rs` and `bin/`), with its files.
fn modules(src: &Path) -> BTreeMap<String, Vec<PathBuf>> {
    let mut found = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(src).unwrap_or(&path).with_extension("");
            let mut parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if parts.last().is_some_and(|p| p == "mod") {
                parts.pop();
            }
            let root =
                parts == ["lib"] || parts == ["main"] || parts.first().is_some_and(|p| p == "bin");
            let name = if root {
                String::new()
            } else {
                parts.join("::")
            };
            found.entry(name).or_insert_with(Vec::new).push(path);
        }
    }
    found
}

/// The code of a file without its `#[cfg(test)]` part and its comments: tests may use
/// anything, and a comment is not an import.
fn code(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or("");
    text.lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The paths after `crate::` in `code`, braces expanded one level
/// (`crate::{a, b::c}` gives `a` and `b::c`).
fn crate_paths(code: &str) -> Vec<String> {
    let mut paths = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let inner = group.split('}').next().unwrap_or("");
            paths.extend(inner.split(',').map(|p| p.trim().to_string()));
        } else {
            let path: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            paths.push(path);
        }
    }
    paths
}

/// Module `from` uses module `to` (neither inside the other).
fn edges(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let modules = modules(src);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (name, files) in &modules {
        let uses = graph.entry(name.clone()).or_default();
        for file in files {
            let text = std::fs::read_to_string(file).unwrap_or_default();
            for path in crate_paths(&code(&text)) {
                let parts: Vec<&str> = path.split("::").filter(|p| !p.is_empty()).collect();
                // The longest prefix that is a module.
                let target = (1..=parts.len())
                    .rev()
                    .map(|n| parts[..n].join("::"))
                    .find(|m| modules.contains_key(m));
                if let Some(target) = target {
                    let nested = |a: &str, b: &str| a.starts_with(&format!("{b}::"));
                    if &target != name && !nested(name, &target) && !nested(&target, name) {
                        uses.insert(target);
                    }
                }
            }
        }
    }
    graph
}

/// One cycle of `graph`, if it has any (depth-first search, in a stable order).
fn a_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn no_crate_has_an_import_circle_between_its_files() {
    let root = crate::workspace::root();
    let mut crates: Vec<PathBuf> = std::fs::read_dir(root.join("crates"))
        .expect("crates/")
        .flatten()
        .map(|e| e.path())
        .collect();
    crates.extend([root.join("xtask"), root.join("xtask/peers")]);
    let mut checked = 0;
    for dir in crates {
        let src = dir.join("src");
        if !src.is_dir() {
            continue;
        }
        checked += 1;
        if let Some(cycle) = a_cycle(&edges(&src)) {
            panic!(
                "{}: an import circle: {}",
                dir.display(),
                cycle.join(" -> ")
            );
        }
    }
    assert!(checked >= 7, "only {checked} crates found");
}

#[test]
fn a_circle_is_found() {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    graph.entry("cli".into()).or_default().insert("race".into());
    graph
        .entry("race".into())
        .or_default()
        .insert("server".into());
    assert_eq!(a_cycle(&graph), None);
    graph
        .entry("server".into())
        .or_default()
        .insert("cli".into());
    assert_eq!(
        a_cycle(&graph),
        Some(vec![
            "cli".into(),
            "race".into(),
            "server".into(),
            "cli".into()
        ])
    );
    let paths = crate_paths("use crate::{a::B, c};\nlet x = crate::d::e(1);");
    assert_eq!(paths, ["a::B", "c", "d::e"]);
}
