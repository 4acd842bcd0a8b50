        let this = self.get_mut();
        for (slot, output) in this.futures.iter_mut().zip(this.outputs.iter_mut()) {
            if let Some(future) = slot {
                match future.as_mut().poll(cx) {
                    Poll::Ready(value) => {
                        *output = Some(value);
                        *slot = None;
                    }
                    // This one is not done: wait for it before going on to the next.
                    Poll::Pending => return Poll::Pending,
                }
            }
        }
        Poll::Ready(this.outputs.iter_mut().filter_map(Option::take).collect())
