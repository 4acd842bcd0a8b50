    // Waking by value consumes the waker: release it as drop does.
    // SAFETY: `data` carries the consumed waker's reference, which drop_waker releases.
    unsafe { drop_waker(data) };
