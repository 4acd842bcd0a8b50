//! Graded tests for exercise `sockets/dechunk`.
//!
//! Besides the grammar itself (sizes, extensions, data that contains CR LF, trailers,
//! the final empty line), the tests go to the edges a hand-written decoder misses: a
//! body cut at every byte must ask for more, never be decoded short or called bad; a
//! size is hexadecimal digits and nothing else (`u64::from_str_radix` alone also takes
//! a `+`, and `trim()` lets spaces around the digits through); the last chunk is the
//! size 0 however it is written; and the largest sizes, up to `u64::MAX`, are answered
//! without an arithmetic overflow (a panic in the debug build the tests run in).
//!
//! Every check names the input it decoded (as a byte string, `b"4\r\nWiki..."`) and the
//! rule of the task it checks ([`graded::case`]), and a panic in `dechunk` is reported
//! as one, with the input that caused it.

#[path = "../../../tests/common/mod.rs"]
mod common;

use common::Bytes;

use graded::case;
use sockets_dechunk::{DechunkError, dechunk};

/// Decodes `input` and checks the answer against `expected` (the body and how many bytes
/// it used, or the error), for the task's `rule`. A failure points at the line that
/// called it (`track_caller`), not at this helper.
#[track_caller]
fn decodes(input: &[u8], rule: &str, expected: Result<(&[u8], usize), DechunkError>) {
    let c = case(Bytes(input.to_vec()), rule);
    let got = c.run(|| dechunk(input));
    c.eq(
        got.map(|(body, used)| (Bytes(body), used)),
        expected.map(|(body, used)| (Bytes(body.to_vec()), used)),
    );
}

#[test]
fn decodes_chunks_and_says_how_much_it_used() {
    let input = b"4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\nNEXT";
    decodes(
        input,
        "the body, and how many bytes it used: all, up to the final empty line, not NEXT",
        Ok((b"Wikipedia", input.len() - 4)),
    );
}

#[test]
fn ignores_extensions_and_trailers_and_reads_upper_case_hex() {
    let input = b"A;name=value\r\n0123456789\r\n0\r\nExpires: never\r\nX-Other: 1\r\n\r\n";
    decodes(
        input,
        "hex sizes (A is 10), extensions and trailers ignored",
        Ok((b"0123456789", input.len())),
    );
}

#[test]
fn reads_lower_and_mixed_case_hex_of_several_digits() {
    // 0x1f = 31 and 0x10 = 16 bytes: a decimal reading would take 10 bytes, not 16.
    let first = [b'a'; 0x1f];
    let second = [b'b'; 0x10];
    let mut input = b"1f\r\n".to_vec();
    input.extend_from_slice(&first);
    input.extend_from_slice(b"\r\n10\r\n");
    input.extend_from_slice(&second);
    input.extend_from_slice(b"\r\n0\r\n\r\n");
    let mut want = first.to_vec();
    want.extend_from_slice(&second);
    decodes(
        &input,
        "sizes are hex (1f is 31 bytes, 10 is 16)",
        Ok((&want, input.len())),
    );
    let mixed = b"Fe;x\r\n".iter().chain(&[b'c'; 0xfe]).copied();
    let input: Vec<u8> = mixed.chain(b"\r\n0\r\n\r\n".iter().copied()).collect();
    decodes(
        &input,
        "sizes are hex, in either case (Fe is 254 bytes)",
        Ok((&[b'c'; 0xfe], input.len())),
    );
}

#[test]
fn an_empty_body_is_just_the_last_chunk() {
    decodes(
        b"0\r\n\r\n",
        "a last chunk of size 0, then the final empty line",
        Ok((b"", 5)),
    );
}

#[test]
fn the_last_chunk_is_size_zero_however_it_is_written() {
    // Leading zeros, an extension, trailers: all still the chunk of size 0.
    let rule = "any size whose value is 0 (00, 0;x) is the last chunk";
    decodes(b"000\r\n\r\n", rule, Ok((b"", 7)));
    decodes(b"0;final=yes\r\n\r\nNEXT", rule, Ok((b"", 15)));
    let input = b"3\r\nabc\r\n00;x\r\nTrailer: 1\r\n\r\n";
    decodes(input, rule, Ok((b"abc", input.len())));
}

