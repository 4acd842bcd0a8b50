//! What RFC 9112 asks of a client reading a response, as tables: for each rule, the raw
//! bytes of the cases that show it, and what a user agent must make of each.
//!
//! The tables are data, so that three tests can share them without repeating a case:
//!
//! - `sockets/tests/codec_rfc9112.rs` feeds each case to the codec whole, byte by byte
//!   and cut in two at every position, and checks the outcome here (one test per rule,
//!   named by its section);
//! - `sockets/tests/codec_httparse.rs` reads the head of every case with httparse too,
//!   and checks that both parsers see the same status and the same fields;
//! - `async-download/tests/rfc9112.rs` serves every case to each engine of the
//!   downloader, and checks that they all give the same verdict, and that a refusal
//!   names its rule.
//!
//! A rule is cited as its errors cite it (`RFC 9112 §6.3 rule 5`): a refused case
//! expects the error's message to name that rule, so a person reading a report knows
//! where to look. The numbers of section 6.3's rules are the RFC's own eight.

// Each test binary uses a part of this module.
#![allow(dead_code)]

use sockets::http::Method;

/// One rule of the RFC and the cases that show it.
#[derive(Debug)]
pub struct Rule {
    /// Where the RFC says it: `RFC 9112 §5.2`.
    pub section: &'static str,
    /// What it says a client must do, in a sentence.
    pub says: &'static str,
    pub cases: &'static [Case],
}

/// Raw bytes a server sends, and what a client must make of them.
#[derive(Debug, Clone, Copy)]
pub struct Case {
    pub name: &'static str,
    /// The method of the request the bytes answer.
    pub method: Method,
    pub bytes: &'static [u8],
    pub expect: Expect,
    /// A field the (final) response must have, with its value, or (`None`) must not.
    pub field: Option<(&'static str, Option<&'static str>)>,
    /// Bytes at the end that come after the response and are never read as another
    /// one: the connection is not reused (the smuggling guard).
    pub unread: usize,
}

