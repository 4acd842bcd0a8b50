//! File names from URLs that can never leave the output folder, and never collide.
//!
//! A downloader writes a file for each URL it is given, and the URL list comes from
//! someone else. Map URLs to paths naively (`out/` + host + path) and
//! `http://evil/../../home/you/.bashrc` writes where it likes: `..`, an absolute path,
//! an encoded slash (`%2F`) that some layer decodes, a NUL byte that cuts the name
//! short, a name longer than the file system allows. Map them carelessly and two URLs
//! share a file (`/a?b` and `/a%3Fb`), so one document silently overwrites the other.
//!
//! [`name_for`] avoids both by *encoding*, never by cleaning up: a name is
//! `<host>_<port>/<path and query>`, each of the two components written with
//!
//! - every byte outside `[A-Za-z0-9_.-]` as `%XX` (`/` becomes `%2F`, `%` becomes
//!   `%25`, `~` becomes `%7E`), so no component holds a `/`, a NUL or a control byte;
//! - a leading `.` as `%2E`, so no component is `.`, `..`, or a hidden file — which
//!   also keeps names clear of the store's own files (`.journal`, `.tmp-...`);
//! - nothing ever decoded: `%2F` in a URL becomes `%252F` in its name;
//! - an empty text (only a hand-built `Url` has an empty path) as a lone `%`.
//!
//! Each byte has exactly one spelling and `%` only ever starts one, so the encoding can
//! be read back: two different URLs always get two different names. One exception,
//! made so that every name fits a file system (at most 255 bytes a component): a
//! component whose encoding is longer than [`MAX_COMPONENT_BYTES`] is cut, and ends in
//! `~` and 16 hex digits of a 64-bit hash of the whole text. `~` is encoded everywhere
//! else, so a cut name never equals an uncut one; two cut names are equal only if their
//! texts share a long prefix *and* a hash. That case is collision-free only as far as
//! the hash is: chance alone makes it vanishingly rare, but the hash (lesson 3's corpus
//! checksum, [`sockets::corpus::checksum`]) is not
//! cryptographic, and a URL list built on purpose could make two long URLs share a
//! name. Even then the name stays inside the output folder.
//!
//! [`is_safe_name`] is the check the store applies to every name it is given, whoever
//! made it (the corpus names its documents `corpus/<id>`).

use sockets::corpus::checksum;
use sockets::url::Url;

/// The longest component [`name_for`] writes, in bytes. Linux allows 255 (`NAME_MAX`);
/// staying well under leaves room for the store's `.tmp-...` names and for tools that
/// add a suffix of their own.
pub const MAX_COMPONENT_BYTES: usize = 200;

/// The longest component [`is_safe_name`] accepts: what Linux file systems allow.
pub const MAX_SAFE_COMPONENT_BYTES: usize = 255;

/// The length of the `~` and 16 hex digits that end a cut component.
const HASH_SUFFIX_BYTES: usize = 1 + 16;

// ANCHOR: name_for
/// The relative path, under the output folder, where the document of `url` is stored:
/// `<host>_<port>/<path and query>`, both encoded as the module explains.
///
/// ```
/// use async_download::names::name_for;
/// use sockets::url::Url;
///
/// let url = Url::parse("http://example.com/wiki/Caf%C3%A9?x=1").unwrap();
/// assert_eq!(name_for(&url), "example.com_80/%2Fwiki%2FCaf%25C3%25A9%3Fx%3D1");
///
/// let evil = Url::parse("http://evil:8080/../../etc/passwd").unwrap();
/// assert_eq!(name_for(&evil), "evil_8080/%2F..%2F..%2Fetc%2Fpasswd");
/// ```
pub fn name_for(url: &Url) -> String {
    // The host and port as one text, `host_port`: the port is digits only, so the last
    // `_` tells where the host ends, and `(host, port)` can be read back from it.
    let site = format!("{}_{}", url.host, url.port);
    let mut name = String::with_capacity(site.len() + 1 + url.path.len() * 3);
    push_component(&mut name, site.as_bytes());
    name.push('/');
    // The whole path, its leading `/` included: dropping it would give `/x` and a
    // hand-built path `x` one name.
    push_component(&mut name, url.path.as_bytes());
    name
}
// ANCHOR_END: name_for

