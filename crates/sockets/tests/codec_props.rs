//! Property tests of the codec: random valid responses, written by a generator that
//! knows what it wrote, must parse back to exactly that, however the bytes are cut;
//! and random or damaged bytes must never make either parser panic, nor give different
//! answers for different cuts.

mod common;

use common::{Event, events};
use proptest::prelude::*;
use proptest::sample::Index;
use sockets::http::{Headers, Limits, Method, Request, RequestParser, Response, ResponseParser};

/// The cases per property: enough to meet every rule many times, few enough that the
/// whole file runs in about a second in a debug build.
const CASES: u32 = 256;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: CASES,
        // Failures are shrunk and printed; no regression files are written.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ----- running a parser over cut-up bytes (the driver is in `common`) -----

fn responses(method: Method, bytes: &[u8], cuts: &[usize]) -> Vec<Event<Response>> {
    events(ResponseParser::new(method, small_limits()), bytes, cuts)
}

fn requests(bytes: &[u8], cuts: &[usize]) -> Vec<Event<Request>> {
    events(RequestParser::new(small_limits()), bytes, cuts)
}

/// Limits small enough that random inputs reach them.
fn small_limits() -> Limits {
    Limits {
        max_head_bytes: 2048,
        max_headers: 20,
        max_body_bytes: 4096,
        max_chunk_line_bytes: 32,
    }
}

fn cut_positions(len: usize, picks: &[Index]) -> Vec<usize> {
    picks.iter().map(|i| i.index(len + 1)).collect()
}

// ----- a generator of valid responses -----

#[derive(Debug, Clone)]
enum Framing {
    Length,
    Chunked {
        /// Chunk sizes, used in turn until the body is used up.
        sizes: Vec<usize>,
        extensions: bool,
        upper_hex: bool,
        trailers: Vec<(String, String)>,
    },
    /// No length: the body runs to the end of the stream.
    Close,
}

#[derive(Debug, Clone)]
struct Spec {
    version_minor: u8,
    status: u16,
    reason: String,
    /// Name, value, and the whitespace written before and after the value.
    fields: Vec<(String, String, &'static str, &'static str)>,
    connection: Option<&'static str>,
    framing: Framing,
    body: Vec<u8>,
    /// A `100 Continue` before the response.
    interim: bool,
    /// Bit `i % 32` set: line `i` ends in a bare LF instead of CRLF.
    bare_lf: u32,
}

fn token() -> impl Strategy<Value = String> {
    "[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}".prop_filter("a framing field name", |name| {
        !["content-length", "transfer-encoding", "connection"]
            .iter()
            .any(|f| name.eq_ignore_ascii_case(f))
    })
}

fn value() -> impl Strategy<Value = String> {
    // No whitespace at either end: the parser trims it.
    prop_oneof![Just(String::new()), "[!-~é€]([ -~\té]{0,20}[!-~é])?"]
}

fn ows() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just(""), Just(" "), Just("\t"), Just("  \t")]
}

fn framing() -> impl Strategy<Value = Framing> {
    prop_oneof![
        Just(Framing::Length),
        (
            prop::collection::vec(1usize..80, 1..6),
            any::<bool>(),
            any::<bool>(),
            prop::collection::vec((token(), value()), 0..3),
        )
            .prop_map(
                |(sizes, extensions, upper_hex, trailers)| Framing::Chunked {
                    sizes,
                    extensions,
                    upper_hex,
                    trailers,
                }
            ),
        Just(Framing::Close),
    ]
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        (
            0u8..=1,
            prop_oneof![Just(200u16), Just(204), Just(304), Just(404), 100u16..1000],
            "[ -~\t]{0,20}",
            prop::collection::vec((token(), value(), ows(), ows()), 0..8),
            prop::option::of(prop_oneof![
                Just("close"),
                Just("keep-alive"),
                Just("Keep-Alive")
            ]),
        ),
        (
            framing(),
            prop::collection::vec(any::<u8>(), 0..300),
            any::<bool>(),
            any::<u32>(),
        ),
    )
        .prop_map(
            |(
                (version_minor, status, reason, fields, connection),
                (framing, body, interim, bare_lf),
            )| {
                // 1xx responses are interim: they are skipped, so they cannot be final.
                let status = if (100..200).contains(&status) {
                    200
                } else {
                    status
                };
                Spec {
                    version_minor,
                    status,
                    reason,
                    fields,
                    connection,
                    framing,
                    body,
                    interim,
                    bare_lf,
                }
            },
        )
}

