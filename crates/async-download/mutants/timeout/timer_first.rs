        let this = self.get_mut();
        // The deadline is checked first: a result that is there at the deadline is lost.
        if this.sleep.as_mut().poll(cx).is_ready() {
            this.inner = None;
            return Poll::Ready(Err(Elapsed { after: this.after }));
        }
        let inner = this
            .inner
            .as_mut()
            .expect("a Timeout was polled after it was ready");
        if let Poll::Ready(output) = inner.as_mut().poll(cx) {
            this.inner = None;
            return Poll::Ready(Ok(output));
        }
        Poll::Pending
