//! The book's pace: how long a page, and a listing in it, may be.
//!
//! A learner reads a page in one sitting and a listing in one look. The Rust Book builds
//! a program up in small listings, each explained before the next, and splits a chapter
//! into section pages; a 100-line function pasted into the prose, or a page that
//! scrolls for 2,500 lines, is read by nobody. So the docs check holds the book to two
//! limits, counted on the page as mdBook renders it (its includes expanded, since that
//! is what the reader sees):
//!
//! - a page renders to at most [`MAX_PAGE_LINES`] lines: a longer chapter is split into
//!   section pages, nested under it in `SUMMARY.md`;
//! - a Rust listing shows at most [`MAX_LISTING_LINES`] lines: a longer function is
//!   shown in parts (an anchor for each part) or by its core, the rest a link.
//!
//! This module only measures; `docs_check` expands the includes and reports.

/// The most lines a page may render to, its includes counted.
pub const MAX_PAGE_LINES: usize = 1_200;

/// The most lines a Rust listing may show (the lines mdBook hides not counted).
pub const MAX_LISTING_LINES: usize = 40;

/// One line of a page as rendered, with the line of the page's own source it comes
/// from (for an included line, the line of its include directive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedLine {
    pub source_line: usize,
    pub text: String,
}

/// What is too long in a rendered page: `(line of the page's source, message)`; the
/// line is `None` for the page as a whole.
pub fn check(lines: &[RenderedLine]) -> Vec<(Option<usize>, String)> {
    let mut problems = Vec::new();
    if lines.len() > MAX_PAGE_LINES {
        problems.push((
            None,
            format!(
                "this page renders to {} lines with its includes, over the {MAX_PAGE_LINES} \
                 a page may have: split it into section pages, nested under its chapter in \
                 SUMMARY.md",
                lines.len()
            ),
        ));
    }
    for listing in rust_listings(lines) {
        if listing.shown > MAX_LISTING_LINES {
            problems.push((
                Some(listing.opened_at),
                format!(
                    "this Rust listing shows {} lines, over the {MAX_LISTING_LINES} a listing \
                     may have: show the code in parts (an anchor for each) or its core, with \
                     the rest a link to the file",
                    listing.shown
                ),
            ));
        }
    }
    problems
}

/// A fenced Rust code block of a rendered page.
#[derive(Debug, PartialEq, Eq)]
struct Listing {
    /// The source line of its opening fence.
    opened_at: usize,
    /// The lines a reader sees (mdBook hides `# ` lines in Rust blocks).
    shown: usize,
}

/// Every fenced Rust block: opened by "```rust" (with or without attributes, such as
/// "```rust,ignore"), closed by the next fence of at least as many backticks.
fn rust_listings(lines: &[RenderedLine]) -> Vec<Listing> {
    let mut listings = Vec::new();
    // The open block: its fence's length in backticks, whether it is Rust, and so far.
    let mut open: Option<(usize, bool, Listing)> = None;
    for line in lines {
        let trimmed = line.text.trim_start();
        let ticks = trimmed.bytes().take_while(|&b| b == b'`').count();
        match &mut open {
            None if ticks >= 3 => {
                let info = trimmed[ticks..].trim();
                let rust = info.split([',', ' ']).next() == Some("rust");
                let listing = Listing {
                    opened_at: line.source_line,
                    shown: 0,
                };
                open = Some((ticks, rust, listing));
            }
            None => {}
            Some((fence, _, _)) if ticks >= *fence && trimmed[ticks..].trim().is_empty() => {
                if let Some((_, true, listing)) = open.take() {
                    listings.push(listing);
                }
            }
            Some((_, rust, listing)) if !*rust || !hidden_in_rust(trimmed) => {
                listing.shown += 1;
            }
            Some(_) => {}
        }
    }
    listings
}

/// mdBook hides a line of a Rust block that is `#` alone or starts with `# `.
fn hidden_in_rust(trimmed: &str) -> bool {
    trimmed == "#" || trimmed.starts_with("# ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(text: &str) -> Vec<RenderedLine> {
        text.lines()
            .enumerate()
            .map(|(i, text)| RenderedLine {
                source_line: i + 1,
                text: text.to_string(),
            })
            .collect()
    }

    fn listing(body_lines: usize, info: &str) -> String {
        let body: Vec<String> = (0..body_lines)
            .map(|i| format!("let x{i} = {i};"))
            .collect();
        format!("```{info}\n{}\n```\n", body.join("\n"))
    }

    #[test]
    fn a_short_page_with_short_listings_passes() {
        let text = format!("# Title\n\n{}\nprose\n", listing(MAX_LISTING_LINES, "rust"));
        assert_eq!(check(&page(&text)), []);
    }

    #[test]
    fn a_long_rust_listing_is_reported_at_its_fence() {
        let text = format!(
            "# Title\n\nprose\n{}",
            listing(MAX_LISTING_LINES + 1, "rust,ignore")
        );
        let problems = check(&page(&text));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].0, Some(4));
        assert!(
            problems[0].1.contains("shows 41 lines"),
            "{}",
            problems[0].1
        );
    }

    #[test]
    fn hidden_lines_and_other_languages_do_not_count() {
        // 41 lines, one of them hidden: 40 shown.
        let mut rust = listing(MAX_LISTING_LINES, "rust");
        rust = rust.replacen("```rust\n", "```rust\n# use std::io;\n", 1);
        let text = format!("{rust}{}", listing(100, "text"));
        assert_eq!(check(&page(&text)), []);
        // `#[derive]` is an attribute, not a hidden line.
        let shown =
            listing(MAX_LISTING_LINES, "rust").replacen("```rust\n", "```rust\n#[test]\n", 1);
        assert_eq!(check(&page(&shown)).len(), 1);
    }

    #[test]
    fn a_fence_closes_only_on_as_many_backticks() {
        // A four-backtick block may hold a three-backtick fence as text.
        let body: String = (0..50).map(|_| "```\n").collect();
        let text = format!("````rust\n{body}````\n");
        let problems = check(&page(&text));
        assert_eq!(problems.len(), 1);
        assert!(problems[0].1.contains("shows 50 lines"));
    }

    #[test]
    fn a_long_page_is_reported_as_a_whole() {
        let text = "line\n".repeat(MAX_PAGE_LINES + 1);
        let problems = check(&page(&text));
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].0, None);
        assert!(
            problems[0].1.contains("renders to 1201 lines"),
            "{}",
            problems[0].1
        );
        assert_eq!(check(&page(&"line\n".repeat(MAX_PAGE_LINES))), []);
    }

    #[test]
    fn an_included_listing_is_counted_where_it_is_included() {
        // Lines 2..=45 all come from one include on line 2 of the page.
        let mut lines = page("# Title");
        lines.push(RenderedLine {
            source_line: 2,
            text: "```rust".into(),
        });
        for i in 0..43 {
            lines.push(RenderedLine {
                source_line: 3,
                text: format!("let x{i} = 0;"),
            });
        }
        lines.push(RenderedLine {
            source_line: 4,
            text: "```".into(),
        });
        let problems = check(&lines);
        assert_eq!(problems, [(Some(2), problems[0].1.clone())]);
        assert!(problems[0].1.contains("shows 43 lines"));
    }
}
