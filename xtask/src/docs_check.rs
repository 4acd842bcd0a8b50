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
//!
//! Pictures drift too. Every image a page shows, `![alt](path)`, must exist and say in
//! its alt text what it shows (for a reader who cannot see it). Every diagram source,
//! `src/diagrams/NAME.txt`, must have its `NAME.svg` beside it, exactly as
//! `cargo xtask diagrams` renders it now (so a source edited without rendering fails),
//! and some page must show it.
//!
//! Every link to a page must find it, and the heading it names (see `links`); every Rust
//! listing is numbered in reading order and captioned with its file (see `listings`). And the
//! book keeps its pace (see `pace`): no page renders to more than 1,200 lines,
//! no Rust listing shows more than 40, both counted with the includes expanded, as the
//! reader sees them.

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
    /// Images shown by the pages (`![alt](path)`).
    pub images: usize,
    /// Diagram sources under `src/diagrams`.
    pub diagrams: usize,
    pub problems: Vec<Problem>,
}

impl BookCheck {
    pub fn passed(&self) -> bool {
        self.problems.is_empty()
    }

    /// "3 pages, 12 includes, 5 SUMMARY.md links, 40 recorded figures, 9 images,
    /// 8 diagrams"
    pub fn counts(&self) -> String {
        format!(
            "{} pages, {} includes, {} SUMMARY.md links, {} recorded figures, {} images, \
             {} diagrams",
            self.pages, self.includes, self.summary_links, self.figures, self.images, self.diagrams
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
    // Listing numbers run through a chapter's pages, so they are checked on all at once.
    let texts: Vec<(PathBuf, String)> = pages
        .iter()
        .filter_map(|p| Some((p.clone(), fs::read_to_string(p).ok()?)))
        .collect();
    let texts: Vec<(&Path, &str)> = texts
        .iter()
        .map(|(p, t)| (p.as_path(), t.as_str()))
        .collect();
    for (name, line, message) in crate::listings::check(&texts) {
        report.problems.push(Problem {
            file: shown(&src.join(name), shown_from),
            line: Some(line),
            message,
        });
    }
    let mut shown_images = ShownImages::new();
    for page in &pages {
        check_images(page, shown_from, &mut shown_images, &mut report);
    }
    check_diagrams(&src, shown_from, &shown_images, &mut report);
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
    for (line, message) in crate::pace::check(&rendered_lines(&text, dir)) {
        report.problems.push(Problem {
            file: file.clone(),
            line,
            message,
        });
    }
    // SUMMARY.md's links are the table of contents, checked as such (`check_summary`).
    let summary = page.file_name().is_some_and(|n| n == "SUMMARY.md");
    let links = if summary {
        Vec::new()
    } else {
        crate::links::check(page, &text)
    };
    for (line, message) in links {
        report.problems.push(Problem {
            file: file.clone(),
            line: Some(line),
            message,
        });
    }
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

/// Every image the pages show, by its path: the first page and line that shows it.
type ShownImages = std::collections::BTreeMap<PathBuf, (String, usize)>;

/// One `![alt](target)` of a page.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ImageRef {
    line: usize,
    alt: String,
    target: String,
}

/// The images of a page: every `![alt](target)` outside code blocks and code spans,
/// where it is text about Markdown, not an image.
fn image_refs(page: &str) -> Vec<ImageRef> {
    let mut found = Vec::new();
    let mut fence: Option<&str> = None;
    for (i, line) in page.lines().enumerate() {
        let trimmed = line.trim_start();
        if let Some(open) = fence {
            if trimmed.starts_with(open) {
                fence = None;
            }
            continue;
        }
        if let Some(open) = ["```", "~~~"].into_iter().find(|f| trimmed.starts_with(f)) {
            fence = Some(open);
            continue;
        }
        let prose = without_code_spans(line);
        let mut from = 0;
        while let Some(offset) = prose[from..].find("![") {
            let start = from + offset + 2;
            let Some(close) = prose[start..].find("](") else {
                break;
            };
            let open = start + close + 2;
            let Some(end) = prose[open..].find(')') else {
                break;
            };
            let inside = prose[open..open + end].trim();
            let target = inside
                .strip_prefix('<')
                .and_then(|t| t.split_once('>').map(|(t, _)| t))
                .unwrap_or_else(|| inside.split_whitespace().next().unwrap_or(""));
            found.push(ImageRef {
                line: i + 1,
                alt: prose[start..start + close].trim().to_string(),
                target: target.to_string(),
            });
            from = open + end + 1;
        }
    }
    found
}

/// The line with every `code span` blanked out.
fn without_code_spans(line: &str) -> String {
    let mut in_code = false;
    line.chars()
        .map(|c| {
            if c == '`' {
                in_code = !in_code;
            }
            if c == '`' || in_code { ' ' } else { c }
        })
        .collect()
}

/// Every image of a page must exist, and its alt text must say what it shows.
fn check_images(page: &Path, base: &Path, shown_images: &mut ShownImages, report: &mut BookCheck) {
    // A page that cannot be read was reported by `check_page`.
    let Ok(text) = fs::read_to_string(page) else {
        return;
    };
    let file = shown(page, base);
    let dir = page.parent().unwrap_or(Path::new("."));
    for image in image_refs(&text) {
        report.images += 1;
        let problem = |message: String| Problem {
            file: file.clone(),
            line: Some(image.line),
            message,
        };
        if image.alt.is_empty() {
            report.problems.push(problem(format!(
                "the image `{}` has no alt text: say in `![...]` what the picture shows, \
                 for a reader who cannot see it",
                image.target
            )));
        }
        if image.target.contains("://") || image.target.starts_with("data:") {
            continue;
        }
        let path = image.target.split(['#', '?']).next().unwrap_or("");
        let target = normalize(&dir.join(path));
        if !target.is_file() {
            report.problems.push(problem(format!(
                "the image `{}` does not exist (looked for {}, relative to this page)",
                image.target,
                shown(&target, base)
            )));
            continue;
        }
        shown_images
            .entry(target)
            .or_insert_with(|| (file.clone(), image.line));
    }
}

/// Every diagram source has its picture beside it, as it renders now, and a page shows
/// it; every picture in the diagrams folder has a source.
fn check_diagrams(src: &Path, base: &Path, shown_images: &ShownImages, report: &mut BookCheck) {
    let dir = src.join(crate::diagrams::DIAGRAMS_DIR);
    let sources = match crate::diagrams::sources(&dir) {
        Ok(sources) => sources,
        Err(e) => {
            report.problems.push(Problem {
                file: shown(&dir, base),
                line: None,
                message: format!("cannot list this folder: {e}"),
            });
            return;
        }
    };
    for source in &sources {
        report.diagrams += 1;
        if let Some(problem) = check_diagram(source, base, shown_images) {
            report.problems.push(problem);
        }
    }
    let Ok(entries) = fs::read_dir(&dir) else {
        return;
    };
    let mut pictures: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "svg"))
        .collect();
    pictures.sort();
    for svg in pictures {
        if !svg.with_extension("txt").is_file() {
            report.problems.push(Problem {
                file: shown(&svg, base),
                line: None,
                message: format!(
                    "has no source {}: the pictures in this folder are rendered from \
                     their sources by `cargo xtask diagrams`; write the source, or move \
                     the picture elsewhere",
                    shown(&svg.with_extension("txt"), base)
                ),
            });
        }
    }
}

