        let this = self.get_mut();
        let inner = this
            .inner
            .as_mut()
            .expect("a Timeout was polled after it was ready");
        if let Poll::Ready(output) = inner.as_mut().poll(cx) {
            this.inner = None;
            return Poll::Ready(Ok(output));
        }
        // Only asks whether time is up: the timer never learns whom to wake.
        let mut quiet = Context::from_waker(std::task::Waker::noop());
        if this.sleep.as_mut().poll(&mut quiet).is_ready() {
            this.inner = None;
            return Poll::Ready(Err(Elapsed { after: this.after }));
        }
        Poll::Pending
