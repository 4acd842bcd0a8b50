//! Escaping text for XML: the JUnit report of `grade` and the book's SVG diagrams both
//! write text that may hold `<`, `&` or quotes.

/// Text content: the five special characters escaped, and the characters XML 1.0 does
/// not allow at all (control characters other than tab and newlines) dropped: a test's
/// output may contain anything, and one stray byte would make the whole file unreadable.
pub(crate) fn xml_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c.is_control() || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}

/// An attribute value: as text, and with line breaks and tabs as character references
/// (a parser would otherwise turn them into spaces).
pub(crate) fn xml_attr(text: &str) -> String {
    xml_text(text)
        .replace('\n', "&#10;")
        .replace('\r', "&#13;")
        .replace('\t', "&#9;")
}
