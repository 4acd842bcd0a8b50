//! The corpus's routes and status codes, and the head every reply carries.

mod common;

use std::time::Duration;

use common::{get_request, header, split};
use sockets::corpus::{
    Action, CHECKSUM_HEADER, FaultPlan, Reply, document, error_reply, respond, verify,
};
use sockets::http::{HttpError, Limits, Parsed, Request, RequestParser};

fn parse(raw: &str) -> Result<Request, HttpError> {
    match RequestParser::new(Limits::default()).feed(raw.as_bytes())? {
        Parsed::Done { message, .. } => Ok(message),
        Parsed::NeedMore => panic!("incomplete request in the test: {raw:?}"),
    }
}

fn send(raw: &str) -> Reply {
    respond(&parse(raw).expect("a valid request"), &FaultPlan::none())
}

fn get(target: &str) -> Reply {
    send(&get_request(target))
}

fn status(reply: &Reply) -> u16 {
    let (head, _) = split(&reply.bytes);
    head[9..12].parse().unwrap()
}

#[test]
fn an_article_comes_with_length_type_checksum_and_keep_alive() {
    let reply = get("/wiki/7");
    let (head, body) = split(&reply.bytes);
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert_eq!(body, document(7));
    assert_eq!(
        header(&head, "content-length"),
        Some(body.len().to_string())
    );
    assert_eq!(
        header(&head, "content-type").as_deref(),
        Some("text/plain; charset=utf-8")
    );
    assert!(verify(body, &header(&head, CHECKSUM_HEADER).unwrap()));
    assert_eq!(header(&head, "connection").as_deref(), Some("keep-alive"));
    assert_eq!(reply.action, Action::Send);
    assert_eq!((reply.status, reply.fault), (Some(200), None));
    assert_eq!(reply.delay, Duration::ZERO);
    assert!(!reply.closes());
}

