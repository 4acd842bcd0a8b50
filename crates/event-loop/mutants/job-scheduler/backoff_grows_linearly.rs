    // Doubling the Duration itself, saturating, never overflows, whereas a factor
    // 2^(failed - 1) in an integer runs out (a u32 at 33 failures). After 128 doublings
    // any wait of 1 ns or more is past Duration::MAX (about 2^94 ns), and a zero one
    // stays zero: stopping there keeps failed = u32::MAX quick.
    // One more base after each failure.
    base.saturating_mul(failed.max(1))
