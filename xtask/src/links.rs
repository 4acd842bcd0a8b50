//! Links between the book's pages: every `[text](page.md#heading)` must lead somewhere.
//!
//! The chapters are split into section pages and cross-link a lot ("see [the journal]
//! (ch06-06-lost-outside.md#the-journal)"). mdBook renders a link to a page that does
//! not exist, or to a heading that was renamed or moved to another page, without a word;
//! the reader lands at the top of a page, or nowhere. So the docs check follows each
//! link to a Markdown page and, if it names a heading, looks for that heading's id there.

use std::collections::HashSet;
use std::path::Path;

/// Why each broken link of `text` (the page at `page`) is broken: `(line, message)`.
/// Links to other kinds of files and to the web are not followed.
pub fn check(page: &Path, text: &str) -> Vec<(usize, String)> {
    let dir = page.parent().unwrap_or(Path::new("."));
    let mut problems = Vec::new();
    for (line, target) in links(text) {
        let (file, fragment) = match target.split_once('#') {
            Some((file, fragment)) => (file, Some(fragment)),
            None => (target.as_str(), None),
        };
        if target.contains("://") || !(file.is_empty() || file.ends_with(".md")) {
            continue;
        }
        let linked = if file.is_empty() {
            text.to_string()
        } else {
            match std::fs::read_to_string(dir.join(file)) {
                Ok(linked) => linked,
                Err(_) => {
                    problems.push((line, format!("links to `{file}`, which does not exist")));
                    continue;
                }
            }
        };
        let Some(fragment) = fragment else { continue };
        if !heading_ids(&linked).contains(fragment) {
            let page = if file.is_empty() { "this page" } else { file };
            problems.push((
                line,
                format!("links to `#{fragment}`, but {page} has no heading with that id"),
            ));
        }
    }
    problems
}

/// Every `](target)` of the page outside code blocks, with its line.
fn links(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (i, line) in outside_code(text) {
        let mut rest = line;
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let Some(end) = after.find(')') else { break };
            let target = after[..end].trim();
            // `[text](target "title")`: the title is not part of the target.
            let target = target.split_whitespace().next().unwrap_or("");
            if !target.is_empty() {
                found.push((i + 1, target.to_string()));
            }
            rest = &after[end..];
        }
    }
    found
}

/// The lines of `text` that are not inside a fenced code block, with their index.
fn outside_code(text: &str) -> Vec<(usize, &str)> {
    let mut fence: Option<usize> = None;
    let mut lines = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let ticks = trimmed.bytes().take_while(|&b| b == b'`').count();
        match fence {
            None if ticks >= 3 => fence = Some(ticks),
            Some(open) if ticks >= open && trimmed[ticks..].trim().is_empty() => fence = None,
            Some(_) => {}
            None => lines.push((i, line)),
        }
    }
    lines
}

/// The ids mdBook gives the headings of a page: the heading's text in lower case,
/// spaces made `-`, every other character but letters, digits, `-` and `_` dropped.
fn heading_ids(text: &str) -> HashSet<String> {
    outside_code(text)
        .into_iter()
        .filter_map(|(_, line)| {
            let hashes = line.bytes().take_while(|&b| b == b'#').count();
            let title = line[hashes..].strip_prefix(' ')?;
            (1..=6).contains(&hashes).then(|| id_of(title))
        })
        .collect()
}

fn id_of(title: &str) -> String {
    title
        .trim()
        .chars()
        .filter_map(|c| match c {
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c.to_lowercase().next()?),
            c if c.is_whitespace() => Some('-'),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_mdbooks() {
        assert_eq!(
            id_of("Step 2: sleep in `poll(2)` until a socket is ready"),
            "step-2-sleep-in-poll2-until-a-socket-is-ready"
        );
        assert_eq!(
            id_of("/proc, and the trap in `stat`"),
            "proc-and-the-trap-in-stat"
        );
        let ids = heading_ids("# One\n```sh\n# not a heading\n```\n### Three `x`\n#nope\n");
        assert_eq!(
            ids,
            HashSet::from(["one".to_string(), "three-x".to_string()])
        );
    }

    #[test]
    fn broken_links_are_found_and_good_ones_pass() {
        let dir = std::env::temp_dir().join(format!("xtask-links-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("other.md"), "# Other\n\n## The journal\n").unwrap();
        let page = dir.join("page.md");
        let text = "# Page\n\
                    [ok](other.md#the-journal) and [ok](#page) and [web](https://x.org/a.md#b)\n\
                    [gone](missing.md)\n\
                    [moved](other.md#the-store \"title\")\n\
                    [here](#nowhere)\n\
                    ```md\n[in code](missing.md)\n```\n\
                    [a file](../../crates/procs/src/lib.rs)\n";
        let problems = check(&page, text);
        std::fs::remove_dir_all(&dir).unwrap();
        let lines: Vec<usize> = problems.iter().map(|(line, _)| *line).collect();
        assert_eq!(lines, [3, 4, 5], "{problems:?}");
        assert!(problems[0].1.contains("`missing.md`, which does not exist"));
        assert!(
            problems[1]
                .1
                .contains("`#the-store`, but other.md has no heading")
        );
        assert!(
            problems[2]
                .1
                .contains("`#nowhere`, but this page has no heading")
        );
    }
}
