//! When the next request to Personio may go: an adaptive pacer that finds the real limit.
//!
//! Personio documents "300 requests per minute with a burst of 15 per second" for the employee
//! list (personio-api.md §1.12) without saying how the two combine. Read as a token bucket, it
//! allows 5 a second after the first 15; read as two windows, 15 in any second and 300 in any
//! minute. The strictest reading takes 18 s for 10,000 people where the windows allow 7.
//!
//! So the pacer starts from the generous reading and learns:
//! - **Always** at most `burst` requests in any second and `per_minute` in any minute (each window
//!   a little longer than the server's, so network jitter cannot push two requests into one).
//!   The rate starts at `burst` a second, a hair under.
//! - After the first `burst`, requests are spread by a token bucket of `rate` per second that
//!   holds at most a fifth of a second of requests: the first burst is the only blind one, so a
//!   server that disagrees costs one 429, not ten.
//! - **On a 429** every request waits for the server's `Retry-After` (1 s without one, as Personio
//!   asks), and `rate` falls to the documented sustained rate, or below it when that was already
//!   too fast. The rate that failed becomes a ceiling.
//! - **Speeding up** is careful: after [`INCREASE_AFTER`] without a 429 the rate grows by a fifth,
//!   never past nine tenths of the lowest rate that failed. On a token-bucket server each probe
//!   costs one 429 and the probes stop after about three.
//! - **Advertised limits** (v2's `x-ratelimit-replenish-rate`, `-burst-capacity`, `-remaining`)
//!   replace the guesswork and the documented numbers: the rate and the windows follow the
//!   server's, and a `remaining` of 0 waits for a token.
//!
//! Pure: the caller passes the clock; `limiter` does the waiting.

use super::client::RateLimit;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// How much longer than a second the burst window is: requests reach the server with some
/// jitter, and a window run exactly at the server's length would turn it into 429s.
const WINDOW_MARGIN: Duration = Duration::from_millis(50);
/// How much longer than a minute the minute window is.
const MINUTE_MARGIN: Duration = Duration::from_millis(500);
/// How much of a second's worth of requests the bucket holds after the first burst.
const SMOOTHING: f64 = 0.2;
/// The quiet time before the rate may grow again.
pub(super) const INCREASE_AFTER: Duration = Duration::from_secs(10);
/// How much the rate grows at a time.
const INCREASE: f64 = 1.2;
/// How close to a rate that failed the rate may grow.
const CEILING_SHARE: f64 = 0.9;
/// How far the documented rate is undercut: a bucket run exactly at the server's rate turns
/// jitter into 429s.
const UNDERCUT: f64 = 0.98;
/// The rate falls this much when it was already at or below the documented rate.
const DECREASE: f64 = 0.7;
/// The wait after a 429 without `Retry-After`: Personio asks for at least a second.
const DEFAULT_PAUSE: Duration = Duration::from_secs(1);
/// The longest pause a server's answer can impose on the pacer; the retry loop has its own cap.
const MAX_PAUSE: Duration = Duration::from_secs(60);
/// The slowest the pacer goes when told to by `x-ratelimit-replenish-rate`.
const MIN_RATE: f64 = 0.1;
/// The slowest it goes on its own, as a share of the documented rate: a storm of 429s (a gateway
/// in trouble) is waited out by the pauses, and must not leave the rest of the run crawling.
const FLOOR_SHARE: f64 = 0.5;

/// What a server said about its limit in `x-ratelimit-*` headers (personio-api.md §2.9).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(super) struct Advertised {
    /// `x-ratelimit-replenish-rate`: tokens per second.
    pub replenish_rate: Option<f64>,
    /// `x-ratelimit-burst-capacity`.
    pub burst_capacity: Option<f64>,
    /// `x-ratelimit-remaining`.
    pub remaining: Option<f64>,
}

