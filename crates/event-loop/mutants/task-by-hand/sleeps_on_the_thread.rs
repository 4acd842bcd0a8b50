        // Sleep out the pause, then the next round.
        std::thread::sleep(until.saturating_duration_since(Instant::now()));
        self.begin_round(socket, self.round + 1);
        Flow::Continue
