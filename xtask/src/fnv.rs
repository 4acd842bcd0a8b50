//! FNV-1a, 64 bits: a fingerprint of some bytes that is the same on every machine and
//! every Rust version (the standard library's hasher promises neither). It only has to
//! notice a change, not resist an adversary. The progress file fingerprints exercise
//! files with it; cargo-mutants' reports, the solutions and tests they were made from.

/// A fingerprint being computed: feed it bytes, piece by piece.
#[derive(Debug, Clone, Copy)]
pub struct Fnv(u64);

impl Fnv {
    pub fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    pub fn feed(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    /// The fingerprint as 16 hex digits.
    pub fn hex(&self) -> String {
        format!("{:016x}", self.0)
    }
}

impl Default for Fnv {
    fn default() -> Fnv {
        Fnv::new()
    }
}

/// The fingerprint of `bytes`, as 16 hex digits.
pub fn fingerprint(bytes: &[u8]) -> String {
    let mut fnv = Fnv::new();
    fnv.feed(bytes);
    fnv.hex()
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_values() {
        // FNV-1a of the empty input is its offset basis; of "a", the published value.
        assert_eq!(super::fingerprint(b""), "cbf29ce484222325");
        assert_eq!(super::fingerprint(b"a"), "af63dc4c8601ec8c");
    }
}