/// The bytes of `spec` as a response to `method`, and the response the parser must give.
fn build(spec: &Spec, method: Method) -> (Vec<u8>, Response) {
    let mut line = 0;
    let mut eol = || {
        let bare = spec.bare_lf >> (line % 32) & 1 == 1;
        line += 1;
        if bare { "\n" } else { "\r\n" }
    };
    let mut out = String::new();
    if spec.interim {
        out += &format!(
            "HTTP/1.1 100 Continue{}X-Interim: yes{}{}",
            eol(),
            eol(),
            eol()
        );
    }
    out += &format!("HTTP/1.{} {}", spec.version_minor, spec.status);
    // An empty reason may come without its space.
    if !spec.reason.is_empty() || spec.bare_lf & 1 == 0 {
        out += &format!(" {}", spec.reason);
    }
    out += eol();
    let mut headers = Headers::new();
    for (name, value, before, after) in &spec.fields {
        out += &format!("{name}:{before}{value}{after}{}", eol());
        headers.push(name.clone(), value.clone());
    }
    if let Some(connection) = spec.connection {
        out += &format!("Connection: {connection}{}", eol());
        headers.push("Connection", connection);
    }
    match &spec.framing {
        Framing::Length => {
            let length = spec.body.len().to_string();
            out += &format!("Content-Length: {length}{}", eol());
            headers.push("Content-Length", length);
        }
        Framing::Chunked { .. } => {
            out += &format!("Transfer-Encoding: chunked{}", eol());
            headers.push("Transfer-Encoding", "chunked");
        }
        Framing::Close => {}
    }
    out += eol();
    let mut bytes = out.into_bytes();

    let no_body = method == Method::Head || spec.status == 204 || spec.status == 304;
    let mut keep_alive = match spec.connection {
        Some("close") => false,
        Some(_) => true,
        None => spec.version_minor == 1,
    };
    if !no_body {
        match &spec.framing {
            Framing::Length => bytes.extend_from_slice(&spec.body),
            Framing::Chunked {
                sizes,
                extensions,
                upper_hex,
                trailers,
            } => {
                let mut rest = spec.body.as_slice();
                for &size in sizes.iter().cycle() {
                    if rest.is_empty() {
                        break;
                    }
                    let (chunk, after) = rest.split_at(size.min(rest.len()));
                    let mut size_line = if *upper_hex {
                        format!("{:X}", chunk.len())
                    } else {
                        format!("{:x}", chunk.len())
                    };
                    if *extensions {
                        size_line += ";name=\"a value\"";
                    }
                    bytes.extend_from_slice(format!("{size_line}{}", eol()).as_bytes());
                    bytes.extend_from_slice(chunk);
                    bytes.extend_from_slice(eol().as_bytes());
                    rest = after;
                }
                bytes.extend_from_slice(format!("0{}", eol()).as_bytes());
                for (name, value) in trailers {
                    bytes.extend_from_slice(format!("{name}: {value}{}", eol()).as_bytes());
                }
                bytes.extend_from_slice(eol().as_bytes());
                if spec.version_minor == 0 {
                    keep_alive = false;
                }
            }
            Framing::Close => {
                bytes.extend_from_slice(&spec.body);
                keep_alive = false;
            }
        }
    }
    let response = Response {
        version_minor: spec.version_minor,
        status: spec.status,
        reason: spec.reason.clone().into(),
        headers,
        body: if no_body {
            Vec::new()
        } else {
            spec.body.clone()
        },
        dropped: 0,
        keep_alive,
    };
    (bytes, response)
}

/// Whether the response's body runs to the end of the stream.
fn until_close(spec: &Spec, method: Method) -> bool {
    matches!(spec.framing, Framing::Close)
        && !(method == Method::Head || spec.status == 204 || spec.status == 304)
}

