        let this = self.get_mut();
        let left = this.left.as_mut().map(|f| f.as_mut().poll(cx));
        let right = this.right.as_mut().map(|f| f.as_mut().poll(cx));
        let result = match (left, right) {
            (Some(Poll::Ready(value)), _) => Either::Left(value),
            (_, Some(Poll::Ready(value))) => Either::Right(value),
            _ => return Poll::Pending,
        };
        this.left = None;
        this.right = None;
        Poll::Ready(result)
