//! When to try a failed Personio request again: exponential back-off with jitter, never sooner
//! than the server's `Retry-After`.
//!
//! Pure functions of their inputs (the random jitter and the clock are parameters), so the
//! arithmetic is tested here without waiting; `session` does the waiting.

use chrono::{DateTime, Utc};
use std::time::Duration;

/// Back-off bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// The delay scale of the first retry (the first retry waits between half of it and all of it).
    pub base: Duration,
    /// No retry waits longer than this, whatever the attempt or `Retry-After` says.
    pub cap: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: Duration::from_millis(500),
            cap: Duration::from_secs(30),
        }
    }
}

/// How long to wait before the retry that follows failed attempt number `attempt` (from 1).
///
/// "Equal jitter": half of the exponential step is fixed and half is random (`jitter` in 0..=1),
/// so concurrent requests that failed together spread out but none retries almost at once. A
/// `Retry-After` is a floor: Personio asks for at least a second after a 429 (§1.12). The result
/// never exceeds `backoff.cap`, so a server asking for an hour cannot stall a run that long.
pub fn retry_delay(
    attempt: u32,
    backoff: Backoff,
    retry_after: Option<Duration>,
    jitter: f64,
) -> Duration {
    let jitter = jitter.clamp(0.0, 1.0);
    let doublings = attempt.saturating_sub(1).min(20);
    let step = backoff.base.saturating_mul(1 << doublings).min(backoff.cap);
    let exponential = step / 2 + (step / 2).mul_f64(jitter);
    let floor = retry_after
        // A little spread past the server's moment, for the same reason as above.
        .map(|after| after + (backoff.base / 4).mul_f64(jitter))
        .unwrap_or_default();
    exponential.max(floor).min(backoff.cap)
}

/// Reads a `Retry-After` header: delay-seconds (`120`) or an HTTP date
/// (`Wed, 21 Oct 2015 07:28:00 GMT`, RFC 9110 §10.2.3). A date in the past means "now".
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    // Not allowed by the RFC, but harmless to accept from a lenient gateway.
    if let Ok(seconds) = value.parse::<f64>() {
        return (seconds.is_finite() && seconds >= 0.0)
            .then(|| Duration::from_secs_f64(seconds.min(86_400.0)));
    }
    let moment = DateTime::parse_from_rfc2822(value)
        .ok()?
        .with_timezone(&Utc);
    Some((moment - now).to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BACKOFF: Backoff = Backoff {
        base: Duration::from_millis(500),
        cap: Duration::from_secs(30),
    };

    #[test]
    fn delays_double_per_attempt_within_their_jitter_band() {
        assert_eq!(
            retry_delay(1, BACKOFF, None, 0.0),
            Duration::from_millis(250)
        );
        assert_eq!(
            retry_delay(1, BACKOFF, None, 1.0),
            Duration::from_millis(500)
        );
        assert_eq!(
            retry_delay(2, BACKOFF, None, 0.0),
            Duration::from_millis(500)
        );
        assert_eq!(retry_delay(3, BACKOFF, None, 1.0), Duration::from_secs(2));
        let middle = retry_delay(4, BACKOFF, None, 0.5);
        assert!(middle > Duration::from_secs(2) && middle < Duration::from_secs(4));
    }

    #[test]
    fn delays_stop_growing_at_the_cap() {
        assert_eq!(retry_delay(7, BACKOFF, None, 1.0), Duration::from_secs(30));
        assert_eq!(
            retry_delay(u32::MAX, BACKOFF, None, 1.0),
            Duration::from_secs(30)
        );
    }

    #[test]
    fn retry_after_is_a_floor_not_a_ceiling() {
        let after = Some(Duration::from_secs(2));
        assert_eq!(retry_delay(1, BACKOFF, after, 0.0), Duration::from_secs(2));
        assert!(retry_delay(1, BACKOFF, after, 1.0) > Duration::from_secs(2));
        // A later attempt's own back-off is longer than the server asked for: it wins.
        assert_eq!(retry_delay(6, BACKOFF, after, 1.0), Duration::from_secs(16));
    }

    #[test]
    fn retry_after_longer_than_the_cap_is_cut_to_the_cap() {
        let hour = Some(Duration::from_secs(3600));
        assert_eq!(retry_delay(1, BACKOFF, hour, 0.0), Duration::from_secs(30));
    }

    #[test]
    fn retry_after_reads_seconds() {
        let now = Utc::now();
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("1.5", now),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(parse_retry_after("-1", now), None);
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn retry_after_reads_http_dates() {
        let now: DateTime<Utc> = "2015-10-21T07:27:30Z".parse().unwrap();
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
    }
}