/// The outcome a case must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// A response whose end was known before the stream ended (a length, chunks, or
    /// no body at all).
    Response {
        status: u16,
        body: &'static [u8],
        keep_alive: bool,
    },
    /// A response whose body ran until the server closed the connection.
    UntilClose { status: u16, body: &'static [u8] },
    /// Refused as soon as the bytes decide it, by an error at byte `at` whose message
    /// names `rule`.
    Refused { at: usize, rule: &'static str },
    /// Framed and read to the end of its body first (every byte taken, no error until
    /// the last one, or until the close), then refused as [`Expect::Refused`] is.
    RefusedAfterBody { at: usize, rule: &'static str },
    /// The stream ended, at byte `at`, before the response did: truncated, never taken
    /// for a whole response.
    Truncated { at: usize },
}

impl Case {
    /// A case answering a GET.
    pub const fn new(name: &'static str, text: &'static str, expect: Expect) -> Case {
        Case::bytes(name, text.as_bytes(), expect)
    }

    /// A case whose bytes are not all text.
    pub const fn bytes(name: &'static str, bytes: &'static [u8], expect: Expect) -> Case {
        Case {
            name,
            method: Method::Get,
            bytes,
            expect,
            field: None,
            unread: 0,
        }
    }

    /// The same case, answering a HEAD.
    pub const fn head(mut self) -> Case {
        self.method = Method::Head;
        self
    }

    /// The same case, whose response must have field `name` with `value`.
    pub const fn field(mut self, name: &'static str, value: &'static str) -> Case {
        self.field = Some((name, Some(value)));
        self
    }

    /// The same case, whose response must not have field `name`.
    pub const fn no_field(mut self, name: &'static str) -> Case {
        self.field = Some((name, None));
        self
    }

    /// The same case, whose last `n` bytes must never be read as a response.
    pub const fn unread(mut self, n: usize) -> Case {
        self.unread = n;
        self
    }
}

const fn ok(body: &'static [u8]) -> Expect {
    Expect::Response {
        status: 200,
        body,
        keep_alive: true,
    }
}

const fn response(status: u16, body: &'static [u8], keep_alive: bool) -> Expect {
    Expect::Response {
        status,
        body,
        keep_alive,
    }
}

const fn until_close(status: u16, body: &'static [u8]) -> Expect {
    Expect::UntilClose { status, body }
}

const fn refused(at: usize, rule: &'static str) -> Expect {
    Expect::Refused { at, rule }
}

const fn refused_after_body(at: usize, rule: &'static str) -> Expect {
    Expect::RefusedAfterBody { at, rule }
}

const fn truncated(at: usize) -> Expect {
    Expect::Truncated { at }
}

// The rules as the errors cite them.
const LINES: &str = "RFC 9112 §2.2";
const VERSION: &str = "RFC 9112 §2.3";
const STATUS_LINE: &str = "RFC 9112 §4";
const FIELD_LINE: &str = "RFC 9112 §5.1";
const FIELD_NAME: &str = "RFC 9110 §5.1";
const FIELD_VALUE: &str = "RFC 9110 §5.5";
const CODINGS: &str = "RFC 9112 §6.1";
const INVALID_LENGTH: &str = "RFC 9112 §6.3 rule 5";
const CHUNKED: &str = "RFC 9112 §7.1";

/// `HTTP/1.1 200 OK\r\n`: 17 bytes, so that the first field line starts at byte 17.
const STATUS_LEN: usize = 17;
/// The status line and `Transfer-Encoding: chunked\r\n\r\n`: where a chunked body starts.
const CHUNKED_HEAD_LEN: usize = 47;
/// The status line and `Content-Length: `: where a Content-Length value starts.
const LENGTH_AT: usize = 33;
/// The status line and `Transfer-Encoding: `: where a Transfer-Encoding value starts.
const CODING_AT: usize = 36;

pub const LINE_ENDINGS: Rule = Rule {
    section: "RFC 9112 §2.2",
    says: "a recipient may take a bare LF for a line end; a bare CR elsewhere is invalid; \
           whitespace between the start line and the first field is rejected or ignored",
    cases: &[
        Case::new(
            "CR LF",
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
            ok(b"ok"),
        ),
        Case::new(
            "a bare LF ends every line (allowed)",
            "HTTP/1.1 200 OK\nContent-Length: 2\n\nok",
            ok(b"ok"),
        ),
        Case::new(
            "bare LF and CR LF mixed",
            "HTTP/1.1 200 OK\r\nContent-Length: 2\n\r\nok",
            ok(b"ok"),
        ),
        Case::new(
            "empty lines before the status line are skipped (a leniency)",
            "\r\n\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
            ok(b"ok"),
        ),
        Case::new(
            "a bare CR in the status line",
            "HTTP/1.1 200 OK\rX: 1\r\nContent-Length: 0\r\n\r\n",
            refused(15, STATUS_LINE),
        ),
        Case::new(
            "a bare CR in a field value",
            "HTTP/1.1 200 OK\r\nX-A: a\rInjected: 1\r\nContent-Length: 0\r\n\r\n",
            refused(STATUS_LEN + 6, FIELD_VALUE),
        ),
        Case::new(
            "a space before the first field",
            "HTTP/1.1 200 OK\r\n X: 1\r\nContent-Length: 0\r\n\r\n",
            refused(STATUS_LEN, LINES),
        ),
        Case::new(
            "a tab before the first field",
            "HTTP/1.1 200 OK\r\n\tContent-Length: 5\r\nContent-Length: 0\r\n\r\n",
            refused(STATUS_LEN, LINES),
        ),
    ],
};

pub const STATUS: Rule = Rule {
    section: "RFC 9112 §4",
    says: "a status line is the version, a space, three digits, a space and a reason \
           a client should ignore",
    cases: &[
        Case::new(
            "a reason phrase",
            "HTTP/1.1 200 Whatever  it says\r\nContent-Length: 0\r\n\r\n",
            ok(b""),
        ),
        Case::new(
            "no reason",
            "HTTP/1.1 204 \r\n\r\n",
            response(204, b"", true),
        ),
        Case::new(
            "no reason and no space before it (a leniency)",
            "HTTP/1.1 204\r\n\r\n",
            response(204, b"", true),
        ),
        Case::new(
            "HTTP/1.0",
            "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
            response(200, b"ok", false),
        ),
        Case::new(
            "two spaces before the code",
            "HTTP/1.1  200 OK\r\nContent-Length: 0\r\n\r\n",
            refused(9, STATUS_LINE),
        ),
        Case::new(
            "a code below 100",
            "HTTP/1.1 099 Low\r\nContent-Length: 0\r\n\r\n",
            refused(9, STATUS_LINE),
        ),
        Case::new(
            "another version",
            "HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n",
            refused(0, VERSION),
        ),
    ],
};

pub const FIELD_LINES: Rule = Rule {
    section: "RFC 9112 §5.1",
    says: "a field line is name, colon, optional whitespace, value, optional whitespace; \
           no whitespace is allowed between the name and the colon",
    cases: &[
        Case::new(
            "whitespace around the value is not part of it",
            "HTTP/1.1 200 OK\r\nX-A: \t v a l \t\r\nContent-Length: 0\r\n\r\n",
            ok(b""),
        )
        .field("x-a", "v a l"),
        Case::new(
            "no whitespace at all",
            "HTTP/1.1 200 OK\r\nX-A:v\r\nContent-Length: 0\r\n\r\n",
            ok(b""),
        )
        .field("X-A", "v"),
        Case::new(
            "names compare in any case",
            "HTTP/1.1 200 OK\r\ncontent-LENGTH: 2\r\n\r\nok",
            ok(b"ok"),
        ),
        Case::new(
            "a space before the colon",
            "HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\nhello",
            refused(STATUS_LEN + 14, FIELD_LINE),
        ),
        Case::new(
            "a tab before the colon",
            "HTTP/1.1 200 OK\r\nX-A\t: 1\r\nContent-Length: 0\r\n\r\n",
            refused(STATUS_LEN + 3, FIELD_LINE),
        ),
        Case::new(
            "no colon",
            "HTTP/1.1 200 OK\r\nNo colon here\r\nContent-Length: 0\r\n\r\n",
            refused(STATUS_LEN, FIELD_LINE),
        ),
        Case::new(
            "an empty name",
            "HTTP/1.1 200 OK\r\n: v\r\nContent-Length: 0\r\n\r\n",
            refused(STATUS_LEN, FIELD_LINE),
        ),
    ],
};

pub const FIELD_NAMES: Rule = Rule {
    section: "RFC 9110 §5.1",
    says: "a field name is a token: letters, digits and !#$%&'*+-.^_`|~, nothing else",
    cases: &[
        Case::new(
            "every token character",
            "HTTP/1.1 200 OK\r\nX-Odd!#$%&'*+.^_`|~: 1\r\nContent-Length: 0\r\n\r\n",
            ok(b""),
        )
        .field("x-odd!#$%&'*+.^_`|~", "1"),
        Case::new(
            "a double quote",
            "HTTP/1.1 200 OK\r\nX-A\"b: 1\r\nContent-Length: 0\r\n\r\n",
            refused(STATUS_LEN + 3, FIELD_NAME),
        ),
        Case::new(
            "a parenthesis",
            "HTTP/1.1 200 OK\r\nX(y: 1\r\nContent-Length: 0\r\n\r\n",
            refused(STATUS_LEN + 1, FIELD_NAME),
        ),
        Case::new(
            "a slash",
            "HTTP/1.1 200 OK\r\nX/y: 1\r\nContent-Length: 0\r\n\r\n",
            refused(STATUS_LEN + 1, FIELD_NAME),
        ),
        Case::new(
            "a brace",
            "HTTP/1.1 200 OK\r\nX{y: 1\r\nContent-Length: 0\r\n\r\n",
            refused(STATUS_LEN + 1, FIELD_NAME),
        ),
        Case::new(
            "an at sign",
            "HTTP/1.1 200 OK\r\nX@y: 1\r\nContent-Length: 0\r\n\r\n",
            refused(STATUS_LEN + 1, FIELD_NAME),
        ),
        Case::new(
            "a NUL",
            "HTTP/1.1 200 OK\r\nX\0y: 1\r\nContent-Length: 0\r\n\r\n",
            refused(STATUS_LEN + 1, FIELD_NAME),
        ),
        Case::new(
            "a DEL",
            "HTTP/1.1 200 OK\r\nX\x7fy: 1\r\nContent-Length: 0\r\n\r\n",
            refused(STATUS_LEN + 1, FIELD_NAME),
        ),
        Case::bytes(
            "a byte above 0x7f",
            b"HTTP/1.1 200 OK\r\nX\xe9y: 1\r\nContent-Length: 0\r\n\r\n",
            refused(STATUS_LEN + 1, FIELD_NAME),
        ),
    ],
};

pub const FIELD_VALUES: Rule = Rule {
    section: "RFC 9110 §5.5",
    says: "a value is visible characters, spaces, tabs and obs-text; CR, LF, NUL and other \
           controls are invalid",
    cases: &[
        Case::new(
            "an empty value",
            "HTTP/1.1 200 OK\r\nX-A:\r\nContent-Length: 0\r\n\r\n",
            ok(b""),
        )
        .field("X-A", ""),
        Case::bytes(
            "UTF-8 is kept",
            b"HTTP/1.1 200 OK\r\nX-A: caf\xc3\xa9\r\nContent-Length: 0\r\n\r\n",
            ok(b""),
        )
        .field("X-A", "caf\u{e9}"),
        Case::bytes(
            "other bytes above 0x7f are kept, as Latin-1",
            b"HTTP/1.1 200 OK\r\nX-A: caf\xe9\r\nContent-Length: 0\r\n\r\n",
            ok(b""),
        )
        .field("X-A", "caf\u{e9}"),
        Case::new(
            "a NUL",
            "HTTP/1.1 200 OK\r\nX-A: a\0b\r\nContent-Length: 0\r\n\r\n",
            refused(STATUS_LEN + 6, FIELD_VALUE),
        ),
        Case::new(
            "a DEL",
            "HTTP/1.1 200 OK\r\nX-A: a\x7f\r\nContent-Length: 0\r\n\r\n",
            refused(STATUS_LEN + 6, FIELD_VALUE),
        ),
        Case::new(
            "an escape byte",
            "HTTP/1.1 200 OK\r\nX-A: \x1b[31m\r\nContent-Length: 0\r\n\r\n",
            refused(STATUS_LEN + 5, FIELD_VALUE),
        ),
    ],
};

pub const OBS_FOLD: Rule = Rule {
    section: "RFC 9112 §5.2",
    says: "a user agent that receives an obs-fold in a response must replace it with one \
           or more spaces before interpreting the field value",
    cases: &[
        Case::new(
            "a value folded over two lines",
            "HTTP/1.1 200 OK\r\nX-Long: part one\r\n  part two\r\nContent-Length: 0\r\n\r\n",
            ok(b""),
        )
        .field("X-Long", "part one part two"),
        Case::new(
            "folded with a tab, lines ending in a bare LF",
            "HTTP/1.1 200 OK\nX-Long: one\n\ttwo\nContent-Length: 0\n\n",
            ok(b""),
        )
        .field("X-Long", "one two"),
        Case::new(
            "folded over three lines",
            "HTTP/1.1 200 OK\r\nX-Long: a \r\n b\r\n\t c \r\nContent-Length: 0\r\n\r\n",
            ok(b""),
        )
        .field("X-Long", "a b c"),
        Case::new(
            "an empty value folded",
            "HTTP/1.1 200 OK\r\nX-Long:\r\n value\r\nContent-Length: 0\r\n\r\n",
            ok(b""),
        )
        .field("X-Long", "value"),
        Case::new(
            "a fold with nothing on it",
            "HTTP/1.1 200 OK\r\nX-Long: a\r\n   \r\nContent-Length: 0\r\n\r\n",
            ok(b""),
        )
        .field("X-Long", "a"),
        Case::new(
            "a folded Content-Length frames the body, unfolded",
            "HTTP/1.1 200 OK\r\nContent-Length:\r\n 2\r\n\r\nok",
            ok(b"ok"),
        )
        .field("Content-Length", "2"),
        Case::new(
            "a folded list of equal Content-Lengths",
            "HTTP/1.1 200 OK\r\nContent-Length: 2,\r\n 2\r\n\r\nok",
            ok(b"ok"),
        ),
        Case::new(
            "a folded list of different Content-Lengths",
            "HTTP/1.1 200 OK\r\nContent-Length: 2,\r\n 3\r\n\r\nok",
            refused(LENGTH_AT + 5, INVALID_LENGTH),
        ),
        Case::new(
            "a folded Transfer-Encoding frames the body, unfolded",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\n chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
            ok(b"ok"),
        ),
        Case::new(
            "a folded trailer field",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX-T: a\r\n b\r\n\r\n",
            ok(b"ok"),
        ),
        Case::new(
            "a folded field of an interim response",
            "HTTP/1.1 103 Early Hints\r\nLink: </a.css>,\r\n </b.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
            ok(b"ok"),
        ),
        Case::new(
            "a control byte in the folded part",
            "HTTP/1.1 200 OK\r\nX-A: a\r\n b\0\r\nContent-Length: 0\r\n\r\n",
            refused(STATUS_LEN + 10, FIELD_VALUE),
        ),
    ],
};

pub const HTTP_1_0_CODINGS: Rule = Rule {
    section: "RFC 9112 §6.1",
    says: "a Transfer-Encoding is a list of codings in the order applied, over all its \
           fields; in an HTTP/1.0 message the framing is faulty: close after it",
    cases: &[
        Case::new(
            "chunked in HTTP/1.0",
            "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
            response(200, b"ok", false),
        ),
        Case::new(
            "chunked in HTTP/1.0 with keep-alive asked",
            "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
            response(200, b"ok", false),
        ),
        Case::new(
            "coding names in any case",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: CHUNKED\r\n\r\n2\r\nok\r\n0\r\n\r\n",
            ok(b"ok"),
        ),
        Case::new(
            "two fields are one list",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
            refused_after_body(CODING_AT, CODINGS),
        ),
    ],
};

pub const NO_BODY: Rule = Rule {
    section: "RFC 9112 §6.3 rule 1",
    says: "a response to HEAD, and every 1xx, 204 and 304 response, ends at the empty \
           line after its fields, whatever the fields say",
    cases: &[
        Case::new(
            "HEAD, with a Content-Length",
            "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n",
            ok(b""),
        )
        .head(),
        Case::new(
            "HEAD, chunked",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
            ok(b""),
        )
        .head(),
        Case::new(
            "HEAD, with nonsense framing",
            "HTTP/1.1 200 OK\r\nContent-Length: nonsense\r\nTransfer-Encoding: gzip\r\n\r\n",
            ok(b""),
        )
        .head(),
        Case::new(
            "204, with a Content-Length",
            "HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n",
            response(204, b"", true),
        ),
        Case::new(
            "204, chunked",
            "HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n",
            response(204, b"", true),
        ),
        Case::new(
            "304, with a Content-Length",
            "HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n",
            response(304, b"", true),
        ),
        Case::new(
            "304, with conflicting Content-Lengths",
            "HTTP/1.1 304 Not Modified\r\nContent-Length: 1, 2\r\n\r\n",
            response(304, b"", true),
        ),
        Case::new(
            "a 1xx with a Content-Length",
            "HTTP/1.1 100 Continue\r\nContent-Length: 5\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
            ok(b"ok"),
        ),
    ],
};

pub const INTERIM: Rule = Rule {
    section: "RFC 9110 §15.2",
    says: "a client must be able to parse one or more 1xx responses before the final one, \
           even if it does not expect any",
    cases: &[
        Case::new(
            "100 Continue",
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
            ok(b"ok"),
        ),
        Case::new(
            "103 Early Hints, with fields",
            "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
            ok(b"ok"),
        )
        .no_field("Link"),
        Case::new(
            "several",
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
            ok(b"ok"),
        ),
        Case::new(
            "then a 404",
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
            response(404, b"", true),
        ),
        Case::new(
            "101 Switching Protocols is final",
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
            response(101, b"", false),
        ),
        Case::new(
            "a 1xx, then the close",
            "HTTP/1.1 100 Continue\r\n\r\n",
            truncated(25),
        ),
    ],
};

pub const TRANSFER_ENCODING_OVERRIDES: Rule = Rule {
    section: "RFC 9112 §6.3 rule 3",
    says: "with both Transfer-Encoding and Content-Length, Transfer-Encoding frames the \
           body; the message may be an attack, so the connection is not reused",
    cases: &[
        Case::new(
            "chunked, and a Content-Length",
            "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
            response(200, b"ok", false),
        ),
        Case::new(
            "a Content-Length after chunked",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n2\r\nok\r\n0\r\n\r\n",
            response(200, b"ok", false),
        ),
        Case::new(
            "an invalid Content-Length is ignored",
            "HTTP/1.1 200 OK\r\nContent-Length: -5\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
            response(200, b"ok", false),
        ),
        Case::new(
            "conflicting Content-Lengths are ignored",
            "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
            response(200, b"ok", false),
        ),
        Case::new(
            "a smuggled response after the chunks is never read",
            "HTTP/1.1 200 OK\r\nContent-Length: 47\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil",
            response(200, b"", false),
        )
        .unread(42),
        Case::new(
            "a final coding other than chunked, and a Content-Length",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 2\r\n\r\nok and more",
            refused_after_body(CODING_AT, CODINGS),
        ),
    ],
};

pub const TRANSFER_ENCODING: Rule = Rule {
    section: "RFC 9112 §6.3 rule 4",
    says: "chunked as the final coding frames the body in chunks; in a response whose \
           final coding is another, the body runs until the server closes the connection",
    cases: &[
        Case::new(
            "chunked",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
            ok(b"ok"),
        ),
        Case::new(
            "empty list elements around chunked",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: , chunked ,\r\n\r\n2\r\nok\r\n0\r\n\r\n",
            ok(b"ok"),
        ),
        Case::new(
            "gzip, chunked: chunks, then a coding not decoded",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
            refused_after_body(CODING_AT, CODINGS),
        ),
        Case::new(
            "chunked twice: chunks, then chunks again not decoded",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n7\r\n2\r\nok\r\n\r\n0\r\n\r\n",
            refused_after_body(CODING_AT, CODINGS),
        ),
        Case::new(
            "chunked, deflate: until the close",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, deflate\r\n\r\n2\r\nok\r\n0\r\n\r\n",
            refused_after_body(CODING_AT + 9, CODINGS),
        ),
        Case::new(
            "chunked, then identity in a second field: until the close",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\nbody",
            refused_after_body(CODING_AT + 28, CODINGS),
        ),
        Case::new(
            "chunkedchunked: until the close",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunkedchunked\r\n\r\nbody",
            refused_after_body(CODING_AT, CODINGS),
        ),
        Case::bytes(
            "gzip: until the close",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n\x1f\x8b\x08",
            refused_after_body(CODING_AT, CODINGS),
        ),
        Case::new(
            "no coding listed: until the close, nothing to undo",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: \r\n\r\nbody",
            until_close(200, b"body"),
        ),
    ],
};

pub const INVALID_CONTENT_LENGTH: Rule = Rule {
    section: "RFC 9112 §6.3 rule 5",
    says: "without Transfer-Encoding, an invalid Content-Length is an unrecoverable error, \
           unless it is a list of valid values that are all the same",
    cases: &[
        Case::new(
            "a list of two values",
            "HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nhello",
            refused(LENGTH_AT + 3, INVALID_LENGTH),
        ),
        Case::new(
            "two fields",
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
            refused(LENGTH_AT + 19, INVALID_LENGTH),
        ),
        Case::new(
            "a plus sign",
            "HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello",
            refused(LENGTH_AT, INVALID_LENGTH),
        ),
        Case::new(
            "a minus sign",
            "HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\nhello",
            refused(LENGTH_AT, INVALID_LENGTH),
        ),
        Case::new(
            "a space inside",
            "HTTP/1.1 200 OK\r\nContent-Length: 5 5\r\n\r\nhello",
            refused(LENGTH_AT, INVALID_LENGTH),
        ),
        Case::new(
            "a thousands separator",
            "HTTP/1.1 200 OK\r\nContent-Length: 1 000\r\n\r\nhello",
            refused(LENGTH_AT, INVALID_LENGTH),
        ),
        Case::new(
            "hexadecimal",
            "HTTP/1.1 200 OK\r\nContent-Length: 0x5\r\n\r\nhello",
            refused(LENGTH_AT, INVALID_LENGTH),
        ),
        Case::new(
            "a decimal point",
            "HTTP/1.1 200 OK\r\nContent-Length: 5.0\r\n\r\nhello",
            refused(LENGTH_AT, INVALID_LENGTH),
        ),
        Case::new(
            "empty",
            "HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\nhello",
            refused(LENGTH_AT, INVALID_LENGTH),
        ),
        Case::new(
            "commas only",
            "HTTP/1.1 200 OK\r\nContent-Length: , ,\r\n\r\nhello",
            refused(LENGTH_AT, INVALID_LENGTH),
        ),
        Case::new(
            "more than 64 bits",
            "HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551616\r\n\r\nhello",
            refused(LENGTH_AT, INVALID_LENGTH),
        ),
    ],
};

pub const CONTENT_LENGTH: Rule = Rule {
    section: "RFC 9112 §6.3 rule 6",
    says: "a valid Content-Length without Transfer-Encoding is the body's length; a \
           connection closed before that many bytes is an incomplete message",
    cases: &[
        Case::new(
            "a length",
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
            ok(b"hello"),
        ),
        Case::new(
            "zero",
            "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
            ok(b""),
        ),
        Case::new(
            "leading zeros",
            "HTTP/1.1 200 OK\r\nContent-Length: 005\r\n\r\nhello",
            ok(b"hello"),
        ),
        Case::new(
            "whitespace around it",
            "HTTP/1.1 200 OK\r\nContent-Length: \t 5 \t\r\n\r\nhello",
            ok(b"hello"),
        ),
        Case::new(
            "5, 5 is 5",
            "HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\nhello",
            ok(b"hello"),
        ),
        Case::new(
            "two fields with the same value",
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\nhello",
            ok(b"hello"),
        ),
        Case::new(
            "an empty list element is ignored",
            "HTTP/1.1 200 OK\r\nContent-Length: 5,\r\n\r\nhello",
            ok(b"hello"),
        ),
        Case::new(
            "the close before the last byte",
            "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
            truncated(42),
        ),
    ],
};

pub const UNTIL_CLOSE: Rule = Rule {
    section: "RFC 9112 §6.3 rule 8",
    says: "a response with neither Transfer-Encoding nor Content-Length ends when the \
           server closes the connection",
    cases: &[
        Case::new(
            "HTTP/1.1",
            "HTTP/1.1 200 OK\r\n\r\nuntil the end",
            until_close(200, b"until the end"),
        ),
        Case::new(
            "HTTP/1.0",
            "HTTP/1.0 200 OK\r\n\r\nold",
            until_close(200, b"old"),
        ),
        Case::new(
            "keep-alive asked, and still the close",
            "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n\r\nbody",
            until_close(200, b"body"),
        ),
        Case::new(
            "an empty body",
            "HTTP/1.1 200 OK\r\n\r\n",
            until_close(200, b""),
        ),
        Case::new(
            "an error status",
            "HTTP/1.1 404 Not Found\r\n\r\ngone",
            until_close(404, b"gone"),
        ),
    ],
};

pub const CHUNKS: Rule = Rule {
    section: "RFC 9112 §7.1",
    says: "a chunked body is chunks, each its size in hex and that many bytes, up to a \
           chunk of size 0, trailer fields and an empty line",
    cases: &[
        Case::new(
            "chunks",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n",
            ok(b"Wikipedia"),
        ),
        Case::new(
            "hex digits in either case, leading zeros",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\n00B\r\nabcdefghijk\r\n0\r\n\r\n",
            ok(b"0123456789abcdefghijk"),
        ),
        Case::new(
            "bare LF line ends (a leniency)",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\nWiki\n0\n\n",
            ok(b"Wiki"),
        ),
        Case::new(
            "a size that is not hex",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n",
            refused(CHUNKED_HEAD_LEN, CHUNKED),
        ),
        Case::new(
            "a size over 64 bits",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n",
            refused(CHUNKED_HEAD_LEN, CHUNKED),
        ),
        Case::new(
            "data longer than its size",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n",
            refused(CHUNKED_HEAD_LEN + 6, CHUNKED),
        ),
        Case::new(
            "the close before the last chunk",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",
            truncated(CHUNKED_HEAD_LEN + 8),
        ),
    ],
};

pub const CHUNK_EXTENSIONS: Rule = Rule {
    section: "RFC 9112 §7.1.1",
    says: "a recipient must ignore chunk extensions it does not understand",
    cases: &[
        Case::new(
            "an extension",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;name=value\r\nWiki\r\n0\r\n\r\n",
            ok(b"Wiki"),
        ),
        Case::new(
            "a quoted value",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;name=\"a; b\"\r\nWiki\r\n0\r\n\r\n",
            ok(b"Wiki"),
        ),
        Case::new(
            "several, with whitespace",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4 ; a ; b = 1;c\r\nWiki\r\n0\r\n\r\n",
            ok(b"Wiki"),
        ),
        Case::new(
            "on the last chunk",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n0;last\r\n\r\n",
            ok(b"Wiki"),
        ),
        Case::new(
            "a control byte in one",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;a\0\r\nWiki\r\n0\r\n\r\n",
            refused(CHUNKED_HEAD_LEN + 3, CHUNKED),
        ),
    ],
};

pub const TRAILERS: Rule = Rule {
    section: "RFC 9112 §7.1.2",
    says: "trailer fields after the last chunk follow the field rules; a recipient may \
           discard them, and they never frame the message",
    cases: &[
        Case::new(
            "a trailer field, dropped",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nExpires: never\r\n\r\n",
            ok(b"ok"),
        )
        .no_field("Expires"),
        Case::new(
            "a Content-Length in the trailers frames nothing",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nContent-Length: 99\r\nX: y\r\n\r\n",
            ok(b"ok"),
        ),
        Case::new(
            "a trailer line without a colon",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nBad trailer\r\n\r\n",
            refused(CHUNKED_HEAD_LEN + 3, FIELD_LINE),
        ),
        Case::new(
            "a control byte in a trailer",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: a\0\r\n\r\n",
            refused(CHUNKED_HEAD_LEN + 7, FIELD_VALUE),
        ),
        Case::new(
            "a trailer section starting with whitespace",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n X: 1\r\n\r\n",
            refused(CHUNKED_HEAD_LEN + 3, LINES),
        ),
    ],
};

pub const PERSISTENCE: Rule = Rule {
    section: "RFC 9112 §9.3",
    says: "a `close` connection option ends the connection after the response; otherwise \
           HTTP/1.1 persists, and HTTP/1.0 only with the `keep-alive` option",
    cases: &[
        Case::new(
            "HTTP/1.1 persists",
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
            response(200, b"ok", true),
        ),
        Case::new(
            "close",
            "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
            response(200, b"ok", false),
        ),
        Case::new(
            "close, in any case",
            "HTTP/1.1 200 OK\r\nConnection: CLOSE\r\nContent-Length: 2\r\n\r\nok",
            response(200, b"ok", false),
        ),
        Case::new(
            "close among several options",
            "HTTP/1.1 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 2\r\n\r\nok",
            response(200, b"ok", false),
        ),
        Case::new(
            "close in a second field",
            "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nConnection: Upgrade, close\r\nContent-Length: 2\r\n\r\nok",
            response(200, b"ok", false),
        ),
        Case::new(
            "an option that only contains close",
            "HTTP/1.1 200 OK\r\nConnection: closed, x-close\r\nContent-Length: 2\r\n\r\nok",
            response(200, b"ok", true),
        ),
        Case::new(
            "HTTP/1.0 closes",
            "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
            response(200, b"ok", false),
        ),
        Case::new(
            "HTTP/1.0 with keep-alive",
            "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok",
            response(200, b"ok", true),
        ),
        Case::new(
            "HTTP/1.0 with Keep-Alive among several options",
            "HTTP/1.0 200 OK\r\nConnection: x-option, Keep-Alive\r\nContent-Length: 2\r\n\r\nok",
            response(200, b"ok", true),
        ),
        Case::new(
            "HTTP/1.0 with keep-alive in a second field",
            "HTTP/1.0 200 OK\r\nConnection: x-option\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok",
            response(200, b"ok", true),
        ),
        Case::new(
            "HTTP/1.0 with keep-alive and close",
            "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
            response(200, b"ok", false),
        ),
        Case::new(
            "HTTP/1.0 with a Keep-Alive field but no option",
            "HTTP/1.0 200 OK\r\nKeep-Alive: timeout=5\r\nContent-Length: 2\r\n\r\nok",
            response(200, b"ok", false),
        ),
    ],
};

/// Every rule, in the order of the RFC.
pub const RULES: &[&Rule] = &[
    &LINE_ENDINGS,
    &STATUS,
    &FIELD_LINES,
    &FIELD_NAMES,
    &FIELD_VALUES,
    &OBS_FOLD,
    &HTTP_1_0_CODINGS,
    &NO_BODY,
    &INTERIM,
    &TRANSFER_ENCODING_OVERRIDES,
    &TRANSFER_ENCODING,
    &INVALID_CONTENT_LENGTH,
    &CONTENT_LENGTH,
    &UNTIL_CLOSE,
    &CHUNKS,
    &CHUNK_EXTENSIONS,
    &TRAILERS,
    &PERSISTENCE,
];

/// Every case of every rule, with its rule.
pub fn every_case() -> impl Iterator<Item = (&'static Rule, &'static Case)> {
    RULES
        .iter()
        .flat_map(|rule| rule.cases.iter().map(move |case| (*rule, case)))
}