/// What is wrong with one diagram, if anything: a source that cannot be drawn, a
/// picture missing or stale, or a picture no page shows.
fn check_diagram(source: &Path, base: &Path, shown_images: &ShownImages) -> Option<Problem> {
    use crate::diagrams::DiagramError;
    let name = shown(source, base);
    let svg = source.with_extension("svg");
    let svg_name = shown(&svg, base);
    let problem = |file: &str, line, message: String| {
        Some(Problem {
            file: file.to_string(),
            line,
            message,
        })
    };
    let text = match fs::read_to_string(source) {
        Ok(text) => text,
        Err(e) => return problem(&name, None, format!("cannot read: {e}")),
    };
    let rendered = match crate::diagrams::render(&name, &text) {
        Ok(rendered) => rendered,
        Err(DiagramError::Line {
            line, problem: p, ..
        }) => return problem(&name, Some(line), p),
        Err(DiagramError::Source { problem: p, .. }) => return problem(&name, None, p),
    };
    let Ok(on_disk) = fs::read_to_string(&svg) else {
        return problem(
            &svg_name,
            None,
            format!("missing: {name} was never rendered; run `cargo xtask diagrams`"),
        );
    };
    let shown_on = shown_images.get(&normalize(&svg));
    if on_disk != rendered {
        let page = shown_on
            .map(|(page, line)| format!(", shown on {page}:{line}"))
            .unwrap_or_default();
        return problem(
            &svg_name,
            None,
            format!(
                "stale: it differs from what {name} renders to now{page}; run \
                 `cargo xtask diagrams`"
            ),
        );
    }
    if shown_on.is_none() {
        let file = svg.file_name().unwrap_or_default().to_string_lossy();
        return problem(
            &svg_name,
            None,
            format!(
                "no page shows this diagram: add `![what it shows](diagrams/{file})` to \
                 the page that explains it, or delete it and {name}"
            ),
        );
    }
    None
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
/// The page as mdBook renders it, line by line: each include replaced by the lines it
/// takes (an include that does not resolve takes none; it is reported elsewhere). Each
/// line keeps the number of the page's line it comes from, for the pace check.
fn rendered_lines(text: &str, dir: &Path) -> Vec<crate::pace::RenderedLine> {
    let directives = find_directives(text);
    let mut rendered = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let number = i + 1;
        let mut expanded = line.to_string();
        for directive in directives.iter().filter(|d| d.line == number) {
            if matches!(directive.kind.as_str(), "include" | "playground") {
                let taken = included_text(directive, dir).unwrap_or_default();
                expanded = expanded.replacen(&directive.text, &taken, 1);
            }
        }
        let pieces: Vec<&str> = expanded.lines().collect();
        if pieces.is_empty() {
            // An empty line of the page (or an include that took nothing): one line.
            rendered.push(crate::pace::RenderedLine {
                source_line: number,
                text: String::new(),
            });
        }
        for piece in pieces {
            rendered.push(crate::pace::RenderedLine {
                source_line: number,
                text: piece.to_string(),
            });
        }
    }
    rendered
}

