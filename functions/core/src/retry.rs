//! Trying a failed request again, for every adapter: Personio (v1 and the v2 webhook calls), the
//! SCIM destination and DynamoDB's unprocessed batch writes.
//!
//! A caller describes its limits in a [`Backoff`] and hands [`Backoff::retry`] one attempt. The
//! attempt says what went wrong and whether it is worth repeating ([`Failed::Transient`] or
//! [`Failed::Final`]): which statuses retry, and whether a request may be sent twice, stay the
//! caller's business. `backon` drives the loop and sleeps (on tokio's clock, so tests pause it);
//! the waits come from [`Backoff::step`] and [`Backoff::wait`], pure functions of their inputs,
//! and a server's `Retry-After` is read by [`parse_retry_after`]. When the retries end,
//! [`GaveUp`] says why, with the attempts made, for the caller's own error.

use backon::Retryable;
use chrono::{DateTime, Utc};
use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// How often and how patiently a caller tries again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// Attempts in all, the first one included; at least one is always made.
    pub max_attempts: u32,
    /// The delay scale of the first retry (it waits between half of it and all of it); each
    /// further retry doubles it.
    pub base: Duration,
    /// No computed back-off is longer than this.
    pub cap: Duration,
    /// How much of a server's `Retry-After` is honoured.
    pub retry_after: RetryAfter,
}

/// How much of a server's `Retry-After` a caller honours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryAfter {
    /// Up to [`Backoff::cap`]: a server asking for an hour is tried again after the cap, so it
    /// cannot stall a run that long.
    WithinCap,
    /// Up to this long, even past the cap; a longer ask ends the retries at once rather than hold
    /// a Lambda for minutes.
    GiveUpBeyond(Duration),
}

/// One failed attempt, as its caller judges it.
#[derive(Clone, Debug)]
pub enum Failed<R, E> {
    /// Worth another attempt (a 429, a 5xx, a timeout): `failure` says what happened, for the
    /// error given back if the retries run out.
    Transient {
        /// What happened.
        failure: R,
        /// The server's `Retry-After`, when it sent one.
        retry_after: Option<Duration>,
    },
    /// Not worth repeating: given back at once.
    Final(E),
}

impl<R, E> Failed<R, E> {
    /// A transient failure without `Retry-After`.
    pub fn transient(failure: R) -> Self {
        Self::Transient {
            failure,
            retry_after: None,
        }
    }
}

/// Why [`Backoff::retry`] stopped without a success.
#[derive(Debug)]
pub enum GaveUp<R, E> {
    /// An attempt failed for good.
    Final(E),
    /// Every allowed attempt failed; `failure` is the last one's.
    Exhausted {
        /// What the last attempt ran into.
        failure: R,
        /// Attempts made.
        attempts: u32,
    },
    /// The server asked to wait longer than [`RetryAfter::GiveUpBeyond`] allows.
    TooLongToWait {
        /// What the last attempt ran into.
        failure: R,
        /// Attempts made.
        attempts: u32,
        /// What the server asked for.
        retry_after: Duration,
    },
}

impl Backoff {
    /// The back-off before the retry that follows failed attempt number `attempt` (from 1),
    /// before any `Retry-After`.
    ///
    /// "Equal jitter": half of the exponential step is fixed and half is random (`jitter` in
    /// 0..=1), so concurrent requests that failed together spread out but none retries almost at
    /// once. Never longer than `cap`.
    pub fn step(&self, attempt: u32, jitter: f64) -> Duration {
        let jitter = jitter.clamp(0.0, 1.0);
        let doublings = attempt.saturating_sub(1).min(20);
        let step = self.base.saturating_mul(1 << doublings).min(self.cap);
        step / 2 + (step / 2).mul_f64(jitter)
    }

    /// The wait before the next attempt: `step` (from [`Backoff::step`]), raised to the server's
    /// `Retry-After` when it asked for longer. `None` when it asked for longer than
    /// [`RetryAfter::GiveUpBeyond`] allows.
    ///
    /// `Retry-After` is a floor, not a replacement: Personio asks for at least a second after a
    /// 429 (personio-api.md §1.12), and a later attempt's own back-off may be longer still.
    pub fn wait(
        &self,
        step: Duration,
        retry_after: Option<Duration>,
        jitter: f64,
    ) -> Option<Duration> {
        let Some(after) = retry_after else {
            return Some(step);
        };
        // A little spread past the server's moment, so that parallel requests told the same
        // time do not all come back in the same instant.
        let floor = after + (self.base / 4).mul_f64(jitter.clamp(0.0, 1.0));
        match self.retry_after {
            RetryAfter::WithinCap => Some(step.max(floor).min(self.cap)),
            RetryAfter::GiveUpBeyond(limit) if after > limit => None,
            RetryAfter::GiveUpBeyond(_) => Some(step.max(floor)),
        }
    }

