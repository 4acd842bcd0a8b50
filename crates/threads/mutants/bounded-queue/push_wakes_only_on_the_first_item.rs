        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        while state.items.len() >= state.capacity && !state.closed {
            state = self.not_full.wait(state).unwrap_or_else(|p| p.into_inner());
        }
        if state.closed {
            return Err(item);
        }
        state.items.push_back(item);
        // Poppers wait only while the queue is empty: wake one when it stops being empty.
        if state.items.len() == 1 {
            self.not_empty.notify_one();
        }
        Ok(())
