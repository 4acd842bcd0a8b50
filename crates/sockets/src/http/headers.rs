//! Header fields: the ordered `name: value` list of a message, and how one line of it
//! is read.
//!
//! [`Headers`] keeps the fields exactly as received, in order, duplicates included:
//! some fields may legitimately repeat (`Set-Cookie`), and for the ones that must not
//! (`Content-Length`) the parser needs to *see* the repetition to judge it. Names compare
//! case-insensitively (`content-length` is `Content-Length`), as RFC 9110 requires.
//!
//! One header line is `name ":" OWS value OWS` (RFC 9112, section 5):
//!
//! - the name is a *token*: letters, digits and ``!#$%&'*+-.^_`|~``, nothing else, and
//!   no space before the colon (a space there has been used to smuggle requests past
//!   proxies that read names differently, so RFC 9112 requires rejecting it);
//! - the spaces and tabs around the value ("optional whitespace") are not part of it;
//! - the value may hold visible ASCII, spaces, tabs and bytes above 0x7f, but no other
//!   control byte: a stray CR or NUL is refused, never passed on.
//!
//! A line that starts with a space or a tab continues the value of the field before it:
//! the obsolete *line folding* (`obs-fold`, RFC 9112 section 5.2) of old servers, which
//! broke long values over several lines. A server may refuse it in a request, and ours
//! does; a client must not refuse it in a response, but must replace each fold with a
//! space, so [`parse_continuation`] reads such a line and [`Headers`] glues it on.
//!
//! Bytes above 0x7f are "opaque" to HTTP (RFC 9110, section 5.5). They are kept as text:
//! UTF-8 when the value is valid UTF-8 (servers do send UTF-8 file names), otherwise one
//! character per byte (Latin-1), which loses nothing and never fails.

use super::error::HttpError;

/// The header fields of a message, in the order received.
///
/// Every name and value is kept in one string, one after the other, and each field is
/// where its name and its value end in it: a response of ten fields costs two
/// allocations that grow, not twenty strings. A downloader parses a response every
/// few microseconds, so this is a good part of its time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers {
    text: String,
    /// For each field: (end of its name, end of its value) in `text`. Its name starts
    /// where the previous field's value ended.
    fields: Vec<(usize, usize)>,
    /// A bit for each name, from its length and its first letter ([`name_bit`]): a
    /// lookup of a name whose bit no field has set (most lookups: a client asks for
    /// fields that servers rarely send) is answered without walking the fields.
    names: u64,
}

/// The bit of [`Headers::names`] for `name`: the same for the same name in any case.
fn name_bit(name: &[u8]) -> u64 {
    let first = name.first().map_or(0, u8::to_ascii_lowercase);
    1 << ((name.len() + usize::from(first)) % 64)
}

impl Headers {
    /// No fields.
    pub fn new() -> Headers {
        Headers::default()
    }

