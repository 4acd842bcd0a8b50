//! `docs-check`: the book's includes and its table of contents point at things that exist.
//!
//! The course book (mdBook, under `docs/`) shows code by including it from the crates,
//! `{{#include ../../crates/procs/src/fork.rs:spawn}}`, so the text can never show code
//! that no longer compiles. That only works while every include still resolves, and
//! mdBook is lenient in the wrong way: an anchor it cannot find, or a line range past the
//! end of a file, silently includes nothing (or less), and the chapter quietly loses its
//! listing. Renaming a function's anchor in a lesson crate is all it takes. This check
//! makes such drift a test failure instead.
//!
//! The directive syntax follows mdBook's own parser:
//! `{{#include PATH}}`, `PATH:ANCHOR`, `PATH:N` (one line), `PATH:N:M`, `PATH:N:`,
//! `PATH::M` (lines, counted from 1, both ends included), the same for
//! `{{#rustdoc_include}}`; `\{{#include ...}}` is escaped and left alone. PATH is
//! relative to the page that includes it.

use std::fmt;
use std::fs;
use std::path::{Component, Path, PathBuf};

/// What was checked and what was wrong.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct BookCheck {
    /// Markdown pages under `docs/src`.
    pub pages: usize,
    /// `{{#include}}`-like directives found in them.
    pub includes: usize,
    /// Links to pages in `SUMMARY.md` (drafts and web links are not checked).
    pub summary_links: usize,
    /// Measured figures in the prose, each marked with where the record has it.
    pub figures: usize,
    pub problems: Vec<Problem>,
}

impl BookCheck {
    pub fn passed(&self) -> bool {
        self.problems.is_empty()
    }

    /// "3 pages, 12 includes, 5 SUMMARY.md links, 40 recorded figures"
    pub fn counts(&self) -> String {
        format!(
            "{} pages, {} includes, {} SUMMARY.md links, {} recorded figures",
            self.pages, self.includes, self.summary_links, self.figures
        )
    }
}

/// One problem, located like a compiler error so editors can jump to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The page, as a path relative to the folder the report is shown from.
    pub file: String,
    /// 1-based; `None` for a problem with the whole file.
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// Checks the book in `docs_dir` (the folder holding `book.toml` and `src/`). Paths in
/// problems are shown relative to `shown_from` (the workspace root, for a person).
/// A book with no pages yet passes: there is nothing to drift.
pub fn check(docs_dir: &Path, shown_from: &Path) -> BookCheck {
    let src = docs_dir.join("src");
    let mut report = BookCheck::default();
    let mut pages = Vec::new();
    collect_markdown(&src, &mut pages, &mut report.problems, shown_from);
    pages.sort();
    report.pages = pages.len();
    let records = match crate::figures::Records::load(&src.join(crate::figures::RECORD_DIR)) {
        Ok(records) => records,
        Err(message) => {
            report.problems.push(Problem {
                file: shown(&src.join(crate::figures::RECORD_DIR), shown_from),
                line: None,
                message: message.to_string(),
            });
            crate::figures::Records::default()
        }
    };
    for page in &pages {
        check_page(page, shown_from, &records, &mut report);
    }
    let summary = src.join("SUMMARY.md");
    if summary.is_file() {
        check_summary(&summary, &src, shown_from, &mut report);
    } else if !pages.is_empty() {
        report.problems.push(Problem {
            file: shown(&summary, shown_from),
            line: None,
            message: "missing: mdBook builds its table of contents (and its list of pages) \
                      from this file"
                .into(),
        });
    }
    report
}

/// Every `.md` file under `dir`, recursively. A missing `dir` is an empty book.
fn collect_markdown(
    dir: &Path,
    pages: &mut Vec<PathBuf>,
    problems: &mut Vec<Problem>,
    base: &Path,
) {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
        Err(e) => {
            problems.push(Problem {
                file: shown(dir, base),
                line: None,
                message: format!("cannot list this folder: {e}"),
            });
            return;
        }
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_markdown(&path, pages, problems, base);
        } else if path.extension().is_some_and(|e| e == "md") {
            pages.push(path);
        }
    }
}

/// One `{{#...}}` directive found in a page.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Directive {
    /// 1-based line of the opening `{{`.
    line: usize,
    /// `include`, `rustdoc_include`, `playground`, `title`, ...
    kind: String,
    /// Everything between the kind and the closing `}}`.
    args: String,
    /// The directive as written, to quote it in a problem.
    text: String,
}

