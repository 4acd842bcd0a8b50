        let mut round = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let my_generation = round.generation;
        round.arrived += 1;
        if round.arrived == self.n {
            round.arrived = 0;
            round.generation = round.generation.wrapping_add(1);
            self.all_arrived.notify_all();
            return true;
        }
        // A timeout "in case a notification is missed": wakes up every millisecond.
        while round.generation == my_generation {
            round = self
                .all_arrived
                .wait_timeout(round, std::time::Duration::from_millis(1))
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        false
