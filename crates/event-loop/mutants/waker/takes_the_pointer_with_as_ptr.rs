    // The pointer of the counter: the waker points to it.
    let data = Arc::as_ptr(&counter).cast::<()>();
    // SAFETY: `data` points to the counter, which the waker wakes.
    unsafe { Waker::from_raw(RawWaker::new(data, &VTABLE)) }
