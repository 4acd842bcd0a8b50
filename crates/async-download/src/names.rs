//! File names from URLs that can never leave the output folder, and never collide.
//!
//! A downloader writes a file for each URL it is given, and the URL list comes from
//! someone else. Map URLs to paths naively (`out/` + host + path) and
//! `http://evil/../../home/you/.bashrc` writes where it likes: `..`, an absolute path,
//! an encoded slash (`%2F`) that some layer decodes, a NUL byte that cuts the name
//! short, a name longer than the file system allows. Map them carelessly and two URLs
//! share a file (`/a?b` and `/a%3Fb`), so one document silently overwrites the other.
//!
//! ## The flat layout, and the encoding
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
//! An `https` URL's host folder starts with `https+` (`https+example.com_443`): the
//! encoding writes every `+` as `%2B`, so no `http` host's folder starts that way, and
//! `http://h:443/` and `https://h/` stay two documents.
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
//! ## The tree layout (the default)
//!
//! [`tree_name_for`] gives the names people expect from wget's `-x`: a folder per host
//! and one per path segment, `http://h:8080/a/b/c.txt` saved as `h_8080/a/b/c.txt`.
//! Each segment is written with the same encoding (a segment holds no `/`, so none
//! becomes a path of its own), and:
//!
//! - a path ending in `/` is saved as `index.html` in its folder (`/docs/` as
//!   `docs/index.html`);
//! - the query stays in the file's name, encoded like the rest (`/find?q=rust` as
//!   `find%3Fq%3Drust%`: no `?`, `&` or `*` for a shell to expand);
//! - **a file and a folder never share a name** (`/a` is a file, `/a/b` needs a folder
//!   `a`), whatever order the URLs come in, by a fixed rule: a folder's name never holds
//!   a `.` (each is written `%2E`: `/v1.2/x` is `v1%2E2/x`), and a file's name holds a
//!   `.` or ends in `%` — the mark added to a file whose name has no `.`
//!   (`/wiki/Rust` is `wiki/Rust%`, `/a` is `a%` next to the folder `a`). The mark is
//!   also added to a file whose name starts with `index.html`, so that `/d/index.html`
//!   (`d/index.html%`) and `/d/` (`d/index.html`) stay two files. No encoded text ends
//!   in a lone `%`, so the mark never makes two names one.
//! - A path of more than [`MAX_FOLDERS`] folders, or a name longer than
//!   [`MAX_TREE_NAME_BYTES`], keeps its flat name ([`name_for`]): its one component
//!   starts with `%2F`, as no tree component does.
//!
//! The flat layout (`--flat`) is [`name_for`]'s. [`Layout`] chooses.
//!
//! [`is_safe_name`] is the check the store applies to every name it is given, whoever
//! made it (the corpus names its documents `corpus/<id>`).

use sockets::corpus::checksum;
use sockets::url::{Scheme, Url};

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
    let mut name = String::with_capacity(url.host.len() + 16 + url.path.len() * 3);
    push_site(&mut name, url);
    name.push('/');
    // The whole path, its leading `/` included: dropping it would give `/x` and a
    // hand-built path `x` one name.
    push_component(&mut name, url.path.as_bytes());
    name
}
// ANCHOR_END: name_for

/// How names are laid out under the output folder.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Layout {
    /// A folder per host and one per path segment ([`tree_name_for`]): the default.
    #[default]
    Tree,
    /// A folder per host and the whole path and query as one file name ([`name_for`]):
    /// `--flat`.
    Flat,
}

impl Layout {
    /// The name of `url`'s document in this layout.
    pub fn name_for(self, url: &Url) -> String {
        match self {
            Layout::Tree => tree_name_for(url),
            Layout::Flat => name_for(url),
        }
    }
}

/// The most folders [`tree_name_for`] makes for a path (below the host's folder); a
/// deeper path is named as [`name_for`] names it.
pub const MAX_FOLDERS: usize = 32;