/// What an include takes from its file, as mdBook takes it: an anchor's lines without
/// the lines that mark anchors, or a range of lines, or the whole file.
fn included_text(directive: &Directive, dir: &Path) -> Option<String> {
    let (path, selection) = parse_include_args(&directive.args)?;
    let contents = fs::read_to_string(dir.join(path)).ok()?;
    let lines: Vec<&str> = contents.lines().collect();
    let taken: Vec<&str> = match selection {
        Selection::Whole => lines,
        Selection::Anchor(name) => {
            let start = lines.iter().position(|l| has_marker(l, "ANCHOR:", &name))?;
            let end = lines[start + 1..]
                .iter()
                .position(|l| has_marker(l, "ANCHOR_END:", &name))?;
            lines[start + 1..start + 1 + end]
                .iter()
                .copied()
                .filter(|l| !l.contains("ANCHOR:") && !l.contains("ANCHOR_END:"))
                .collect()
        }
        Selection::Lines { start, end } => {
            let from = start.unwrap_or(1).max(1) - 1;
            let to = end.unwrap_or(lines.len()).min(lines.len());
            lines.get(from..to)?.to_vec()
        }
    };
    Some(taken.join("\n"))
}

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
                // Relaxed: the read-modify-write alone makes each number unique.
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
    fn a_listing_too_long_once_included_and_a_page_too_long_are_reported() {
        // The page itself is four lines; what it includes makes the listing 45 lines.
        let long_fn: String = (0..45).map(|i| format!("    let x{i} = {i};\n")).collect();
        let code = format!("// ANCHOR: long\nfn long() {{\n{long_fn}}}\n// ANCHOR_END: long\n");
        let f = Fixture::new(&[
            (
                "docs/src/SUMMARY.md",
                "# Summary\n\n- [Processes](ch01.md)\n",
            ),
            (
                "docs/src/ch01.md",
                "# One\n\n```rust\n{{#include ../../crates/procs/src/lib.rs:long}}\n```\n",
            ),
            ("crates/procs/src/lib.rs", &code),
        ]);
        let problems = f.problems();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with("docs/src/ch01.md:3: "),
            "{}",
            problems[0]
        );
        assert!(problems[0].contains("shows 47 lines"), "{}", problems[0]);
        // A page of 1,201 lines (its own, no includes) is one problem, for the page.
        let f = book(&"text\n".repeat(crate::pace::MAX_PAGE_LINES + 1));
        let problems = f.problems();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with("docs/src/ch01.md: "),
            "{}",
            problems[0]
        );
        assert!(
            problems[0].contains("renders to 1201 lines"),
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

    const DIAGRAM: &str = "size 200 80\ntitle \"A box\"\nbox a 20 20 100 40 \"a box\"\n";

    /// The picture `DIAGRAM` renders to now.
    fn fresh() -> String {
        crate::diagrams::render("box.txt", DIAGRAM).unwrap()
    }

    /// A page that shows the diagram, on its line 3.
    const SHOWN: &str = "# Processes\n\n![A box labelled a box](diagrams/box.svg)\n";

    /// A book of one page, with the diagram `box` whose picture is `svg` (`None`: none).
    fn illustrated(page: &str, svg: Option<&str>) -> Fixture {
        let mut files = vec![
            (
                "docs/src/SUMMARY.md",
                "# Summary\n\n- [Processes](ch01.md)\n",
            ),
            ("docs/src/ch01.md", page),
            ("docs/src/diagrams/box.txt", DIAGRAM),
        ];
        files.extend(svg.map(|svg| ("docs/src/diagrams/box.svg", svg)));
        Fixture::new(&files)
    }

    #[test]
    fn a_shown_up_to_date_diagram_passes_and_is_counted() {
        let report = illustrated(SHOWN, Some(&fresh())).check();
        assert_eq!(report.problems, []);
        assert_eq!((report.images, report.diagrams), (1, 1));
    }

    #[test]
    fn a_missing_image_is_reported_with_page_and_line() {
        let page = format!("{SHOWN}\ntext\n![A chart](record/chart.svg)\n");
        let problems = illustrated(&page, Some(&fresh())).problems();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with(
                "docs/src/ch01.md:6: the image `record/chart.svg` does not exist \
                 (looked for docs/src/record/chart.svg"
            ),
            "{}",
            problems[0]
        );
    }

    #[test]
    fn an_image_without_alt_text_is_reported() {
        let page = "# Processes\n\n![](diagrams/box.svg)\n![ ](diagrams/box.svg \"a box\")\n";
        let problems = illustrated(page, Some(&fresh())).problems();
        assert_eq!(problems.len(), 2, "{problems:?}");
        for (problem, line) in problems.iter().zip([3, 4]) {
            assert!(
                problem.starts_with(&format!(
                    "docs/src/ch01.md:{line}: the image `diagrams/box.svg` has no alt text"
                )),
                "{problem}"
            );
        }
    }

    #[test]
    fn images_in_code_are_not_images() {
        let page = format!(
            "{SHOWN}\n```md\n![](gone.png)\n```\nWrite `![alt](gone.png)` for a picture.\n"
        );
        let report = illustrated(&page, Some(&fresh())).check();
        assert_eq!(report.problems, []);
        assert_eq!(report.images, 1);
    }

    #[test]
    fn a_stale_diagram_is_reported_with_what_to_run() {
        let stale = fresh().replace(">a box<", ">an old box<");
        let problems = illustrated(SHOWN, Some(&stale)).problems();
        assert_eq!(
            problems,
            ["docs/src/diagrams/box.svg: stale: it differs from what \
                 docs/src/diagrams/box.txt renders to now, shown on docs/src/ch01.md:3; run \
                 `cargo xtask diagrams`"]
        );
    }

    #[test]
    fn a_diagram_never_rendered_is_reported() {
        let problems = illustrated("# Processes\n", None).problems();
        assert_eq!(
            problems,
            [
                "docs/src/diagrams/box.svg: missing: docs/src/diagrams/box.txt was never \
                 rendered; run `cargo xtask diagrams`"
            ]
        );
        // Shown on a page, it is an image that does not exist too.
        let problems = illustrated(SHOWN, None).problems();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0]
                .starts_with("docs/src/ch01.md:3: the image `diagrams/box.svg` does not exist"),
            "{}",
            problems[0]
        );
    }

    #[test]
    fn a_diagram_no_page_shows_is_reported() {
        let problems = illustrated("# Processes\n", Some(&fresh())).problems();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with(
                "docs/src/diagrams/box.svg: no page shows this diagram: add \
                 `![what it shows](diagrams/box.svg)`"
            ),
            "{}",
            problems[0]
        );
    }

    #[test]
    fn a_diagram_that_cannot_be_drawn_is_reported_at_its_line() {
        let f = Fixture::new(&[
            (
                "docs/src/SUMMARY.md",
                "# Summary\n\n- [Processes](ch01.md)\n",
            ),
            ("docs/src/ch01.md", SHOWN),
            (
                "docs/src/diagrams/box.txt",
                "size 200 80\ntitle \"A box\"\nbox a 20 20 40 20 \"a label far too long\"\n",
            ),
            ("docs/src/diagrams/box.svg", "<svg/>"),
        ]);
        let problems = f.problems();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with("docs/src/diagrams/box.txt:3: the label of box `a`"),
            "{}",
            problems[0]
        );
    }

    #[test]
    fn a_picture_without_a_source_is_reported() {
        let f = Fixture::new(&[
            (
                "docs/src/SUMMARY.md",
                "# Summary\n\n- [Processes](ch01.md)\n",
            ),
            ("docs/src/ch01.md", SHOWN),
            ("docs/src/diagrams/box.svg", "<svg/>"),
        ]);
        let problems = f.problems();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0]
                .starts_with("docs/src/diagrams/box.svg: has no source docs/src/diagrams/box.txt"),
            "{}",
            problems[0]
        );
    }

    #[test]
    fn image_references_are_found_like_markdown_shows_them() {
        let found = image_refs(
            "![a](x.svg) and ![b](<y z.png> \"t\")\n```\n![c](no.png)\n```\n`![d](no.png)` ![e](z.png)\n",
        );
        let found: Vec<(usize, &str, &str)> = found
            .iter()
            .map(|i| (i.line, i.alt.as_str(), i.target.as_str()))
            .collect();
        assert_eq!(
            found,
            [(1, "a", "x.svg"), (1, "b", "y z.png"), (5, "e", "z.png")]
        );
    }

    /// The real book's pictures: each exists, has its alt text, is up to date with its
    /// source and is shown by a page.
    #[test]
    fn the_course_book_shows_its_diagrams_up_to_date() {
        let root = crate::workspace::root();
        let report = check(&root.join("docs"), &root);
        assert!(report.diagrams >= 8, "{} diagrams", report.diagrams);
        assert!(report.images >= report.diagrams, "{} images", report.images);
        let problems: Vec<String> = report
            .problems
            .iter()
            .filter(|p| p.file.contains("/diagrams/") || p.message.contains("the image `"))
            .map(|p| p.to_string())
            .collect();
        assert!(
            problems.is_empty(),
            "the book's pictures have problems:\n{}",
            problems.join("\n")
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
