        let this = self.get_mut();
        for slot in this.futures.iter_mut() {
            if let Some(future) = slot {
                if let Poll::Ready(value) = future.as_mut().poll(cx) {
                    // The output goes to the next free place.
                    if let Some(free) = this.outputs.iter_mut().find(|o| o.is_none()) {
                        *free = Some(value);
                    }
                    *slot = None;
                }
            }
        }
        if this.futures.iter().any(Option::is_some) {
            return Poll::Pending;
        }
        Poll::Ready(this.outputs.iter_mut().filter_map(Option::take).collect())
