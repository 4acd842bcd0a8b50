    // "Full jitter": anywhere from zero to the ceiling, so a retry may come at once.
    let exponent = attempt.max(1) - 1;
    let factor = 1u32.checked_shl(exponent).unwrap_or(u32::MAX);
    let ceiling = base.checked_mul(factor).unwrap_or(max).min(max);
    let jitter = if jitter.is_nan() {
        0.0
    } else {
        jitter.clamp(0.0, 1.0)
    };
    ceiling.mul_f64(jitter)