    /// The back-offs between attempts, `max_attempts - 1` of them, each freshly jittered.
    pub fn steps(&self) -> Steps {
        Steps {
            backoff: *self,
            failed: 0,
        }
    }

    /// Runs `attempt` (given its number, from 1) until it succeeds, fails for good, or the
    /// attempts run out, waiting between attempts as [`Backoff::wait`] says.
    pub async fn retry<T, R, E, F, Fut>(&self, mut attempt: F) -> Result<T, GaveUp<R, E>>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, Failed<R, E>>>,
    {
        let attempts = AtomicU32::new(0);
        let mut too_long = None;
        let outcome = (|| attempt(attempts.fetch_add(1, Ordering::Relaxed) + 1))
            .retry(self.steps())
            .when(|failed| matches!(failed, Failed::Transient { .. }))
            .adjust(|failed, step| {
                let Failed::Transient { retry_after, .. } = failed else {
                    return None;
                };
                let wait = self.wait(step?, *retry_after, rand::random());
                if wait.is_none() {
                    too_long = *retry_after;
                }
                wait
            })
            .notify(|_, wait| {
                tracing::debug!(
                    attempt = attempts.load(Ordering::Relaxed),
                    wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                    "retrying after a transient failure"
                );
            })
            .await;
        let attempts = attempts.load(Ordering::Relaxed);
        outcome.map_err(|failed| match failed {
            Failed::Final(error) => GaveUp::Final(error),
            Failed::Transient { failure, .. } => match too_long {
                Some(retry_after) => GaveUp::TooLongToWait {
                    failure,
                    attempts,
                    retry_after,
                },
                None => GaveUp::Exhausted { failure, attempts },
            },
        })
    }
}

/// The back-offs of one [`Backoff::retry`]: `backon`'s back-off, so `backon` knows when the
/// attempts run out.
#[derive(Clone, Debug)]
pub struct Steps {
    backoff: Backoff,
    failed: u32,
}

impl Iterator for Steps {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        if self.failed.saturating_add(1) >= self.backoff.max_attempts.max(1) {
            return None;
        }
        self.failed += 1;
        Some(self.backoff.step(self.failed, rand::random()))
    }
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

