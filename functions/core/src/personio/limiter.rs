//! The [`pacing::Pacer`](super::pacing::Pacer) of one session, shared by its concurrent
//! requests: each waits for its slot, and each answer tells the pacer what the server thought.

use super::client::RateLimit;
use super::pacing::{Advertised, Pacer};
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;
use tokio::time::Instant;

/// A session's pacer behind a lock held for a few arithmetic steps, never across an `.await`.
pub(super) struct Limiter {
    pacer: Mutex<Pacer>,
}

impl Limiter {
    pub fn new(limit: RateLimit) -> Self {
        Self {
            pacer: Mutex::new(Pacer::new(limit, now())),
        }
    }

    fn pacer(&self) -> std::sync::MutexGuard<'_, Pacer> {
        // The pacer's state is a few numbers, valid after any panic elsewhere.
        self.pacer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// 429s met so far.
    pub fn throttled(&self) -> u64 {
        self.pacer().throttled()
    }

    /// Requests per second after the first burst, now.
    pub fn rate(&self) -> f64 {
        self.pacer().rate()
    }

    /// Waits until a request may go, and takes its slot.
    pub async fn until_ready(&self) {
        loop {
            let at = match self.pacer().take(now()) {
                Ok(()) => return,
                Err(at) => at,
            };
            // Others may take the slot first, or a 429 may push it later: ask again on waking.
            tokio::time::sleep_until(Instant::from_std(at)).await;
        }
    }

    /// What an answer says about the limit: its status, `Retry-After` and `x-ratelimit-*`.
    pub fn observe(&self, status: StatusCode, retry_after: Option<Duration>, headers: &HeaderMap) {
        let now = now();
        let mut pacer = self.pacer();
        if let Some(advertised) = Advertised::from_headers(headers) {
            pacer.advertised(now, advertised);
        }
        if status == StatusCode::TOO_MANY_REQUESTS {
            pacer.throttled_at(now, retry_after);
            tracing::info!(rate = pacer.rate(), "Personio said 429; slowing down");
        } else if status.is_success() {
            pacer.succeeded(now);
        }
    }
}

/// Tokio's clock, so that tests which pause time pause the pacer too.
fn now() -> std::time::Instant {
    Instant::now().into_std()
}
