        thread_local! {
            // Who is polled first: it alternates, so that neither side starves the other.
            static LEFT_FIRST: std::cell::Cell<bool> = const { std::cell::Cell::new(true) };
        }
        let this = self.get_mut();
        let left_first = LEFT_FIRST.with(|flag| flag.replace(!flag.get()));
        let order = if left_first {
            [true, false]
        } else {
            [false, true]
        };
        for is_left in order {
            if is_left {
                if let Some(left) = this.left.as_mut() {
                    if let Poll::Ready(value) = left.as_mut().poll(cx) {
                        this.left = None;
                        this.right = None;
                        return Poll::Ready(Either::Left(value));
                    }
                }
            } else if let Some(right) = this.right.as_mut() {
                if let Poll::Ready(value) = right.as_mut().poll(cx) {
                    this.left = None;
                    this.right = None;
                    return Poll::Ready(Either::Right(value));
                }
            }
        }
        Poll::Pending
