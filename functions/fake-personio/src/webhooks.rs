//! Webhook subscriptions as Personio's v2 management API keeps them (personio-api.md §3.1), and
//! the record of every delivery attempt the fake made (§3.2).
//!
//! This module holds the data and checks requests; `routes::v2` serves it over HTTP and
//! `delivery` sends the events.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// Every event Personio documents (§3.5), plus `ping`, which Personio sends to test a webhook.
pub const WEBHOOK_EVENTS: &[&str] = &[
    "person.created",
    "person.updated",
    "person.deleted",
    "employment.created",
    "employment.updated",
    "employment.updated.cost-centers",
    "employment.deleted",
    "employment.started",
    "employment.terminated",
    "absence-period.created",
    "absence-period.updated.status",
    "absence-period.updated.timerange",
    "absence-period.deleted",
    "attendance-period.created",
    "attendance-period.updated",
    "attendance-period.deleted",
    "document.created",
    "document.updated",
    "document.deleted",
    "document.signed",
    "ping",
];

/// Header names a `CUSTOM` webhook may not set (§3.1).
const FORBIDDEN_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "upgrade",
    "te",
    "trailer",
    "expect",
    "content-type",
];

/// Whether a webhook is delivered to. Personio's default is `DISABLED`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum WebhookStatus {
    /// Events are delivered.
    Enabled,
    /// Nothing is delivered.
    #[default]
    Disabled,
}

/// How deliveries authenticate. Personio's default is `TOKEN`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AuthType {
    /// No authentication header.
    None,
    /// The token, verbatim, in `Authorization` ("no prefix will be added").
    #[default]
    Token,
    /// Up to three static custom headers.
    Custom,
}

/// One subscription, as `GET /v2/webhooks/{id}` shows it. The token is write-only: the fake never
/// sends it back (Personio's answer on that point is not documented; not echoing a secret is the
/// safe assumption for a client).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    /// A UUID, assigned by the server.
    pub id: String,
    /// Where events are POSTed.
    pub url: String,
    /// Required free text.
    pub description: String,
    /// Enabled or not.
    pub status: WebhookStatus,
    /// How deliveries authenticate.
    pub auth_type: AuthType,
    /// The `Authorization` value of `TOKEN` webhooks.
    #[serde(skip_serializing, default)]
    pub token: Option<String>,
    /// The headers of `CUSTOM` webhooks.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub custom_headers: BTreeMap<String, String>,
    /// The events delivered.
    pub enabled_events: Vec<String>,
}

impl std::fmt::Debug for Webhook {
    // The token is a secret, also in test output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook")
            .field("id", &self.id)
            .field("url", &self.url)
            .field("status", &self.status)
            .field("auth_type", &self.auth_type)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("enabled_events", &self.enabled_events)
            .finish_non_exhaustive()
    }
}

/// The body of `POST /v2/webhooks` and `PATCH /v2/webhooks/{id}`: every field optional, so one
/// type reads both; `create` checks the required ones.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WebhookInput {
    pub url: Option<String>,
    pub description: Option<String>,
    pub status: Option<WebhookStatus>,
    pub auth_type: Option<AuthType>,
    pub token: Option<String>,
    pub custom_headers: Option<BTreeMap<String, String>>,
    pub enabled_events: Option<Vec<String>>,
}

/// Why a create or update was refused: the status and the detail of the v2 error.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub status: u16,
    pub detail: String,
}

fn unprocessable(detail: impl Into<String>) -> Refusal {
    Refusal {
        status: 422,
        detail: detail.into(),
    }
}

/// The subscriptions, in creation order.
#[derive(Default)]
pub(crate) struct Webhooks {
    list: Vec<Webhook>,
}

impl Webhooks {
    /// Every subscription.
    pub fn all(&self) -> &[Webhook] {
        &self.list
    }

    /// One subscription.
    pub fn get(&self, id: &str) -> Option<&Webhook> {
        self.list.iter().find(|webhook| webhook.id == id)
    }