// ANCHOR: is_safe_name
/// Whether `name` is safe to create under the output folder: a relative path of one or
/// two components, none of them empty, `.`, `..` or starting with `.` (the store's own
/// files do), none holding a NUL or another control byte (a newline would break the
/// journal's one-name-a-line format), none longer than 255 bytes.
///
/// Every name [`name_for`] returns passes; the store refuses any name that does not.
pub fn is_safe_name(name: &str) -> bool {
    let mut components = 0;
    for component in name.split('/') {
        components += 1;
        if components > 2 || !is_safe_component(component) {
            return false;
        }
    }
    true
}
// ANCHOR_END: is_safe_name

/// One component of a safe name. An empty one is what `/abs`, `a//b` and `a/` give.
fn is_safe_component(component: &str) -> bool {
    !component.is_empty()
        && component.len() <= MAX_SAFE_COMPONENT_BYTES
        && !component.starts_with('.')
        && !component.bytes().any(|b| b.is_ascii_control())
}

/// Appends `raw`, encoded, to `out`; cut and hashed if the encoding is too long.
fn push_component(out: &mut String, raw: &[u8]) {
    if raw.is_empty() {
        // Only a hand-built `Url` has an empty path. An empty component is no file
        // name, so it is written as a lone `%`: every other `%` the encoder writes is
        // followed by two hex digits, so no other text gives this one.
        out.push('%');
        return;
    }
    let start = out.len();
    for (i, &byte) in raw.iter().enumerate() {
        if is_kept(byte) && !(i == 0 && byte == b'.') {
            out.push(char::from(byte));
        } else {
            push_escape(out, byte);
        }
    }
    if out.len() - start > MAX_COMPONENT_BYTES {
        let keep = cut_point(&out[start..], MAX_COMPONENT_BYTES - HASH_SUFFIX_BYTES);
        out.truncate(start + keep);
        // Writing to a String cannot fail.
        // The corpus checksum: the same on every machine and every Rust version (the
        // standard library's hasher promises neither), which matters because names
        // are kept in the journal from one run to the next.
        out.push('~');
        out.push_str(&checksum(raw));
    }
}

/// The bytes written as themselves: letters, digits, `_`, `.` and `-`. Neither `%`
/// (it starts an escape) nor `~` (it starts a hash) is among them.
fn is_kept(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'.' | b'-')
}

/// Appends `%XX`, the byte in upper-case hex, as URLs write it.
fn push_escape(out: &mut String, byte: u8) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push('%');
    out.push(char::from(HEX[usize::from(byte >> 4)]));
    out.push(char::from(HEX[usize::from(byte & 0x0f)]));
}

/// The longest prefix of `encoded`, at most `limit` bytes, that does not end inside a
/// `%XX`: a cut escape would read as a different byte. (Any cut would be safe, since
/// the text is ASCII; this one is merely honest.)
fn cut_point(encoded: &str, limit: usize) -> usize {
    let bytes = encoded.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        let step = if bytes[at] == b'%' { 3 } else { 1 };
        if at + step > limit {
            break;
        }
        at += step;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(host: &str, port: u16, path: &str) -> Url {
        Url {
            host: host.to_string(),
            port,
            path: path.to_string(),
        }
    }

    #[test]
    fn an_ordinary_url_reads_plainly() {
        assert_eq!(
            name_for(&url("example.com", 80, "/a-b_c.txt")),
            "example.com_80/%2Fa-b_c.txt"
        );
        assert_eq!(name_for(&url("::1", 8080, "/")), "%3A%3A1_8080/%2F");
    }

    #[test]
    fn a_leading_dot_is_escaped_and_only_that_one() {
        assert_eq!(name_for(&url(".h", 1, "..")), "%2Eh_1/%2E.");
        assert_eq!(name_for(&url("", 0, "")), "_0/%");
    }

    #[test]
    fn a_long_component_is_cut_whole_escapes_and_ends_in_a_hash() {
        let path = format!("/{}", "%".repeat(300));
        let name = name_for(&url("h", 80, &path));
        let (_, file) = name.split_once('/').unwrap();
        assert!(file.len() <= MAX_COMPONENT_BYTES, "{}", file.len());
        let (prefix, hash) = file.split_once('~').unwrap();
        assert_eq!(hash.len(), 16);
        assert_eq!(prefix.len() % 3, 0, "no escape is cut in half: {prefix}");
        assert_eq!(hash, checksum(path.as_bytes()));
    }
}
