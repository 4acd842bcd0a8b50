        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        // Waits once: whatever woke it, the item must be there now.
        if state.items.is_empty() && !state.closed {
            state = self
                .not_empty
                .wait(state)
                .unwrap_or_else(|p| p.into_inner());
        }
        let item = state.items.pop_front();
        if item.is_some() {
            self.not_full.notify_one();
        }
        item