    /// Adds a subscription from a `POST` body.
    pub fn create(&mut self, input: WebhookInput) -> Result<Webhook, Refusal> {
        let url = input
            .url
            .clone()
            .ok_or_else(|| unprocessable("url is required"))?;
        let description = input
            .description
            .clone()
            .ok_or_else(|| unprocessable("description is required"))?;
        let enabled_events = input
            .enabled_events
            .clone()
            .ok_or_else(|| unprocessable("enabled_events is required"))?;
        if self.list.iter().any(|webhook| webhook.url == url) {
            return Err(Refusal {
                status: 409,
                detail: "A webhook with this url already exists".to_owned(),
            });
        }
        let mut webhook = Webhook {
            id: uuid(),
            url,
            description,
            status: WebhookStatus::default(),
            auth_type: AuthType::default(),
            token: None,
            custom_headers: BTreeMap::new(),
            enabled_events,
        };
        apply(&mut webhook, input)?;
        self.list.push(webhook.clone());
        Ok(webhook)
    }

    /// Changes the fields a `PATCH` body names; `None` when there is no such webhook.
    pub fn update(&mut self, id: &str, input: WebhookInput) -> Option<Result<Webhook, Refusal>> {
        let webhook = self.list.iter_mut().find(|webhook| webhook.id == id)?;
        let mut changed = webhook.clone();
        Some(apply(&mut changed, input).map(|()| {
            *webhook = changed.clone();
            changed
        }))
    }

    /// Removes a subscription; `false` when there was none.
    pub fn delete(&mut self, id: &str) -> bool {
        let before = self.list.len();
        self.list.retain(|webhook| webhook.id != id);
        self.list.len() != before
    }
}

/// Applies the fields of `input` to `webhook` and checks the result as a whole.
fn apply(webhook: &mut Webhook, input: WebhookInput) -> Result<(), Refusal> {
    if let Some(url) = input.url {
        webhook.url = url;
    }
    if let Some(description) = input.description {
        webhook.description = description;
    }
    if let Some(status) = input.status {
        webhook.status = status;
    }
    if let Some(auth_type) = input.auth_type {
        webhook.auth_type = auth_type;
    }
    if let Some(token) = input.token {
        webhook.token = Some(token);
    }
    if let Some(headers) = input.custom_headers {
        webhook.custom_headers = headers;
    }
    if let Some(events) = input.enabled_events {
        webhook.enabled_events = events;
    }
    check(webhook)
}

fn check(webhook: &Webhook) -> Result<(), Refusal> {
    // Personio wants HTTPS; the fake also delivers to test servers on loopback.
    let loopback = ["http://127.0.0.1", "http://localhost", "http://[::1]"]
        .iter()
        .any(|prefix| webhook.url.starts_with(prefix));
    if !(webhook.url.starts_with("https://") || loopback) {
        return Err(unprocessable("url must be an HTTPS URL"));
    }
    if webhook.description.trim().is_empty() {
        return Err(unprocessable("description must not be empty"));
    }
    if webhook.enabled_events.is_empty() {
        return Err(unprocessable("enabled_events must name at least one event"));
    }
    if let Some(unknown) = webhook
        .enabled_events
        .iter()
        .find(|event| !WEBHOOK_EVENTS.contains(&event.as_str()))
    {
        return Err(unprocessable(format!("{unknown} is not a webhook event")));
    }
    if webhook.auth_type == AuthType::Token && webhook.token.as_deref().is_none_or(str::is_empty) {
        return Err(unprocessable("token is required when auth_type is TOKEN"));
    }
    if !webhook.custom_headers.is_empty() && webhook.auth_type != AuthType::Custom {
        return Err(unprocessable(
            "custom_headers are only allowed when auth_type is CUSTOM",
        ));
    }
    if webhook.custom_headers.len() > 3 {
        return Err(unprocessable("at most 3 custom_headers are allowed"));
    }
    let forbidden = webhook.custom_headers.keys().any(|name| {
        let name = name.to_ascii_lowercase();
        FORBIDDEN_HEADERS
            .iter()
            .any(|forbidden| name.starts_with(forbidden))
    });
    if forbidden {
        return Err(unprocessable("a custom header name is not allowed"));
    }
    Ok(())
}

