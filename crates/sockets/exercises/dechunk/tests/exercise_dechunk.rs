//! Graded tests for exercise `sockets/dechunk`.
//!
//! Besides the grammar itself (sizes, extensions, data that contains CR LF, trailers,
//! the final empty line), the tests go to the edges a hand-written decoder misses: a
//! body cut at every byte must ask for more, never be decoded short or called bad; a
//! size is hexadecimal digits and nothing else (`u64::from_str_radix` alone also takes
//! a `+`); the last chunk is the size 0 however it is written; and the largest sizes,
//! up to `u64::MAX`, are answered without an arithmetic overflow (a panic in the debug
//! build the tests run in).

use sockets_dechunk::{DechunkError, dechunk};

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
    assert_eq!(dechunk(&input), Ok((want, input.len())));
    let mixed = b"Fe;x\r\n".iter().chain(&[b'c'; 0xfe]).copied();
    let input: Vec<u8> = mixed.chain(b"\r\n0\r\n\r\n".iter().copied()).collect();
    assert_eq!(dechunk(&input), Ok((vec![b'c'; 0xfe], input.len())));
}

#[test]
fn an_empty_body_is_just_the_last_chunk() {
    assert_eq!(dechunk(b"0\r\n\r\n"), Ok((vec![], 5)));
}

#[test]
fn the_last_chunk_is_size_zero_however_it_is_written() {
    // Leading zeros, an extension, trailers: all still the chunk of size 0.
    assert_eq!(dechunk(b"000\r\n\r\n"), Ok((vec![], 7)));
    assert_eq!(dechunk(b"0;final=yes\r\n\r\nNEXT"), Ok((vec![], 15)));
    let input = b"3\r\nabc\r\n00;x\r\nTrailer: 1\r\n\r\n";
    assert_eq!(dechunk(input), Ok((b"abc".to_vec(), input.len())));
}

#[test]
fn leading_zeros_do_not_make_a_size_too_large() {
    // 20 digits, more than a u64 holds, but the value is 4.
    let input = b"00000000000000000004\r\nWiki\r\n0\r\n\r\n";
    assert_eq!(dechunk(input), Ok((b"Wiki".to_vec(), input.len())));
}

#[test]
fn chunk_data_may_contain_crlf() {
    let input = b"6\r\na\r\nb\r\n\r\n0\r\n\r\n";
    assert_eq!(dechunk(input), Ok((b"a\r\nb\r\n".to_vec(), input.len())));
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
    assert_eq!(dechunk(&input), Ok((b"chunked".to_vec(), input.len())));
}

#[test]
fn incomplete_input_asks_for_more_wherever_it_is_cut() {
    // Every part of the grammar, each cut at every byte: a size line, an extension,
    // data, the CR LF after data (cut between its CR and its LF too), the last chunk,
    // a trailer, the final empty line.
    let whole = b"4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nExpires: never\r\n\r\n";
    for end in 0..whole.len() {
        assert_eq!(
            dechunk(&whole[..end]),
            Err(DechunkError::Incomplete),
            "cut at {end}: {:?}",
            String::from_utf8_lossy(&whole[..end])
        );
    }
    assert_eq!(dechunk(whole), Ok((b"Wikipedia".to_vec(), whole.len())));
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
        "a size that overflows a u64"
    );
    assert_eq!(
        dechunk(b"2\r\nabXY0\r\n\r\n"),
        Err(DechunkError::BadTerminator(5))
    );
    assert_eq!(
        dechunk(b"1\r\na\r\n3\r\nabc\n\n0\r\n\r\n"),
        Err(DechunkError::BadTerminator(12)),
        "a bare LF after the data is not its CR LF"
    );
    // The two bytes after the data are there, and wrong: that is known now, however
    // little follows them (here nothing), so it is an error, not a wait for more.
    assert_eq!(
        dechunk(b"2\r\nabXY"),
        Err(DechunkError::BadTerminator(5)),
        "a wrong terminator at the very end of the input"
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
        assert_eq!(
            dechunk(bad),
            Err(DechunkError::BadSize(offset)),
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
}

#[test]
fn a_large_size_that_fits_waits_for_its_data() {
    // 4 GiB and 1 TiB: more than a u32 holds, far less than a u64 does. The data has
    // not arrived yet: that is Incomplete, not a bad size.
    assert_eq!(dechunk(b"100000000\r\nab"), Err(DechunkError::Incomplete));
    assert_eq!(dechunk(b"10000000000\r\n"), Err(DechunkError::Incomplete));
    assert_eq!(
        dechunk(b"1\r\na\r\nFFFFFFFFFF;big\r\nxyz"),
        Err(DechunkError::Incomplete)
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
        assert_eq!(
            dechunk(&line(size)),
            Err(DechunkError::BadSize(0)),
            "size {size:#x}"
        );
    }
    assert_eq!(
        dechunk(&line(u64::MAX - 20)),
        Err(DechunkError::Incomplete),
        "size {:#x}",
        u64::MAX - 20
    );
    // The same at a later chunk: the offset is where that chunk's size line starts.
    let mut later = b"2\r\nab\r\n".to_vec();
    later.extend_from_slice(&line(u64::MAX));
    assert_eq!(dechunk(&later), Err(DechunkError::BadSize(7)));
}
