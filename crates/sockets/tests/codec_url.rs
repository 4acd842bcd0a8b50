//! URLs as a client meets them: generated ones parse to what they say and print back
//! the same; any string at all gives a URL or an error, never a panic.

use proptest::prelude::*;
use sockets::url::{Url, UrlError};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// A host as written in a URL, and as `Url::host` keeps it.
fn host() -> impl Strategy<Value = (String, String)> {
    prop_oneof![
        "[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?(\\.[a-z]{2,6}){0,2}".prop_map(|h| (h.clone(), h)),
        any::<[u8; 4]>().prop_map(|[a, b, c, d]| {
            let h = format!("{a}.{b}.{c}.{d}");
            (h.clone(), h)
        }),
        any::<[u16; 8]>().prop_map(|segments| {
            let address = std::net::Ipv6Addr::from(segments).to_string();
            (format!("[{address}]"), address)
        }),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn generated_urls_parse_to_their_parts(
        (written, host) in host(),
        port in prop::option::of(1u16..=65535),
        path in "(/[A-Za-z0-9._~%!$&'()*+,;=:@-]{0,12}){0,4}",
        query in prop::option::of("[A-Za-z0-9=&%/?-]{0,20}"),
        fragment in prop::option::of("[a-z]{0,8}"),
    ) {
        let mut url = format!("http://{written}");
        if let Some(port) = port {
            url += &format!(":{port}");
        }
        url += &path;
        if let Some(query) = &query {
            url += &format!("?{query}");
        }
        if let Some(fragment) = &fragment {
            url += &format!("#{fragment}");
        }
        let parsed = Url::parse(&url).map_err(|e| TestCaseError::fail(format!("{url}: {e}")))?;
        prop_assert_eq!(&parsed.host, &host);
        prop_assert_eq!(parsed.port, port.unwrap_or(80));
        let mut expected_path = if path.is_empty() { "/".to_string() } else { path.clone() };
        if let Some(query) = &query {
            expected_path += &format!("?{query}");
        }
        prop_assert_eq!(&parsed.path, &expected_path);
        prop_assert_eq!(parsed.socket_target(), (host.clone(), port.unwrap_or(80)));
        // Printed and parsed again: the same URL.
        let printed = parsed.to_string();
        prop_assert_eq!(Url::parse(&printed), Ok(parsed.clone()));
        // The Host header is the printed URL's authority.
        let authority = printed.trim_start_matches("http://");
        prop_assert!(authority.starts_with(&parsed.host_header()));
    }

    #[test]
    fn any_string_gives_a_url_or_an_error(s in "\\PC{0,40}|http://\\PC{0,40}") {
        match Url::parse(&s) {
            Ok(url) => {
                prop_assert!(url.path.starts_with('/'));
                prop_assert!(!url.host.is_empty());
                prop_assert!(url.port != 0);
                // What goes into a request line is visible ASCII only.
                prop_assert!(url.path.bytes().all(|b| b.is_ascii_graphic()), "{:?}", url.path);
            }
            Err(UrlError::InvalidCharacter { offset, found, .. }) => {
                prop_assert_eq!(s[offset..].chars().next(), Some(found));
            }
            Err(_) => {}
        }
    }
}

#[test]
fn the_lesson_urls() {
    let u = Url::parse("http://127.0.0.1:8080/wiki/42").unwrap();
    assert_eq!(
        (u.host.as_str(), u.port, u.path.as_str()),
        ("127.0.0.1", 8080, "/wiki/42")
    );
    assert_eq!(u.host_header(), "127.0.0.1:8080");
    let u = Url::parse("http://[::1]:8080/wiki/42?fault=drop").unwrap();
    assert_eq!(
        (u.host.as_str(), u.path.as_str()),
        ("::1", "/wiki/42?fault=drop")
    );
    assert_eq!(u.to_string(), "http://[::1]:8080/wiki/42?fault=drop");
    assert_eq!(
        Url::parse("https://en.wikipedia.org/wiki/Rust")
            .unwrap_err()
            .to_string(),
        "https is not supported in this lesson: no TLS (write the URL with http://)"
    );
    assert_eq!(
        Url::parse("http:///wiki").unwrap_err(),
        UrlError::MissingHost
    );
    assert!(matches!(
        Url::parse("http://localhost:80800/"),
        Err(UrlError::BadPort { offset: 17, .. })
    ));
}
