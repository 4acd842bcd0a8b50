//! Arbitrary bytes into the request parser, in two pieces cut where the fuzzer says.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sockets::http::{HttpError, Limits, Parsed, Request, RequestParser};

fn limits() -> Limits {
    Limits {
        max_head_bytes: 1024,
        max_headers: 16,
        ..Limits::default()
    }
}

/// Every request and error, then what `finish` says, feeding `pieces` in turn.
fn run(pieces: &[&[u8]]) -> Vec<Result<Option<Request>, HttpError>> {
    let mut parser = RequestParser::new(limits());
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
    out.push(parser.finish().map(|()| None));
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, bytes)) = data.split_first() else {
        return;
    };
    let cut = usize::from(control) % (bytes.len() + 1);
    let whole = run(&[bytes]);
    let (a, b) = bytes.split_at(cut);
    assert_eq!(whole, run(&[a, b]), "the cut at {cut} changed the result");
});
