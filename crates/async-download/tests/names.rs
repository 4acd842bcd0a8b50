//! The names of documents: whatever the URL, a name stays inside the output folder and
//! no two URLs share one.
//!
//! The strongest check of "never collide" is that a name can be read back: the test
//! below decodes every name it can (all but the cut, over-long ones) and gets the URL's
//! host, port and path again, so two different URLs cannot have given the same name.

use std::collections::HashSet;
use std::path::{Component, Path};

use async_download::names::{MAX_COMPONENT_BYTES, is_safe_name, name_for};
use proptest::prelude::*;
use sockets::url::Url;

fn url(host: &str, port: u16, path: &str) -> Url {
    Url {
        scheme: Default::default(),
        host: host.to_string(),
        port,
        path: path.to_string(),
    }
}

/// Everything a name must be: safe by the store's rule, exactly two components, each
/// short enough, and, joined to an output folder, lexically inside it.
fn check_contained(name: &str) {
    assert!(is_safe_name(name), "unsafe: {name:?}");
    assert_eq!(name.matches('/').count(), 1, "one `/`: {name:?}");
    for component in name.split('/') {
        assert!(component.len() <= MAX_COMPONENT_BYTES, "too long: {name:?}");
    }
    let dir = Path::new("/srv/out");
    let joined = dir.join(name);
    assert!(joined.starts_with(dir), "{joined:?} left {dir:?}");
    let rest: Vec<Component<'_>> = joined.strip_prefix(dir).unwrap().components().collect();
    assert_eq!(rest.len(), 2, "{name:?}");
    assert!(
        rest.iter().all(|c| matches!(c, Component::Normal(_))),
        "{name:?}"
    );
}

/// Reads a name back into `(host, port, path)`, as bytes; `None` for a cut name (it
/// holds a `~`) or for anything `name_for` could not have written.
fn decode(name: &str) -> Option<(Vec<u8>, u16, Vec<u8>)> {
    let (site, path) = name.split_once('/')?;
    let site = unescape(site)?;
    let path = unescape(path)?;
    // The port is digits only: the host is everything before the last `_`.
    let at = site.iter().rposition(|&b| b == b'_')?;
    let port = std::str::from_utf8(&site[at + 1..]).ok()?.parse().ok()?;
    Some((site[..at].to_vec(), port, path))
}

fn unescape(component: &str) -> Option<Vec<u8>> {
    if component == "%" {
        return Some(Vec::new()); // how an empty text is written
    }
    let bytes = component.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = component.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'~' => return None,
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Some(out)
}

fn round_trips(u: &Url) {
    let name = name_for(u);
    check_contained(&name);
    if let Some((host, port, path)) = decode(&name) {
        assert_eq!(host, u.host.as_bytes(), "{name:?}");
        assert_eq!(port, u.port, "{name:?}");
        assert_eq!(path, u.path.as_bytes(), "{name:?}");
    } else {
        assert!(
            name.contains('~'),
            "only a cut name cannot be read back: {name:?}"
        );
    }
}

#[test]
fn hostile_urls_from_the_parser_stay_inside_the_folder() {
    let long = format!("http://example.com/{}", "a/".repeat(4000));
    let hostile = [
        "http://example.com/../../etc/passwd",
        "http://example.com/%2F..%2F..%2Fetc%2Fpasswd",
        "http://example.com/..%2f..%2f",
        "http://example.com/%00",
        "http://example.com/a/./b/../../..",
        "http://example.com//",
        "http://example.com/?../../x",
        "http://example.com/.hidden",
        "http://example.com/~user/%7E",
        "http://..:8080/",
        "http://./",
        "http://[::1]:8080/x",
        "http://example.com/Café ünï 日本語",
        long.as_str(),
    ];
    for text in hostile {
        let u = Url::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        round_trips(&u);
    }
}

#[test]
fn hostile_urls_built_by_hand_stay_inside_the_folder() {
    // `Url::parse` refuses control characters; a `Url` built by hand may hold anything.
    let cases = [
        url("", 80, ""),
        url("", 80, "%"),
        url("..", 80, ".."),
        url(".", 0, "."),
        url("/", 80, "/"),
        url("/etc", 80, "/passwd"),
        url("a\0b", 80, "/x\0y"),
        url("h", 80, "\n\r\t\x7f"),
        url("évil", 65535, "日本"),
        url(&"h".repeat(10_000), 80, &"/".repeat(10_000)),
        url(&"%".repeat(300), 80, &"\0".repeat(300)),
    ];
    for u in &cases {
        round_trips(u);
    }
}

