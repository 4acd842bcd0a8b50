//! The corpus's faults: what each one plans, and how the global plan picks them.

mod common;

use std::time::Duration;

use common::{header, split};
use sockets::corpus::{
    Action, CHECKSUM_HEADER, DEFAULT_RETRY_AFTER_SECS, DRIP_PAUSE, DRIP_PIECE, FaultKind,
    FaultPlan, Reply, SLOW_REPLY, document, respond, verify,
};
use sockets::http::{Limits, Method, Parsed, RequestParser, ResponseParser};

fn ask(method: &str, target: &str, version: &str, plan: &FaultPlan) -> Reply {
    let raw = format!("{method} {target} HTTP/1.{version}\r\nHost: t\r\n\r\n");
    match RequestParser::new(Limits::default()).feed(raw.as_bytes()) {
        Ok(Parsed::Done { message, .. }) => respond(&message, plan),
        _ => panic!("the test's request does not parse: {raw:?}"),
    }
}

fn get(target: &str) -> Reply {
    ask("GET", target, "1", &FaultPlan::none())
}

#[test]
fn drop_sends_nothing_and_closes() {
    let reply = get("/wiki/3?fault=drop");
    assert!(reply.bytes.is_empty());
    assert_eq!(reply.action, Action::Drop);
    assert_eq!((reply.status, reply.fault), (None, Some(FaultKind::Drop)));
    assert!(reply.closes());
}

#[test]
fn unavailable_is_a_503_with_retry_after() {
    let reply = get("/wiki/3?fault=unavailable");
    let (head, body) = split(&reply.bytes);
    assert!(head.starts_with("HTTP/1.1 503 "), "{head}");
    let default = DEFAULT_RETRY_AFTER_SECS.to_string();
    assert_eq!(header(&head, "retry-after"), Some(default));
    assert_eq!(
        header(&head, "content-length"),
        Some(body.len().to_string())
    );
    assert_eq!(header(&head, CHECKSUM_HEADER), None, "not the article");
    assert_eq!(reply.action, Action::Send, "a 503 keeps the connection");

    let reply = get("/wiki/3?fault=unavailable&retry_after=7");
    assert_eq!(
        header(&split(&reply.bytes).0, "retry-after").as_deref(),
        Some("7")
    );
}

#[test]
fn truncate_promises_the_whole_body_and_plans_to_send_half() {
    let reply = get("/wiki/3?fault=truncate");
    let (head, body) = split(&reply.bytes);
    assert_eq!(body, document(3), "the bytes hold the whole reply");
    assert_eq!(
        header(&head, "content-length"),
        Some(body.len().to_string())
    );
    let head_len = reply.bytes.len() - body.len();
    let Action::Truncate { keep } = reply.action else {
        panic!("{:?}", reply.action)
    };
    assert!(keep > head_len && keep < reply.bytes.len(), "{keep}");
    assert!(reply.closes());
}

#[test]
fn chunked_bodies_decode_to_the_article() {
    let reply = get("/wiki/11?fault=chunked");
    let (head, raw) = split(&reply.bytes);
    assert_eq!(
        header(&head, "transfer-encoding").as_deref(),
        Some("chunked")
    );
    assert_eq!(header(&head, "content-length"), None);
    assert!(raw.ends_with(b"\r\n0\r\n\r\n"));
    assert!(
        raw.windows(2).filter(|w| w == b"\r\n").count() > 6,
        "several chunks"
    );
    assert_eq!(
        reply.action,
        Action::Send,
        "chunked framing keeps the connection"
    );

    // Our own codec decodes it, and the checksum holds.
    let mut parser = ResponseParser::new(Method::Get, Limits::default());
    let response = match parser.feed(&reply.bytes) {
        Ok(Parsed::Done { message, used }) => {
            assert_eq!(used, reply.bytes.len());
            message
        }
        Ok(Parsed::NeedMore) => panic!("incomplete chunked body"),
        Err(e) => panic!("{e}"),
    };
    assert_eq!(response.body, document(11));
    let sum = header(&head, CHECKSUM_HEADER).unwrap();
    assert!(verify(&response.body, &sum));
}

