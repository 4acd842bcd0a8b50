        let this = self.get_mut();
        if let Some(mut left) = this.left.take() {
            if let Poll::Ready(value) = left.as_mut().poll(cx) {
                this.right = None;
                return Poll::Ready(Either::Left(value));
            }
        }
        if let Some(mut right) = this.right.take() {
            if let Poll::Ready(value) = right.as_mut().poll(cx) {
                this.left = None;
                return Poll::Ready(Either::Right(value));
            }
            this.right = Some(right);
        }
        Poll::Pending
