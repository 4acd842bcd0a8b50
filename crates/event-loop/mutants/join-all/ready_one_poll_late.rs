        let this = self.get_mut();
        // Done when no future is left.
        if this.futures.iter().all(Option::is_none) {
            return Poll::Ready(this.outputs.iter_mut().filter_map(Option::take).collect());
        }
        let mut progressed = false;
        for (slot, output) in this.futures.iter_mut().zip(this.outputs.iter_mut()) {
            if let Some(future) = slot {
                if let Poll::Ready(value) = future.as_mut().poll(cx) {
                    *output = Some(value);
                    *slot = None;
                    progressed = true;
                }
            }
        }
        if progressed {
            // Come back to see whether that was the last one.
            cx.waker().wake_by_ref();
        }
        Poll::Pending
