//! Graded tests for exercise `sockets/dechunk`.

use sockets::exercises::dechunk::{DechunkError, dechunk};

#[test]
fn decodes_chunks_and_says_how_much_it_used() {
    let input = b"4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\nNEXT";
    assert_eq!(dechunk(input), Ok((b"Wikipedia".to_vec(), input.len() - 4)));
}

#[test]
fn ignores_extensions_and_trailers_and_reads_upper_case_hex() {
    let input = b"A;name=value\r\n0123456789\r\n0\r\nExpires: never\r\nX-Other: 1\r\n\r\n";
    assert_eq!(dechunk(input), Ok((b"0123456789".to_vec(), input.len())));
}

#[test]
fn an_empty_body_is_just_the_last_chunk() {
    assert_eq!(dechunk(b"0\r\n\r\n"), Ok((vec![], 5)));
}

#[test]
fn chunk_data_may_contain_crlf() {
    let input = b"6\r\na\r\nb\r\n\r\n0\r\n\r\n";
    assert_eq!(dechunk(input).map(|(b, _)| b), Ok(b"a\r\nb\r\n".to_vec()));
}

#[test]
fn incomplete_input_asks_for_more() {
    let whole = b"4\r\nWiki\r\n0\r\n\r\n";
    for end in 0..whole.len() {
        assert_eq!(
            dechunk(&whole[..end]),
            Err(DechunkError::Incomplete),
            "cut at {end}"
        );
    }
}

#[test]
fn bad_sizes_and_terminators_name_their_offset() {
    assert_eq!(
        dechunk(b"zz\r\nab\r\n0\r\n\r\n"),
        Err(DechunkError::BadSize(0))
    );
    assert_eq!(
        dechunk(b"2\r\nab\r\nq\r\n\r\n"),
        Err(DechunkError::BadSize(7))
    );
    assert_eq!(
        dechunk(b"FFFFFFFFFFFFFFFFFF\r\n"),
        Err(DechunkError::BadSize(0)),
        "a size that overflows"
    );
    assert_eq!(
        dechunk(b"2\r\nabXY0\r\n\r\n"),
        Err(DechunkError::BadTerminator(5))
    );
}
