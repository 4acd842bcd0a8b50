        if self.interval.is_zero() {
            return;
        }
        let now = Instant::now();
        let whole = now.duration_since(self.refilled_at).as_nanos() / self.interval.as_nanos();
        let whole = u32::try_from(whole).unwrap_or(u32::MAX);
        self.tokens = self.tokens.saturating_add(whole).min(self.burst);
        self.refilled_at = if self.tokens == self.burst {
            now
        } else {
            self.refilled_at + self.interval * whole
        };
        if self.tokens > 0 {
            self.tokens -= 1;
            return;
        }
        // No token: book the next one now, then sleep until it drips in. Dropped while
        // it sleeps, the booked token is lost.
        self.refilled_at += self.interval;
        tokio::time::sleep_until(self.refilled_at).await;
