//! The articles: document `id` generated from `id`, the same bytes on every call.
//!
//! A download test needs many documents whose right content is known without storing
//! them. So article `id` is *computed*: its size and its words come from a pseudo-random
//! generator seeded by `id`. Nothing is cached: the server makes each article again for
//! each request, so generating must be cheap (it shares two cores with the client in
//! every benchmark): one pass, no allocation but the article itself, about two bytes
//! per nanosecond (an average article in 2.5 µs).
//!
//! Sizes are spread like real articles: many short, few long. Between [`MIN_SIZE`] and
//! [`MAX_SIZE`], two in five under 2 KiB, one in ten over 12 KiB.

use std::sync::OnceLock;

/// The smallest article, in bytes.
pub const MIN_SIZE: usize = 1024;
/// The largest article, in bytes.
pub const MAX_SIZE: usize = 16 * 1024;

// ANCHOR: document_size
/// The size of article `id` in bytes, without generating it.
///
/// `u` is a uniform fraction taken from a hash of `id`; the size is `MIN + (MAX - MIN) *
/// u³`. Cubing pushes most values towards 0, hence the skew: the median article is
/// about 2.9 KiB, the mean about 4.8 KiB. Integer arithmetic only, so that every machine
/// computes the same size (a float `powf` may differ in its last bit between platforms).
pub fn document_size(id: u64) -> usize {
    let u = mix(id.wrapping_add(SIZE_SALT)) >> 48; // 16 bits: a fraction of 65536
    let spread = (MAX_SIZE - MIN_SIZE) as u64; // < 2^14, so spread * u³ < 2^62
    MIN_SIZE + ((spread * u * u * u) >> 48) as usize
}
// ANCHOR_END: document_size

/// Article `id`: a title line, then paragraphs of pseudo-words. Plain ASCII text.
pub fn document(id: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(document_size(id) + SLACK);
    write_document(id, &mut out);
    out
}

/// Appends article `id` to `out` (exactly [`document_size`]`(id)` bytes).
///
/// The hot loop copies whole 16-byte word slots into a buffer sized in advance and moves
/// the write position by the word's real length: a fixed-size copy the compiler turns
/// into two instructions, instead of a variable-length one per word. The bytes written
/// past the word are overwritten by the next one, and the slack is cut at the end.
pub fn write_document(id: u64, out: &mut Vec<u8>) {
    let size = document_size(id);
    let start = out.len();
    out.resize(start + size + SLACK, 0);
    let text = &mut out[start..];
    let vocabulary = vocabulary();
    let mut bits = Bits::new(id);
    let mut at = 0;

    // The title: two or three invented words, capitalised, then underlined.
    let title_words = 2 + bits.take(1) as usize;
    for _ in 0..title_words {
        let word = vocabulary.invented(bits.take(10));
        text[at..at + SLOT].copy_from_slice(&word.bytes);
        text[at] = text[at].to_ascii_uppercase();
        at += usize::from(word.len);
    }
    let title_len = at - 1; // without the space after the last word
    text[title_len] = b'\n';
    text[title_len + 1..2 * title_len + 1].fill(b'=');
    text[2 * title_len + 1..2 * title_len + 3].copy_from_slice(b"\n\n");
    at = 2 * title_len + 3;

    // Paragraphs of 3 to 8 sentences of 6 to 21 words, until the size is reached. A
    // word slot ends with a space; punctuation overwrites it and adds a new one. One
    // random number per word: its low 10 bits choose the word, the next 4 a comma.
    'text: loop {
        let sentences = 3 + bits.take(3) % 6;
        for _ in 0..sentences {
            let words = 6 + bits.take(4);
            for w in 0..words {
                let random = bits.next();
                let word = vocabulary.pick(random & 0x3ff);
                text[at..at + SLOT].copy_from_slice(&word.bytes);
                if w == 0 {
                    text[at] = text[at].to_ascii_uppercase();
                }
                at += usize::from(word.len);
                if at >= size {
                    break 'text;
                }
                if (random >> 10) & 0xf == 0 && w + 1 < words {
                    text[at - 1..at + 1].copy_from_slice(b", ");
                    at += 1;
                }
            }
            text[at - 1..at + 1].copy_from_slice(b". ");
            at += 1;
        }
        // The paragraph ends: its last ". " becomes ".\n\n".
        text[at - 1..at + 1].copy_from_slice(b"\n\n");
        at += 1;
    }
    // Cut to the exact size; a text file ends with a newline.
    out.truncate(start + size);
    if let Some(last) = out.last_mut() {
        *last = b'\n';
    }
}