/// Finds directives the way mdBook's regex does:
/// `\{\{\s*#([a-zA-Z0-9_]+)\s+([^}]+)\}\}`, with `\{{#...}}` as the escaped form.
fn find_directives(page: &str) -> Vec<Directive> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(offset) = page[from..].find("{{") {
        let start = from + offset;
        from = start + 2;
        if page[..start].ends_with('\\') {
            continue;
        }
        let rest = &page[start + 2..];
        let after_space = rest.trim_start();
        let Some(after_hash) = after_space.strip_prefix('#') else {
            continue;
        };
        let kind_len = after_hash
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after_hash.len());
        let (kind, after_kind) = after_hash.split_at(kind_len);
        if kind.is_empty() || !after_kind.starts_with(char::is_whitespace) {
            continue;
        }
        // The arguments run to the first `}`, which must open the closing `}}`.
        let Some(close) = after_kind.find('}') else {
            continue;
        };
        if !after_kind[close..].starts_with("}}") || after_kind[..close].trim().is_empty() {
            continue;
        }
        let end = page.len() - after_kind.len() + close + 2;
        found.push(Directive {
            line: page[..start].matches('\n').count() + 1,
            kind: kind.to_string(),
            args: after_kind[..close].trim().to_string(),
            text: page[start..end].to_string(),
        });
        from = end;
    }
    found
}

/// Which part of a file an include takes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Selection {
    Whole,
    Anchor(String),
    /// Lines counted from 1. `end: None` runs to the end of the file.
    Lines {
        start: Option<usize>,
        end: Option<usize>,
    },
}

/// Splits `PATH[:SELECTION]` (or `"QUOTED PATH"[:SELECTION]`) like mdBook does.
fn parse_include_args(args: &str) -> Option<(String, Selection)> {
    let args = args.trim();
    let (path, selection) = if let Some(quoted) = args.strip_prefix('"') {
        let mut path = String::new();
        let mut chars = quoted.char_indices();
        let mut after = None;
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => path.extend(chars.next().map(|(_, c)| c)),
                '"' => {
                    after = Some(&quoted[i + 1..]);
                    break;
                }
                c => path.push(c),
            }
        }
        let after = after?.trim_start();
        (path, after.strip_prefix(':'))
    } else {
        let first = args.split_whitespace().next()?;
        match first.split_once(':') {
            Some((path, selection)) => (path.to_string(), Some(selection)),
            None => (first.to_string(), None),
        }
    };
    Some((path, parse_selection(selection)))
}

/// mdBook's rules: a number starts a line range, anything else non-empty is an anchor;
/// `N` alone is one line, `N:` runs to the end, `:M` starts at the top.
fn parse_selection(selection: Option<&str>) -> Selection {
    let Some(selection) = selection else {
        return Selection::Whole;
    };
    let mut parts = selection.splitn(3, ':');
    let first = parts.next().unwrap_or("");
    let start = match first.parse::<usize>() {
        Ok(n) => Some(n),
        Err(_) if first.is_empty() => None,
        Err(_) => return Selection::Anchor(first.to_string()),
    };
    match (start, parts.next()) {
        (Some(n), None) => Selection::Lines {
            start: Some(n),
            end: Some(n),
        },
        (start, Some(end)) => Selection::Lines {
            start,
            end: end.parse().ok(),
        },
        (None, None) => Selection::Whole,
    }
}

fn check_page(page: &Path, base: &Path, records: &crate::figures::Records, report: &mut BookCheck) {
    let file = shown(page, base);
    let text = match fs::read_to_string(page) {
        Ok(text) => text,
        Err(e) => {
            report.problems.push(Problem {
                file,
                line: None,
                message: format!("cannot read this page: {e}"),
            });
            return;
        }
    };
    report.figures += crate::figures::count(&text);
    for (line, message) in crate::figures::check_page(&text, records) {
        report.problems.push(Problem {
            file: file.clone(),
            line: Some(line),
            message,
        });
    }
    let dir = page.parent().unwrap_or(Path::new("."));
    for directive in find_directives(&text) {
        if !matches!(
            directive.kind.as_str(),
            "include" | "rustdoc_include" | "playground"
        ) {
            continue;
        }
        report.includes += 1;
        let problem = check_include(&directive, dir, base);
        if let Some(message) = problem {
            report.problems.push(Problem {
                file: file.clone(),
                line: Some(directive.line),
                message: format!("{}: {message}", directive.text),
            });
        }
    }
}

