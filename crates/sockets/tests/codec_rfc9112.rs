//! The response parser against RFC 9112, one test per rule, named by its section.
//!
//! The cases are the tables of `rfc9112/mod.rs`: raw bytes a server sends and what a
//! user agent must make of them. Each is fed whole, byte by byte and cut in two at every
//! position (`common::every_cut`), and every way must give the outcome the table says:
//! the response, or the error at the byte the table says, naming the rule.

mod common;
mod rfc9112;

use common::{Bytes, Event, every_cut};
use rfc9112::{Case, Expect, Rule};
use sockets::http::{HttpError, Limits, Parsed, Response, ResponseParser};

/// Checks every case of `rule`.
fn check(rule: &Rule) {
    assert!(!rule.cases.is_empty(), "{} has no case", rule.section);
    for case in rule.cases {
        check_case(rule, case);
    }
}

fn parser(case: &Case) -> ResponseParser {
    ResponseParser::new(case.method, Limits::default())
}

fn check_case(rule: &Rule, case: &Case) {
    let bytes = case.bytes;
    let what = format!("{} ({}): {:?}", case.name, rule.section, Bytes::of(bytes));
    let events = every_cut(|| parser(case), bytes);
    match case.expect {
        Expect::Response {
            status,
            body,
            keep_alive,
        } => {
            let Some(Event::Message { message, end }) = events.first() else {
                panic!("{what}: expected a response, got {events:?}");
            };
            assert_eq!(*end, bytes.len() - case.unread, "{what}: where it ends");
            assert_eq!(
                (message.status, Bytes::of(&message.body), message.keep_alive),
                (status, Bytes::of(body), keep_alive),
                "{what}: status, body and keep-alive"
            );
            if case.unread == 0 {
                assert_eq!(events[1..], [Event::Closed(None)], "{what}");
            } else {
                // Bytes after it on a connection that is not reused are never read.
                assert!(!keep_alive, "{what}: bytes left over on a kept connection");
            }
            check_field(&what, case, message);
        }
        Expect::UntilClose { status, body } => {
            let [Event::Closed(Some(message))] = events.as_slice() else {
                panic!("{what}: expected a body ended by the close, got {events:?}");
            };
            assert_eq!(
                (message.status, Bytes::of(&message.body), message.keep_alive),
                (status, Bytes::of(body), false),
                "{what}: status, body and keep-alive"
            );
            check_field(&what, case, message);
        }
        Expect::Refused { at, rule: cited } => {
            let error = the_error(&what, &events);
            check_error(&what, &error, at, cited);
        }
        Expect::RefusedAfterBody { at, rule: cited } => {
            let error = the_error(&what, &events);
            check_error(&what, &error, at, cited);
            // Framed first: every byte but the last is taken without complaint, so the
            // error cannot have come before the body's end.
            let mut parser = parser(case);
            assert_eq!(
                parser.feed(&bytes[..bytes.len() - 1]),
                Ok(Parsed::NeedMore),
                "{what}: refused before the end of the body"
            );
        }
        Expect::Truncated { at } => {
            let error = the_error(&what, &events);
            assert!(
                matches!(error, HttpError::Truncated { offset, .. } if offset == at),
                "{what}: expected a truncated response at byte {at}, got {error:?}"
            );
        }
    }
}

/// The one error `events` hold, after no response.
fn the_error(what: &str, events: &[Event<Response>]) -> HttpError {
    match events {
        [Event::Failed(error)] => error.clone(),
        other => panic!("{what}: expected an error, got {other:?}"),
    }
}

fn check_error(what: &str, error: &HttpError, at: usize, cited: &str) {
    assert!(
        !matches!(error, HttpError::Truncated { .. }),
        "{what}: truncated, not refused: {error:?}"
    );
    assert_eq!(
        error.offset(),
        at,
        "{what}: where the error points: {error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains(cited),
        "{what}: the message does not name {cited}: {message}"
    );
}

