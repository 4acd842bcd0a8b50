//! Listing numbers: every Rust listing of a chapter is numbered and captioned with its file.
//!
//! As in the Rust Book, a listing is referred to by its number ("Listing 5-17"), and its
//! caption says which file it comes from, so a reader can open it. The numbers run in
//! reading order through a chapter's pages: the chapter's own page (`ch05-futures.md`)
//! first, then its section pages (`ch05-01-...`, `ch05-02-...`). Splitting a listing in
//! two, or moving one, renumbers the rest; this check says which caption to change.
//!
//! A caption is the first non-blank line after the listing's closing fence:
//! `<span class="caption">Listing 5-17: <code>crates/.../reactor.rs</code>, what it
//! shows</span>`. When the listing includes a file, the caption names that file.

use std::path::Path;

/// The problems of every chapter's listing numbers: `(page, line, message)`. `pages`
/// are the book's pages, in any order; pages outside chapters (no `chNN-` in their
/// name) have no numbered listings.
pub fn check(pages: &[(&Path, &str)]) -> Vec<(String, usize, String)> {
    let mut chapters: Vec<(u32, Option<u32>, &Path, &str)> = pages
        .iter()
        .filter_map(|&(path, text)| {
            let (chapter, section) = place(path)?;
            Some((chapter, section, path, text))
        })
        .collect();
    // The chapter's own page (no section number) first, then its sections in order.
    chapters.sort_by_key(|&(chapter, section, _, _)| (chapter, section.map_or(0, |s| s + 1)));
    let mut problems = Vec::new();
    let mut next = (0, 1);
    for (chapter, _, path, text) in chapters {
        if next.0 != chapter {
            next = (chapter, 1);
        }
        let shown = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into());
        for listing in rust_listings(text) {
            let wanted = format!("Listing {chapter}-{}", next.1);
            next.1 += 1;
            let message = match &listing.caption {
                None => format!(
                    "this Rust listing has no caption: add `<span class=\"caption\">{wanted}: \
                     <code>FILE</code>, what it shows</span>` after it"
                ),
                Some(caption) if !caption.starts_with(&format!("{wanted}:")) => format!(
                    "this Rust listing is {wanted} (numbers run in reading order through the \
                     chapter's pages), but its caption says `{}`",
                    caption.split(':').next().unwrap_or(caption)
                ),
                Some(caption) => match listing.includes.iter().find(|f| !caption.contains(*f)) {
                    Some(file) => {
                        format!("the caption of {wanted} does not name the file it shows, `{file}`")
                    }
                    None => continue,
                },
            };
            problems.push((shown.clone(), listing.line, message));
        }
    }
    problems
}

/// The chapter number and, for a section page, the section number, from a page's
/// name: `ch05-futures.md` is (5, None), `ch05-02-futures-wakers.md` is (5, Some(2)).
fn place(path: &Path) -> Option<(u32, Option<u32>)> {
    let name = path.file_name()?.to_str()?;
    let rest = name.strip_prefix("ch")?;
    let (chapter, rest) = rest.split_once('-')?;
    let chapter = chapter.parse().ok()?;
    let section = rest.split_once('-').and_then(|(s, _)| s.parse().ok());
    Some((chapter, section))
}

/// A Rust listing of a page's source.
#[derive(Debug, PartialEq, Eq)]
struct Listing {
    /// The line of its opening fence.
    line: usize,
    /// The caption's text (what is inside the span), if the listing has one.
    caption: Option<String>,
    /// The files it includes, as paths from the workspace root (`crates/...`).
    includes: Vec<String>,
}

