//! The gate in front of every v2 resource endpoint, as Personio's gateway answers it: the v2
//! bearer token, the credential's read right, rate-limit storms, the token bucket of the
//! endpoint's family and the answer delay of [`crate::Fault::Slow`] (after the checks, like v1's
//! `admit`). Every answer reports the bucket in `x-ratelimit-*` headers (personio-api.md §2.9).

use super::v2::v2_error;
use crate::server::{Shared, State};
use crate::throttle::{Family, Quota};
use axum::http::header::{AUTHORIZATION, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use std::time::{Duration, Instant};

/// A request let through the gate, with the bucket as it left it.
pub(super) struct Admitted(Option<Quota>);

impl Admitted {
    /// The answer with the rate-limit headers.
    pub fn finish(self, response: Response) -> Response {
        with_quota(response, self.0)
    }
}

/// Adds `x-ratelimit-*` for `quota` (none when v2 is unlimited).
fn with_quota(mut response: Response, quota: Option<Quota>) -> Response {
    let Some(quota) = quota else {
        return response;
    };
    let headers = response.headers_mut();
    let mut put = |name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    };
    // `5` for a whole rate: f64's Display writes no `.0`.
    put(
        "x-ratelimit-replenish-rate",
        quota.replenish_rate.to_string(),
    );
    put(
        "x-ratelimit-burst-capacity",
        quota.burst_capacity.to_string(),
    );
    put("x-ratelimit-requested-tokens", "1".to_owned());
    put("x-ratelimit-remaining", quota.remaining.to_string());
    response
}

/// Checks a v2 request of `family` on arrival; a refusal is answered at once. Waits out a
/// [`crate::Fault::Slow`] before letting an employee request through.
pub(super) async fn admit(
    shared: &Shared,
    headers: &HeaderMap,
    family: Family,
) -> Result<Admitted, Box<Response>> {
    let (quota, delay) = {
        let mut state = shared.lock();
        count(&mut state, family);
        check(&mut state, headers, family)?
    };
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    Ok(Admitted(quota))
}

fn count(state: &mut State, family: Family) {
    let stats = &mut state.stats;
    match family {
        Family::Persons => stats.v2_person_requests += 1,
        Family::Employments => stats.v2_employment_requests += 1,
        Family::Reference => stats.v2_reference_requests += 1,
    }
}

/// Persons and employments are employee requests: the read right, storms and delays apply.
fn is_employee_request(family: Family) -> bool {
    matches!(family, Family::Persons | Family::Employments)
}

/// The bucket's numbers after admitting this request, and how late to answer.
fn check(
    state: &mut State,
    headers: &HeaderMap,
    family: Family,
) -> Result<(Option<Quota>, Option<Duration>), Box<Response>> {
    let now = Instant::now();
    let header = headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok());
    // A v1 token is not a v2 token: v2 keeps its own.
    let refusal = match state.v2_tokens.check(header, now) {
        Err(error) => Some(error.message()),
        Ok(_) if is_employee_request(family) && !state.employee_access => {
            // A missing persons read right is a 401 on v2, not v1's 403 (personio-api.md §2.6).
            Some("The credential may not read persons.")
        }
        Ok(_) => None,
    };
    if let Some(detail) = refusal {
        state.stats.unauthorized += 1;
        // A refused token takes no token of the bucket; the headers still report it.
        let quota = state
            .v2_limits
            .as_mut()
            .map(|limits| limits.quota(family, now));
        let response = v2_error(
            StatusCode::UNAUTHORIZED,
            "Unauthorized Request",
            detail,
            "common.unauthorized",
        );
        return Err(Box::new(with_quota(response, quota)));
    }
    let employee_request = is_employee_request(family);
    if let Some(retry_after) = employee_request
        .then(|| state.faults.take_storm())
        .flatten()
    {
        let quota = state.v2_limits.as_mut().map(|limits| Quota {
            remaining: 0,
            ..limits.quota(family, now)
        });
        return Err(Box::new(too_many_requests(state, retry_after, quota)));
    }
    let quota = match state.v2_limits.as_mut() {
        None => None,
        Some(limits) => match limits.acquire(family, now) {
            (true, quota) => Some(quota),
            (false, quota) => return Err(Box::new(too_many_requests(state, true, Some(quota)))),
        },
    };
    let delay = employee_request.then(|| state.faults.delay()).flatten();
    Ok((quota, delay))
}

/// 429 with v2's envelope and the bucket's headers; `Retry-After: 1` unless a storm leaves it
/// out.
fn too_many_requests(state: &mut State, retry_after: bool, quota: Option<Quota>) -> Response {
    state.stats.too_many_requests += 1;
    let mut response = v2_error(
        StatusCode::TOO_MANY_REQUESTS,
        "Too Many Requests",
        "The rate limit of this endpoint is exceeded. Please try again later.",
        "common.too_many_requests",
    );
    if retry_after {
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from_static("1"));
    }
    with_quota(response, quota)
}
