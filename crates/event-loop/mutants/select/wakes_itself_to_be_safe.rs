        let this = self.get_mut();
        if let Some(left) = this.left.as_mut() {
            if let Poll::Ready(value) = left.as_mut().poll(cx) {
                this.left = None;
                this.right = None;
                return Poll::Ready(Either::Left(value));
            }
        }
        if let Some(right) = this.right.as_mut() {
            if let Poll::Ready(value) = right.as_mut().poll(cx) {
                this.left = None;
                this.right = None;
                return Poll::Ready(Either::Right(value));
            }
        }
        // Make sure we are polled again.
        cx.waker().wake_by_ref();
        Poll::Pending
