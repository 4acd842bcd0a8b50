    // SAFETY: the counter is alive while a waker points to it.
    let counter = unsafe { &*data.cast::<WakeCounter>() };
    counter.count_one();
