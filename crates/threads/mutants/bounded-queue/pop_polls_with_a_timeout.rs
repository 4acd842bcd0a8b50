        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(item) = state.items.pop_front() {
                self.not_full.notify_one();
                return Some(item);
            }
            if state.closed {
                return None;
            }
            // A timeout "in case a notification is missed": wakes up every millisecond.
            state = self
                .not_empty
                .wait_timeout(state, std::time::Duration::from_millis(1))
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