fn rust_listings(text: &str) -> Vec<Listing> {
    let lines: Vec<&str> = text.lines().collect();
    let mut listings = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let trimmed = lines[i].trim_start();
        let ticks = trimmed.bytes().take_while(|&b| b == b'`').count();
        if ticks < 3 {
            i += 1;
            continue;
        }
        let rust = trimmed[ticks..].trim().split([',', ' ']).next() == Some("rust");
        let opened = i;
        let mut includes = Vec::new();
        i += 1;
        while i < lines.len() {
            let inner = lines[i].trim_start();
            let closing = inner.bytes().take_while(|&b| b == b'`').count();
            if closing >= ticks && inner[closing..].trim().is_empty() {
                break;
            }
            includes.extend(included_file(inner));
            i += 1;
        }
        i += 1;
        if !rust {
            continue;
        }
        let caption = lines[i.min(lines.len())..]
            .iter()
            .find(|l| !l.trim().is_empty())
            .and_then(|l| l.trim().strip_prefix("<span class=\"caption\">"))
            .map(|c| c.trim_end_matches("</span>").to_string());
        listings.push(Listing {
            line: opened + 1,
            caption,
            includes,
        });
    }
    listings
}

/// The file an `{{#include ../../crates/x/src/y.rs:anchor}}` line takes, as a path
/// from the workspace root (`crates/x/src/y.rs`); `None` for anything else.
fn included_file(line: &str) -> Option<String> {
    let args = line.strip_prefix("{{#include")?.trim_start();
    let path = args.split([':', '}', ' ']).next()?;
    let from_root = path.trim_start_matches("../");
    Some(from_root.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(pages: &[(&str, &str)]) -> Vec<String> {
        let pages: Vec<(&Path, &str)> = pages.iter().map(|(p, t)| (Path::new(*p), *t)).collect();
        check(&pages)
            .into_iter()
            .map(|(page, line, message)| format!("{page}:{line}: {message}"))
            .collect()
    }

    const LISTING: &str = "```rust,ignore\n{{#include ../../crates/a/src/b.rs:x}}\n```\n";

    fn captioned(n: &str) -> String {
        format!(
            "{LISTING}\n<span class=\"caption\">Listing {n}: <code>crates/a/src/b.rs</code>, x</span>\n"
        )
    }

    #[test]
    fn numbers_run_through_a_chapters_pages_in_reading_order() {
        let ok = problems(&[
            ("docs/src/ch05-01-a.md", &captioned("5-2")),
            ("docs/src/ch05-futures.md", &captioned("5-1")),
            (
                "docs/src/ch05-02-b.md",
                &format!("{}{}", captioned("5-3"), captioned("5-4")),
            ),
            ("docs/src/ch06-x.md", &captioned("6-1")),
            ("docs/src/introduction.md", LISTING),
        ]);
        assert_eq!(ok, Vec::<String>::new());
    }

    #[test]
    fn a_missing_caption_a_wrong_number_and_an_unnamed_file_are_reported() {
        let found = problems(&[
            ("docs/src/ch05-futures.md", LISTING),
            ("docs/src/ch05-01-a.md", &captioned("5-3")),
            (
                "docs/src/ch05-02-b.md",
                &format!("{LISTING}<span class=\"caption\">Listing 5-3: elsewhere</span>\n"),
            ),
        ]);
        assert_eq!(found.len(), 3, "{found:#?}");
        assert!(found[0].starts_with("ch05-futures.md:1: this Rust listing has no caption"));
        assert!(found[0].contains("Listing 5-1"), "{}", found[0]);
        assert!(found[1].contains("is Listing 5-2"), "{}", found[1]);
        assert!(found[1].contains("says `Listing 5-3`"), "{}", found[1]);
        assert!(found[2].contains("does not name the file it shows, `crates/a/src/b.rs`"));
    }

    #[test]
    fn other_code_blocks_take_no_number() {
        let text = format!(
            "```sh\ncargo run\n```\n\n```text\nout\n```\n{}",
            captioned("1-1")
        );
        assert_eq!(
            problems(&[("docs/src/ch01-procs.md", &text)]),
            Vec::<String>::new()
        );
    }
}