    /// The value of the first field called `name` (any case).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.get_all(name).next()
    }

    /// The values of every field called `name` (any case), in order.
    pub fn get_all<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a str> {
        // A field whose name has another length is passed over by its two ends alone,
        // before any byte is looked at; only a name of the right length is compared
        // (as bytes: a name is ASCII). A client looks fields up several times per
        // response, and nearly every field it passes has a name of another length.
        let name = name.as_bytes();
        let mut name_start = 0;
        let fields = match self.names & name_bit(name) {
            0 => &[][..],
            _ => &self.fields[..],
        };
        fields.iter().filter_map(move |&(name_end, value_end)| {
            let start = std::mem::replace(&mut name_start, value_end);
            if name_end - start != name.len() {
                return None;
            }
            let this = self.text.as_bytes().get(start..name_end)?;
            // Servers write names in their usual case (`Content-Length`), and callers
            // ask for them so: comparing the bytes as they are settles those at once,
            // and only a name in another case is compared letter by letter.
            match this == name || this.eq_ignore_ascii_case(name) {
                true => self.text.get(name_end..value_end),
                false => None,
            }
        })
    }

    /// Every `(name, value)`, in order, names as received.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            text: &self.text,
            start: 0,
            fields: self.fields.iter(),
        }
    }

    /// Adds a field at the end. No check is made: this is for building messages, and
    /// what the parsers push has been checked already.
    pub fn push(&mut self, name: impl AsRef<str>, value: impl AsRef<str>) {
        if self.fields.is_empty() {
            // Room for a usual head at once, rather than growing four or five times.
            self.text.reserve(256);
            self.fields.reserve(12);
        }
        self.text.push_str(name.as_ref());
        self.names |= name_bit(name.as_ref().as_bytes());
        let name_end = self.text.len();
        self.text.push_str(value.as_ref());
        self.fields.push((name_end, self.text.len()));
    }

    /// The number of fields (a repeated name counts each time).
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Whether a comma-separated list field holds `token` (any case), over all the
    /// fields called `name`: `contains_token("connection", "close")` is true for
    /// `Connection: Keep-Alive, Close`.
    pub fn contains_token(&self, name: &str, token: &str) -> bool {
        // As bytes: the list's separators and spaces are ASCII, and so is a token.
        for value in self.get_all(name) {
            for item in value.as_bytes().split(|&b| b == b',') {
                if trim_ows_bytes(item).eq_ignore_ascii_case(token.as_bytes()) {
                    return true;
                }
            }
        }
        false
    }
}

/// The fields of a head while it is read: what becomes its [`Headers`], kept as bytes
/// until the head is complete.
///
/// A value may hold bytes above 0x7f, so a field's text must be checked as UTF-8
/// before it is a `str`. Checking line by line cost more than all the rest of reading
/// a line (each check has a fixed cost, and a line is short), so the bytes are kept
/// as they are and the whole text is checked once, in [`finish`](Self::finish). Only
/// a value with bytes above 0x7f is looked at on the way: kept if it is UTF-8,
/// otherwise read as Latin-1 (one character per byte), which makes it UTF-8.
#[derive(Debug, Default)]
pub(crate) struct HeadFields {
    text: Vec<u8>,
    /// As in [`Headers`]: (end of the name, end of the value) in `text`.
    fields: Vec<(usize, usize)>,
}

impl HeadFields {
    /// Adds a field as [`parse_field_line`] gives it.
    pub fn push(&mut self, field: &FieldLine<'_>) {
        if self.fields.is_empty() {
            // Room for a usual head at once, rather than growing four or five times.
            self.text.reserve(256);
            self.fields.reserve(12);
        }
        self.text.extend_from_slice(field.name);
        let name_end = self.text.len();
        match field.ascii {
            true => self.text.extend_from_slice(field.value),
            false => push_as_utf8(&mut self.text, field.value),
        }
        self.fields.push((name_end, self.text.len()));
    }

    /// The name of the last field, if any.
    pub fn last_name(&self) -> Option<&[u8]> {
        let &(name_end, _) = self.fields.last()?;
        // A name starts where the previous field's value ended.
        let start = match self.fields.len() {
            0 | 1 => 0,
            n => self.fields[n - 2].1,
        };
        Some(&self.text[start..name_end])
    }

    /// Appends `more` to the value of the last field, after one space: how an obs-fold
    /// is undone (RFC 9112, section 5.2). Nothing is added for an empty `more`, and no
    /// space before it when the value was empty, so the value stays trimmed.
    pub fn extend_last_value(&mut self, more: &[u8]) {
        let Some(last) = self.fields.last_mut() else {
            return;
        };
        if more.is_empty() {
            return;
        }
        // The last field's value is the end of `text`: appending extends exactly it.
        if last.1 > last.0 {
            self.text.push(b' ');
        }
        push_as_utf8(&mut self.text, more);
        last.1 = self.text.len();
    }

