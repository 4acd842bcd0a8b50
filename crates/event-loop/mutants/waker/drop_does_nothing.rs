    // Nothing to do: the counter lives in an Arc, which frees it.
    let _ = data;