fn check_field(what: &str, case: &Case, response: &Response) {
    if let Some((name, value)) = case.field {
        assert_eq!(response.headers.get(name), value, "{what}: field {name}");
    }
}

#[test]
fn rfc9112_2_2_a_bare_lf_ends_a_line_a_bare_cr_is_refused() {
    check(&rfc9112::LINE_ENDINGS);
}

#[test]
fn rfc9112_4_the_status_line() {
    check(&rfc9112::STATUS);
}

#[test]
fn rfc9112_5_1_field_lines_and_no_whitespace_before_the_colon() {
    check(&rfc9112::FIELD_LINES);
}

#[test]
fn rfc9110_5_1_field_names_are_tokens() {
    check(&rfc9112::FIELD_NAMES);
}

#[test]
fn rfc9110_5_5_field_values_hold_no_control_bytes() {
    check(&rfc9112::FIELD_VALUES);
}

#[test]
fn rfc9112_5_2_obs_fold_in_a_response_is_replaced_by_a_space() {
    check(&rfc9112::OBS_FOLD);
}

#[test]
fn rfc9112_6_1_transfer_codings_and_http_1_0() {
    check(&rfc9112::HTTP_1_0_CODINGS);
}

#[test]
fn rfc9112_6_3_rule_1_head_1xx_204_and_304_have_no_body() {
    check(&rfc9112::NO_BODY);
}

#[test]
fn rfc9110_15_2_interim_responses_are_skipped() {
    check(&rfc9112::INTERIM);
}

#[test]
fn rfc9112_6_3_rule_3_transfer_encoding_overrides_content_length_and_closes() {
    check(&rfc9112::TRANSFER_ENCODING_OVERRIDES);
}

#[test]
fn rfc9112_6_3_rule_4_chunked_last_frames_by_chunks_otherwise_until_close() {
    check(&rfc9112::TRANSFER_ENCODING);
}

#[test]
fn rfc9112_6_3_rule_5_an_invalid_content_length_is_refused() {
    check(&rfc9112::INVALID_CONTENT_LENGTH);
}

#[test]
fn rfc9112_6_3_rule_6_a_valid_content_length_frames_the_body() {
    check(&rfc9112::CONTENT_LENGTH);
}

#[test]
fn rfc9112_6_3_rule_8_otherwise_the_body_runs_until_the_close() {
    check(&rfc9112::UNTIL_CLOSE);
}

#[test]
fn rfc9112_7_1_the_chunked_coding() {
    check(&rfc9112::CHUNKS);
}

#[test]
fn rfc9112_7_1_1_chunk_extensions_are_ignored() {
    check(&rfc9112::CHUNK_EXTENSIONS);
}

#[test]
fn rfc9112_7_1_2_trailer_fields_are_read_and_dropped() {
    check(&rfc9112::TRAILERS);
}

#[test]
fn rfc9112_9_3_connection_options_decide_persistence() {
    check(&rfc9112::PERSISTENCE);
}

/// Each table has its test above: a rule added to the tables without one fails here.
#[test]
fn every_rule_has_its_test() {
    let tested = [
        "RFC 9112 §2.2",
        "RFC 9112 §4",
        "RFC 9112 §5.1",
        "RFC 9110 §5.1",
        "RFC 9110 §5.5",
        "RFC 9112 §5.2",
        "RFC 9112 §6.1",
        "RFC 9112 §6.3 rule 1",
        "RFC 9110 §15.2",
        "RFC 9112 §6.3 rule 3",
        "RFC 9112 §6.3 rule 4",
        "RFC 9112 §6.3 rule 5",
        "RFC 9112 §6.3 rule 6",
        "RFC 9112 §6.3 rule 8",
        "RFC 9112 §7.1",
        "RFC 9112 §7.1.1",
        "RFC 9112 §7.1.2",
        "RFC 9112 §9.3",
    ];
    let sections: Vec<&str> = rfc9112::RULES.iter().map(|rule| rule.section).collect();
    assert_eq!(sections, tested);
}
