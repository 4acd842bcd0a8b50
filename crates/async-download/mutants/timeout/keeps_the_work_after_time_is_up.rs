        let this = self.get_mut();
        let inner = this
            .inner
            .as_mut()
            .expect("a Timeout was polled after it was ready");
        if let Poll::Ready(output) = inner.as_mut().poll(cx) {
            return Poll::Ready(Ok(output));
        }
        // Time is up, but the work stays in `inner` until the Timeout itself is dropped.
        if this.sleep.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Err(Elapsed { after: this.after }));
        }
        Poll::Pending
