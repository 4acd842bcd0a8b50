//! Compressed bodies: `Content-Encoding: gzip` or `deflate`, decoded with flate2.
//!
//! The downloader asks for them (`Accept-Encoding: gzip, deflate`, unless
//! `--no-compress`), and saves the document, not its compressed form. Only a response
//! that says it is encoded is decoded: the corpus server, and every server that sends
//! plain bytes, costs one header lookup and nothing more.
//!
//! A compressed body is small on the wire and may be huge once decoded (a "zip bomb":
//! a megabyte of gzip can inflate to a gigabyte). The size limit (`--max-size`)
//! applies to the decoded bytes: decoding stops one byte past it, and the document is
//! refused, whatever the codec let through on the wire.

use std::io::Read;

use flate2::read::{DeflateDecoder, MultiGzDecoder, ZlibDecoder};

use crate::error::FetchError;

/// The `Accept-Encoding` the downloader sends.
pub const ACCEPT_ENCODING: &str = "gzip, deflate";

/// Most codings one response may stack (`Content-Encoding: gzip, gzip` is legal; more
/// than two is a server bug or an attack).
const MAX_CODINGS: usize = 2;

// ANCHOR: decode
/// The document in `body`, encoded as `encoding` says (the value of every
/// `Content-Encoding` header, joined by commas), decoded; at most `limit` bytes.
/// `identity` (or an empty value) means the body as it is.
pub fn decode(encoding: &str, body: Vec<u8>, limit: usize) -> Result<Vec<u8>, FetchError> {
    let codings: Vec<&str> = encoding
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty() && !c.eq_ignore_ascii_case("identity"))
        .collect();
    if codings.len() > MAX_CODINGS {
        return Err(FetchError::Encoding {
            coding: shorten(encoding),
            reason: format!("more than {MAX_CODINGS} codings stacked"),
        });
    }
    // Applied in the order listed, so undone in the reverse order.
    let mut body = body;
    for coding in codings.into_iter().rev() {
        body = decode_one(coding, &body, limit)?;
    }
    Ok(body)
}
// ANCHOR_END: decode

fn decode_one(coding: &str, body: &[u8], limit: usize) -> Result<Vec<u8>, FetchError> {
    match coding.to_ascii_lowercase().as_str() {
        "gzip" | "x-gzip" => read_limited(coding, MultiGzDecoder::new(body), limit),
        // RFC 9110 says zlib (RFC 1950); some servers send a raw deflate stream
        // (RFC 1951) instead, which a zlib header check tells apart.
        "deflate" if is_zlib(body) => read_limited(coding, ZlibDecoder::new(body), limit),
        "deflate" => read_limited(coding, DeflateDecoder::new(body), limit),
        _ => Err(FetchError::Encoding {
            coding: shorten(coding),
            reason: format!("not one this downloader decodes (it asks for {ACCEPT_ENCODING})"),
        }),
    }
}

/// A zlib header: method 8 (deflate), and the two bytes a multiple of 31 (RFC 1950).
fn is_zlib(body: &[u8]) -> bool {
    match body {
        [cmf, flg, ..] => cmf & 0x0f == 8 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0,
        _ => false,
    }
}

/// Everything `decoder` gives, stopping one byte past `limit`.
fn read_limited(coding: &str, decoder: impl Read, limit: usize) -> Result<Vec<u8>, FetchError> {
    let mut out = Vec::new();
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    decoder
        .take(cap)
        .read_to_end(&mut out)
        .map_err(|e| FetchError::Corrupt {
            coding: shorten(coding),
            reason: e.to_string(),
        })?;
    if out.len() > limit {
        return Err(FetchError::DecodedTooLarge { limit });
    }
    Ok(out)
}

/// The first bytes of a header value, for an error message.
fn shorten(text: &str) -> String {
    text.chars().take(64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::{DeflateEncoder, GzEncoder, ZlibEncoder};
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn gzip_zlib_and_raw_deflate_are_decoded() {
        let text = b"hello, hello, hello, hello".repeat(50);
        assert_eq!(decode("gzip", gzip(&text), 1 << 20).unwrap(), text);
        assert_eq!(decode("X-GZIP", gzip(&text), 1 << 20).unwrap(), text);
        let mut z = ZlibEncoder::new(Vec::new(), Compression::default());
        z.write_all(&text).unwrap();
        assert_eq!(
            decode("deflate", z.finish().unwrap(), 1 << 20).unwrap(),
            text
        );
        let mut d = DeflateEncoder::new(Vec::new(), Compression::default());
        d.write_all(&text).unwrap();
        assert_eq!(
            decode("deflate", d.finish().unwrap(), 1 << 20).unwrap(),
            text
        );
        assert_eq!(
            decode("gzip, gzip", gzip(&gzip(&text)), 1 << 20).unwrap(),
            text
        );
        assert_eq!(decode("identity", text.clone(), 1 << 20).unwrap(), text);
    }

    #[test]
    fn a_bomb_stops_one_byte_past_the_limit() {
        let bomb = gzip(&vec![0u8; 4 << 20]);
        assert!(bomb.len() < 8 * 1024, "{} bytes", bomb.len());
        assert_eq!(
            decode("gzip", bomb.clone(), 1 << 20),
            Err(FetchError::DecodedTooLarge { limit: 1 << 20 })
        );
        assert_eq!(decode("gzip", bomb, 4 << 20).unwrap().len(), 4 << 20);
    }

    #[test]
    fn unknown_stacked_and_corrupt_encodings_are_errors_not_panics() {
        assert!(matches!(
            decode("br", b"x".to_vec(), 10),
            Err(FetchError::Encoding { .. })
        ));
        assert!(matches!(
            decode("gzip, gzip, gzip", b"x".to_vec(), 10),
            Err(FetchError::Encoding { .. })
        ));
        let mut cut = gzip(b"some text that is long enough to be cut");
        cut.truncate(cut.len() / 2);
        assert!(matches!(
            decode("gzip", cut, 1000),
            Err(FetchError::Corrupt { .. })
        ));
        for junk in [&b""[..], b"\x1f\x8b", b"\x78\x9c", b"\xff\xff\xff\xff"] {
            let _ = decode("gzip", junk.to_vec(), 1000);
            let _ = decode("deflate", junk.to_vec(), 1000);
        }
    }
}