    /// The fields as [`Headers`], checked as UTF-8 once, all together; the buffer is
    /// left empty.
    pub fn finish(&mut self) -> Headers {
        let text = std::mem::take(&mut self.text);
        let fields = std::mem::take(&mut self.fields);
        match String::from_utf8(text) {
            Ok(text) => {
                let mut names = 0;
                let mut name_start = 0;
                for &(name_end, value_end) in &fields {
                    names |= name_bit(&text.as_bytes()[name_start..name_end]);
                    name_start = value_end;
                }
                Headers {
                    text,
                    fields,
                    names,
                }
            }
            // Cannot happen: names are ASCII and `push_as_utf8` made each value UTF-8.
            // Were it to, each field is decoded alone (never a panic on input).
            Err(error) => {
                let text = error.into_bytes();
                let mut headers = Headers::new();
                let mut start = 0;
                for (name_end, value_end) in fields {
                    let name = decode_text(&text[start..name_end]);
                    headers.push(name, decode_text(&text[name_end..value_end]));
                    start = value_end;
                }
                headers
            }
        }
    }
}

/// Appends `bytes` of a value to `text` as UTF-8: ASCII and UTF-8 as they are, any
/// other bytes as Latin-1.
fn push_as_utf8(text: &mut Vec<u8>, bytes: &[u8]) {
    if bytes.is_ascii() || std::str::from_utf8(bytes).is_ok() {
        text.extend_from_slice(bytes);
    } else {
        text.extend_from_slice(decode_text(bytes).as_bytes());
    }
}

impl<'a> IntoIterator for &'a Headers {
    type Item = (&'a str, &'a str);
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

/// The fields of [`Headers`] in order, from [`Headers::iter`].
#[derive(Debug, Clone)]
pub struct Iter<'a> {
    text: &'a str,
    /// Where the next field's name starts.
    start: usize,
    fields: std::slice::Iter<'a, (usize, usize)>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<(&'a str, &'a str)> {
        let &(name_end, value_end) = self.fields.next()?;
        let name = &self.text[self.start..name_end];
        let value = &self.text[name_end..value_end];
        self.start = value_end;
        Some((name, value))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.fields.size_hint()
    }
}

impl ExactSizeIterator for Iter<'_> {}

/// `tchar` (RFC 9110, section 5.6.2): the bytes a token (a method, a header name) is
/// made of.
pub(crate) fn is_tchar(b: u8) -> bool {
    TCHAR[usize::from(b)]
}

/// [`is_tchar`] for every byte, worked out once when compiling: a header name is
/// checked a byte at a time, and a table answers in one look.
const TCHAR: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'!' | b'#'
                    | b'$'
                    | b'%'
                    | b'&'
                    | b'\''
                    | b'*'
                    | b'+'
                    | b'-'
                    | b'.'
                    | b'^'
                    | b'_'
                    | b'`'
                    | b'|'
                    | b'~'
            );
        b += 1;
    }
    table
};

/// Bytes allowed in a header value or a reason phrase: tab, space, visible ASCII, and
/// `obs-text` (0x80 to 0xff). Everything else is a control byte.
pub(crate) const fn is_text_byte(b: u8) -> bool {
    b == b'\t' || (b >= b' ' && b != 0x7f)
}

/// What [`scan_value`] found: a byte [`is_text_byte`] refuses...
pub(crate) const CONTROL: u8 = 1;
/// ...and a byte above 0x7f (then the value may not be UTF-8).
pub(crate) const HIGH: u8 = 2;

/// [`CONTROL`] and [`HIGH`] for every byte, worked out when compiling (as [`TCHAR`]).
const CLASS: [u8; 256] = {
    let mut table = [0; 256];
    let mut b = 0;
    while b < 256 {
        if !is_text_byte(b as u8) {
            table[b] = CONTROL;
        } else if b >= 0x80 {
            table[b] = HIGH;
        }
        b += 1;
    }
    table
};