/// Why an include does not resolve, or `None` when it does.
fn check_include(directive: &Directive, dir: &Path, base: &Path) -> Option<String> {
    let (path, selection) = match parse_include_args(&directive.args) {
        Some(parsed) => parsed,
        None => return Some("cannot read a file path in this directive".into()),
    };
    // `playground` takes the whole file and then options, not a selection.
    let selection = if directive.kind == "playground" {
        Selection::Whole
    } else {
        selection
    };
    let target = dir.join(&path);
    let target_shown = shown(&target, base);
    if !target.exists() {
        return Some(format!(
            "`{path}` does not exist (looked for {target_shown}, relative to this page)"
        ));
    }
    if target.is_dir() {
        return Some(format!("`{path}` is a folder ({target_shown}), not a file"));
    }
    let contents = match fs::read_to_string(&target) {
        Ok(c) => c,
        Err(e) => return Some(format!("cannot read {target_shown} as text: {e}")),
    };
    match selection {
        Selection::Whole => None,
        Selection::Anchor(name) => check_anchor(&contents, &name, &target_shown),
        Selection::Lines { start, end } => check_lines(&contents, start, end, &target_shown),
    }
}

fn check_anchor(contents: &str, name: &str, target: &str) -> Option<String> {
    let lines: Vec<&str> = contents.lines().collect();
    let Some(start) = lines.iter().position(|l| has_marker(l, "ANCHOR:", name)) else {
        return Some(format!(
            "no line of {target} contains `ANCHOR: {name}`, so mdBook would include nothing \
             (was the anchor renamed or removed?)"
        ));
    };
    if !lines[start + 1..]
        .iter()
        .any(|l| has_marker(l, "ANCHOR_END:", name))
    {
        return Some(format!(
            "anchor `{name}` opens at {target}:{} but no later line contains \
             `ANCHOR_END: {name}`, so mdBook would include everything to the end of the file",
            start + 1
        ));
    }
    None
}

/// True when `line` holds `marker` followed by exactly `name` (mdBook's anchor names are
/// `[\w-]+`, so `ANCHOR: spawn_all` does not open `spawn`).
fn has_marker(line: &str, marker: &str, name: &str) -> bool {
    line.match_indices(marker).any(|(i, _)| {
        let after = line[i + marker.len()..].trim_start();
        after.strip_prefix(name).is_some_and(|rest| {
            !rest
                .chars()
                .next()
                .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '-')
        })
    })
}

fn check_lines(
    contents: &str,
    start: Option<usize>,
    end: Option<usize>,
    target: &str,
) -> Option<String> {
    let len = contents.lines().count();
    if start == Some(0) || (start.is_none() && end == Some(0)) {
        return Some("line numbers count from 1; line 0 does not exist".into());
    }
    if let Some(s) = start.filter(|&s| s > len) {
        return Some(format!(
            "starts at line {s}, but {target} has only {len} lines"
        ));
    }
    if let Some(e) = end.filter(|&e| e > len) {
        return Some(format!(
            "ends at line {e}, but {target} has only {len} lines"
        ));
    }
    match (start, end) {
        (Some(s), Some(e)) if s > e => Some(format!(
            "the range {s}:{e} is backwards: it would include nothing"
        )),
        _ => None,
    }
}

/// Every `[title](target)` in SUMMARY.md must name a page that exists. `[title]()` is
/// a draft chapter in mdBook and is allowed; web links are not ours to check (offline).
fn check_summary(summary: &Path, src: &Path, base: &Path, report: &mut BookCheck) {
    let file = shown(summary, base);
    let text = match fs::read_to_string(summary) {
        Ok(text) => text,
        Err(e) => {
            report.problems.push(Problem {
                file,
                line: None,
                message: format!("cannot read: {e}"),
            });
            return;
        }
    };
    for (i, line) in text.lines().enumerate() {
        for target in link_targets(line) {
            let path = target.split('#').next().unwrap_or("");
            if path.is_empty() || target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            report.summary_links += 1;
            let page = src.join(path);
            if !page.is_file() {
                report.problems.push(Problem {
                    file: file.clone(),
                    line: Some(i + 1),
                    message: format!(
                        "links to `{target}`, but {} does not exist (SUMMARY.md links are \
                         relative to docs/src)",
                        shown(&page, base)
                    ),
                });
            }
        }
    }
}