#[test]
fn an_http_1_0_client_gets_close_delimited_instead_of_chunked() {
    let reply = ask("GET", "/wiki/11?fault=chunked", "0", &FaultPlan::none());
    let (head, body) = split(&reply.bytes);
    assert_eq!(header(&head, "transfer-encoding"), None);
    assert_eq!(header(&head, "content-length"), None);
    assert_eq!(body, document(11));
    assert_eq!(reply.action, Action::SendThenClose);
}

#[test]
fn close_delimited_bodies_have_no_length_and_end_with_the_connection() {
    let reply = get("/wiki/5?fault=close");
    let (head, body) = split(&reply.bytes);
    assert_eq!(header(&head, "content-length"), None);
    assert_eq!(header(&head, "transfer-encoding"), None);
    assert_eq!(header(&head, "connection").as_deref(), Some("close"));
    assert_eq!(body, document(5));
    assert_eq!(reply.action, Action::SendThenClose);
}

#[test]
fn drip_sends_the_normal_reply_slowly() {
    let reply = get("/wiki/5?fault=drip");
    assert_eq!(split(&reply.bytes).1, document(5));
    assert_eq!(
        reply.action,
        Action::Drip {
            piece: DRIP_PIECE,
            pause: DRIP_PAUSE,
            close: false
        }
    );
    let reply = get("/wiki/5?fault=drip&piece=10&pause=3");
    assert_eq!(
        reply.action,
        Action::Drip {
            piece: 10,
            pause: Duration::from_millis(3),
            close: false
        }
    );
}

#[test]
fn latency_delays_the_reply() {
    assert_eq!(get("/wiki/5?latency=40").delay, Duration::from_millis(40));
    let slow = get("/wiki/5?fault=latency");
    assert_eq!(slow.delay, SLOW_REPLY);
    assert_eq!(slow.fault, Some(FaultKind::Latency));
    assert_eq!(split(&slow.bytes).1, document(5));
    // Query latency works on every route.
    assert_eq!(get("/index?n=1&latency=5").delay, Duration::from_millis(5));
}

#[test]
fn head_with_a_fault_keeps_the_head_and_sends_no_body() {
    for kind in FaultKind::ALL {
        let target = format!("/wiki/8?fault={kind}");
        let got = get(&target);
        let headed = ask("HEAD", &target, "1", &FaultPlan::none());
        assert_eq!(headed.fault, Some(kind));
        if kind == FaultKind::Drop {
            assert!(headed.bytes.is_empty());
            continue;
        }
        let (head, body) = split(&headed.bytes);
        assert!(body.is_empty(), "{kind}");
        assert_eq!(head, split(&got.bytes).0, "{kind}");
    }
}

#[test]
fn the_plans_latency_applies_to_every_reply() {
    let plan = FaultPlan {
        latency: Duration::from_millis(3),
        ..FaultPlan::none()
    };
    for target in ["/wiki/1", "/", "/index?n=2", "/nope"] {
        assert_eq!(
            ask("GET", target, "1", &plan).delay,
            plan.latency,
            "{target}"
        );
    }
    // The query's latency replaces it.
    let reply = ask("GET", "/wiki/1?latency=0", "1", &plan);
    assert_eq!(reply.delay, Duration::ZERO);
}

#[test]
fn the_plan_picks_faults_deterministically_at_about_its_rate() {
    let plan = FaultPlan {
        rate: 0.2,
        seed: 7,
        ..FaultPlan::none()
    };
    let picks: Vec<_> = (0..10_000).map(|id| plan.pick(id, 0)).collect();
    let again: Vec<_> = (0..10_000).map(|id| plan.pick(id, 0)).collect();
    assert_eq!(picks, again, "same plan, same faults");
    let faulty = picks.iter().filter(|p| p.is_some()).count();
    assert!(
        (1_800..2_200).contains(&faulty),
        "{faulty} of 10000 at rate 0.2"
    );
    for kind in FaultKind::ALL {
        let n = picks.iter().filter(|&&p| p == Some(kind)).count();
        assert!((200..380).contains(&n), "{n} {kind}, about 2000/7 expected");
    }

    let other_seed = FaultPlan {
        seed: 8,
        ..plan.clone()
    };
    let moved = (0..10_000).filter(|&id| other_seed.pick(id, 0) != plan.pick(id, 0));
    assert!(moved.count() > 1_000, "another seed, other unlucky ids");
}