fn method() -> impl Strategy<Value = Method> {
    prop_oneof![3 => Just(Method::Get), 1 => Just(Method::Head)]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn valid_responses_round_trip(
        spec in spec(),
        method in method(),
        picks in prop::collection::vec(any::<Index>(), 0..5),
    ) {
        let (bytes, expected) = build(&spec, method);
        let wanted = if until_close(&spec, method) {
            vec![Event::Closed(Some(expected))]
        } else {
            vec![Event::Message { message: expected, end: bytes.len() }, Event::Closed(None)]
        };
        prop_assert_eq!(&responses(method, &bytes, &[]), &wanted);
        prop_assert_eq!(&responses(method, &bytes, &cut_positions(bytes.len(), &picks)), &wanted);
        let bytewise: Vec<usize> = (1..bytes.len()).collect();
        prop_assert_eq!(&responses(method, &bytes, &bytewise), &wanted);
    }

    #[test]
    fn pipelined_responses_round_trip(
        specs in prop::collection::vec(spec(), 1..4),
        method in method(),
        picks in prop::collection::vec(any::<Index>(), 0..8),
    ) {
        let mut stream = Vec::new();
        let mut wanted = Vec::new();
        let last = specs.len() - 1;
        for (i, spec) in specs.iter().enumerate() {
            let mut spec = spec.clone();
            // Only the last response may run to the end of the stream.
            if i < last && until_close(&spec, method) {
                spec.framing = Framing::Length;
            }
            let (bytes, expected) = build(&spec, method);
            stream.extend_from_slice(&bytes);
            if until_close(&spec, method) {
                wanted.push(Event::Closed(Some(expected)));
            } else {
                wanted.push(Event::Message { message: expected, end: stream.len() });
            }
        }
        if !matches!(wanted.last(), Some(Event::Closed(_))) {
            wanted.push(Event::Closed(None));
        }
        prop_assert_eq!(&responses(method, &stream, &[]), &wanted);
        prop_assert_eq!(&responses(method, &stream, &cut_positions(stream.len(), &picks)), &wanted);
    }

    #[test]
    fn a_dropping_parser_counts_the_bodies_it_does_not_keep(
        specs in prop::collection::vec(spec(), 1..4),
        method in method(),
        damage in prop::collection::vec((any::<Index>(), 0u8..3, any::<u8>()), 0..3),
        picks in prop::collection::vec(any::<Index>(), 0..8),
    ) {
        let mut stream = Vec::new();
        for spec in &specs {
            stream.extend_from_slice(&build(spec, method).0);
        }
        damage_bytes(&mut stream, &damage);
        let cuts = cut_positions(stream.len(), &picks);
        // The same events, response for response, error for error: only the bodies
        // that the head says are not needed are counted instead of kept.
        let kept = responses(method, &stream, &[]);
        let dropping = ResponseParser::new(method, small_limits()).dropping_bodies(even_status);
        let wanted: Vec<_> = kept.iter().map(|event| dropped_unless(even_status, event)).collect();
        prop_assert_eq!(&events(dropping, &stream, &cuts), &wanted);
        let all_dropped = ResponseParser::new(method, small_limits()).dropping_bodies(|_| false);
        let wanted: Vec<_> = kept.iter().map(|event| dropped_unless(|_| false, event)).collect();
        prop_assert_eq!(&events(all_dropped, &stream, &cuts), &wanted);
    }

    #[test]
    fn random_bytes_never_panic_and_every_cut_agrees(
        bytes in prop::collection::vec(any::<u8>(), 0..600),
        picks in prop::collection::vec(any::<Index>(), 0..6),
        method in method(),
    ) {
        let cuts = cut_positions(bytes.len(), &picks);
        prop_assert_eq!(responses(method, &bytes, &[]), responses(method, &bytes, &cuts));
        prop_assert_eq!(requests(&bytes, &[]), requests(&bytes, &cuts));
    }

    #[test]
    fn damaged_responses_never_panic_and_every_cut_agrees(
        spec in spec(),
        method in method(),
        damage in prop::collection::vec((any::<Index>(), 0u8..3, any::<u8>()), 1..4),
        picks in prop::collection::vec(any::<Index>(), 0..6),
    ) {
        let (mut bytes, _) = build(&spec, method);
        damage_bytes(&mut bytes, &damage);
        let cuts = cut_positions(bytes.len(), &picks);
        let whole = responses(method, &bytes, &[]);
        prop_assert_eq!(&whole, &responses(method, &bytes, &cuts));
        let bytewise: Vec<usize> = (1..bytes.len()).collect();
        prop_assert_eq!(&whole, &responses(method, &bytes, &bytewise));
        // Every error points inside what was received.
        for event in &whole {
            if let Event::Failed(error) = event {
                prop_assert!(error.offset() <= bytes.len(), "{error:?} beyond {}", bytes.len());
            }
        }
    }

    #[test]
    fn damaged_requests_never_panic_and_every_cut_agrees(
        target in "/[!-~]{0,30}",
        fields in prop::collection::vec((token(), value()), 0..6),
        damage in prop::collection::vec((any::<Index>(), 0u8..3, any::<u8>()), 0..4),
        picks in prop::collection::vec(any::<Index>(), 0..6),
    ) {
        let mut bytes = format!("GET {target} HTTP/1.1\r\n").into_bytes();
        for (name, value) in &fields {
            bytes.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
        bytes.extend_from_slice(b"\r\n");
        damage_bytes(&mut bytes, &damage);
        let cuts = cut_positions(bytes.len(), &picks);
        prop_assert_eq!(requests(&bytes, &[]), requests(&bytes, &cuts));
    }
}

/// A choice of which bodies to keep that differs between responses.
fn even_status(head: &Response) -> bool {
    head.status % 2 == 0
}

/// What a parser that keeps only the bodies `keep` wants gives for `event` of one that
/// keeps every body: the same, with each other body's length in `dropped`.
fn dropped_unless(keep: fn(&Response) -> bool, event: &Event<Response>) -> Event<Response> {
    let counted = |r: &Response| match keep(r) {
        true => r.clone(),
        false => Response {
            body: Vec::new(),
            dropped: r.body.len() as u64,
            ..r.clone()
        },
    };
    match event {
        Event::Message { message, end } => Event::Message {
            message: counted(message),
            end: *end,
        },
        Event::Closed(Some(r)) => Event::Closed(Some(counted(r))),
        other => other.clone(),
    }
}

/// Replaces, inserts or removes a byte at each chosen place.
fn damage_bytes(bytes: &mut Vec<u8>, damage: &[(Index, u8, u8)]) {
    for (at, how, byte) in damage {
        if bytes.is_empty() {
            bytes.push(*byte);
            continue;
        }
        let i = at.index(bytes.len());
        match how {
            0 => bytes[i] = *byte,
            1 => bytes.insert(i, *byte),
            _ => {
                bytes.remove(i);
            }
        }
    }
}
