//! Event delivery as Personio does it (personio-api.md §3.2): the envelope
//! `{company_id, event_name, occurred_at, payload, meta}` POSTed as JSON to every enabled webhook
//! subscribed to the event, authenticated by its static token (sent verbatim in `Authorization`)
//! or custom headers, redirects not followed, a time limit per request, and retries of
//! unacknowledged requests with the same body. Every request is recorded for assertions.

use crate::server::Shared;
use crate::webhooks::{AuthType, Delivery, DeliveryPolicy, Webhook, WebhookStatus};
use chrono::{SecondsFormat, Utc};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use serde_json::{json, Value};
use std::sync::Arc;
use tokio::task::JoinSet;

/// Who receives an event.
pub(crate) enum Recipients<'a> {
    /// Every enabled webhook subscribed to it.
    Subscribed,
    /// One webhook, whatever it is subscribed to (`POST /v2/webhooks/{id}/ping`).
    Only(&'a str),
}

/// The HTTP client deliveries go out with: no redirects (Personio follows none); each request
/// gets the policy's time limit.
pub(crate) fn client() -> std::io::Result<reqwest::Client> {
    // reqwest is built without a bundled crypto provider; a second install fails harmlessly.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(std::io::Error::other)
}

/// Sends `event_name` with `payload` and waits until every recipient acknowledged it or its
/// retries ran out; returns the requests made.
pub(crate) async fn emit(
    shared: &Arc<Shared>,
    recipients: Recipients<'_>,
    event_name: &str,
    payload: Value,
) -> Vec<Delivery> {
    let (targets, policy, body) = {
        let state = shared.lock();
        let targets: Vec<Webhook> = state
            .webhooks
            .all()
            .iter()
            .filter(|webhook| match recipients {
                Recipients::Subscribed => {
                    webhook.status == WebhookStatus::Enabled
                        && webhook.enabled_events.iter().any(|e| e == event_name)
                }
                Recipients::Only(id) => webhook.id == id,
            })
            .cloned()
            .collect();
        let envelope = json!({
            "company_id": state.config.company_id,
            "event_name": event_name,
            "occurred_at": Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true),
            "payload": payload,
            "meta": {},
        });
        (targets, state.config.delivery.clone(), envelope.to_string())
    };
    let mut sending = JoinSet::new();
    for webhook in targets {
        sending.spawn(deliver(
            Arc::clone(shared),
            webhook,
            event_name.to_owned(),
            body.clone(),
            policy.clone(),
        ));
    }
    let mut made = Vec::new();
    while let Some(done) = sending.join_next().await {
        match done {
            Ok(requests) => made.extend(requests),
            Err(error) => tracing::error!(%error, "a fake webhook delivery task failed"),
        }
    }
    made
}

/// Delivers one event to one webhook: attempts of up to `requests_per_attempt` requests back to
/// back, with a growing pause between attempts, until a 2xx, a 501 or `max_requests`.
async fn deliver(
    shared: Arc<Shared>,
    webhook: Webhook,
    event_name: String,
    body: String,
    policy: DeliveryPolicy,
) -> Vec<Delivery> {
    let per_attempt = policy.requests_per_attempt.max(1);
    let mut pause = policy.first_delay;
    let mut made = Vec::new();
    for request in 1..=policy.max_requests.max(1) {
        if request > 1 && (request - 1) % per_attempt == 0 {
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(policy.max_delay);
        }
        let (status, error) = send(&shared.delivery_http, &webhook, &body, &policy).await;
        let delivery = Delivery {
            webhook_id: webhook.id.clone(),
            event_name: event_name.clone(),
            request,
            status,
            error,
            body: body.clone(),
        };
        tracing::debug!(webhook_id = %webhook.id, request, ?status, "fake Personio delivered an event");
        shared.lock().deliveries.push(delivery.clone());
        made.push(delivery);
        let retry = match status {
            Some(status) if (200..300).contains(&status) => false,
            // "Extended retry attempts … except 501" (§3.2).
            Some(501) => false,
            Some(status) if (400..500).contains(&status) => policy.retry_client_errors,
            _ => true,
        };
        if !retry {
            break;
        }
    }
    made
}

/// One request; the status, or why there is none.
async fn send(
    http: &reqwest::Client,
    webhook: &Webhook,
    body: &str,
    policy: &DeliveryPolicy,
) -> (Option<u16>, Option<String>) {
    let mut request = http
        .post(&webhook.url)
        .timeout(policy.timeout)
        .header(CONTENT_TYPE, "application/json")
        .header(USER_AGENT, "Personio-Webhooks (fake-personio)")
        .body(body.to_owned());
    match webhook.auth_type {
        AuthType::None => {}
        AuthType::Token => {
            if let Some(token) = &webhook.token {
                // Verbatim: "no prefix will be added automatically" (§3.1).
                request = request.header(AUTHORIZATION, token);
            }
        }
        AuthType::Custom => {
            for (name, value) in &webhook.custom_headers {
                request = request.header(name, value);
            }
        }
    }
    match request.send().await {
        Ok(response) => (Some(response.status().as_u16()), None),
        Err(error) if error.is_timeout() => (None, Some("timed out".to_owned())),
        Err(error) if error.is_connect() => (None, Some("could not connect".to_owned())),
        Err(error) => (None, Some(format!("request failed: {error}"))),
    }
}