#[test]
fn each_attempt_gets_its_own_roll() {
    let plan = FaultPlan {
        rate: 0.5,
        kinds: vec![FaultKind::Drop],
        ..FaultPlan::none()
    };
    // An id dropped on attempt 0 is, half the time, served on attempt 1.
    let dropped: Vec<u64> = (0..1_000)
        .filter(|&id| plan.pick(id, 0).is_some())
        .collect();
    let recovered = dropped
        .iter()
        .filter(|&&id| plan.pick(id, 1).is_none())
        .count();
    assert!(
        recovered > dropped.len() / 3 && recovered < dropped.len() * 2 / 3,
        "{recovered} of {}",
        dropped.len()
    );

    // Through the request: the X-Attempt header, or the attempt parameter.
    let id = dropped[0];
    let with_header = |attempt: u64| {
        let raw = format!("GET /wiki/{id} HTTP/1.1\r\nHost: t\r\nX-Attempt: {attempt}\r\n\r\n");
        match RequestParser::new(Limits::default()).feed(raw.as_bytes()) {
            Ok(Parsed::Done { message, .. }) => respond(&message, &plan).fault,
            _ => panic!("bad test request"),
        }
    };
    for attempt in 0..6 {
        let by_query = ask("GET", &format!("/wiki/{id}?attempt={attempt}"), "1", &plan);
        assert_eq!(by_query.fault, plan.pick(id, attempt));
        assert_eq!(with_header(attempt), plan.pick(id, attempt));
    }
    assert_eq!(
        ask("GET", &format!("/wiki/{id}"), "1", &plan).action,
        Action::Drop
    );
}

#[test]
fn rate_and_kinds_bound_the_plan() {
    let always = FaultPlan {
        rate: 1.0,
        kinds: vec![FaultKind::Truncate, FaultKind::Close],
        ..FaultPlan::none()
    };
    for id in 0..500 {
        let kind = always.pick(id, 0).expect("rate 1: every request");
        assert!(always.kinds.contains(&kind));
    }
    let never = FaultPlan::none();
    assert!((0..500).all(|id| never.pick(id, 0).is_none()));
    let no_kinds = FaultPlan {
        rate: 1.0,
        kinds: Vec::new(),
        ..FaultPlan::none()
    };
    assert!((0..500).all(|id| no_kinds.pick(id, 0).is_none()));
    let nan = FaultPlan {
        rate: f64::NAN,
        ..FaultPlan::none()
    };
    assert!((0..500).all(|id| nan.pick(id, 0).is_none()));

    // Only articles roll: other routes have no id.
    assert_eq!(ask("GET", "/", "1", &always).fault, None);
    assert_eq!(ask("GET", "/index?n=1", "1", &always).fault, None);
    // The query's fault wins over the plan's.
    let reply = ask("GET", "/wiki/1?fault=drip", "1", &always);
    assert_eq!(reply.fault, Some(FaultKind::Drip));
}

#[test]
fn fault_names_parse_and_print() {
    for kind in FaultKind::ALL {
        assert_eq!(kind.to_string().parse::<FaultKind>(), Ok(kind));
    }
    assert_eq!(
        FaultKind::parse_list("drop, truncate,,chunked"),
        Ok(vec![
            FaultKind::Drop,
            FaultKind::Truncate,
            FaultKind::Chunked
        ])
    );
    let error = FaultKind::parse_list("drop,explode").unwrap_err();
    assert!(error.to_string().contains("explode"));
}