impl Advertised {
    /// Reads the headers; `None` when none of them is there or readable.
    pub fn from_headers(headers: &reqwest::header::HeaderMap) -> Option<Self> {
        let number = |name: &str| {
            headers
                .get(name)
                .and_then(|value| value.to_str().ok())
                .and_then(|text| text.trim().parse::<f64>().ok())
                .filter(|value| value.is_finite() && *value >= 0.0)
        };
        let advertised = Self {
            replenish_rate: number("x-ratelimit-replenish-rate").filter(|rate| *rate > 0.0),
            burst_capacity: number("x-ratelimit-burst-capacity"),
            remaining: number("x-ratelimit-remaining"),
        };
        (advertised != Self::default()).then_some(advertised)
    }
}

/// The pacer's state; see the module's documentation.
pub(super) struct Pacer {
    /// Requests sent at once at the start.
    burst: usize,
    /// The most requests in any second: the burst, or the sustained rate where that is higher.
    per_second: usize,
    per_minute: usize,
    /// The documented sustained rate, a hair under: where a 429 sends the rate first.
    documented: f64,
    /// Send times of the last `max(burst, per_minute)` requests, oldest first.
    sent: VecDeque<Instant>,
    /// Requests per second after the first burst.
    rate: f64,
    /// The lowest rate that met a 429, if any.
    ceiling: Option<f64>,
    /// Whether the server advertised its rate (no probing then).
    advertised: bool,
    tokens: f64,
    capacity: f64,
    updated: Instant,
    /// When the rate last changed.
    changed: Instant,
    /// No request before this.
    paused_until: Option<Instant>,
    /// The end of the pause of the last decrease: a 429 before it answers a request sent before
    /// the decrease, and says nothing about the new rate.
    decreased_until: Option<Instant>,
    /// 429s seen.
    throttled: u64,
}

impl Pacer {
    /// A pacer for `limit`, starting at `now` with its whole burst.
    pub fn new(limit: RateLimit, now: Instant) -> Self {
        let burst = limit.burst.max(1) as usize;
        let per_minute = limit.per_minute.max(1) as usize;
        let sustained = per_minute as f64 / 60.0;
        // Personio's 15 a second is above its sustained 5; a limit whose sustained rate is above
        // its burst (a generous test setting) is read as a bucket only.
        let per_second = burst.max(sustained.ceil() as usize);
        let documented = sustained * UNDERCUT;
        // The generous reading, a hair under: `per_second` a second, as the minute allows.
        let rate = per_second as f64 * UNDERCUT;
        let mut pacer = Self {
            burst,
            per_second,
            per_minute,
            documented,
            sent: VecDeque::new(),
            rate,
            ceiling: None,
            advertised: false,
            tokens: 0.0,
            capacity: 1.0,
            updated: now,
            changed: now,
            paused_until: None,
            decreased_until: None,
            throttled: 0,
        };
        pacer.capacity = pacer.smoothed_capacity();
        pacer
    }

    /// Requests per second after the first burst, now.
    pub fn rate(&self) -> f64 {
        self.rate
    }

    /// 429s seen so far.
    pub fn throttled(&self) -> u64 {
        self.throttled
    }

    /// Takes a slot for a request at `now`, or says when to ask again.
    pub fn take(&mut self, now: Instant) -> Result<(), Instant> {
        let earliest = self.earliest(now);
        if earliest > now {
            return Err(earliest);
        }
        if self.sent.len() >= self.burst {
            // Past the first burst, every request spends a token.
            self.refill(now);
            self.tokens -= 1.0;
        } else {
            self.updated = now;
        }
        while self.sent.len() >= self.per_second.max(self.per_minute) {
            self.sent.pop_front();
        }
        self.sent.push_back(now);
        Ok(())
    }

