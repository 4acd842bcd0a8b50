    // SAFETY: `data` comes from Arc::into_raw of an Arc<WakeCounter>.
    let counter = unsafe { Arc::from_raw(data.cast::<WakeCounter>()) };
    counter.count_one();
