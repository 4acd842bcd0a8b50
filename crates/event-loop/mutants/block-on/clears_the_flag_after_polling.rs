        // A flag says whether a wake came; the thread parks until it is set.
        struct FlagWaker {
            woken: std::sync::atomic::AtomicBool,
            thread: Thread,
        }
        impl Wake for FlagWaker {
            fn wake(self: Arc<Self>) {
                // SeqCst where Release/Acquire would do; the bug here is when the flag is cleared.
                self.woken.store(true, std::sync::atomic::Ordering::SeqCst);
                self.thread.unpark();
            }
        }
        let flag = Arc::new(FlagWaker {
            woken: std::sync::atomic::AtomicBool::new(false),
            thread: thread::current(),
        });
        let mut future = pin!(future);
        let waker = Waker::from(flag.clone());
        let mut cx = Context::from_waker(&waker);
        loop {
            if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                return output;
            }
            // Cleared after the poll: a wake that came during the poll is forgotten.
            flag.woken.store(false, std::sync::atomic::Ordering::SeqCst);
            while !flag.woken.load(std::sync::atomic::Ordering::SeqCst) {
                thread::park();
            }
        }
