        let mut round = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let my_generation = round.generation;
        round.arrived += 1;
        if round.arrived == self.n {
            round.arrived = 0;
            round.generation = round.generation.wrapping_add(1);
            self.all_arrived.notify_one();
            return true;
        }
        while round.generation == my_generation {
            round = self
                .all_arrived
                .wait(round)
                .unwrap_or_else(|p| p.into_inner());
        }
        false
