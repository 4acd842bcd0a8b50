        if self.interval.is_zero() {
            return;
        }
        loop {
            let now = Instant::now();
            let whole = now.duration_since(self.refilled_at).as_nanos() / self.interval.as_nanos();
            let whole = u32::try_from(whole).unwrap_or(u32::MAX);
            // Adds before capping: overflows when the bucket is large.
            self.tokens = (self.tokens + whole).min(self.burst);
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