/// The bytes of a word slot: up to 15 letters and a space.
const SLOT: usize = 16;
/// Room past the size for the last slot copied and the punctuation after it: the
/// loop stops once `at >= size`, so it never writes beyond `size + SLOT + 2`.
const SLACK: usize = SLOT + 2;

/// Salts keep the size hash and the text stream of the same id unrelated.
const SIZE_SALT: u64 = 0x5157_e5a1_7000_0001;
const TEXT_SALT: u64 = 0x7e47_0000_0000_0002;

/// The SplitMix64 finaliser: a bijection of `u64` whose output bits each depend on all
/// input bits. Two multiplies and three shifts, so hashing an id costs about a
/// nanosecond. Used for sizes, the text stream and the fault rolls.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A stream of random bits from SplitMix64 (a counter, mixed): 64 at a time, or a few
/// at a time for the small choices.
struct Bits {
    state: u64,
    buffer: u64,
    left: u32,
}

impl Bits {
    fn new(seed: u64) -> Bits {
        Bits {
            state: mix(seed.wrapping_add(TEXT_SALT)),
            buffer: 0,
            left: 0,
        }
    }

    /// The next 64 random bits (the buffered ones stay for [`Bits::take`]).
    fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.state)
    }

    /// The next `n` bits (1 to 32) as a number below `2^n`.
    fn take(&mut self, n: u32) -> u64 {
        if self.left < n {
            self.buffer = self.next();
            self.left = 64;
        }
        let value = self.buffer & ((1 << n) - 1);
        self.buffer >>= n;
        self.left -= n;
        value
    }
}

/// 1024 invented words plus a few real short ones, built once per process.
///
/// Words are invented from syllables by a generator with a fixed seed, so every process
/// (the server, a test, lesson 5's tokio server) builds the same list and therefore the
/// same articles.
struct Vocabulary {
    /// 1024 invented words, for titles.
    invented: Vec<Word>,
    /// 1024 words for the text: every fourth one is common, the others invented. A
    /// table lookup with 10 random bits then gives the mix without a branch (a branch
    /// taken at random one time in four is mispredicted often, and costs more than the
    /// copy of the word).
    text: Vec<Word>,
}

/// A word in a fixed 16-byte slot: its letters, a space, zeros; `len` counts the space.
#[derive(Clone, Copy)]
struct Word {
    bytes: [u8; SLOT],
    len: u8,
}

impl Word {
    /// `letters` must be 1 to 15 bytes long.
    fn new(letters: &[u8]) -> Word {
        let mut bytes = [0; SLOT];
        bytes[..letters.len()].copy_from_slice(letters);
        bytes[letters.len()] = b' ';
        Word {
            bytes,
            len: letters.len() as u8 + 1,
        }
    }
}

/// Short English words, a quarter of the text, so that it reads like prose.
const COMMON: [&str; 16] = [
    "the", "of", "and", "in", "to", "a", "is", "was", "for", "on", "as", "by", "with", "from",
    "at", "that",
];

const ONSETS: [&str; 16] = [
    "b", "c", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "st",
];
const VOWELS: [&str; 8] = ["a", "e", "i", "o", "u", "ia", "ou", "ae"];
const CODAS: [&str; 8] = ["", "", "n", "r", "s", "l", "th", "m"];

fn vocabulary() -> &'static Vocabulary {
    static VOCABULARY: OnceLock<Vocabulary> = OnceLock::new();
    VOCABULARY.get_or_init(|| {
        let mut bits = Bits::new(0x0c0f_fee0);
        let mut invented = Vec::with_capacity(1024);
        while invented.len() < 1024 {
            let syllables = 1 + bits.take(2).min(2); // 1, 2, 3 or 3: longer words
            let mut word = Vec::new();
            for _ in 0..syllables {
                word.extend_from_slice(ONSETS[bits.take(4) as usize].as_bytes());
                word.extend_from_slice(VOWELS[bits.take(3) as usize].as_bytes());
                word.extend_from_slice(CODAS[bits.take(3) as usize].as_bytes());
            }
            // Three long syllables may not fit a slot: draw another word.
            if word.len() < SLOT {
                invented.push(Word::new(&word));
            }
        }
        let text = (0..invented.len())
            .map(|i| match i % 4 {
                0 => Word::new(COMMON[i / 4 % COMMON.len()].as_bytes()),
                _ => invented[i],
            })
            .collect();
        Vocabulary { invented, text }
    })
}

impl Vocabulary {
    /// An invented word, from 10 random bits.
    fn invented(&self, ten_bits: u64) -> &Word {
        &self.invented[ten_bits as usize % self.invented.len()]
    }

    /// A word of the text, from 10 random bits: a common word one time in four.
    fn pick(&self, ten_bits: u64) -> &Word {
        &self.text[ten_bits as usize % self.text.len()]
    }
}
