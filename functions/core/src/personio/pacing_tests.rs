//! The pacer against simulated servers, on a simulated clock: the two readings of Personio's
//! documented limit, each as a server that refuses what it does not allow.

use super::*;
use std::collections::VecDeque;

const SECOND: Duration = Duration::from_secs(1);

/// A server's limit: whether it admits a request arriving at `at`.
trait Server {
    fn admit(&mut self, at: Instant) -> bool;
}

/// 300 a minute with a burst of 15, as a token bucket: 5 a second after the first 15.
struct Bucket {
    tokens: f64,
    updated: Instant,
}

impl Server for Bucket {
    fn admit(&mut self, at: Instant) -> bool {
        let elapsed = at.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * 5.0).min(15.0);
        self.updated = at;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// 15 in any second and 300 in any minute, counting the requests admitted.
#[derive(Default)]
struct Windows {
    admitted: VecDeque<Instant>,
}

impl Server for Windows {
    fn admit(&mut self, at: Instant) -> bool {
        let within = |span: Duration| {
            self.admitted
                .iter()
                .filter(|sent| at.saturating_duration_since(**sent) < span)
                .count()
        };
        if within(SECOND) >= 15 || within(Duration::from_secs(60)) >= 300 {
            return false;
        }
        self.admitted.push_back(at);
        if self.admitted.len() > 300 {
            self.admitted.pop_front();
        }
        true
    }
}

struct Outcome {
    elapsed: Duration,
    throttled: u64,
    sends: Vec<Instant>,
}

/// Reads `pages` pages, `concurrency` at a time, each answered after `latency` (a 429 at once);
/// a refused page is asked again. Returns when every page was read.
fn simulate(server: &mut dyn Server, pages: usize, latency: Duration) -> Outcome {
    let start = Instant::now();
    let mut pacer = Pacer::new(RateLimit::default(), start);
    let concurrency = 15;
    let mut now = start;
    let (mut to_send, mut done) = (pages, 0);
    let mut in_flight: Vec<(Instant, bool)> = Vec::new();
    let mut sends = Vec::new();
    while done < pages {
        in_flight.sort_by_key(|(at, _)| *at);
        while in_flight.first().is_some_and(|(at, _)| *at <= now) {
            let (at, admitted) = in_flight.remove(0);
            if admitted {
                done += 1;
                pacer.succeeded(at);
            } else {
                pacer.throttled_at(at, Some(SECOND));
                to_send += 1;
            }
        }
        let mut next_send = None;
        while to_send > 0 && in_flight.len() < concurrency {
            match pacer.take(now) {
                Ok(()) => {
                    sends.push(now);
                    let admitted = server.admit(now);
                    let answer = if admitted {
                        latency
                    } else {
                        Duration::from_millis(5)
                    };
                    in_flight.push((now + answer, admitted));
                    to_send -= 1;
                }
                Err(at) => {
                    next_send = Some(at);
                    break;
                }
            }
        }
        let next_answer = in_flight.iter().map(|(at, _)| *at).min();
        match next_send.into_iter().chain(next_answer).min() {
            Some(next) => now = next,
            None => break,
        }
    }
    Outcome {
        elapsed: now - start,
        throttled: pacer.throttled(),
        sends,
    }
}

/// The most requests sent within any `span`.
fn most_within(sends: &[Instant], span: Duration) -> usize {
    (0..sends.len())
        .map(|first| {
            sends[first..]
                .iter()
                .take_while(|sent| sent.saturating_duration_since(sends[first]) < span)
                .count()
        })
        .max()
        .unwrap_or(0)
}

fn bucket() -> Bucket {
    Bucket {
        tokens: 15.0,
        updated: Instant::now(),
    }
}

/// The bucket's own floor: 15 at once, then one every 200 ms, plus the last answer.
fn bucket_floor(pages: usize, latency: Duration) -> Duration {
    Duration::from_secs_f64((pages - 15) as f64 / 5.0) + latency
}

/// The windows' own floor (below 300 pages): 15 a second, plus the last answer.
fn windows_floor(pages: usize, latency: Duration) -> Duration {
    SECOND * (pages.div_ceil(15) as u32 - 1) + latency
}

#[test]
fn a_token_bucket_server_is_read_near_its_floor_with_one_429() {
    for latency in [Duration::from_millis(20), Duration::from_millis(300)] {
        let outcome = simulate(&mut bucket(), 101, latency);
        let ratio = outcome.elapsed.as_secs_f64() / bucket_floor(101, latency).as_secs_f64();
        eprintln!(
            "bucket {latency:?}: {:?}, ratio {ratio:.3}, {} 429s",
            outcome.elapsed, outcome.throttled
        );
        assert!(ratio <= 1.2, "{latency:?}: ratio {ratio}");
        assert!(outcome.throttled <= 3, "{}", outcome.throttled);
        assert!(
            outcome.throttled >= 1,
            "the generous reading was never tried"
        );
    }
}

#[test]
fn a_windows_server_is_read_near_its_floor_without_a_429() {
    for latency in [Duration::from_millis(20), Duration::from_millis(300)] {
        let outcome = simulate(&mut Windows::default(), 101, latency);
        let ratio = outcome.elapsed.as_secs_f64() / windows_floor(101, latency).as_secs_f64();
        eprintln!(
            "windows {latency:?}: {:?}, ratio {ratio:.3}, {} 429s",
            outcome.elapsed, outcome.throttled
        );
        assert!(ratio <= 1.2, "{latency:?}: ratio {ratio}");
        assert_eq!(outcome.throttled, 0);
    }
}

#[test]
fn a_long_read_never_sends_more_than_300_in_a_minute_and_stays_nearly_free_of_429s() {
    for server in [&mut bucket() as &mut dyn Server, &mut Windows::default()] {
        let outcome = simulate(server, 1_000, Duration::from_millis(50));
        eprintln!("long: {:?}, {} 429s", outcome.elapsed, outcome.throttled);
        assert!(most_within(&outcome.sends, Duration::from_secs(60)) <= 300);
        assert!(most_within(&outcome.sends, SECOND) <= 15);
        assert!(outcome.throttled <= 3, "{}", outcome.throttled);
        // 1,000 requests at 300 a minute take at least 3 min 20 s; near it, whatever the server.
        assert!(
            outcome.elapsed < Duration::from_secs(215),
            "{:?}",
            outcome.elapsed
        );
    }
}

#[test]
fn a_429_stops_every_request_for_the_retry_after_and_slows_to_the_documented_rate() {
    let start = Instant::now();
    let mut pacer = Pacer::new(RateLimit::default(), start);
    assert!((0..15).all(|_| pacer.take(start).is_ok()));
    pacer.throttled_at(start, Some(Duration::from_secs(5)));
    assert!(pacer.take(start + Duration::from_millis(4_900)).is_err());
    assert!(pacer.take(start + Duration::from_millis(5_100)).is_ok());
    assert!((pacer.rate() - 4.9).abs() < 1e-9, "{}", pacer.rate());
    // A second 429 from a request sent before the first decrease changes nothing.
    pacer.throttled_at(start + SECOND, Some(SECOND));
    assert!((pacer.rate() - 4.9).abs() < 1e-9, "{}", pacer.rate());
    // One after it does: the server is stricter than documented.
    pacer.throttled_at(start + Duration::from_secs(6), None);
    assert!(pacer.rate() < 4.9);
}

#[test]
fn the_rate_grows_back_slowly_and_never_to_a_rate_that_failed() {
    let start = Instant::now();
    let mut pacer = Pacer::new(RateLimit::default(), start);
    pacer.throttled_at(start, None);
    pacer.succeeded(start + Duration::from_secs(5));
    assert!(
        (pacer.rate() - 4.9).abs() < 1e-9,
        "grew within {INCREASE_AFTER:?}"
    );
    let mut now = start;
    for _ in 0..100 {
        now += INCREASE_AFTER;
        pacer.succeeded(now);
    }
    // The first rate, 14.7 a second, failed: nine tenths of it is as far as it goes.
    assert!((pacer.rate() - 14.7 * 0.9).abs() < 1e-9, "{}", pacer.rate());
}

#[test]
fn an_advertised_limit_sets_the_rate_and_an_empty_bucket_waits_for_a_token() {
    let start = Instant::now();
    let mut pacer = Pacer::new(RateLimit::default(), start);
    let advertised = Advertised {
        replenish_rate: Some(2.0),
        burst_capacity: Some(10.0),
        remaining: Some(0.0),
    };
    pacer.advertised(start, advertised);
    assert!((pacer.rate() - 1.96).abs() < 1e-9, "{}", pacer.rate());
    assert!(pacer.take(start + Duration::from_millis(400)).is_err());
    assert!(pacer.take(start + Duration::from_millis(600)).is_ok());
    // Advertised rates are not probed beyond.
    pacer.succeeded(start + Duration::from_secs(60));
    assert!((pacer.rate() - 1.96).abs() < 1e-9, "{}", pacer.rate());
}

#[test]
fn advertised_headers_are_read_and_nonsense_is_ignored() {
    use reqwest::header::{HeaderMap, HeaderValue};
    let mut headers = HeaderMap::new();
    assert_eq!(Advertised::from_headers(&headers), None);
    headers.insert("x-ratelimit-replenish-rate", HeaderValue::from_static("30"));
    headers.insert("x-ratelimit-remaining", HeaderValue::from_static("-1"));
    headers.insert("x-ratelimit-burst-capacity", HeaderValue::from_static("x"));
    assert_eq!(
        Advertised::from_headers(&headers),
        Some(Advertised {
            replenish_rate: Some(30.0),
            burst_capacity: None,
            remaining: None,
        })
    );
}

#[test]
fn an_advertised_limit_above_the_documented_one_is_used_in_full() {
    let start = Instant::now();
    let mut pacer = Pacer::new(RateLimit::default(), start);
    pacer.advertised(
        start,
        Advertised {
            replenish_rate: Some(30.0),
            burst_capacity: Some(30.0),
            remaining: Some(30.0),
        },
    );
    // A minute at the advertised 30 a second, far past v1's 300 a minute.
    let mut now = start;
    let mut sent = 0;
    while now < start + Duration::from_secs(60) {
        match pacer.take(now) {
            Ok(()) => sent += 1,
            Err(at) => now = at,
        }
    }
    assert!(sent > 1_700, "{sent}");
    assert!(sent <= 1_800 + 30, "{sent}");
}
