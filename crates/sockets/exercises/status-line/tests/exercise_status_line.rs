//! Graded tests for exercise `sockets/status-line`.
//!
//! Each rule of the task is tried at its edges: the first and last codes of the range
//! and the ones just outside it, a code with a fourth digit or a sign in front, a tab
//! where a space must be, a reason that starts with a space, and characters of two
//! bytes where a parser that slices at byte offsets would panic instead of answering.

use sockets_status_line::{StatusLine, StatusLineError, parse_status_line};

fn line(minor: u8, code: u16, reason: &str) -> StatusLine {
    StatusLine {
        minor,
        code,
        reason: reason.to_string(),
    }
}

#[test]
fn parses_common_lines() {
    assert_eq!(parse_status_line("HTTP/1.1 200 OK"), Ok(line(1, 200, "OK")));
    assert_eq!(
        parse_status_line("HTTP/1.0 404 Not Found"),
        Ok(line(0, 404, "Not Found"))
    );
    assert_eq!(
        parse_status_line("HTTP/1.1 503 Service  Unavailable "),
        Ok(line(1, 503, "Service  Unavailable ")),
        "the reason is kept as is"
    );
}

#[test]
fn an_empty_reason_is_fine() {
    assert_eq!(parse_status_line("HTTP/1.1 204 "), Ok(line(1, 204, "")));
    assert_eq!(parse_status_line("HTTP/1.1 204"), Ok(line(1, 204, "")));
}

#[test]
fn the_reason_is_everything_after_one_space_even_more_spaces() {
    // Only the one space after the code separates; the rest, spaces included, is the
    // reason.
    assert_eq!(
        parse_status_line("HTTP/1.1 200  OK"),
        Ok(line(1, 200, " OK"))
    );
    assert_eq!(parse_status_line("HTTP/1.0 500  "), Ok(line(0, 500, " ")));
    assert_eq!(
        parse_status_line("HTTP/1.1 418 I'm a teapot\t(ünïcode)"),
        Ok(line(1, 418, "I'm a teapot\t(ünïcode)"))
    );
}

#[test]
fn the_first_and_last_codes_of_the_range_are_accepted() {
    assert_eq!(
        parse_status_line("HTTP/1.1 100 Continue"),
        Ok(line(1, 100, "Continue"))
    );
    assert_eq!(
        parse_status_line("HTTP/1.0 599 Last"),
        Ok(line(0, 599, "Last"))
    );
    assert_eq!(parse_status_line("HTTP/1.1 599"), Ok(line(1, 599, "")));
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
        assert_eq!(
            parse_status_line(bad),
            Err(StatusLineError::Version),
            "{bad:?}"
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
        "HTTP/1.1 600 High",
        "HTTP/1.1 999 High",
        "HTTP/1.1 +20 OK",
        "HTTP/1.1 +200 OK",
        "HTTP/1.1 0200 OK",
        "HTTP/1.1 00200",
        "HTTP/1.1 ",
        "HTTP/1.1 20",
    ] {
        assert_eq!(
            parse_status_line(bad),
            Err(StatusLineError::Code),
            "{bad:?}"
        );
    }
}

#[test]
fn a_fourth_digit_is_a_code_or_a_space_error() {
    // "2000": three digits followed by a fourth where a space should be. Either way of
    // seeing it is an error; accepting it (as 200 or as 2000) is not.
    for bad in ["HTTP/1.1 2000 OK", "HTTP/1.1 2001"] {
        let got = parse_status_line(bad);
        assert!(
            matches!(got, Err(StatusLineError::Code | StatusLineError::Space)),
            "{bad:?} gave {got:?}"
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
        assert_eq!(
            parse_status_line(bad),
            Err(StatusLineError::Space),
            "{bad:?}"
        );
    }
}

#[test]
fn a_tab_is_not_a_space() {
    for bad in ["HTTP/1.1\t200 OK", "HTTP/1.1 200\tOK"] {
        assert_eq!(
            parse_status_line(bad),
            Err(StatusLineError::Space),
            "{bad:?}"
        );
    }
}

#[test]
fn characters_of_several_bytes_are_errors_not_panics() {
    // "é" is two bytes in UTF-8: here it straddles byte 8 (the end of the version) or
    // byte 3 of the code, where a slice `[..8]` or `[..3]` would panic.
    assert_eq!(
        parse_status_line("HTTP/1.é 200 OK"),
        Err(StatusLineError::Version)
    );
    assert_eq!(parse_status_line("é"), Err(StatusLineError::Version));
    assert_eq!(
        parse_status_line("HTTP/1.1 12é OK"),
        Err(StatusLineError::Code)
    );
    assert_eq!(parse_status_line("HTTP/1.1 2é"), Err(StatusLineError::Code));
    assert_eq!(
        parse_status_line("HTTP/1.1 200é"),
        Err(StatusLineError::Space)
    );
    assert_eq!(
        parse_status_line("HTTP/1.1\u{a0}200 OK"),
        Err(StatusLineError::Space),
        "a no-break space is not a space"
    );
}
