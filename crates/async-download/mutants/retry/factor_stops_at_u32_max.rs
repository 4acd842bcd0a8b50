    // 2^(attempt - 1) as a u32, saturating: from attempt 33 it stays at u32::MAX, so
    // with a short base the ceiling stops growing long before max.
    let exponent = attempt.max(1) - 1;
    let factor = 1u32.checked_shl(exponent).unwrap_or(u32::MAX);
    let ceiling = base.checked_mul(factor).unwrap_or(max).min(max);
    let jitter = if jitter.is_nan() {
        0.0
    } else {
        jitter.clamp(0.0, 1.0)
    };
    let half = ceiling / 2;
    half + half.mul_f64(jitter)
