        let mut future = pin!(future);
        let waker = Waker::from(Arc::new(ThreadWaker {
            thread: thread::current(),
        }));
        let mut cx = Context::from_waker(&waker);
        loop {
            if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                return output;
            }
            // In case a wake was missed, look again after at most 100 ms: a few polls a second cost nothing.
            thread::park_timeout(std::time::Duration::from_millis(100));
        }
