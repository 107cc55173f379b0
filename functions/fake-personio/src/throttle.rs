//! Personio's rate limit on the employees endpoints. personio-api.md §1.12 says "300 requests per
//! minute with a burst of 15 per second" without saying how the two combine, so the fake has both
//! readings: a token bucket (`burst` at once, refilled at `per_minute / 60` a second; the
//! default) and two sliding windows (`burst` in any second, `per_minute` in any minute).
//!
//! v2 has a token bucket per endpoint family ([`V2Limits`]) whose state every v2 response
//! reports in `x-ratelimit-*` headers (personio-api.md §2.9).

use crate::server::RateLimit;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// How the fake reads its [`RateLimit`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LimitModel {
    /// A token bucket: 5 a second after the first 15, at Personio's numbers.
    #[default]
    TokenBucket,
    /// Separate windows: 15 in any second and 300 in any minute, at Personio's numbers.
    Windows,
}

/// The limiter of the employees endpoints.
pub(crate) enum Throttle {
    Bucket(TokenBucket),
    Windows(Windows),
}

impl Throttle {
    pub fn new(limit: RateLimit, model: LimitModel, now: Instant) -> Self {
        match model {
            LimitModel::TokenBucket => Self::Bucket(TokenBucket::new(limit, now)),
            LimitModel::Windows => Self::Windows(Windows::new(limit)),
        }
    }

    /// Admits one request; `false` means it is over the limit.
    pub fn try_acquire(&mut self, now: Instant) -> bool {
        match self {
            Self::Bucket(bucket) => bucket.try_acquire(now),
            Self::Windows(windows) => windows.try_acquire(now),
        }
    }
}

/// `per_second` requests in any second and `per_minute` in any minute, counting those admitted.
pub(crate) struct Windows {
    per_second: usize,
    per_minute: usize,
    /// Admission times of the last `max(per_second, per_minute)` requests, oldest first.
    admitted: VecDeque<Instant>,
}

impl Windows {
    fn new(limit: RateLimit) -> Self {
        let per_second = limit.burst.max(1) as usize;
        let per_minute = limit.per_minute.max(1) as usize;
        Self {
            per_second,
            per_minute,
            admitted: VecDeque::with_capacity(per_second.max(per_minute)),
        }
    }

    fn try_acquire(&mut self, now: Instant) -> bool {
        let len = self.admitted.len();
        let full = |count: usize, span: Duration| {
            len >= count && now.saturating_duration_since(self.admitted[len - count]) < span
        };
        if full(self.per_second, Duration::from_secs(1))
            || full(self.per_minute, Duration::from_secs(60))
        {
            return false;
        }
        if len == self.per_second.max(self.per_minute) {
            self.admitted.pop_front();
        }
        self.admitted.push_back(now);
        true
    }
}

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
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Adds the tokens earned since the last call, up to the capacity.
    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.refill_per_second).min(self.capacity);
        self.updated = now;
    }

    /// Whole tokens left now, as `x-ratelimit-remaining` reports them.
    fn remaining(&mut self, now: Instant) -> u32 {
        self.refill(now);
        // Never negative and at most the capacity, itself a u32.
        self.tokens.floor() as u32
    }
}

/// The v2 endpoint families. Personio limits v2 per endpoint (personio-api.md §2.9), and only
/// persons and employments are "employee requests" to the faults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Family {
    /// `/v2/persons` and `/v2/persons/{id}`.
    Persons,
    /// `/v2/persons/{id}/employments[/{id}]`.
    Employments,
    /// Org units, legal entities, workplaces and cost centers.
    Reference,
}

/// What the `x-ratelimit-*` headers of one v2 response report (Spring Cloud Gateway's names).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Quota {
    /// Tokens added per second.
    pub replenish_rate: f64,
    /// The bucket's capacity.
    pub burst_capacity: u32,
    /// Whole tokens left after this request.
    pub remaining: u32,
}

/// One token bucket per v2 family, all read from the same [`RateLimit`].
pub(crate) struct V2Limits {
    limit: RateLimit,
    buckets: [TokenBucket; 3],
}

impl V2Limits {
    /// Full buckets for `limit`.
    pub fn new(limit: RateLimit, now: Instant) -> Self {
        Self {
            limit,
            buckets: [(); 3].map(|()| TokenBucket::new(limit, now)),
        }
    }

    /// Takes one token of `family`: whether the request is admitted, and the headers' numbers.
    pub fn acquire(&mut self, family: Family, now: Instant) -> (bool, Quota) {
        let admitted = self.bucket(family).try_acquire(now);
        (admitted, self.quota(family, now))
    }

    /// The headers' numbers without taking a token (for answers the limiter never saw).
    pub fn quota(&mut self, family: Family, now: Instant) -> Quota {
        Quota {
            replenish_rate: f64::from(self.limit.per_minute) / 60.0,
            burst_capacity: self.limit.burst.max(1),
            remaining: self.bucket(family).remaining(now),
        }
    }

    fn bucket(&mut self, family: Family) -> &mut TokenBucket {
        let index = match family {
            Family::Persons => 0,
            Family::Employments => 1,
            Family::Reference => 2,
        };
        &mut self.buckets[index]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn windows_allow_the_burst_each_second_and_the_limit_each_minute() {
        let now = Instant::now();
        let mut windows = Throttle::new(RateLimit::PERSONIO, LimitModel::Windows, now);
        assert!((0..15).all(|_| windows.try_acquire(now)));
        // The bucket would allow one 200 ms on; the second window does not until a second.
        assert!(!windows.try_acquire(now + Duration::from_millis(999)));
        let mut at = now;
        for second in 1..20 {
            at = now + Duration::from_secs(second);
            assert!((0..15).all(|_| windows.try_acquire(at)), "second {second}");
        }
        // 300 admitted within 19 s: the minute is full until the first of them is a minute old.
        assert!(!windows.try_acquire(at + Duration::from_secs(1)));
        assert!(!windows.try_acquire(now + Duration::from_millis(59_999)));
        assert!(windows.try_acquire(now + Duration::from_secs(60)));
    }

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

    #[test]
    fn v2_families_have_separate_buckets_and_report_what_is_left() {
        let now = Instant::now();
        let mut limits = V2Limits::new(
            RateLimit {
                per_minute: 120,
                burst: 2,
            },
            now,
        );
        let (admitted, quota) = limits.acquire(Family::Persons, now);
        assert!(admitted);
        assert_eq!(
            quota,
            Quota {
                replenish_rate: 2.0,
                burst_capacity: 2,
                remaining: 1
            }
        );
        assert!(limits.acquire(Family::Persons, now).0);
        let (admitted, quota) = limits.acquire(Family::Persons, now);
        assert!(!admitted);
        assert_eq!(quota.remaining, 0);
        assert_eq!(limits.quota(Family::Reference, now).remaining, 2);
        assert!(limits.acquire(Family::Employments, now).0);
        // Two a second come back.
        let later = now + Duration::from_millis(600);
        assert_eq!(limits.quota(Family::Persons, later).remaining, 1);
    }
}