/// The longest name [`tree_name_for`] writes, in bytes; a longer one is named as
/// [`name_for`] names it. Linux allows 4095 bytes in a whole path, and the output
/// folder's own path comes before the name.
pub const MAX_TREE_NAME_BYTES: usize = 1024;

/// What a path ending in `/` is saved as, in its folder.
pub const INDEX_FILE: &str = "index.html";

// ANCHOR: tree_name_for
/// The relative path of `url`'s document in the tree layout: `<host>_<port>/`, a
/// folder per path segment, and a file, as the module explains.
///
/// ```
/// use async_download::names::tree_name_for;
/// use sockets::url::Url;
///
/// let name = |text| tree_name_for(&Url::parse(text).unwrap());
/// assert_eq!(name("http://h:8080/a/b/c.txt"), "h_8080/a/b/c.txt");
/// assert_eq!(name("http://h/docs/"), "h_80/docs/index.html");
/// assert_eq!(name("http://h/wiki/Rust"), "h_80/wiki/Rust%");
/// assert_eq!(name("http://h/v1.2/x.tar.gz"), "h_80/v1%2E2/x.tar.gz");
/// assert_eq!(name("http://h/find?q=rust"), "h_80/find%3Fq%3Drust%");
/// assert_eq!(name("http://evil/../../etc/passwd"), "evil_80/%2E%2E/%2E%2E/etc/passwd%");
/// ```
pub fn tree_name_for(url: &Url) -> String {
    let mut name = String::with_capacity(url.host.len() + 16 + url.path.len() * 3);
    push_site(&mut name, url);
    // A cut host (longer than any real one) would not end in `_<port>`, which the store
    // asks of a name deeper than two components: such a URL keeps its flat name.
    let site_whole = !name.contains('~');
    let Some(rest) = url.path.strip_prefix('/') else {
        // Only a hand-built `Url` has a path without a leading `/`. `~` starts no other
        // file name at this depth.
        name.push_str("/~");
        push_encoded(
            &mut name,
            url.path.as_bytes(),
            MAX_COMPONENT_BYTES - 1,
            false,
        );
        return name;
    };
    let (path, query) = match rest.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (rest, None),
    };
    // The last segment is the file (empty after a final `/`), the ones before it are
    // folders. Taken apart where they lie: no list of segments, and no copy of the
    // file's name unless a query joins it.
    let (folders, file) = match path.rsplit_once('/') {
        Some((folders, file)) => (Some(folders), file),
        None => (None, path),
    };
    let folder_count = folders.map_or(0, |f| f.bytes().filter(|&b| b == b'/').count() + 1);
    if !site_whole || folder_count > MAX_FOLDERS {
        return name_for(url);
    }
    for folder in folders.into_iter().flat_map(|folders| folders.split('/')) {
        name.push('/');
        push_encoded(&mut name, folder.as_bytes(), MAX_COMPONENT_BYTES, true);
    }
    with_file(name, file, query, url)
}
// ANCHOR_END: tree_name_for

/// `name`, a tree name up to the file's folder, with the file's component added: its
/// name (`index.html` for none) and the query, encoded, and the mark where it needs
/// one; or `url`'s flat name if the whole is too long.
fn with_file(mut name: String, file: &str, query: Option<&str>, url: &Url) -> String {
    name.push('/');
    let start = name.len();
    let shown = if file.is_empty() { INDEX_FILE } else { file };
    let joined;
    let text = match query {
        None => shown,
        Some(query) => {
            joined = [shown, "?", query].concat();
            joined.as_str()
        }
    };
    // One byte kept for the mark.
    push_encoded(&mut name, text.as_bytes(), MAX_COMPONENT_BYTES - 1, false);
    let encoded = &name[start..];
    if !file.is_empty() && (!encoded.contains('.') || encoded.starts_with(INDEX_FILE)) {
        // The mark: a file no folder's name can equal (folders have no `.`), and no
        // final `/`'s `index.html` either.
        name.push('%');
    }
    if name.len() > MAX_TREE_NAME_BYTES {
        return name_for(url);
    }
    name
}