#[test]
fn what_a_name_looks_like() {
    let u = Url::parse("http://Example.com:8080/wiki/Caf%C3%A9?a=1&b").unwrap();
    assert_eq!(
        name_for(&u),
        "example.com_8080/%2Fwiki%2FCaf%25C3%25A9%3Fa%3D1%26b"
    );
    assert_eq!(name_for(&url("::1", 80, "/")), "%3A%3A1_80/%2F");
    assert_eq!(name_for(&url("..", 80, "..")), "%2E._80/%2E.");
}

#[test]
fn urls_that_naive_schemes_confuse_get_different_names() {
    let pairs = [
        (url("h", 80, "/a?b"), url("h", 80, "/a%3Fb")),
        (url("h", 80, "/a/b"), url("h", 80, "/a%2Fb")),
        (url("h", 80, "/a b"), url("h", 80, "/a%20b")),
        (url("h", 80, "/x"), url("h", 80, "x")),
        (url("a_1", 2, "/"), url("a", 12, "/")),
        (url("a_1", 2, "/"), url("a", 1, "_2/")),
        (url("h", 80, ".x"), url("h", 80, "%2Ex")),
        (url("h", 80, "/~"), url("h", 80, "/%7E")),
    ];
    for (a, b) in &pairs {
        assert_ne!(name_for(a), name_for(b), "{a:?} and {b:?}");
    }
}

#[test]
fn every_short_url_over_a_hostile_alphabet_has_its_own_name() {
    // All hosts and paths of up to 3 characters over an alphabet chosen to confuse an
    // encoder (separators, escapes, dots, the hash mark, a NUL, a non-ASCII letter).
    let alphabet = ['.', '/', '%', '_', '~', '\0', 'é', '2'];
    let mut texts = vec![String::new()];
    let mut last = vec![String::new()];
    for _ in 0..3 {
        last = last
            .iter()
            .flat_map(|t| alphabet.iter().map(move |c| format!("{t}{c}")))
            .collect();
        texts.extend(last.iter().cloned());
    }
    let mut names = HashSet::new();
    let mut count = 0;
    for host in &texts {
        for port in [1, 12] {
            for path in &texts {
                let name = name_for(&url(host, port, path));
                assert!(is_safe_name(&name), "{name:?}");
                assert!(names.insert(name), "collision at {host:?} {port} {path:?}");
                count += 1;
            }
        }
    }
    assert_eq!(names.len(), count);
}

#[test]
fn a_component_is_cut_only_past_the_limit() {
    // `/` is written `%2F`: a path of `/` and 197 letters encodes to exactly 200 bytes.
    let fits = name_for(&url("h", 80, &format!("/{}", "a".repeat(197))));
    assert!(!fits.contains('~'), "{fits}");
    assert_eq!(fits.len(), "h_80/".len() + MAX_COMPONENT_BYTES);
    let cut = name_for(&url("h", 80, &format!("/{}", "a".repeat(198))));
    assert!(cut.contains('~'), "{cut}");
    check_contained(&cut);
}

#[test]
fn long_urls_that_differ_anywhere_get_different_names() {
    let base = "x".repeat(10_000);
    let mut names = HashSet::new();
    for at in [0, 1, 5_000, 9_998, 9_999] {
        let mut path = base.clone().into_bytes();
        path[at] = b'y';
        let path = String::from_utf8(path).unwrap();
        assert!(
            names.insert(name_for(&url("h", 80, &path))),
            "differs at {at}"
        );
    }
    assert!(names.insert(name_for(&url("h", 80, &base))));
    // And a long host, too.
    assert!(names.insert(name_for(&url(&base, 80, &base))));
    assert!(names.insert(name_for(&url(&base, 81, &base))));
}

#[test]
fn names_do_not_change_between_versions() {
    // The journal keeps names from one run to the next: a different hash (or
    // encoding) in a later build would make a resumed run fetch everything again.
    let cut = name_for(&url("h", 80, &"z".repeat(300)));
    assert_eq!(&cut[..5], "h_80/");
    assert_eq!(&cut[cut.len() - 17..], "~ac843c14c857327c", "{cut}");
}

