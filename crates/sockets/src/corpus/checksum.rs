//! The checksum every article carries, so a client can prove it received the whole body.
//!
//! FNV-1a, 64 bits: for each byte, `hash = (hash ^ byte) * prime`. Five lines, no table,
//! no dependency, and any change to the body (a lost chunk, a truncated read, bytes
//! from the wrong response on a reused connection) changes it with overwhelming odds.
//!
//! Why not SHA-256? A cryptographic hash resists an *adversary* who crafts a body with
//! a given hash. Here the enemy is an accident — a parser bug, a dropped connection —
//! which does not craft anything, so a fast hash is enough. And speed matters: the
//! server hashes every article it sends and the client every article it receives, on
//! the same two cores as everything else. (FNV-1a is not fast as hashes go — one
//! multiply per byte — but it is fast enough and fits in your head.)

/// The response header that carries an article's checksum.
pub const CHECKSUM_HEADER: &str = "X-Checksum";

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// FNV-1a 64, fed piece by piece: a client that receives a body in several reads (or
/// in chunks) hashes each piece as it arrives instead of keeping them all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checksum {
    hash: u64,
}

impl Checksum {
    /// The hash of nothing yet.
    pub fn new() -> Checksum {
        Checksum { hash: FNV_OFFSET }
    }

    // ANCHOR: update
    /// Adds `bytes` to the hash.
    pub fn update(&mut self, bytes: &[u8]) {
        let mut hash = self.hash;
        for &byte in bytes {
            hash = (hash ^ u64::from(byte)).wrapping_mul(FNV_PRIME);
        }
        self.hash = hash;
    }
    // ANCHOR_END: update

    /// The hash of everything given so far.
    pub fn value(&self) -> u64 {
        self.hash
    }

    /// The hash as the header carries it: 16 lowercase hex digits.
    pub fn hex(&self) -> String {
        format!("{:016x}", self.hash)
    }
}

impl Default for Checksum {
    fn default() -> Checksum {
        Checksum::new()
    }
}

/// The checksum of `body` as the [`CHECKSUM_HEADER`] carries it: 16 lowercase hex digits.
pub fn checksum(body: &[u8]) -> String {
    let mut sum = Checksum::new();
    sum.update(body);
    sum.hex()
}

/// Whether `body` matches a [`CHECKSUM_HEADER`] value. Accepts upper-case hex and
/// surrounding spaces; anything that is not 16 hex digits does not match.
pub fn verify(body: &[u8], header_value: &str) -> bool {
    let value = header_value.trim();
    let Ok(expected) = u64::from_str_radix(value, 16) else {
        return false;
    };
    // from_str_radix accepts a leading '+' and fewer digits; the header has exactly 16.
    if value.len() != 16 || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return false;
    }
    let mut sum = Checksum::new();
    sum.update(body);
    sum.value() == expected
}
