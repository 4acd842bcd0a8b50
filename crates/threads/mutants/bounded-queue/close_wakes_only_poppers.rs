        self.state.lock().unwrap_or_else(|p| p.into_inner()).closed = true;
        self.not_empty.notify_all();
