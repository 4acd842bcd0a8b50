        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        while state.items.len() > state.capacity && !state.closed {
            state = self.not_full.wait(state).unwrap_or_else(|p| p.into_inner());
        }
        if state.closed {
            return Err(item);
        }
        state.items.push_back(item);
        self.not_empty.notify_one();
        Ok(())