/// What the bytes of a value hold, in one pass: [`CONTROL`] if any is a control byte,
/// [`HIGH`] if any is above 0x7f, both or neither.
///
/// Nearly every value is clean ASCII, so the bytes are looked up in a table with no
/// early exit: a loop with no branch per byte, about half the instructions of one
/// that stops at the first bad byte. Only a value that holds a bad byte is walked
/// again, to find it ([`find_control_byte`]).
pub(crate) fn scan_value(bytes: &[u8]) -> u8 {
    bytes
        .iter()
        .fold(0, |seen, &b| seen | CLASS[usize::from(b)])
}

/// Where the first byte that [`is_text_byte`] refuses is in `bytes`, if anywhere.
pub(crate) fn find_control_byte(bytes: &[u8]) -> Option<usize> {
    if scan_value(bytes) & CONTROL == 0 {
        return None;
    }
    bytes.iter().position(|&b| !is_text_byte(b))
}

/// Optional whitespace: spaces and tabs.
pub(crate) fn is_ows(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// `bytes` without the spaces and tabs at either end.
fn trim_ows_bytes(bytes: &[u8]) -> &[u8] {
    &bytes[ows_trimmed(bytes)]
}

/// Where `bytes` are once the spaces and tabs at either end are left out.
fn ows_trimmed(bytes: &[u8]) -> std::ops::Range<usize> {
    let start = bytes
        .iter()
        .position(|&b| !is_ows(b))
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|&b| !is_ows(b))
        .map_or(start, |i| i + 1);
    start..end
}

pub(crate) fn trim_ows(s: &str) -> &str {
    s.trim_matches([' ', '\t'])
}

/// Bytes of a value as text: UTF-8 if they are, else one `char` per byte (Latin-1).
pub(crate) fn decode_text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_string(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

/// One parsed header line, borrowed from the line it was read from: a name of token
/// bytes (ASCII), and a value of text bytes, trimmed, as received (see [`HeadFields`]
/// for how it becomes text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldLine<'a> {
    pub name: &'a [u8],
    pub value: &'a [u8],
    /// Where the value starts in the message, for errors about it (Content-Length...).
    pub value_offset: usize,
    /// Whether the value is ASCII (nearly always): then it is UTF-8 already.
    pub ascii: bool,
}

// ANCHOR: parse_field_name
/// Parses `name: value` (`line` without its line ending; `offset` is where it starts).
pub(crate) fn parse_field_line(line: &[u8], offset: usize) -> Result<FieldLine<'_>, HttpError> {
    // The name runs up to the first byte that is not a token byte; a colon is not one,
    // so in a good line that byte is the colon. Anything else is an error, worked out
    // apart (`name_error`): a downloader reads a dozen lines per response, and this
    // function is shortest when it holds only the path of a good one.
    let name_len = line
        .iter()
        .position(|&b| !is_tchar(b))
        .unwrap_or(line.len());
    if name_len == 0 || line.get(name_len) != Some(&b':') {
        return Err(name_error(line, name_len, offset));
    }
    let name = &line[..name_len];
    // ANCHOR_END: parse_field_name

    // ANCHOR: parse_field_value
    let after_colon = name_len + 1;
    let raw = &line[after_colon..];
    let seen = scan_value(raw);
    if seen & CONTROL != 0 {
        return Err(value_error(name, raw, offset + after_colon));
    }
    let trimmed = ows_trimmed(raw);
    Ok(FieldLine {
        name,
        value_offset: offset + after_colon + trimmed.start,
        value: &raw[trimmed],
        ascii: seen & HIGH == 0,
    })
}
// ANCHOR_END: parse_field_value