#[test]
fn leading_zeros_do_not_make_a_size_too_large() {
    // 20 digits, more than a u64 holds, but the value is 4.
    let input = b"00000000000000000004\r\nWiki\r\n0\r\n\r\n";
    decodes(
        input,
        "leading zeros are fine: the value (4) counts, not the number of digits",
        Ok((b"Wiki", input.len())),
    );
}

#[test]
fn chunk_data_may_contain_crlf() {
    let input = b"6\r\na\r\nb\r\n\r\n0\r\n\r\n";
    decodes(
        input,
        "a chunk's data is its size in bytes, whatever they are (CR LF included)",
        Ok((b"a\r\nb\r\n", input.len())),
    );
}

#[test]
fn a_single_byte_chunk_and_many_chunks() {
    let mut input = Vec::new();
    for byte in b"chunked" {
        input.extend_from_slice(b"1\r\n");
        input.push(*byte);
        input.extend_from_slice(b"\r\n");
    }
    input.extend_from_slice(b"0\r\n\r\n");
    decodes(
        &input,
        "the body is every chunk's data, in order",
        Ok((b"chunked", input.len())),
    );
}

#[test]
fn incomplete_input_asks_for_more_wherever_it_is_cut() {
    // Every part of the grammar, each cut at every byte: a size line, an extension,
    // data, the CR LF after data (cut between its CR and its LF too), the last chunk,
    // a trailer, the final empty line.
    let whole = b"4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nExpires: never\r\n\r\n";
    for end in 0..whole.len() {
        decodes(
            &whole[..end],
            "input that ends anywhere before the final empty line is Incomplete",
            Err(DechunkError::Incomplete),
        );
    }
    decodes(
        whole,
        "the same body, whole: decoded",
        Ok((b"Wikipedia", whole.len())),
    );
}

#[test]
fn bad_sizes_and_terminators_name_their_offset() {
    let bad_size = "a bad size is BadSize at the offset where its line starts";
    decodes(
        b"zz\r\nab\r\n0\r\n\r\n",
        bad_size,
        Err(DechunkError::BadSize(0)),
    );
    decodes(
        b"2\r\nab\r\nq\r\n\r\n",
        bad_size,
        Err(DechunkError::BadSize(7)),
    );
    decodes(
        b"FFFFFFFFFFFFFFFFFF\r\n",
        "a size that overflows a u64 is BadSize at the offset where its line starts",
        Err(DechunkError::BadSize(0)),
    );
    let bad_end = "data not followed by CR LF is BadTerminator at the offset after the data";
    decodes(
        b"2\r\nabXY0\r\n\r\n",
        bad_end,
        Err(DechunkError::BadTerminator(5)),
    );
    decodes(
        b"1\r\na\r\n3\r\nabc\n\n0\r\n\r\n",
        "a bare LF after the data is not its CR LF: BadTerminator after the data",
        Err(DechunkError::BadTerminator(12)),
    );
    // The two bytes after the data are there, and wrong: that is known now, however
    // little follows them (here nothing), so it is an error, not a wait for more.
    decodes(
        b"2\r\nabXY",
        "two wrong bytes after the data are BadTerminator, even at the end of the input",
        Err(DechunkError::BadTerminator(5)),
    );
}

