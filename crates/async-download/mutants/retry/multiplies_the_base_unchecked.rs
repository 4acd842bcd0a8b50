    // The factor saturates, but base * factor itself can still overflow.
    let exponent = attempt.max(1) - 1;
    let factor = 1u32.checked_shl(exponent).unwrap_or(u32::MAX);
    let ceiling = (base * factor).min(max);
    let jitter = if jitter.is_nan() {
        0.0
    } else {
        jitter.clamp(0.0, 1.0)
    };
    let half = ceiling / 2;
    half + half.mul_f64(jitter)