/// The `Retry-After` of an answer's headers, if it has a readable one.
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    parse_retry_after(value, Utc::now())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    const BACKOFF: Backoff = Backoff {
        max_attempts: 6,
        base: Duration::from_millis(500),
        cap: Duration::from_secs(30),
        retry_after: RetryAfter::WithinCap,
    };

    const IMPATIENT: Backoff = Backoff {
        max_attempts: 5,
        base: Duration::from_millis(250),
        cap: Duration::from_secs(8),
        retry_after: RetryAfter::GiveUpBeyond(Duration::from_secs(60)),
    };

    fn wait(
        attempt: u32,
        backoff: Backoff,
        retry_after: Option<Duration>,
        jitter: f64,
    ) -> Duration {
        backoff
            .wait(backoff.step(attempt, jitter), retry_after, jitter)
            .expect("within the limit")
    }

    #[test]
    fn delays_double_per_attempt_within_their_jitter_band() {
        assert_eq!(BACKOFF.step(1, 0.0), Duration::from_millis(250));
        assert_eq!(BACKOFF.step(1, 1.0), Duration::from_millis(500));
        assert_eq!(BACKOFF.step(2, 0.0), Duration::from_millis(500));
        assert_eq!(BACKOFF.step(3, 1.0), Duration::from_secs(2));
        let middle = BACKOFF.step(4, 0.5);
        assert!(middle > Duration::from_secs(2) && middle < Duration::from_secs(4));
    }

    #[test]
    fn delays_stop_growing_at_the_cap() {
        assert_eq!(BACKOFF.step(7, 1.0), Duration::from_secs(30));
        assert_eq!(BACKOFF.step(u32::MAX, 1.0), Duration::from_secs(30));
        for attempt in 1..40 {
            let step = BACKOFF.step(attempt, rand::random());
            assert!(step <= BACKOFF.cap, "attempt {attempt}: {step:?}");
        }
    }

    #[test]
    fn retry_after_is_a_floor_not_a_ceiling() {
        let after = Some(Duration::from_secs(2));
        assert_eq!(wait(1, BACKOFF, after, 0.0), Duration::from_secs(2));
        assert!(wait(1, BACKOFF, after, 1.0) > Duration::from_secs(2));
        // A later attempt's own back-off is longer than the server asked for: it wins.
        assert_eq!(wait(6, BACKOFF, after, 1.0), Duration::from_secs(16));
    }

    #[test]
    fn retry_after_longer_than_the_cap_is_cut_to_the_cap() {
        let hour = Some(Duration::from_secs(3600));
        assert_eq!(wait(1, BACKOFF, hour, 0.0), Duration::from_secs(30));
    }

    #[test]
    fn a_caller_that_gives_up_beyond_a_limit_waits_past_its_cap_up_to_that_limit() {
        let half_minute = Some(Duration::from_secs(30));
        assert_eq!(
            wait(1, IMPATIENT, half_minute, 0.0),
            Duration::from_secs(30)
        );
        let step = IMPATIENT.step(1, 0.0);
        assert_eq!(
            IMPATIENT.wait(step, Some(Duration::from_secs(61)), 0.0),
            None
        );
    }

    #[test]
    fn there_is_one_step_fewer_than_attempts() {
        assert_eq!(BACKOFF.steps().count(), 5);
        let once = Backoff {
            max_attempts: 0,
            ..BACKOFF
        };
        assert_eq!(once.steps().count(), 0);
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
        let now: DateTime<Utc> = "2015-10-21T07:27:30Z".parse().expect("a date");
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn retry_after_is_read_from_headers() {
        let mut headers = reqwest::header::HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert(
            reqwest::header::RETRY_AFTER,
            reqwest::header::HeaderValue::from_static("3"),
        );
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(3)));
    }

    /// Attempts in order: each entry is what that attempt returns.
    async fn run(
        backoff: Backoff,
        script: Vec<Result<&'static str, Failed<&'static str, &'static str>>>,
    ) -> (
        Result<&'static str, GaveUp<&'static str, &'static str>>,
        Vec<(u32, tokio::time::Instant)>,
    ) {
        let script = Mutex::new(script.into_iter());
        let seen = Mutex::new(Vec::new());
        let result = backoff
            .retry(|attempt| {
                seen.lock()
                    .expect("not poisoned")
                    .push((attempt, tokio::time::Instant::now()));
                let next = script.lock().expect("not poisoned").next();
                async move { next.unwrap_or(Err(Failed::Final("script ran out"))) }
            })
            .await;
        (result, seen.into_inner().expect("not poisoned"))
    }

    #[tokio::test(start_paused = true)]
    async fn transient_failures_are_retried_until_an_attempt_succeeds() {
        let (result, seen) = run(
            BACKOFF,
            vec![
                Err(Failed::transient("503")),
                Err(Failed::transient("timeout")),
                Ok("done"),
            ],
        )
        .await;
        assert_eq!(result.expect("succeeds"), "done");
        let numbers: Vec<u32> = seen.iter().map(|(attempt, _)| *attempt).collect();
        assert_eq!(numbers, [1, 2, 3]);
        // Equal jitter: the first retry waits at least half the base, the second half of twice it.
        assert!(seen[1].1 - seen[0].1 >= Duration::from_millis(250));
        assert!(seen[2].1 - seen[1].1 >= Duration::from_millis(500));
    }

    #[tokio::test(start_paused = true)]
    async fn a_final_failure_is_given_back_at_once() {
        let (result, seen) = run(
            BACKOFF,
            vec![Err(Failed::transient("503")), Err(Failed::Final("403"))],
        )
        .await;
        assert!(matches!(result, Err(GaveUp::Final("403"))), "{result:?}");
        assert_eq!(seen.len(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn the_last_failure_and_the_attempts_are_given_back_when_attempts_run_out() {
        let backoff = Backoff {
            max_attempts: 3,
            ..BACKOFF
        };
        let (result, seen) = run(backoff, vec![Err(Failed::transient("503")); 5]).await;
        assert!(
            matches!(
                result,
                Err(GaveUp::Exhausted {
                    failure: "503",
                    attempts: 3
                })
            ),
            "{result:?}"
        );
        assert_eq!(seen.len(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn the_wait_honours_the_servers_retry_after() {
        let asked = Failed::Transient {
            failure: "429",
            retry_after: Some(Duration::from_secs(7)),
        };
        let (result, seen) = run(BACKOFF, vec![Err(asked), Ok("done")]).await;
        assert_eq!(result.expect("succeeds"), "done");
        let waited = seen[1].1 - seen[0].1;
        assert!(waited >= Duration::from_secs(7), "{waited:?}");
        assert!(waited < Duration::from_secs(8), "{waited:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_retry_after_beyond_the_limit_ends_the_retries_at_once() {
        let asked = Failed::Transient {
            failure: "429",
            retry_after: Some(Duration::from_secs(3600)),
        };
        let (result, seen) = run(IMPATIENT, vec![Err(asked), Ok("never")]).await;
        assert!(
            matches!(
                result,
                Err(GaveUp::TooLongToWait {
                    failure: "429",
                    attempts: 1,
                    retry_after
                }) if retry_after == Duration::from_secs(3600)
            ),
            "{result:?}"
        );
        assert_eq!(seen.len(), 1);
    }
}
