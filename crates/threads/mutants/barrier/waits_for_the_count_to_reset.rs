        let mut round = self.state.lock().unwrap_or_else(|p| p.into_inner());
        round.arrived += 1;
        if round.arrived == self.n {
            round.arrived = 0;
            self.all_arrived.notify_all();
            return true;
        }
        while round.arrived != 0 {
            round = self
                .all_arrived
                .wait(round)
                .unwrap_or_else(|p| p.into_inner());
        }
        false