// ANCHOR: name_error
/// Why a header line whose first `name_len` bytes are token bytes, not followed by a
/// colon (or none at all), is not `name: value`.
#[cold]
fn name_error(line: &[u8], name_len: usize, offset: usize) -> HttpError {
    let bad_line = |at: usize, reason: &str| HttpError::BadHeaderLine {
        offset: offset + at,
        reason: reason.to_string(),
    };
    if line.first().copied().is_some_and(is_ows) {
        return HttpError::ObsoleteLineFolding { offset };
    }
    // Which error depends on whether a colon comes later: only then was the start of
    // the line meant as a name.
    match memchr::memchr(b':', line) {
        None => bad_line(0, "no colon after the header name"),
        Some(0) => bad_line(0, "empty header name"),
        Some(_) if is_ows(line[name_len]) => {
            bad_line(name_len, "whitespace between the header name and the colon")
        }
        Some(_) => HttpError::InvalidHeaderName {
            offset: offset + name_len,
            byte: line[name_len],
        },
    }
}
// ANCHOR_END: name_error

/// The error for the value `raw` of the field `name` (starting at `offset`), which
/// holds a control byte.
#[cold]
fn value_error(name: &[u8], raw: &[u8], offset: usize) -> HttpError {
    let i = raw.iter().position(|&b| !is_text_byte(b)).unwrap_or(0);
    HttpError::InvalidHeaderValue {
        offset: offset + i,
        name: decode_text(name),
        byte: raw.get(i).copied().unwrap_or(0),
    }
}

