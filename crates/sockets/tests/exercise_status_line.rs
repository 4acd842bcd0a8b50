//! Graded tests for exercise `sockets/status-line`.

use sockets::exercises::status_line::{StatusLine, StatusLineError, parse_status_line};

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
fn rejects_bad_versions() {
    for bad in [
        "HTTP/2 200 OK",
        "HTTP/1.2 200 OK",
        "http/1.1 200 OK",
        "",
        "ICY 200 OK",
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
        "HTTP/1.1 2000 OK",
        "HTTP/1.1 abc OK",
        "HTTP/1.1 099 Low",
        "HTTP/1.1 600 High",
        "HTTP/1.1 +20 OK",
    ] {
        let got = parse_status_line(bad);
        assert!(
            matches!(got, Err(StatusLineError::Code | StatusLineError::Space)),
            "{bad:?} gave {got:?}"
        );
    }
    assert_eq!(
        parse_status_line("HTTP/1.1 600 High"),
        Err(StatusLineError::Code)
    );
}

#[test]
fn requires_single_spaces_after_version_and_code() {
    assert_eq!(
        parse_status_line("HTTP/1.1  200 OK"),
        Err(StatusLineError::Space)
    );
    assert_eq!(
        parse_status_line("HTTP/1.1200 OK"),
        Err(StatusLineError::Space)
    );
    assert_eq!(
        parse_status_line("HTTP/1.1 200OK"),
        Err(StatusLineError::Space)
    );
}