#[test]
fn the_connection_header_follows_the_request() {
    let close = send("GET /wiki/1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    assert_eq!(
        header(&split(&close.bytes).0, "connection").as_deref(),
        Some("close")
    );
    assert_eq!(close.action, Action::SendThenClose);

    let old = send("GET /wiki/1 HTTP/1.0\r\n\r\n");
    assert_eq!(
        header(&split(&old.bytes).0, "connection").as_deref(),
        Some("close")
    );
    assert!(old.closes());

    let old_kept = send("GET /wiki/1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    let (head, _) = split(&old_kept.bytes);
    assert_eq!(header(&head, "connection").as_deref(), Some("keep-alive"));
    assert_eq!(old_kept.action, Action::Send);
}

#[test]
fn head_gets_the_same_head_as_get_and_no_body() {
    for target in ["/wiki/5", "/", "/index?n=3", "/nowhere"] {
        let got = get(target);
        let headed = send(&format!("HEAD {target} HTTP/1.1\r\nHost: t\r\n\r\n"));
        let (head, body) = split(&headed.bytes);
        assert!(body.is_empty(), "{target}");
        assert_eq!(head, split(&got.bytes).0, "{target}");
        assert_eq!(headed.status, got.status);
    }
}

#[test]
fn article_ids_are_plain_decimal_u64s() {
    assert_eq!(status(&get("/wiki/0")), 200);
    assert_eq!(status(&get("/wiki/18446744073709551615")), 200);
    for bad in [
        "/wiki/",
        "/wiki/abc",
        "/wiki/007",
        "/wiki/-1",
        "/wiki/+1",
        "/wiki/1.5",
        "/wiki/18446744073709551616",
        "/wiki/7/",
        "/wiki",
    ] {
        let reply = get(bad);
        assert_eq!(status(&reply), 404, "{bad}");
        assert_eq!(reply.action, Action::Send, "a 404 keeps the connection");
        assert_eq!(header(&split(&reply.bytes).0, CHECKSUM_HEADER), None);
    }
}

#[test]
fn the_index_lists_n_paths() {
    let reply = get("/index?n=3");
    assert_eq!(status(&reply), 200);
    assert_eq!(split(&reply.bytes).1, b"/wiki/0\n/wiki/1\n/wiki/2\n");
    assert_eq!(split(&get("/index?n=0").bytes).1, b"");

    let default = get("/index");
    let (_, body) = split(&default.bytes);
    assert_eq!(body.iter().filter(|&&b| b == b'\n').count(), 100);

    let most = get("/index?n=1000000");
    let (_, body) = split(&most.bytes);
    assert!(body.ends_with(b"/wiki/999999\n"));
    assert_eq!(status(&get("/index?n=1000001")), 400);
    assert_eq!(status(&get("/index?n=lots")), 400);
}

#[test]
fn the_home_page_lists_the_routes_and_faults() {
    let reply = get("/");
    assert_eq!(status(&reply), 200);
    let text = String::from_utf8(split(&reply.bytes).1.to_vec()).unwrap();
    for needle in [
        "/wiki/<id>",
        "/index?n=N",
        "fault=",
        "latency=",
        "retry_after=",
    ] {
        assert!(text.contains(needle), "{needle} in {text}");
    }
}

#[test]
fn other_paths_are_404() {
    for target in [
        "/wikipedia",
        "/index.html",
        "/wiki/1/edit",
        "http://host/wiki/1",
        "*",
    ] {
        assert_eq!(status(&get(target)), 404, "{target}");
    }
}

#[test]
fn a_bad_fault_parameter_is_a_400_that_says_why() {
    for (target, says) in [
        ("/wiki/1?fault=trunacte", "trunacte"),
        ("/wiki/1?latency=soon", "latency"),
        ("/wiki/1?latency=60001", "latency"),
        ("/wiki/1?retry_after=-1", "retry_after"),
        ("/wiki/1?pause=x", "pause"),
        ("/wiki/1?attempt=", "attempt"),
    ] {
        let reply = get(target);
        assert_eq!(status(&reply), 400, "{target}");
        let text = String::from_utf8_lossy(split(&reply.bytes).1).to_string();
        assert!(text.contains(says), "{target}: {text}");
    }
    // Parameters the corpus does not know are ignored.
    assert_eq!(status(&get("/wiki/1?utm_source=test&&x")), 200);
}

#[test]
fn requests_that_do_not_parse_get_the_codecs_status_and_a_close() {
    let cases = [
        ("POST /wiki/1 HTTP/1.1\r\nHost: t\r\n\r\n", 501),
        ("GET /wiki/1 HTTP/2.0\r\nHost: t\r\n\r\n", 505),
        ("GET /wiki/1\r\n\r\n", 400),
        ("GET /wiki/1 HTTP/1.1\r\nno colon here\r\n\r\n", 400),
    ];
    for (raw, code) in cases {
        let error = parse(raw).expect_err(raw);
        let reply = error_reply(&error);
        assert_eq!(reply.status, Some(code), "{raw:?}");
        assert_eq!(status(&reply), code, "{raw:?}");
        let (head, body) = split(&reply.bytes);
        assert_eq!(header(&head, "connection").as_deref(), Some("close"));
        assert_eq!(
            header(&head, "content-length"),
            Some(body.len().to_string())
        );
        assert_eq!(reply.action, Action::SendThenClose);
    }
    let huge = format!("GET / HTTP/1.1\r\nX-Big: {}\r\n\r\n", "a".repeat(70_000));
    let reply = error_reply(&parse(&huge).expect_err("over the head limit"));
    assert_eq!(reply.status, Some(431));
}

mod any_request {
    use super::*;
    use proptest::prelude::*;
    use sockets::corpus::FaultKind;

    /// Checks the framing a client relies on: the head ends, and the body has the length
    /// the head announces (or is chunked, or ends with the connection).
    fn well_formed(reply: &Reply, head_only: bool) -> Result<(), TestCaseError> {
        if reply.action == Action::Drop {
            prop_assert!(reply.bytes.is_empty());
            return Ok(());
        }
        prop_assert!(reply.bytes.starts_with(b"HTTP/1.1 "));
        let (head, body) = split(&reply.bytes);
        let length = header(&head, "content-length");
        let chunked = header(&head, "transfer-encoding").is_some();
        if head_only {
            prop_assert!(body.is_empty());
        } else if let Some(length) = length {
            prop_assert_eq!(length, body.len().to_string());
        } else {
            prop_assert!(chunked || reply.closes(), "no length, no chunks, no close");
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        #[test]
        fn every_target_gets_a_well_formed_reply(
            path in prop_oneof![
                Just("/wiki/".to_string()),
                Just("/index".to_string()),
                "/[a-z0-9/.%+-]{0,16}",
            ],
            id in prop::option::of(any::<u64>()),
            query in prop::collection::vec(
                ("(fault|latency|retry_after|attempt|n|piece|pause|x)",
                 "[0-9a-z]{0,6}"),
                0..4,
            ),
            head_only in any::<bool>(),
            rate in 0.0f64..=1.0,
        ) {
            let mut target = path;
            if let Some(id) = id {
                target.push_str(&id.to_string());
            }
            let mut separator = '?';
            for (key, value) in &query {
                // Keep the index small: a million lines per case would be slow.
                let value = if key == "n" { &value[..value.len().min(3)] } else { value };
                target.push_str(&format!("{separator}{key}={value}"));
                separator = '&';
            }
            let method = if head_only { "HEAD" } else { "GET" };
            let raw = format!("{method} {target} HTTP/1.1\r\nHost: t\r\n\r\n");
            // Targets the codec refuses never reach the corpus.
            let Ok(request) = parse(&raw) else { return Ok(()) };
            let plan = FaultPlan { rate, kinds: FaultKind::ALL.to_vec(), ..FaultPlan::none() };
            let reply = respond(&request, &plan);
            well_formed(&reply, head_only)?;
        }
    }
}
