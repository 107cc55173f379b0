//! The HTTP surface: `POST /v1/auth` here, the employee endpoints in `routes::employees`, the v2
//! token and webhook endpoints in `routes::v2`, v2 persons and employments in
//! `routes::v2_persons` and reference data in `routes::v2_reference` (behind the gate of
//! `routes::v2_admit`, paged by `routes::v2_paging`), and the v1 response helpers
//! (personio-api.md §1.2, §1.11).

pub(crate) mod employees;
mod v2;
mod v2_admit;
mod v2_paging;
mod v2_persons;
mod v2_reference;
mod writes;

use crate::auth::{TokenError, TOKEN_LIFETIME};
use crate::server::{Shared, State};
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;
use std::time::Instant;

/// Every route of the fake.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v1/auth", post(auth))
        .route(
            "/v1/company/employees",
            get(employees::list).post(writes::create),
        )
        .route(
            "/v1/company/employees/attributes",
            get(employees::attributes),
        )
        .route(
            "/v1/company/employees/custom-attributes",
            get(employees::attributes),
        )
        .route(
            "/v1/company/employees/{id}",
            get(employees::single).patch(writes::update),
        )
        .route(
            "/v1/company/employees/{id}/profile-picture",
            get(employees::picture),
        )
        .route(
            "/v1/company/employees/{id}/profile-picture/{width}",
            get(employees::picture),
        )
        .route("/v2/auth/token", post(v2::token))
        .route("/v2/webhooks", get(v2::list).post(v2::create))
        .route(
            "/v2/webhooks/{id}",
            get(v2::single).patch(v2::update).delete(v2::delete),
        )
        .route("/v2/webhooks/{id}/ping", post(v2::ping))
        .route("/v2/persons", get(v2_persons::list))
        .route("/v2/persons/{id}", get(v2_persons::single))
        .route("/v2/persons/{id}/employments", get(v2_persons::employments))
        .route(
            "/v2/persons/{id}/employments/{employment_id}",
            get(v2_persons::single_employment),
        )
        .route("/v2/org-units/{id}", get(v2_reference::org_unit))
        .route("/v2/legal-entities", get(v2_reference::legal_entities))
        .route(
            "/v2/legal-entities/{id}",
            get(v2_reference::legal_entity_by_id),
        )
        .route("/v2/workplaces", get(v2_reference::workplaces))
        .route("/v2/cost-centers", get(v2_reference::cost_centers))
        .fallback(|| async { v1_error(StatusCode::NOT_FOUND, "Es ist ein Problem aufgetreten ") })
        .with_state(shared)
}

#[derive(Deserialize)]
struct Credentials {
    client_id: String,
    client_secret: String,
}

/// `POST /v1/auth`: credentials in a JSON or form body; in the query string they are refused with
/// 403, as Personio does since their deprecation.
async fn auth(
    axum::extract::State(shared): axum::extract::State<Arc<Shared>>,
    request: Request,
) -> Response {
    shared.lock().stats.auth_requests += 1;
    let query = request.uri().query().unwrap_or_default();
    let credentials_in_query = query.split('&').any(|pair| {
        let name = pair.split('=').next().unwrap_or_default();
        name == "client_id" || name == "client_secret"
    });
    if credentials_in_query {
        return v1_error(
            StatusCode::FORBIDDEN,
            "Query-string authentication is no longer supported; send client_id and client_secret in the request body",
        );
    }
    let is_form = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/x-www-form-urlencoded"));
    let credentials = if is_form {
        Form::<Credentials>::from_request(request, &())
            .await
            .ok()
            .map(|Form(credentials)| credentials)
    } else {
        // JSON is read whatever the content type says, as lenient servers do.
        Bytes::from_request(request, &())
            .await
            .ok()
            .and_then(|body| serde_json::from_slice::<Credentials>(&body).ok())
    };
    let Some(credentials) = credentials else {
        return v1_error(
            StatusCode::BAD_REQUEST,
            "client_id and client_secret are required",
        );
    };
    let mut state = shared.lock();
    let accepted = credentials.client_id == state.config.client_id
        && credentials.client_secret == state.config.client_secret;
    if !accepted {
        state.stats.unauthorized += 1;
        return v1_error(
            StatusCode::UNAUTHORIZED,
            "The client_id or client_secret is not valid",
        );
    }
    let token = state.tokens.issue(Instant::now());
    let body = json!({
        "success": true,
        "data": {
            "token": token,
            "expires_in": TOKEN_LIFETIME.as_secs(),
            "scope": "employees:read",
        }
    });
    json_response(StatusCode::OK, body.to_string().into_bytes())
}

impl State {
    /// The request's valid token, or why it was refused (answered as a 401).
    pub(crate) fn authorize(&mut self, headers: &HeaderMap) -> Result<String, TokenError> {
        let header = headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok());
        let token = self
            .tokens
            .check(header, Instant::now())
            .inspect_err(|_| self.stats.unauthorized += 1)?;
        if !self.employee_access {
            return Err(TokenError::NoEmployeeAccess);
        }
        Ok(token)
    }

    /// The 429 to answer if a storm or the rate limit refuses this employee request.
    pub(crate) fn throttle(&mut self) -> Option<Response> {
        let retry_after = match self.faults.take_storm() {
            Some(with_header) => with_header,
            None => {
                let now = Instant::now();
                let allowed = self
                    .throttle
                    .as_mut()
                    .is_none_or(|throttle| throttle.try_acquire(now));
                if allowed {
                    return None;
                }
                true
            }
        };
        self.stats.too_many_requests += 1;
        let mut response = v1_error(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests");
        if retry_after {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from_static("1"));
        }
        Some(response)
    }
}

impl IntoResponse for TokenError {
    fn into_response(self) -> Response {
        let status = match self {
            TokenError::NoEmployeeAccess => StatusCode::FORBIDDEN,
            _ => StatusCode::UNAUTHORIZED,
        };
        v1_error(status, self.message())
    }
}

/// A JSON body with its content type.
pub(crate) fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    (
        status,
        [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        Body::from(body),
    )
        .into_response()
}

/// Personio's v1 error envelope, `{"success":false,"error":{"code":…,"message":…}}`.
pub(crate) fn v1_error(status: StatusCode, message: &str) -> Response {
    let body = json!({
        "success": false,
        "error": { "code": status.as_u16(), "message": message },
    });
    json_response(status, body.to_string().into_bytes())
}

/// An injected server error: the v1 envelope for 500, a proxy's HTML page for anything else.
pub(crate) fn server_error(status: u16) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if status == StatusCode::INTERNAL_SERVER_ERROR {
        return v1_error(status, "Something went wrong");
    }
    let html = format!(
        "<html><head><title>{status}</title></head><body><center><h1>{status}</h1></center></body></html>"
    );
    (
        status,
        [(CONTENT_TYPE, HeaderValue::from_static("text/html"))],
        html,
    )
        .into_response()
}

/// Echoes the token in `Authorization: Bearer <token>`, as Personio does on personnel responses.
pub(crate) fn with_token(mut response: Response, token: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(&format!("Bearer {token}")) {
        response.headers_mut().insert(AUTHORIZATION, value);
    }
    response
}
