//! The gate in front of every v2 resource endpoint, as Personio's gateway answers it: the v2
//! bearer token, the credential's read right, rate-limit storms and the answer delay of
//! [`crate::Fault::Slow`] (after the checks, like v1's `admit`).

use super::v2::v2_error;
use crate::server::{Shared, State};
use crate::throttle::Family;
use axum::http::header::{AUTHORIZATION, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use std::time::{Duration, Instant};

/// A request let through the gate.
pub(super) struct Admitted;

impl Admitted {
    /// The answer as sent.
    pub fn finish(self, response: Response) -> Response {
        response
    }
}

/// Checks a v2 request of `family` on arrival; a refusal is answered at once. Waits out a
/// [`crate::Fault::Slow`] before letting an employee request through.
pub(super) async fn admit(
    shared: &Shared,
    headers: &HeaderMap,
    family: Family,
) -> Result<Admitted, Box<Response>> {
    let delay = {
        let mut state = shared.lock();
        count(&mut state, family);
        check(&mut state, headers, family)?
    };
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    Ok(Admitted)
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

fn check(
    state: &mut State,
    headers: &HeaderMap,
    family: Family,
) -> Result<Option<Duration>, Box<Response>> {
    let header = headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok());
    // A v1 token is not a v2 token: v2 keeps its own.
    let refusal = match state.v2_tokens.check(header, Instant::now()) {
        Err(error) => Some(error.message()),
        Ok(_) if is_employee_request(family) && !state.employee_access => {
            // A missing persons read right is a 401 on v2, not v1's 403 (personio-api.md §2.6).
            Some("The credential may not read persons.")
        }
        Ok(_) => None,
    };
    if let Some(detail) = refusal {
        state.stats.unauthorized += 1;
        return Err(Box::new(v2_error(
            StatusCode::UNAUTHORIZED,
            "Unauthorized Request",
            detail,
            "common.unauthorized",
        )));
    }
    if !is_employee_request(family) {
        return Ok(None);
    }
    if let Some(retry_after) = state.faults.take_storm() {
        state.stats.too_many_requests += 1;
        return Err(Box::new(too_many_requests(retry_after)));
    }
    Ok(state.faults.delay())
}

/// 429 with v2's envelope; `Retry-After: 1` unless a storm leaves it out.
fn too_many_requests(retry_after: bool) -> Response {
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
    response
}