#[test]
fn is_safe_name_refuses_what_could_escape_or_clash() {
    for good in ["corpus/17", "h_80/%2F", "a", "a/b", "x-y_z.txt"] {
        assert!(is_safe_name(good), "{good:?}");
    }
    let long = "a".repeat(256);
    let bad = [
        "",
        "/",
        "/etc/passwd",
        "..",
        ".",
        "../x",
        "a/..",
        "a/.",
        "./a",
        "a//b",
        "a/",
        "a/b/c",
        ".journal",
        ".tmp-1-2",
        "a/.tmp-1-2",
        "a\0b",
        "a\nb",
        "a/b\r",
        long.as_str(),
    ];
    for name in bad {
        assert!(!is_safe_name(name), "{name:?}");
    }
    assert!(is_safe_name(&"a".repeat(255)));
}

/// `is_safe_name`'s rules as its documentation states them, written plainly (a split
/// per rule), to hold the fast one-pass check to.
fn safe_by_the_rules(name: &str) -> bool {
    let components: Vec<&str> = name.split('/').collect();
    let each_fine = components.iter().all(|c| {
        !c.is_empty()
            && c.len() <= 255
            && !c.starts_with('.')
            && !c.bytes().any(|b| b.is_ascii_control())
    });
    let site = components[0].rsplit_once('_').is_some_and(|(_, port)| {
        (1..=5).contains(&port.len()) && port.bytes().all(|b| b.is_ascii_digit())
    });
    each_fine && (components.len() <= 2 || (site && components.len() <= 64))
}

#[test]
fn is_safe_name_takes_deep_names_under_a_host_folder_only() {
    let deep = |n: usize| format!("h_80{}", "/a".repeat(n - 1));
    assert!(is_safe_name(&deep(3)));
    assert!(is_safe_name(&deep(64)));
    assert!(!is_safe_name(&deep(65)));
    for bad_site in ["h/a/b", "h_/a/b", "h_123456/a/b", "h_8x/a/b", "_8/a/b/.c"] {
        assert!(!is_safe_name(bad_site), "{bad_site:?}");
    }
    assert!(is_safe_name("_8/a/b"));
    assert!(!is_safe_name("h_80/a/b\x7f"));
}

/// Text that stresses the encoder: separators, escapes, dots, the hash mark, control
/// bytes and non-ASCII, in short strings so that near-misses are common.
fn hostile_text(max: usize) -> impl Strategy<Value = String> {
    let alphabet = vec![
        '.', '/', '%', '2', 'F', 'f', '_', '~', '\0', '\n', ':', '?', 'a', 'é', '日',
    ];
    prop::collection::vec(prop::sample::select(alphabet), 0..max)
        .prop_map(|v| v.into_iter().collect())
}

proptest! {
    #[test]
    fn is_safe_name_keeps_its_rules(
        parts in prop::collection::vec(
            prop::sample::select(
                ["a", "h_80", "_", "1", ".", "..", "/", "\0", "\x7f", "é", &"x".repeat(255)]
                    .map(String::from)
                    .to_vec(),
            ),
            0..80,
        )
    ) {
        let name: String = parts.concat();
        prop_assert_eq!(is_safe_name(&name), safe_by_the_rules(&name), "{:?}", name);
    }

    #[test]
    fn any_url_gets_a_safe_name_that_reads_back(
        host in any::<String>(), port in any::<u16>(), path in any::<String>()
    ) {
        round_trips(&url(&host, port, &path));
    }

    #[test]
    fn different_urls_get_different_names(
        a in (hostile_text(12), 0u16..3, hostile_text(12)),
        b in (hostile_text(12), 0u16..3, hostile_text(12)),
    ) {
        let (ua, ub) = (url(&a.0, a.1, &a.2), url(&b.0, b.1, &b.2));
        prop_assert_eq!(ua == ub, name_for(&ua) == name_for(&ub));
    }

    #[test]
    fn different_long_urls_get_different_names(
        prefix in hostile_text(8), a in hostile_text(8), b in hostile_text(8)
    ) {
        // A shared 1,000-byte stretch puts both past the limit with the same visible
        // prefix: only the hash tells them apart.
        let long = |tail: &str| format!("{prefix}{}{tail}", "p".repeat(1_000));
        let (ua, ub) = (url("h", 80, &long(&a)), url("h", 80, &long(&b)));
        prop_assert!(name_for(&ua).contains('~'));
        prop_assert_eq!(a == b, name_for(&ua) == name_for(&ub));
    }

    #[test]
    fn the_same_url_always_gets_the_same_name(host in hostile_text(20), path in hostile_text(300)) {
        let u = url(&host, 80, &path);
        prop_assert_eq!(name_for(&u), name_for(&u.clone()));
    }
}