#[test]
fn a_size_is_hex_digits_and_nothing_else() {
    // A sign, a 0x prefix, no digits at all, a digit of another base, a byte that is
    // not UTF-8: none is a size, at whichever chunk it comes.
    for (bad, offset) in [
        (&b"+4\r\nWiki\r\n0\r\n\r\n"[..], 0),
        (b"-0\r\n\r\n", 0),
        (b"0x4\r\nWiki\r\n0\r\n\r\n", 0),
        (b"\r\nWiki\r\n0\r\n\r\n", 0),
        (b";ext\r\nWiki\r\n0\r\n\r\n", 0),
        (b"4g\r\nWiki\r\n0\r\n\r\n", 0),
        (b"1\r\na\r\n+0\r\n\r\n", 6),
        (b"1\r\na\r\n\xff\r\n\r\n", 6),
    ] {
        decodes(
            bad,
            "a size is one or more hex digits (no sign, no 0x), else BadSize at its line",
            Err(DechunkError::BadSize(offset)),
        );
    }
}

#[test]
fn a_size_line_has_no_spaces_around_its_digits() {
    // Spaces or a tab before or after the digits, before the ';' of an extension, and a
    // no-break space (C2 A0 in UTF-8), which `str::trim` removes too: the digits are
    // the whole size, so each of these is a bad size, at whichever chunk it comes.
    for (bad, offset) in [
        (&b" 4\r\nWiki\r\n0\r\n\r\n"[..], 0),
        (b"4 \r\nWiki\r\n0\r\n\r\n", 0),
        (b"\t4\r\nWiki\r\n0\r\n\r\n", 0),
        (b"4\t\r\nWiki\r\n0\r\n\r\n", 0),
        (b"4 ;x\r\nWiki\r\n0\r\n\r\n", 0),
        (b"\xc2\xa04\r\nWiki\r\n0\r\n\r\n", 0),
        (b"1\r\na\r\n0 \r\n\r\n", 6),
        (b"1\r\na\r\n 0;x\r\n\r\n", 6),
    ] {
        decodes(
            bad,
            "a size is hex digits only, no spaces or tabs, else BadSize at its line",
            Err(DechunkError::BadSize(offset)),
        );
    }
    // After the ';', spaces belong to the extension, which is ignored whatever it holds.
    let input = b"4;  note = \"a b\" \r\nWiki\r\n0; last \r\n\r\n";
    decodes(
        input,
        "after the ';', extensions are ignored whatever they hold, spaces included",
        Ok((b"Wiki", input.len())),
    );
}

#[test]
fn a_large_size_that_fits_waits_for_its_data() {
    // 4 GiB and 1 TiB: more than a u32 holds, far less than a u64 does. The data has
    // not arrived yet: that is Incomplete, not a bad size.
    let rule = "a size that fits a u64 is not bad: its data has not all arrived, Incomplete";
    decodes(b"100000000\r\nab", rule, Err(DechunkError::Incomplete));
    decodes(b"10000000000\r\n", rule, Err(DechunkError::Incomplete));
    decodes(
        b"1\r\na\r\nFFFFFFFFFF;big\r\nxyz",
        rule,
        Err(DechunkError::Incomplete),
    );
}

#[test]
fn the_largest_sizes_are_answered_without_overflow() {
    // The size line below is 16 digits and CR LF: the data would start at byte 18 and
    // end, after its own CR LF, at 18 + size + 2. From u64::MAX - 19 up, that end is
    // past usize::MAX: a bad size. Just below, the end can be counted and the data has
    // not arrived: incomplete.
    let line = |size: u64| format!("{size:016X}\r\n").into_bytes();
    for size in [u64::MAX, u64::MAX - 1, u64::MAX - 18, u64::MAX - 19] {
        decodes(
            &line(size),
            "a size whose chunk end (after its CR LF) overflows a usize is BadSize at its \
             line, without an overflow in your arithmetic",
            Err(DechunkError::BadSize(0)),
        );
    }
    decodes(
        &line(u64::MAX - 20),
        "the largest size whose chunk end fits in a usize waits for its data: Incomplete",
        Err(DechunkError::Incomplete),
    );
    // The same at a later chunk: the offset is where that chunk's size line starts.
    let mut later = b"2\r\nab\r\n".to_vec();
    later.extend_from_slice(&line(u64::MAX));
    decodes(
        &later,
        "a size too large to count is BadSize at the offset where its line starts",
        Err(DechunkError::BadSize(7)),
    );
}
