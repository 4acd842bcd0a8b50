        let mut round = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let my_generation = round.generation;
        round.arrived += 1;
        if round.arrived == self.n {
            round.arrived = 0;
            round.generation = round.generation.wrapping_add(1);
            return true;
        }
        drop(round);
        // Look again until the round is over, letting other threads run in between.
        while self
            .state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .generation
            == my_generation
        {
            std::thread::yield_now();
        }
        false
