        let this = self.get_mut();
        let inner = this
            .inner
            .as_mut()
            .expect("a Timeout was polled after it was ready");
        if let Poll::Ready(output) = inner.as_mut().poll(cx) {
            this.inner = None;
            return Poll::Ready(Ok(output));
        }
        if this.sleep.as_mut().poll(cx).is_ready() {
            this.inner = None;
            return Poll::Ready(Err(Elapsed { after: this.after }));
        }
        // "Poll me again soon": the task is never idle, it checks in a loop.
        cx.waker().wake_by_ref();
        Poll::Pending