// ANCHOR: is_safe_name
/// Whether `name` is safe to create under the output folder: a relative path of one or
/// two components — or of up to [`MAX_SAFE_COMPONENTS`] if the first is a host's
/// folder, ending in `_` and a port's digits — none of them empty, `.`, `..` or
/// starting with `.` (the store's own files do), none holding a NUL or another control
/// byte (a newline would break the journal's one-name-a-line format), none longer than
/// 255 bytes.
///
/// Every name [`name_for`] and [`tree_name_for`] return passes; the store refuses any
/// name that does not.
pub fn is_safe_name(name: &str) -> bool {
    // One pass over the bytes (`/` and every byte refused are ASCII, so no character is
    // cut): it runs twice for every document saved, the store's check and the journal's.
    let bytes = name.as_bytes();
    let mut count = 0;
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b.is_ascii_control() {
            return false;
        }
        if b == b'/' {
            count += 1;
            if count >= MAX_SAFE_COMPONENTS || !is_safe_component(&bytes[start..i]) {
                return false;
            }
            start = i + 1;
        }
    }
    let first = bytes.split(|&b| b == b'/').next().unwrap_or_default();
    is_safe_component(&bytes[start..]) && (count < 2 || is_site_folder(first))
}
// ANCHOR_END: is_safe_name

/// The most components [`is_safe_name`] accepts under a host's folder.
pub const MAX_SAFE_COMPONENTS: usize = 64;

/// Whether `component` is a host's folder, `<host>_<port>`: what a tree name starts with.
fn is_site_folder(component: &[u8]) -> bool {
    component.iter().rposition(|&b| b == b'_').is_some_and(|i| {
        let port = &component[i + 1..];
        !port.is_empty() && port.len() <= 5 && port.iter().all(u8::is_ascii_digit)
    })
}

/// One component of a safe name, its bytes checked already. An empty one is what
/// `/abs`, `a//b` and `a/` give.
fn is_safe_component(component: &[u8]) -> bool {
    !component.is_empty()
        && component.len() <= MAX_SAFE_COMPONENT_BYTES
        && !component.starts_with(b".")
}

/// Appends the host's folder of `url` to `out`: the host and port as one text,
/// `host_port` (the port is digits only, so the last `_` tells where the host ends, and
/// `(host, port)` can be read back from it), after `https+` for an `https` URL (a `+`
/// the encoding never writes).
fn push_site(out: &mut String, url: &Url) {
    if url.scheme == Scheme::Https {
        out.push_str(HTTPS_MARK);
    }
    // Put together on the stack: every saved document's name starts with it, and
    // `format!` cost more than the rest of the name.
    let mut room = [0u8; 300];
    let mut digits = [0u8; 20];
    let port = sockets::url::decimal(url.port.into(), &mut digits).as_bytes();
    let host = url.host.as_bytes();
    let len = host.len() + 1 + port.len();
    match room.get_mut(..len) {
        Some(site) => {
            site[..host.len()].copy_from_slice(host);
            site[host.len()] = b'_';
            site[host.len() + 1..].copy_from_slice(port);
            push_component(out, site);
        }
        // A host longer than any DNS name (253 bytes) is made the usual way.
        None => push_component(out, format!("{}_{}", url.host, url.port).as_bytes()),
    }
}

/// What starts the host folder of an `https` URL.
pub const HTTPS_MARK: &str = "https+";

/// Appends `raw`, encoded, to `out`; cut and hashed if the encoding is too long.
fn push_component(out: &mut String, raw: &[u8]) {
    push_encoded(out, raw, MAX_COMPONENT_BYTES, false);
}

