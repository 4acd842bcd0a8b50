    // SAFETY: `data` comes from Arc::into_raw: take the Arc back and clone it.
    let counter = unsafe { Arc::from_raw(data.cast::<WakeCounter>()) };
    let clone = counter.clone();
    RawWaker::new(Arc::into_raw(clone).cast::<()>(), &VTABLE)
