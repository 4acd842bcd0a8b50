//! The corpus's articles and checksums: deterministic, sized like articles, verifiable.

use sockets::corpus::{
    CHECKSUM_HEADER, Checksum, MAX_SIZE, MIN_SIZE, checksum, document, document_size, verify,
    write_document,
};

#[test]
fn an_article_is_the_same_on_every_call_and_differs_from_its_neighbours() {
    for id in [0, 1, 7, 12_345, u64::MAX] {
        assert_eq!(document(id), document(id), "article {id}");
    }
    assert_ne!(document(1), document(2));
    assert_ne!(checksum(&document(1)), checksum(&document(2)));
}

#[test]
fn an_article_has_its_announced_size_between_1_and_16_kib() {
    for id in (0..2_000).chain([u64::MAX - 1, u64::MAX]) {
        let text = document(id);
        assert_eq!(text.len(), document_size(id), "article {id}");
        assert!((MIN_SIZE..=MAX_SIZE).contains(&text.len()), "article {id}");
    }
    assert_eq!((MIN_SIZE, MAX_SIZE), (1024, 16 * 1024));
}

#[test]
fn sizes_are_skewed_like_articles_many_short_few_long() {
    let mut sizes: Vec<usize> = (0..20_000).map(document_size).collect();
    sizes.sort_unstable();
    let median = sizes[sizes.len() / 2];
    let mean = sizes.iter().sum::<usize>() / sizes.len();
    let long = sizes.iter().filter(|&&s| s > 12 * 1024).count();
    let short = sizes.iter().filter(|&&s| s < 2 * 1024).count();
    assert!((2_000..4_000).contains(&median), "median {median}");
    assert!((4_000..6_000).contains(&mean), "mean {mean}");
    // Many short, few long, but both kinds present.
    assert!(short > sizes.len() / 4, "{short} short");
    assert!(
        long > sizes.len() / 50 && long < sizes.len() / 5,
        "{long} long"
    );
    assert!(sizes[0] < MIN_SIZE + 64 && sizes[sizes.len() - 1] > MAX_SIZE - 512);
}

#[test]
fn an_article_is_text_a_title_then_paragraphs() {
    let text = String::from_utf8(document(7)).expect("ASCII text");
    let mut lines = text.lines();
    let title = lines.next().unwrap();
    let underline = lines.next().unwrap();
    assert!(
        title.starts_with(|c: char| c.is_ascii_uppercase()),
        "{title:?}"
    );
    assert_eq!(underline, "=".repeat(title.len()));
    assert_eq!(lines.next(), Some(""));
    assert!(text.ends_with('\n'));
    assert!(text.contains(". "), "sentences");
    assert!(
        text.bytes()
            .all(|b| b == b'\n' || (b' '..=b'~').contains(&b))
    );
}

#[test]
fn write_document_appends_to_what_is_there() {
    let mut out = b"head".to_vec();
    write_document(9, &mut out);
    assert_eq!(&out[..4], b"head");
    assert_eq!(&out[4..], document(9));
}

#[test]
fn the_checksum_is_16_hex_digits_and_fixed() {
    // Fixed values: a change to the function would make every client disagree with
    // every server of an older build.
    assert_eq!(checksum(b""), "cbf29ce484222325");
    // Computed by an independent implementation (a few lines of Python).
    assert_eq!(checksum(b"a"), "90c03d9195ec7b89");
    assert_eq!(checksum(b"foobar"), "19ee0999b56bb287");
    assert_eq!(checksum(b"0123456789abcdef!"), "58922f4f245f0f8a");
    assert_ne!(checksum(b"a"), checksum(b"b"));
    assert_eq!(CHECKSUM_HEADER, "X-Checksum");
}

#[test]
fn any_one_changed_byte_changes_the_checksum() {
    let body = document(11);
    let sum = checksum(&body);
    for at in (0..body.len()).step_by(7) {
        let mut changed = body.clone();
        changed[at] ^= 0x20;
        assert_ne!(checksum(&changed), sum, "byte {at} changed unnoticed");
    }
    assert_ne!(checksum(&body[..body.len() - 1]), sum, "a truncated body");
    assert_ne!(
        checksum(&[body.as_slice(), b" "].concat()),
        sum,
        "a byte too many"
    );
}

#[test]
fn the_checksum_can_be_fed_in_pieces() {
    let body = document(3);
    let mut sum = Checksum::new();
    for piece in body.chunks(777) {
        sum.update(piece);
    }
    assert_eq!(sum.hex(), checksum(&body));
    // Pieces that split words in every possible place.
    for size in 1..=17 {
        let mut sum = Checksum::new();
        for piece in body.chunks(size) {
            sum.update(piece);
        }
        assert_eq!(sum.hex(), checksum(&body), "pieces of {size}");
    }
}

#[test]
fn verify_accepts_the_right_body_only() {
    let body = document(42);
    let sum = checksum(&body);
    assert!(verify(&body, &sum));
    assert!(verify(&body, &sum.to_uppercase()));
    assert!(verify(&body, &format!("  {sum} ")));

    let mut changed = body.clone();
    changed[100] ^= 1;
    assert!(!verify(&changed, &sum));
    assert!(!verify(&body[..body.len() - 1], &sum));
    assert!(!verify(&body, ""));
    assert!(!verify(&body, &sum[1..]), "15 digits");
    assert!(
        !verify(&body, &format!("+{}", &sum[1..])),
        "a sign is not a digit"
    );
    assert!(!verify(&body, "not a checksum!!"));
}
