//! Graded tests for exercise `sockets/status-line`.
//!
//! Each rule of the task is tried at its edges: the first and last codes of the range
//! and the ones just outside it, a code with a fourth digit or a sign in front, a tab
//! where a space must be, a reason that starts with a space, and characters of two
//! bytes where a parser that slices at byte offsets would panic instead of answering.
//!
//! Every check names the line it parsed and the rule of the task it checks
//! ([`graded::case`]), and a panic in `parse_status_line` is reported as one, with the
//! line that caused it.

use graded::case;
use sockets_status_line::{StatusLine, StatusLineError, parse_status_line};

fn line(minor: u8, code: u16, reason: &str) -> StatusLine {
    StatusLine {
        minor,
        code,
        reason: reason.to_string(),
    }
}

/// Parses `input` and checks the answer against `expected`, for the task's `rule`. A
/// failure points at the line that called it (`track_caller`), not at this helper.
#[track_caller]
fn parses(input: &str, rule: &str, expected: Result<StatusLine, StatusLineError>) {
    let c = case(input, rule);
    let got = c.run(|| parse_status_line(input));
    c.eq(got, expected);
}

#[test]
fn parses_common_lines() {
    let rule = "HTTP/1.x, one space, three digits, one space, the reason";
    parses("HTTP/1.1 200 OK", rule, Ok(line(1, 200, "OK")));
    parses(
        "HTTP/1.0 404 Not Found",
        rule,
        Ok(line(0, 404, "Not Found")),
    );
    parses(
        "HTTP/1.1 503 Service  Unavailable ",
        "the reason is everything after the space, kept as is",
        Ok(line(1, 503, "Service  Unavailable ")),
    );
}

#[test]
fn an_empty_reason_is_fine() {
    let rule = "after the code: nothing, or one space and the reason (here empty)";
    parses("HTTP/1.1 204 ", rule, Ok(line(1, 204, "")));
    parses("HTTP/1.1 204", rule, Ok(line(1, 204, "")));
}

#[test]
fn the_reason_is_everything_after_one_space_even_more_spaces() {
    // Only the one space after the code separates; the rest, spaces included, is the
    // reason.
    let rule = "one space separates; the reason is everything after it, spaces included";
    parses("HTTP/1.1 200  OK", rule, Ok(line(1, 200, " OK")));
    parses("HTTP/1.0 500  ", rule, Ok(line(0, 500, " ")));
    parses(
        "HTTP/1.1 418 I'm a teapot\t(ünïcode)",
        rule,
        Ok(line(1, 418, "I'm a teapot\t(ünïcode)")),
    );
}

#[test]
fn the_first_and_last_codes_of_the_range_are_accepted() {
    let rule = "the code is from 100 to 999, both ends included";
    parses("HTTP/1.1 100 Continue", rule, Ok(line(1, 100, "Continue")));
    parses("HTTP/1.0 999 Last", rule, Ok(line(0, 999, "Last")));
    parses("HTTP/1.1 999", rule, Ok(line(1, 999, "")));
}

#[test]
fn codes_the_rfc_does_not_define_are_still_codes() {
    // RFC 9110 defines 100 to 599; a client reads 600 to 999 as a server error, it does
    // not refuse the response.
    let rule = "the code is from 100 to 999: 600 to 999 are codes too";
    parses("HTTP/1.1 600 Odd", rule, Ok(line(1, 600, "Odd")));
    parses(
        "HTTP/1.0 677 Invalid card",
        rule,
        Ok(line(0, 677, "Invalid card")),
    );
}

#[test]
fn rejects_bad_versions() {
    for bad in [
        "HTTP/2 200 OK",
        "HTTP/1.2 200 OK",
        "http/1.1 200 OK",
        "",
        "ICY 200 OK",
        "HTTP/1.",
        " HTTP/1.1 200 OK",
    ] {
        parses(
            bad,
            "the first 8 bytes are exactly HTTP/1.0 or HTTP/1.1, else Version",
            Err(StatusLineError::Version),
        );
    }
}

#[test]
fn rejects_bad_codes() {
    for bad in [
        "HTTP/1.1 20 OK",
        "HTTP/1.1 abc OK",
        "HTTP/1.1 099 Low",
        "HTTP/1.1 000 Zero",
        "HTTP/1.1 +20 OK",
        "HTTP/1.1 +200 OK",
        "HTTP/1.1 0200 OK",
        "HTTP/1.1 00200",
        "HTTP/1.1 ",
        "HTTP/1.1 20",
    ] {
        parses(
            bad,
            "exactly three ASCII digits from 100 to 999, no sign, else Code",
            Err(StatusLineError::Code),
        );
    }
}

#[test]
fn a_fourth_digit_is_a_code_or_a_space_error() {
    // "2000": three digits followed by a fourth where a space should be. Either way of
    // seeing it is an error; accepting it (as 200 or as 2000) is not.
    for bad in ["HTTP/1.1 2000 OK", "HTTP/1.1 2001"] {
        let c = case(bad, "a fourth digit is an error: Code or Space");
        let got = c.run(|| parse_status_line(bad));
        c.check(
            matches!(got, Err(StatusLineError::Code | StatusLineError::Space)),
            got,
        );
    }
}

#[test]
fn requires_single_spaces_after_version_and_code() {
    for bad in [
        "HTTP/1.1  200 OK",
        "HTTP/1.1200 OK",
        "HTTP/1.1 200OK",
        "HTTP/1.1",
        "HTTP/1.10 200 OK",
    ] {
        parses(
            bad,
            "exactly one space after the version, and one after the code, else Space",
            Err(StatusLineError::Space),
        );
    }
}

#[test]
fn a_tab_is_not_a_space() {
    for bad in ["HTTP/1.1\t200 OK", "HTTP/1.1 200\tOK"] {
        parses(
            bad,
            "the separator is a space, not a tab, else Space",
            Err(StatusLineError::Space),
        );
    }
}

#[test]
fn characters_of_several_bytes_are_errors_not_panics() {
    // "é" is two bytes in UTF-8: here it straddles byte 8 (the end of the version) or
    // byte 3 of the code, where a slice `[..8]` or `[..3]` would panic.
    let rule = "a character of several bytes is an error like any other, never a panic";
    parses("HTTP/1.é 200 OK", rule, Err(StatusLineError::Version));
    parses("é", rule, Err(StatusLineError::Version));
    parses("HTTP/1.1 12é OK", rule, Err(StatusLineError::Code));
    parses("HTTP/1.1 2é", rule, Err(StatusLineError::Code));
    parses("HTTP/1.1 200é", rule, Err(StatusLineError::Space));
    parses(
        "HTTP/1.1\u{a0}200 OK",
        "a no-break space is not a space: Space",
        Err(StatusLineError::Space),
    );
}
