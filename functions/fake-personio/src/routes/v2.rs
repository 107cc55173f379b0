//! The v2 endpoints the fake serves: the OAuth2 token (personio-api.md §2.1) and the webhook
//! management API (§3.1), with v2's error envelope (§2.6).

use super::json_response;
use crate::auth::TOKEN_LIFETIME;
use crate::delivery::{self, Recipients};
use crate::server::Shared;
use crate::webhooks::{WebhookInput, WebhookStatus};
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use chrono::{SecondsFormat, Utc};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Instant;

type SharedState = State<Arc<Shared>>;

/// The scopes a fake token carries when the request names none.
const DEFAULT_SCOPE: &str = "personio:persons:read personio:webhooks:read personio:webhooks:write";

/// Webhooks per list page without a `limit`, and the largest `limit` (§3.1).
const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 200;

fn trace_id() -> String {
    let bytes: [u8; 12] = rand::random();
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn timestamp() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// v2's error envelope: `personio_trace_id`, `timestamp`, `errors[]` (§2.6).
pub(super) fn v2_error(status: StatusCode, title: &str, detail: &str, kind: &str) -> Response {
    let body = json!({
        "personio_trace_id": trace_id(),
        "timestamp": timestamp(),
        "errors": [{
            "title": title,
            "detail": detail,
            "type": format!("https://developer.personio.de/reference/errors#{kind}"),
            "_meta": {},
        }],
    });
    problem(status, body)
}

fn problem(status: StatusCode, body: Value) -> Response {
    let mut response = json_response(status, body.to_string().into_bytes());
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response
}

/// The OAuth2 error body of the token endpoint (§2.1).
fn oauth_error(status: StatusCode, error: &str, description: &str, meta: Value) -> Response {
    let body = json!({
        "timestamp": timestamp(),
        "trace_id": trace_id(),
        "error": error,
        "error_description": description,
        "error_uri": format!("https://developer.personio.de/reference/errors#credentials.oauth2.{error}"),
        "meta": meta,
    });
    problem(status, body)
}

#[derive(Deserialize)]
struct TokenRequest {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    scope: Option<String>,
}

/// `POST /v2/auth/token`: form fields only, `client_credentials` only.
pub(crate) async fn token(State(shared): SharedState, request: Request) -> Response {
    shared.lock().stats.token_requests += 1;
    // axum's form reader also insists on the form content type, as Personio does.
    let Ok(Form(request)) = Form::<TokenRequest>::from_request(request, &()).await else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The request must be an application/x-www-form-urlencoded form.",
            json!({}),
        );
    };
    let missing: Vec<&str> = [
        ("grant_type", request.grant_type.is_none()),
        ("client_id", request.client_id.is_none()),
        ("client_secret", request.client_secret.is_none()),
    ]
    .into_iter()
    .filter_map(|(name, absent)| absent.then_some(name))
    .collect();
    if !missing.is_empty() {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The request has missing or invalid required parameters.",
            json!({ "missing_parameters": missing }),
        );
    }
    if request.grant_type.as_deref() != Some("client_credentials") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "Only the client_credentials grant is supported.",
            json!({}),
        );
    }
    let mut state = shared.lock();
    let accepted = request.client_id.as_deref() == Some(state.config.client_id.as_str())
        && request.client_secret.as_deref() == Some(state.config.client_secret.as_str());
    if !accepted {
        state.stats.unauthorized += 1;
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "The client_id or client_secret is not valid.",
            json!({}),
        );
    }
    let access_token = state.v2_tokens.issue(Instant::now());
    let scope = request.scope.unwrap_or_else(|| DEFAULT_SCOPE.to_owned());
    let body = json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": TOKEN_LIFETIME.as_secs(),
        "scope": scope,
    });
    json_response(StatusCode::OK, body.to_string().into_bytes())
}

/// The v2 bearer token check of every webhook endpoint: the 401 to answer, if refused.
fn refuse(shared: &Shared, headers: &HeaderMap) -> Option<Response> {
    let header = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok());
    let mut state = shared.lock();
    state.stats.webhook_requests += 1;
    let error = state.v2_tokens.check(header, Instant::now()).err()?;
    state.stats.unauthorized += 1;
    Some(v2_error(
        StatusCode::UNAUTHORIZED,
        "Unauthorized Request",
        error.message(),
        "common.unauthorized",
    ))
}

/// 400 with v2's envelope and `detail`.
pub(super) fn bad_request(detail: &str) -> Response {
    v2_error(
        StatusCode::BAD_REQUEST,
        "Bad request",
        detail,
        "common.bad_request",
    )
}

/// 404 with v2's envelope.
pub(super) fn not_found() -> Response {
    v2_error(
        StatusCode::NOT_FOUND,
        "Resource not found",
        "There is no resource for the specified id.",
        "common.resource_not_found",
    )
}

fn bad_body() -> Response {
    v2_error(
        StatusCode::BAD_REQUEST,
        "Bad request",
        "The body is not a valid webhook.",
        "common.bad_request",
    )
}

