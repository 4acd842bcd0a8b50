        let this = self.get_mut();
        let inner = this
            .inner
            .as_mut()
            .expect("a Timeout was polled after it was ready");
        if let Poll::Ready(output) = inner.as_mut().poll(cx) {
            this.inner = None;
            return Poll::Ready(Ok(output));
        }
        // The deadline is counted from each poll, not from the call to `timeout`: work
        // that keeps waking never times out.
        let deadline = tokio::time::Instant::now() + this.after;
        this.sleep.as_mut().reset(deadline);
        if this.sleep.as_mut().poll(cx).is_ready() {
            this.inner = None;
            return Poll::Ready(Err(Elapsed { after: this.after }));
        }
        Poll::Pending