/// Appends `raw`, encoded, to `out`: at most `limit` bytes (cut and hashed past it),
/// and with every `.` escaped too when `escape_dots` (a folder of the tree layout).
fn push_encoded(out: &mut String, raw: &[u8], limit: usize, escape_dots: bool) {
    if raw.is_empty() {
        // Only a hand-built `Url` has an empty path. An empty component is no file
        // name, so it is written as a lone `%`: every other `%` the encoder writes is
        // followed by two hex digits, so no other text gives this one.
        out.push('%');
        return;
    }
    let start = out.len();
    for (i, &byte) in raw.iter().enumerate() {
        if is_kept(byte) && !(byte == b'.' && (i == 0 || escape_dots)) {
            out.push(char::from(byte));
        } else {
            push_escape(out, byte);
        }
    }
    if out.len() - start > limit {
        let keep = cut_point(&out[start..], limit - HASH_SUFFIX_BYTES);
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
            scheme: Default::default(),
            host: host.to_string(),
            port,
            path: path.to_string(),
        }
    }

    /// `tree_name_for` as first written, with a list of the segments: names are kept in
    /// journals from one run to the next, so taking the path apart where it lies must
    /// give the very same names.
    fn tree_name_as_first_written(url: &Url) -> String {
        let mut name = String::new();
        push_site(&mut name, url);
        let site_whole = !name.contains('~');
        let rest = url.path.strip_prefix('/').expect("a path from /");
        let (path, query) = match rest.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (rest, None),
        };
        let mut segments: Vec<&str> = path.split('/').collect();
        let file = segments.pop().unwrap_or_default();
        if !site_whole || segments.len() > MAX_FOLDERS {
            return name_for(url);
        }
        for folder in segments {
            name.push('/');
            push_encoded(&mut name, folder.as_bytes(), MAX_COMPONENT_BYTES, true);
        }
        with_file(name, file, query, url)
    }

    #[test]
    fn tree_names_are_the_names_first_written() {
        let pieces = ["a", "/", "?", ".", "b.c", "", "index.html", "é", "%2F"];
        let mut paths = vec![];
        for a in pieces {
            for b in pieces {
                for c in pieces {
                    for d in pieces {
                        paths.push(format!("/{a}{b}{c}{d}"));
                    }
                }
            }
        }
        for n in [MAX_FOLDERS - 1, MAX_FOLDERS, MAX_FOLDERS + 1] {
            paths.push("/f".repeat(n) + "/x.txt");
            paths.push("/f".repeat(n) + "/");
        }
        paths.push(format!(
            "/{}/{}?{}",
            "d".repeat(300),
            "f".repeat(300),
            "q".repeat(300)
        ));
        for path in paths {
            for host in ["h", &"h".repeat(300)] {
                let url = url(host, 80, &path);
                assert_eq!(
                    tree_name_for(&url),
                    tree_name_as_first_written(&url),
                    "{path}"
                );
            }
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
    fn https_has_a_host_folder_of_its_own() {
        let secure = Url::parse_web("https://h/a.txt").unwrap();
        let plain = Url::parse_web("http://h:443/a.txt").unwrap();
        assert_eq!(tree_name_for(&secure), "https+h_443/a.txt");
        assert_eq!(tree_name_for(&plain), "h_443/a.txt");
        assert_eq!(name_for(&secure), "https+h_443/%2Fa.txt");
        assert!(is_safe_name(&tree_name_for(&secure)));
        // No http host writes a `+`: its folder can never look like an https one.
        let lookalike = Url::parse_web("http://https+h/a.txt");
        assert!(lookalike.is_err() || !tree_name_for(&lookalike.unwrap()).starts_with("https+"));
    }

    #[test]
    fn a_host_folder_is_the_host_and_port_encoded_whatever_their_lengths() {
        let long = "a".repeat(290);
        let longer = "b".repeat(400);
        for host in [
            "h",
            "example.com",
            ".h",
            "::1",
            long.as_str(),
            longer.as_str(),
        ] {
            for port in [0, 1, 9, 10, 80, 443, 8080, 65535] {
                let mut want = String::new();
                push_component(&mut want, format!("{host}_{port}").as_bytes());
                let mut got = String::new();
                push_site(&mut got, &url(host, port, "/"));
                assert_eq!(got, want, "{host}:{port}");
            }
        }
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