/// Reads a continuation line (an `obs-fold`: `line` starts with a space or tab) of the
/// field called `name`: what it adds to the value, trimmed, with where that starts.
/// Its bytes follow the rules of a value, and an error names the field it continues.
pub(crate) fn parse_continuation<'a>(
    line: &'a [u8],
    offset: usize,
    name: &[u8],
) -> Result<(&'a [u8], usize), HttpError> {
    if let Some(i) = find_control_byte(line) {
        return Err(HttpError::InvalidHeaderValue {
            offset: offset + i,
            name: decode_text(name),
            byte: line[i],
        });
    }
    let trimmed = ows_trimmed(line);
    Ok((&line[trimmed.clone()], offset + trimmed.start))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(line: &str) -> Result<(String, String, usize), HttpError> {
        parse_field_line(line.as_bytes(), 100)
            .map(|f| (decode_text(f.name), decode_text(f.value), f.value_offset))
    }

    #[test]
    fn ows_is_trimmed_inner_spaces_kept() {
        assert_eq!(
            field("Name: value").unwrap(),
            ("Name".into(), "value".into(), 106)
        );
        assert_eq!(field("Name:value").unwrap().1, "value");
        assert_eq!(field("Name: \t a b \t ").unwrap().1, "a b");
        assert_eq!(field("Name:").unwrap(), ("Name".into(), String::new(), 105));
        assert_eq!(field("Name:   ").unwrap().1, "");
    }

    #[test]
    fn names_are_tokens() {
        assert_eq!(
            field("X-Odd!#$%&'*+.^_`|~: 1").unwrap().0,
            "X-Odd!#$%&'*+.^_`|~"
        );
        assert_eq!(
            field("Na(me: v"),
            Err(HttpError::InvalidHeaderName {
                offset: 102,
                byte: b'('
            })
        );
        assert_eq!(
            field("Name\0: v"),
            Err(HttpError::InvalidHeaderName {
                offset: 104,
                byte: 0
            })
        );
    }

    #[test]
    fn malformed_lines() {
        assert!(matches!(
            field("Name value"),
            Err(HttpError::BadHeaderLine { offset: 100, .. })
        ));
        assert!(matches!(
            field(": value"),
            Err(HttpError::BadHeaderLine { offset: 100, .. })
        ));
        assert!(matches!(
            field("Name : v"),
            Err(HttpError::BadHeaderLine { offset: 104, .. })
        ));
        assert_eq!(
            field(" folded"),
            Err(HttpError::ObsoleteLineFolding { offset: 100 })
        );
        assert_eq!(
            field("\tfolded"),
            Err(HttpError::ObsoleteLineFolding { offset: 100 })
        );
    }

    #[test]
    fn control_bytes_in_values_are_refused() {
        for (line, at, byte) in [
            ("A: x\ry", 104, b'\r'),
            ("A: \0", 103, 0),
            ("A: a\x7f", 104, 0x7f),
        ] {
            assert_eq!(
                field(line),
                Err(HttpError::InvalidHeaderValue {
                    offset: at,
                    name: "A".into(),
                    byte
                })
            );
        }
    }

    #[test]
    fn text_bytes_are_tab_visible_ascii_space_and_obs_text() {
        for b in 0..=255u8 {
            let rfc = b == b'\t' || (0x20..=0x7e).contains(&b) || b >= 0x80;
            assert_eq!(is_text_byte(b), rfc, "byte {b:#04x}");
        }
    }

    #[test]
    fn the_first_control_byte_is_found_wherever_it_is() {
        // Long enough that a wide check covers several blocks and a tail.
        let clean: Vec<u8> = (0..100).map(|i| b"ab \t\xe9~"[i % 6]).collect();
        assert_eq!(find_control_byte(&clean), None);
        assert_eq!(find_control_byte(b""), None);
        for at in 0..clean.len() {
            for bad in [0u8, b'\r', b'\n', 0x1f, 0x7f] {
                let mut line = clean.clone();
                line[at] = bad;
                // A second bad byte after the first does not change the answer.
                if at + 1 < line.len() {
                    line[at + 1] = 0;
                }
                assert_eq!(find_control_byte(&line), Some(at), "{bad:#04x} at {at}");
            }
        }
    }

    #[test]
    fn a_bad_name_byte_is_an_error_about_the_name_only_if_a_colon_follows() {
        // No colon at all: not a header line, whatever the bytes before.
        for line in ["Na(me value", "A b c", "Name\0value"] {
            assert!(
                matches!(
                    field(line),
                    Err(HttpError::BadHeaderLine { offset: 100, .. })
                ),
                "{line:?}: {:?}",
                field(line)
            );
        }
        // A colon later: the first byte that is not a token byte is named.
        assert_eq!(
            field("Na(m)e: v"),
            Err(HttpError::InvalidHeaderName {
                offset: 102,
                byte: b'('
            })
        );
    }

    #[test]
    fn opaque_bytes_are_kept() {
        assert_eq!(field("A: café").unwrap().1, "café");
        assert!(parse_field_line(b"A: plain", 0).unwrap().ascii);
        assert!(!parse_field_line("A: café".as_bytes(), 0).unwrap().ascii);
        let latin1 = parse_field_line(b"A: caf\xe9", 0).unwrap();
        assert_eq!(latin1.value, b"caf\xe9");
        // The head's fields become text once: UTF-8 kept, anything else as Latin-1.
        let mut fields = HeadFields::default();
        assert!(!latin1.ascii);
        fields.push(&latin1);
        fields.push(&parse_field_line("B: café".as_bytes(), 0).unwrap());
        fields.push(&parse_field_line(b"C: plain", 0).unwrap());
        fields.extend_last_value(b"\xff");
        let headers = fields.finish();
        let all: Vec<(&str, &str)> = headers.iter().collect();
        assert_eq!(
            all,
            [("A", "caf\u{e9}"), ("B", "café"), ("C", "plain \u{ff}")]
        );
        // The buffer is empty again, ready for the next head.
        assert!(fields.finish().is_empty());
    }

    #[test]
    fn continuation_lines() {
        let (more, at) = parse_continuation(b" \t more text \t", 50, b"A").unwrap();
        assert_eq!((more, at), (&b"more text"[..], 53));
        let (more, at) = parse_continuation(b"   ", 50, b"A").unwrap();
        assert_eq!((more, at), (&b""[..], 53));
        assert_eq!(
            parse_continuation(b" a\0", 50, b"A"),
            Err(HttpError::InvalidHeaderValue {
                offset: 52,
                name: "A".into(),
                byte: 0
            })
        );
    }

    #[test]
    fn extending_the_last_value() {
        let mut h = HeadFields::default();
        h.extend_last_value(b"nothing to extend");
        assert_eq!(h.last_name(), None);
        assert!(h.finish().is_empty());
        h.push(&parse_field_line(b"A: one", 0).unwrap());
        assert_eq!(h.last_name(), Some(&b"A"[..]));
        h.push(&parse_field_line(b"B:", 0).unwrap());
        assert_eq!(h.last_name(), Some(&b"B"[..]));
        h.extend_last_value(b"two");
        h.extend_last_value(b"");
        h.extend_last_value(b"three");
        let h = h.finish();
        let fields: Vec<(&str, &str)> = h.iter().collect();
        assert_eq!(fields, [("A", "one"), ("B", "two three")]);
    }

    #[test]
    fn headers_lookup() {
        let mut h = Headers::new();
        assert!(h.is_empty());
        h.push("Set-Cookie", "a=1");
        h.push("Connection", "Keep-Alive, Close");
        h.push("set-cookie", "b=2");
        assert_eq!(h.len(), 3);
        assert_eq!(h.get("SET-COOKIE"), Some("a=1"));
        assert_eq!(h.get_all("Set-Cookie").collect::<Vec<_>>(), ["a=1", "b=2"]);
        assert_eq!(h.get("missing"), None);
        assert!(h.contains_token("connection", "close"));
        assert!(h.contains_token("Connection", "keep-alive"));
        assert!(!h.contains_token("Connection", "upgrade"));
        let names: Vec<&str> = (&h).into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["Set-Cookie", "Connection", "set-cookie"]);
        // Spaces and tabs around a token do not count; a longer token is another one.
        h.push("Connection", "\t upgrade \t, x-closed");
        assert!(h.contains_token("connection", "Upgrade"));
        assert!(!h.contains_token("connection", "closed"));
    }

    /// Every lookup, of every name in any case, finds what a plain walk over the fields
    /// finds: the bits that let a lookup skip the walk never hide a field. Names of the
    /// same length and first letter, of lengths 64 apart (the same bit), and names
    /// that differ only in case are all there; the fields are built, and parsed.
    #[test]
    fn a_lookup_finds_what_a_walk_finds() {
        let long = "x".repeat(70);
        let also_long = format!("X{}", "y".repeat(5));
        let fields = [
            ("Connection", "keep-alive"),
            ("X-Checksum", "abc"),
            ("cONTENT-lENGTH", "5"),
            ("Content-Lengths", "6"),
            ("Date", "today"),
            (long.as_str(), "long"),
            ("xxxxxx", "six"),
            ("Connection", "close"),
        ];
        let mut built = Headers::new();
        let mut raw = b"HTTP/1.1 200 OK\r\n".to_vec();
        for (name, value) in fields {
            built.push(name, value);
            raw.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
        raw.extend_from_slice(b"\r\n");
        let mut parser = crate::http::ResponseParser::new(
            crate::http::Method::Head,
            crate::http::Limits::default(),
        );
        let parsed = match parser.feed(&raw) {
            Ok(crate::http::Parsed::Done { message, .. }) => message.headers,
            other => panic!("{other:?}"),
        };
        assert_eq!(parsed, built);
        let mut asked: Vec<String> = fields.iter().map(|(name, _)| name.to_string()).collect();
        asked.extend(
            [
                "missing",
                "content-length",
                "CONTENT-LENGTHS",
                "date",
                "DATE",
            ]
            .map(String::from),
        );
        asked.extend(
            ["X", "", "connectioN", "x-checksum", "Retry-After", "xxxxxX"].map(String::from),
        );
        asked.extend([long.to_uppercase(), "x".repeat(6 + 64), also_long]);
        for headers in [&built, &parsed] {
            for name in &asked {
                let walked: Vec<&str> = headers
                    .iter()
                    .filter(|(n, _)| n.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v)
                    .collect();
                assert_eq!(headers.get_all(name).collect::<Vec<_>>(), walked, "{name}");
                assert_eq!(headers.get(name), walked.first().copied(), "{name}");
            }
        }
        assert!(parsed.contains_token("CONNECTION", "close"));
        assert!(parsed.contains_token("connection", "keep-alive"));
    }
}