/// A random (version 4) UUID.
fn uuid() -> String {
    let bytes: [u8; 16] = rand::random();
    let hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    format!(
        "{}-{}-4{}-{:x}{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        8 | (bytes[8] & 0x3),
        &hex[17..20],
        &hex[20..32]
    )
}

/// How the fake delivers events. Personio's real schedule spreads up to 14 requests over 3 days;
/// the fake keeps the count and shrinks the days to milliseconds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryPolicy {
    /// Time limit of one request: Personio's 3 seconds.
    pub timeout: Duration,
    /// Requests per event and webhook at most: Personio's 14.
    pub max_requests: u32,
    /// Requests per attempt: Personio's "fast-attempt" sends up to 2 back to back.
    pub requests_per_attempt: u32,
    /// Wait before the second attempt; it doubles per attempt up to `max_delay`.
    pub first_delay: Duration,
    /// Longest wait between attempts.
    pub max_delay: Duration,
    /// Whether 4xx answers are retried too. Personio documents retries on timeouts and 5xx
    /// other than 501 only; retrying 4xx as well is the pessimistic default, so a receiver is
    /// tested against repeated bad requests.
    pub retry_client_errors: bool,
}

impl Default for DeliveryPolicy {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(3),
            max_requests: 14,
            requests_per_attempt: 2,
            first_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(200),
            retry_client_errors: true,
        }
    }
}

/// One delivery request the fake made, for assertions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// The webhook delivered to.
    pub webhook_id: String,
    /// The event.
    pub event_name: String,
    /// 1 for the first request of this event to this webhook, 2 for its first retry, …
    pub request: u32,
    /// The receiver's HTTP status; `None` when it timed out or could not be reached.
    pub status: Option<u16>,
    /// Why there is no status (`timed out`, `could not connect`).
    pub error: Option<String>,
    /// The exact body sent: retries send the same bytes.
    pub body: String,
}

impl Delivery {
    /// Whether the receiver acknowledged it (2xx).
    pub fn acknowledged(&self) -> bool {
        self.status
            .is_some_and(|status| (200..300).contains(&status))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(url: &str) -> WebhookInput {
        WebhookInput {
            url: Some(url.to_owned()),
            description: Some("sync".to_owned()),
            status: Some(WebhookStatus::Enabled),
            token: Some("secret".to_owned()),
            enabled_events: Some(vec!["person.updated".to_owned()]),
            ..WebhookInput::default()
        }
    }

    #[test]
    fn uuids_look_like_version_4() {
        let id = uuid();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "{id}");
    }

    #[test]
    fn a_webhook_defaults_to_token_auth_and_needs_a_token() {
        let mut webhooks = Webhooks::default();
        let created = webhooks.create(input("https://a.example/hook")).unwrap();
        assert_eq!(created.auth_type, AuthType::Token);
        let mut no_token = input("https://b.example/hook");
        no_token.token = None;
        assert_eq!(webhooks.create(no_token).unwrap_err().status, 422);
    }

    #[test]
    fn unknown_events_plain_http_and_duplicate_urls_are_refused() {
        let mut webhooks = Webhooks::default();
        webhooks.create(input("https://a.example/hook")).unwrap();
        assert_eq!(
            webhooks
                .create(input("https://a.example/hook"))
                .unwrap_err()
                .status,
            409
        );
        assert_eq!(
            webhooks
                .create(input("http://a.example/hook"))
                .unwrap_err()
                .status,
            422
        );
        let mut unknown = input("https://c.example/hook");
        unknown.enabled_events = Some(vec!["person.exploded".to_owned()]);
        assert_eq!(webhooks.create(unknown).unwrap_err().status, 422);
    }

    #[test]
    fn a_refused_update_changes_nothing() {
        let mut webhooks = Webhooks::default();
        let created = webhooks.create(input("https://a.example/hook")).unwrap();
        let bad = WebhookInput {
            enabled_events: Some(Vec::new()),
            ..WebhookInput::default()
        };
        assert!(webhooks.update(&created.id, bad).unwrap().is_err());
        assert_eq!(webhooks.get(&created.id), Some(&created));
        assert!(webhooks
            .update("missing", WebhookInput::default())
            .is_none());
    }
}
