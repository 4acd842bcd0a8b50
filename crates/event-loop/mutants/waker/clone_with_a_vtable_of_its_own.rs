    // SAFETY: the waker being cloned owns a reference, so the count is at least 1.
    unsafe { Arc::increment_strong_count(data.cast::<WakeCounter>()) };
    // The same four functions, in a table written here.
    RawWaker::new(
        data,
        &RawWakerVTable::new(clone_waker, wake, wake_by_ref, drop_waker),
    )