/// The targets of the inline links `[text](target "title")` on one line.
fn link_targets(line: &str) -> Vec<&str> {
    let mut targets = Vec::new();
    let mut from = 0;
    while let Some(offset) = line[from..].find("](") {
        let open = from + offset + 2;
        let Some(close) = line[open..].find(')') else {
            break;
        };
        let inside = line[open..open + close].trim();
        let target = inside
            .strip_prefix('<')
            .and_then(|t| t.split_once('>').map(|(t, _)| t))
            .unwrap_or_else(|| inside.split_whitespace().next().unwrap_or(""));
        targets.push(target);
        from = open + close + 1;
    }
    targets
}

/// `path` relative to `base`, with `..` resolved on paper (the file may not exist, so
/// `canonicalize` cannot help), for messages a person can paste into an editor.
fn shown(path: &Path, base: &Path) -> String {
    let normal = normalize(path);
    let base = normalize(base);
    normal
        .strip_prefix(&base)
        .unwrap_or(&normal)
        .display()
        .to_string()
}

fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A throwaway book under the system's temp folder, removed when dropped. Unique by
    /// process id and a counter, so tests running in parallel never share one.
    struct Fixture {
        root: PathBuf,
    }

    impl Fixture {
        fn new(files: &[(&str, &str)]) -> Self {
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let root = std::env::temp_dir().join(format!(
                "xtask-docs-check-{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ));
            let _ = fs::remove_dir_all(&root);
            for (path, text) in files {
                let path = root.join(path);
                fs::create_dir_all(path.parent().unwrap()).unwrap();
                fs::write(path, text).unwrap();
            }
            Fixture { root }
        }

        fn check(&self) -> BookCheck {
            check(&self.root.join("docs"), &self.root)
        }

        fn problems(&self) -> Vec<String> {
            self.check()
                .problems
                .iter()
                .map(|p| p.to_string())
                .collect()
        }
    }

    impl Drop for Fixture {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.root);
        }
    }

    const CODE: &str = "\
fn setup() {}
// ANCHOR: spawn
fn spawn() {}
// ANCHOR_END: spawn
// ANCHOR: spawn_all
fn spawn_all() {}
// ANCHOR: unclosed
fn tail() {}
";

    fn book(page: &str) -> Fixture {
        Fixture::new(&[
            (
                "docs/src/SUMMARY.md",
                "# Summary\n\n- [Processes](ch01.md)\n",
            ),
            ("docs/src/ch01.md", page),
            ("crates/procs/src/lib.rs", CODE),
        ])
    }

    #[test]
    fn a_consistent_book_passes_and_is_counted() {
        let f = book(
            "# Processes\n\n```rust\n{{#include ../../crates/procs/src/lib.rs:spawn}}\n```\n\
             {{#rustdoc_include ../../crates/procs/src/lib.rs:2:4}}\n\
             {{ #include ../../crates/procs/src/lib.rs }}\n\
             {{#include ../../crates/procs/src/lib.rs:3}} {{#include ../../crates/procs/src/lib.rs:5:}}\n\
             {{#include ../../crates/procs/src/lib.rs::8}}\n\
             {{#include \"../../crates/procs/src/lib.rs\":1:2}}\n\
             \\{{#include not/checked/because/escaped.rs}}\n\
             {{#title Processes}}\n",
        );
        let report = f.check();
        assert_eq!(report.problems, []);
        assert_eq!(
            (report.pages, report.includes, report.summary_links),
            (2, 7, 1)
        );
    }

    #[test]
    fn a_missing_file_is_reported_with_page_and_line() {
        let f = book("# Processes\n\n{{#include ../../crates/procs/src/gone.rs}}\n");
        let problems = f.problems();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0]
                .starts_with("docs/src/ch01.md:3: {{#include ../../crates/procs/src/gone.rs}}: "),
            "{}",
            problems[0]
        );
        assert!(
            problems[0].contains("looked for crates/procs/src/gone.rs"),
            "{}",
            problems[0]
        );
    }

    #[test]
    fn a_missing_anchor_is_reported() {
        let f = book("{{#include ../../crates/procs/src/lib.rs:fork}}\n");
        let problems = f.problems();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with("docs/src/ch01.md:1: "),
            "{}",
            problems[0]
        );
        assert!(problems[0].contains("`ANCHOR: fork`"), "{}", problems[0]);
    }

    #[test]
    fn an_anchor_is_matched_by_its_whole_name() {
        // `spawn_all` exists, but has no ANCHOR_END; `spawn`'s end must not count for it.
        let f = book("{{#include ../../crates/procs/src/lib.rs:spawn_all}}\n");
        let problems = f.problems();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].contains("`ANCHOR_END: spawn_all`"),
            "{}",
            problems[0]
        );
        let f = book("{{#include ../../crates/procs/src/lib.rs:spaw}}\n");
        assert_eq!(f.problems().len(), 1);
    }

    #[test]
    fn a_missing_anchor_end_is_reported() {
        let f = book("text\n{{#rustdoc_include ../../crates/procs/src/lib.rs:unclosed}}\n");
        let problems = f.problems();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with("docs/src/ch01.md:2: "),
            "{}",
            problems[0]
        );
        assert!(
            problems[0].contains("opens at crates/procs/src/lib.rs:7")
                && problems[0].contains("`ANCHOR_END: unclosed`"),
            "{}",
            problems[0]
        );
    }

    #[test]
    fn bad_line_ranges_are_reported() {
        // lib.rs has 8 lines.
        for (range, why) in [
            ("9", "starts at line 9"),
            ("2:20", "ends at line 20"),
            ("6:3", "backwards"),
            ("0:2", "count from 1"),
            (":0", "count from 1"),
            ("12:", "starts at line 12"),
        ] {
            let f = book(&format!(
                "{{{{#include ../../crates/procs/src/lib.rs:{range}}}}}\n"
            ));
            let problems = f.problems();
            assert_eq!(problems.len(), 1, "{range}: {problems:?}");
            assert!(problems[0].contains(why), "{range}: {}", problems[0]);
            if why.starts_with("starts") || why.starts_with("ends") {
                assert!(problems[0].contains("has only 8 lines"), "{}", problems[0]);
            }
        }
    }

    #[test]
    fn summary_links_must_name_existing_pages() {
        let f = Fixture::new(&[
            (
                "docs/src/SUMMARY.md",
                "# Summary\n\n[Intro](intro.md)\n\n- [Processes](ch01.md#fork)\n\
                 - [Threads]()\n- [Sockets](ch03.md \"TCP\")\n- [mdBook](https://rust-lang.github.io/mdBook/)\n",
            ),
            ("docs/src/intro.md", "hello"),
            ("docs/src/ch01.md", "processes"),
        ]);
        let report = f.check();
        let problems: Vec<String> = report.problems.iter().map(|p| p.to_string()).collect();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with("docs/src/SUMMARY.md:7: links to `ch03.md`"),
            "{}",
            problems[0]
        );
        // The draft chapter and the web link are not counted: they were not checked.
        assert_eq!(report.summary_links, 3);
    }

    #[test]
    fn pages_without_a_summary_are_a_problem_but_an_empty_book_is_not() {
        let f = Fixture::new(&[("docs/src/ch01.md", "text")]);
        let problems = f.problems();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with("docs/src/SUMMARY.md: missing"),
            "{}",
            problems[0]
        );
        let f = Fixture::new(&[("docs/book.toml", "[book]\n")]);
        assert_eq!(f.check(), BookCheck::default());
    }

    #[test]
    fn directives_are_found_like_mdbook_finds_them() {
        let found = find_directives(
            "a {{#include x.rs:1}} b\n\\{{#include no.rs}}\n{{#title T}} {{ #include  y.md }}\n{{#bad}}{{#include z}",
        );
        let kinds: Vec<(usize, &str, &str)> = found
            .iter()
            .map(|d| (d.line, d.kind.as_str(), d.args.as_str()))
            .collect();
        assert_eq!(
            kinds,
            [
                (1, "include", "x.rs:1"),
                (3, "title", "T"),
                (3, "include", "y.md")
            ]
        );
        assert_eq!(
            parse_include_args("a.rs:name extra"),
            Some(("a.rs".into(), Selection::Anchor("name".into())))
        );
        assert_eq!(
            parse_include_args("a.rs:3"),
            Some((
                "a.rs".into(),
                Selection::Lines {
                    start: Some(3),
                    end: Some(3)
                }
            ))
        );
    }

    /// The real book: fails `cargo test --workspace` as soon as a chapter's include
    /// stops resolving.
    #[test]
    fn the_course_book_includes_resolve() {
        let root = crate::workspace::root();
        let report = check(&root.join("docs"), &root);
        let problems: Vec<String> = report.problems.iter().map(|p| p.to_string()).collect();
        assert!(
            problems.is_empty(),
            "the book has problems:\n{}",
            problems.join("\n")
        );
    }
}
