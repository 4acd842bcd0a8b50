        if self.interval.is_zero() {
            return;
        }
        loop {
            let now = Instant::now();
            let whole = now.duration_since(self.refilled_at).as_nanos() / self.interval.as_nanos();
            // `as` keeps the low 32 bits: 2^32 intervals become 0.
            let whole = whole as u32;
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
            tokio::time::sleep_until(self.refilled_at + self.interval).await;
        }
