//! Personio's rate limit on the employees endpoints as a token bucket: `burst` requests at once,
//! refilled at `per_minute / 60` per second (personio-api.md §1.12: 300/min, burst 15/s).
//!
//! This is the same model as `governor`'s `Quota::per_minute(300).allow_burst(15)`, so a client
//! that paces itself with such a quota never sees a 429 from the fake.

use crate::server::RateLimit;
use std::time::Instant;

/// A token bucket; the caller passes the clock so tests need no sleeps.
pub(crate) struct TokenBucket {
    capacity: f64,
    refill_per_second: f64,
    tokens: f64,
    updated: Instant,
}

impl TokenBucket {
    /// A full bucket for `limit`.
    pub fn new(limit: RateLimit, now: Instant) -> Self {
        let capacity = f64::from(limit.burst.max(1));
        Self {
            capacity,
            refill_per_second: f64::from(limit.per_minute) / 60.0,
            tokens: capacity,
            updated: now,
        }
    }

    /// Takes one token; `false` means the request is over the limit.
    pub fn try_acquire(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.refill_per_second).min(self.capacity);
        self.updated = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_burst_passes_and_the_next_request_is_refused() {
        let now = Instant::now();
        let mut bucket = TokenBucket::new(
            RateLimit {
                per_minute: 300,
                burst: 15,
            },
            now,
        );
        assert!((0..15).all(|_| bucket.try_acquire(now)));
        assert!(!bucket.try_acquire(now));
    }

    #[test]
    fn tokens_come_back_at_the_per_minute_rate() {
        let now = Instant::now();
        let mut bucket = TokenBucket::new(
            RateLimit {
                per_minute: 300,
                burst: 15,
            },
            now,
        );
        while bucket.try_acquire(now) {}
        // 300 per minute is one every 200 ms.
        assert!(!bucket.try_acquire(now + Duration::from_millis(150)));
        assert!(bucket.try_acquire(now + Duration::from_millis(210)));
    }

    #[test]
    fn refill_never_exceeds_the_burst() {
        let now = Instant::now();
        let mut bucket = TokenBucket::new(
            RateLimit {
                per_minute: 300,
                burst: 3,
            },
            now,
        );
        let later = now + Duration::from_secs(3600);
        assert!((0..3).all(|_| bucket.try_acquire(later)));
        assert!(!bucket.try_acquire(later));
    }
}
