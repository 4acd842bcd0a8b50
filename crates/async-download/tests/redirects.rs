//! Redirects, on every engine: a chain across two servers (other port) through all five
//! statuses and every form of `Location`; a loop and a chain too long, each one failed
//! URL with its reason; the document saved under the name of the URL asked for, and
//! where it ended up in the report and the journal.

mod support;

use std::io::Write;
use std::net::TcpStream;

use async_download::cli::Cli;
use async_download::feed::Feed;
use async_download::{EngineKind, Options, Target, download_with};
use sockets::url::Url;

use support::{TempDir, TinyServer, fast_options};

fn answer(stream: &mut TcpStream, status: u16, location: Option<&str>, body: &str) {
    let location = location
        .map(|l| format!("Location: {l}\r\n"))
        .unwrap_or_default();
    let head = format!(
        "HTTP/1.1 {status} Whatever\r\n{location}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body.as_bytes());
}

/// The server the chains end on: `/c` sends to `d` (relative), `/d` to `?q`, `/d?q` to
/// the first server (`//host:port/...`, no scheme), which answers; anything else 404.
fn far_server(near: std::net::SocketAddr) -> TinyServer {
    TinyServer::start(move |target, stream| match target {
        "/c" => answer(stream, 303, Some("d"), "see other"),
        "/d" => answer(stream, 307, Some("?q"), ""),
        "/d?q" => answer(stream, 308, Some(&format!("//{near}/final")), ""),
        _ => answer(stream, 404, None, "not here"),
    })
}

/// The server the chains start on. The far server's address is only known once it
/// runs, so it is read from a slot the test fills.
fn near_server(far: std::sync::Arc<std::sync::OnceLock<std::net::SocketAddr>>) -> TinyServer {
    TinyServer::start(move |target, stream| {
        let far = far.get().copied();
        match target {
            "/a" => answer(stream, 301, Some("/b"), "moved"),
            "/b" => {
                let far = far.expect("the far server's address");
                answer(stream, 302, Some(&format!("http://{far}/c")), "")
            }
            "/final" => answer(stream, 200, None, "the document"),
            "/loop1" => answer(stream, 302, Some("loop2"), ""),
            "/loop2" => answer(stream, 302, Some("/loop1"), ""),
            "/self" => answer(stream, 301, Some("#here"), ""),
            "/bare" => answer(stream, 301, None, ""),
            "/ftp" => answer(stream, 301, Some("ftp://example.com/"), ""),
            other => match other
                .strip_prefix("/chain/")
                .and_then(|n| n.parse::<u32>().ok())
            {
                Some(n) => answer(stream, 302, Some(&format!("/chain/{}", n + 1)), ""),
                None => answer(stream, 404, None, "not here"),
            },
        }
    })
}

struct Servers {
    near: TinyServer,
    far: TinyServer,
}

fn servers() -> Servers {
    let slot = std::sync::Arc::new(std::sync::OnceLock::new());
    let near = near_server(slot.clone());
    let far = far_server(near.addr());
    slot.set(far.addr()).unwrap();
    Servers { near, far }
}

fn url(server: &TinyServer, path: &str) -> Url {
    Url::parse(&format!("http://{}{path}", server.addr())).unwrap()
}

fn feed(urls: Vec<Url>) -> Feed {
    support::feed_of(urls)
}

fn options(out: Option<&std::path::Path>, max_redirects: u32) -> Options {
    Options {
        max_redirects,
        ..fast_options(2, out)
    }
}

#[test]
fn a_chain_through_all_five_statuses_and_two_servers_is_followed_on_every_engine() {
    for kind in EngineKind::ALL {
        let servers = servers();
        let out = TempDir::new("redirect-chain");
        let asked = url(&servers.near, "/a");
        let report = download_with(
            kind,
            feed(vec![asked.clone()]),
            options(Some(out.path()), 10),
        )
        .expect("a run");
        assert_eq!((report.ok, report.failed), (1, 0), "{kind:?}: {report:?}");
        assert_eq!(report.retried, 0, "{kind:?}");
        // The document is saved under the name of the URL asked for.
        let name = Target::from_url(asked.clone()).name().to_string();
        assert_eq!(
            std::fs::read(out.join(&name)).unwrap(),
            b"the document",
            "{kind:?}"
        );
        let landed = url(&servers.near, "/final");
        assert_eq!(report.redirected.len(), 1, "{kind:?}");
        assert_eq!(report.redirected[0].url, asked.to_string());
        assert_eq!(report.redirected[0].landed, landed.to_string());
        let journal = std::fs::read_to_string(out.join(".journal")).unwrap();
        assert!(
            journal.contains(&format!("\nlanded {landed} {name}\n")),
            "{kind:?}: {journal}"
        );
        assert_eq!(support::journal_names(out.path()), [name]);
        // Each hop was asked for once, with the right Host, on the right server.
        assert_eq!(servers.near.targets(), ["/a", "/b", "/final"], "{kind:?}");
        assert_eq!(servers.far.targets(), ["/c", "/d", "/d?q"], "{kind:?}");
        let far_host = format!("Host: {}\r\n", servers.far.addr());
        assert!(
            servers.far.heads().iter().all(|h| h.contains(&far_host)),
            "{kind:?}: {:?}",
            servers.far.heads()
        );
    }
}

#[test]
fn loops_and_long_chains_fail_as_one_url_each_with_the_reason_on_every_engine() {
    for kind in EngineKind::ALL {
        let servers = servers();
        let urls = ["/loop1", "/self", "/chain/0", "/bare", "/ftp"]
            .map(|p| url(&servers.near, p))
            .to_vec();
        let report = download_with(kind, feed(urls.clone()), options(None, 3)).expect("a run");
        assert_eq!((report.ok, report.failed), (0, 5), "{kind:?}: {report:?}");
        assert_eq!(report.retried, 0, "{kind:?}: a bad redirect is not retried");
        assert!(report.redirected.is_empty());
        let reason = |path: &str| {
            let asked = url(&servers.near, path).to_string();
            let failure = report
                .failures
                .iter()
                .find(|f| f.url == asked)
                .unwrap_or_else(|| panic!("{kind:?}: {asked} not in {:?}", report.failures));
            assert_eq!(failure.attempts, 1, "{kind:?}: {failure:?}");
            failure.reason.clone()
        };
        let looped = reason("/loop1");
        assert!(looped.starts_with("redirect loop"), "{kind:?}: {looped}");
        assert!(looped.contains("/loop1"), "{kind:?}: {looped}");
        assert!(reason("/self").starts_with("redirect loop"), "{kind:?}");
        assert_eq!(
            reason("/chain/0"),
            "more than 3 redirects (--max-redirects)",
            "{kind:?}"
        );
        assert!(
            reason("/bare").contains("no Location header"),
            "{kind:?}: {}",
            reason("/bare")
        );
        assert!(
            reason("/ftp").contains("ftp"),
            "{kind:?}: {}",
            reason("/ftp")
        );
        // The chain: the first request and three redirects followed, no more.
        let chain: Vec<String> = servers
            .near
            .targets()
            .into_iter()
            .filter(|t| t.starts_with("/chain/"))
            .collect();
        assert_eq!(
            chain,
            ["/chain/0", "/chain/1", "/chain/2", "/chain/3"],
            "{kind:?}"
        );
    }
}

#[test]
fn with_max_redirects_0_a_redirect_is_a_failure() {
    let servers = servers();
    let report = download_with(
        EngineKind::Tokio,
        feed(vec![url(&servers.near, "/a")]),
        options(None, 0),
    )
    .expect("a run");
    assert_eq!((report.ok, report.failed), (0, 1));
    assert_eq!(
        report.failures[0].reason,
        "more than 0 redirects (--max-redirects)"
    );
    assert_eq!(servers.near.targets(), ["/a"]);
}

#[test]
fn pipelined_requests_follow_their_redirects_too() {
    let servers = servers();
    let urls = vec![
        url(&servers.near, "/a"),
        url(&servers.near, "/final"),
        url(&servers.near, "/a"),
    ];
    let options = Options {
        pipeline: 4,
        ..options(None, 10)
    };
    let report = download_with(EngineKind::TokioMulti, feed(urls), options).expect("a run");
    assert_eq!((report.ok, report.failed), (3, 0), "{report:?}");
    assert_eq!(report.redirected.len(), 2);
}

#[test]
fn max_redirects_is_an_option_with_its_default() {
    let cli = Cli::parse_args(["async-download", "--urls", "x"]).unwrap();
    assert_eq!(cli.options().max_redirects, 10);
    let cli = Cli::parse_args(["async-download", "--urls", "x", "--max-redirects", "0"]).unwrap();
    assert_eq!(cli.options().max_redirects, 0);
    assert!(Cli::parse_args(["async-download", "--urls", "x", "--max-redirects", "-1"]).is_err());
    let help = <Cli as clap::CommandFactory>::command()
        .render_long_help()
        .to_string();
    assert!(help.contains("--max-redirects <N>"), "{help}");
    assert!(help.contains("[default: 10]"), "{help}");
}