    /// The earliest moment a request may go, at `now`.
    fn earliest(&self, now: Instant) -> Instant {
        let mut earliest = now;
        if let Some(until) = self.paused_until {
            earliest = earliest.max(until);
        }
        let len = self.sent.len();
        if len >= self.per_second {
            let window = Duration::from_secs(1) + WINDOW_MARGIN;
            earliest = earliest.max(self.sent[len - self.per_second] + window);
        }
        if len >= self.burst {
            let tokens = self.tokens_at(earliest);
            if tokens < 1.0 {
                earliest += Duration::from_secs_f64((1.0 - tokens) / self.rate);
            }
        }
        if len >= self.per_minute {
            earliest = earliest
                .max(self.sent[len - self.per_minute] + Duration::from_secs(60) + MINUTE_MARGIN);
        }
        earliest
    }

    fn tokens_at(&self, at: Instant) -> f64 {
        let elapsed = at.saturating_duration_since(self.updated).as_secs_f64();
        (self.tokens + elapsed * self.rate).min(self.capacity.max(self.tokens))
    }

    fn refill(&mut self, now: Instant) {
        self.tokens = self.tokens_at(now);
        self.updated = self.updated.max(now);
    }

    fn smoothed_capacity(&self) -> f64 {
        (self.rate * SMOOTHING).max(1.0)
    }

    fn set_rate(&mut self, rate: f64, now: Instant) {
        self.refill(now);
        let floor = if self.advertised {
            MIN_RATE
        } else {
            self.documented * FLOOR_SHARE
        };
        let most = self.per_second as f64;
        self.rate = rate.clamp(floor.min(most), most);
        self.capacity = self.smoothed_capacity();
        self.tokens = self.tokens.min(self.capacity);
        self.changed = now;
    }

    /// An answer other than 429 arrived at `now`: the rate may grow.
    pub fn succeeded(&mut self, now: Instant) {
        if self.advertised || now.saturating_duration_since(self.changed) < INCREASE_AFTER {
            return;
        }
        let Some(ceiling) = self.ceiling else {
            return;
        };
        let target = (self.rate * INCREASE).min(ceiling * CEILING_SHARE);
        if target > self.rate {
            self.set_rate(target, now);
        }
    }

    /// A 429 arrived at `now`, with the server's `Retry-After` if it sent one.
    pub fn throttled_at(&mut self, now: Instant, retry_after: Option<Duration>) {
        self.throttled += 1;
        let pause = retry_after.unwrap_or(DEFAULT_PAUSE).min(MAX_PAUSE);
        let until = now + pause;
        self.paused_until = Some(self.paused_until.map_or(until, |old| old.max(until)));
        if self.decreased_until.is_some_and(|quiet| now < quiet) {
            return;
        }
        self.decreased_until = Some(until);
        let failed = self.rate;
        self.ceiling = Some(self.ceiling.map_or(failed, |old| old.min(failed)));
        let rate = if failed > self.documented {
            self.documented
        } else {
            failed * DECREASE
        };
        self.set_rate(rate, now);
        // Whatever the server had in hand is spent; the pause gives it back one request's worth.
        self.tokens = 1.0;
        self.updated = until;
    }

    /// The server advertised its limit at `now`.
    pub fn advertised(&mut self, now: Instant, advertised: Advertised) {
        if let Some(rate) = advertised.replenish_rate {
            self.advertised = true;
            // The server's own numbers replace the documented ones, the windows too: v2 limits
            // each endpoint on its own terms (personio-api.md §2.9).
            let burst = advertised.burst_capacity.unwrap_or(rate).max(rate).max(1.0);
            self.per_second = burst.ceil() as usize;
            self.per_minute = ((rate * 60.0).floor() as usize).max(1);
            let rate = rate * UNDERCUT;
            if (rate - self.rate).abs() > f64::EPSILON {
                self.set_rate(rate, now);
            }
        }
        if advertised
            .remaining
            .is_some_and(|remaining| remaining < 1.0)
        {
            // Empty: the next token comes after one refill interval.
            let until = now + Duration::from_secs_f64(1.0 / self.rate);
            self.paused_until = Some(self.paused_until.map_or(until, |old| old.max(until)));
            self.refill(now);
            self.tokens = 0.0;
            self.updated = until;
        }
    }
}

#[cfg(test)]
#[path = "pacing_tests.rs"]
mod tests;
