//! Arbitrary bytes into the response parser, in two pieces cut where the fuzzer says.
//!
//! The parser must never panic, and must give the same answer whole and in pieces:
//! libFuzzer reports a crash for either.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sockets::http::{HttpError, Limits, Method, Parsed, Response, ResponseParser};

/// Small limits, so that the fuzzer reaches them quickly.
fn limits() -> Limits {
    Limits {
        max_head_bytes: 1024,
        max_headers: 16,
        max_body_bytes: 4096,
        max_chunk_line_bytes: 32,
    }
}

/// Every response and error, then what `finish` says, feeding `pieces` in turn.
fn run(method: Method, pieces: &[&[u8]]) -> Vec<Result<Option<Response>, HttpError>> {
    let mut parser = ResponseParser::new(method, limits());
    let mut out = Vec::new();
    for piece in pieces {
        let mut rest = *piece;
        loop {
            match parser.feed(rest) {
                Ok(Parsed::NeedMore) => break,
                Ok(Parsed::Done { message, used }) => {
                    assert!(used <= rest.len());
                    out.push(Ok(Some(message)));
                    rest = &rest[used..];
                    if rest.is_empty() {
                        break;
                    }
                }
                Err(error) => {
                    out.push(Err(error));
                    return out;
                }
            }
        }
    }
    out.push(parser.finish());
    out
}

fuzz_target!(|data: &[u8]| {
    // The first byte picks the method and the cut; the rest is the stream.
    let Some((&control, bytes)) = data.split_first() else {
        return;
    };
    let method = if control & 1 == 0 {
        Method::Get
    } else {
        Method::Head
    };
    let cut = usize::from(control >> 1) % (bytes.len() + 1);
    let whole = run(method, &[bytes]);
    let (a, b) = bytes.split_at(cut);
    assert_eq!(
        whole,
        run(method, &[a, b]),
        "the cut at {cut} changed the result"
    );
});