fn refused(refusal: crate::webhooks::Refusal) -> Response {
    let status = StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::BAD_REQUEST);
    v2_error(
        status,
        "Invalid webhook",
        &refusal.detail,
        "common.bad_request",
    )
}

fn webhook_json(webhook: &crate::webhooks::Webhook) -> Vec<u8> {
    serde_json::to_vec(webhook).unwrap_or_default()
}

/// `POST /v2/webhooks` → 201 with the webhook.
pub(crate) async fn create(
    State(shared): SharedState,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(response) = refuse(&shared, &headers) {
        return response;
    }
    let Ok(input) = serde_json::from_slice::<WebhookInput>(&body) else {
        return bad_body();
    };
    match shared.lock().webhooks.create(input) {
        Ok(webhook) => json_response(StatusCode::CREATED, webhook_json(&webhook)),
        Err(refusal) => refused(refusal),
    }
}

#[derive(Deserialize)]
pub(crate) struct ListQuery {
    status: Option<WebhookStatus>,
    enabled_events: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
}

/// `GET /v2/webhooks` → `{"_data": [...], "_meta": {"links": {...}}}`, cursor-paged.
pub(crate) async fn list(
    State(shared): SharedState,
    headers: HeaderMap,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Response {
    if let Some(response) = refuse(&shared, &headers) {
        return response;
    }
    let Ok(Query(query)) = query else {
        return v2_error(
            StatusCode::BAD_REQUEST,
            "Bad request",
            "Provided request parameters are invalid.",
            "common.bad_request",
        );
    };
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return v2_error(
            StatusCode::BAD_REQUEST,
            "Bad request",
            "limit must be between 1 and 200.",
            "common.bad_request",
        );
    }
    let start = match query.cursor.as_deref().map(|cursor| {
        cursor
            .strip_prefix("cur_")
            .and_then(|n| n.parse::<usize>().ok())
    }) {
        None => 0,
        Some(Some(start)) => start,
        Some(None) => {
            return v2_error(
                StatusCode::BAD_REQUEST,
                "Bad request",
                "The cursor is not valid.",
                "common.bad_request",
            )
        }
    };
    let state = shared.lock();
    let selected: Vec<&crate::webhooks::Webhook> = state
        .webhooks
        .all()
        .iter()
        .filter(|webhook| query.status.is_none_or(|status| webhook.status == status))
        .filter(|webhook| {
            query.enabled_events.as_deref().is_none_or(|wanted| {
                wanted
                    .split(',')
                    .any(|event| webhook.enabled_events.iter().any(|e| e == event.trim()))
            })
        })
        .collect();
    let page: Vec<_> = selected.iter().skip(start).take(limit).collect();
    let mut links = json!({
        "self": { "href": format!("{}/v2/webhooks", shared.base_url) },
    });
    if start + limit < selected.len() {
        links["next"] = json!({
            "href": format!("{}/v2/webhooks?limit={limit}&cursor=cur_{}", shared.base_url, start + limit),
        });
    }
    let body = json!({ "_data": page, "_meta": { "links": links } });
    json_response(StatusCode::OK, body.to_string().into_bytes())
}

/// `GET /v2/webhooks/{id}` → the bare webhook.
pub(crate) async fn single(
    State(shared): SharedState,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Some(response) = refuse(&shared, &headers) {
        return response;
    }
    match shared.lock().webhooks.get(&id) {
        Some(webhook) => json_response(StatusCode::OK, webhook_json(webhook)),
        None => not_found(),
    }
}

/// `PATCH /v2/webhooks/{id}` → the changed webhook.
pub(crate) async fn update(
    State(shared): SharedState,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    if let Some(response) = refuse(&shared, &headers) {
        return response;
    }
    let Ok(input) = serde_json::from_slice::<WebhookInput>(&body) else {
        return bad_body();
    };
    match shared.lock().webhooks.update(&id, input) {
        Some(Ok(webhook)) => json_response(StatusCode::OK, webhook_json(&webhook)),
        Some(Err(refusal)) => refused(refusal),
        None => not_found(),
    }
}

/// `DELETE /v2/webhooks/{id}` → 204.
pub(crate) async fn delete(
    State(shared): SharedState,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Some(response) = refuse(&shared, &headers) {
        return response;
    }
    if shared.lock().webhooks.delete(&id) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        not_found()
    }
}

/// `POST /v2/webhooks/{id}/ping` → 202; the `ping` event is delivered in the background.
pub(crate) async fn ping(
    State(shared): SharedState,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Some(response) = refuse(&shared, &headers) {
        return response;
    }
    if shared.lock().webhooks.get(&id).is_none() {
        return not_found();
    }
    tokio::spawn(async move {
        delivery::emit(&shared, Recipients::Only(&id), "ping", json!({})).await;
    });
    StatusCode::ACCEPTED.into_response()
}
