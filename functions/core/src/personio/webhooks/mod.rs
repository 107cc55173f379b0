//! Registering this service's webhook with Personio's v2 API (personio-api.md §2.1, §3.1): an
//! OAuth2 token from `POST /v2/auth/token`, then `POST /v2/webhooks`, `GET /v2/webhooks` or
//! `PATCH /v2/webhooks/{id}`. Also the documented event catalog (§3.5), which the webhook handler
//! checks deliveries against.
//!
//! These are one-shot admin calls (the CLI's `register-webhook` and `rotate-webhook-token`), so
//! each function fetches its own token and no state is kept. `session` (private) does the HTTP:
//! the token, and retries with the v1 client's back-off; a `POST` that may have reached Personio
//! is not repeated, because a second create would register a second webhook.
//!
//! Personio sends webhooks with a static token in `Authorization` and no signature (§3.3), so the
//! token is the only proof a delivery is genuine: [`new_webhook_token`] makes 256 random bits.
//! [`secret`] reads the tenant's stored webhook secret (token, previous token, companies).

pub mod secret;
mod session;

use crate::ids::AccountId;
use crate::ports::SourceError;
use rand::RngCore;
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
pub use secret::{CompanyCheck, SecretFormatError, WebhookSecret};
use serde::Deserialize;
use serde_json::{json, Value};
use session::{Repeat, V2Session};
use std::fmt::Write as _;

/// Every event Personio documents (§3.5), plus `ping`, its test event.
pub const EVENTS: &[&str] = &[
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

/// The events a sync needs: every person and employment event, the first nine of [`EVENTS`].
/// Absences, attendances and documents change nothing this service writes.
pub const DEFAULT_EVENTS: &[&str] = EVENTS.split_at(9).0;

/// One Personio account's v2 API credential (it needs the `personio:webhooks:read` and
/// `personio:webhooks:write` scopes).
#[derive(Clone)]
pub struct V2Credentials {
    /// Our name for the account, for error messages.
    pub account: AccountId,
    /// Scheme and host, e.g. `https://api.personio.de`; `/v2/…` is appended.
    pub base_url: String,
    /// The API credential's client id.
    pub client_id: String,
    /// Its secret.
    pub client_secret: SecretString,
}

impl std::fmt::Debug for V2Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("V2Credentials")
            .field("account", &self.account)
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

/// A webhook as Personio lists it. Its token is never part of it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct WebhookInfo {
    /// Personio's id (a UUID).
    pub id: String,
    /// Where Personio delivers.
    pub url: String,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// `ENABLED` or `DISABLED`.
    #[serde(default)]
    pub status: Option<String>,
    /// `NONE`, `TOKEN` or `CUSTOM`.
    #[serde(default)]
    pub auth_type: Option<String>,
    /// The events delivered.
    #[serde(default)]
    pub enabled_events: Vec<String>,
}

/// What to register.
#[derive(Clone, Copy, Debug)]
pub struct NewWebhook<'a> {
    /// Our HTTPS endpoint for the tenant (`…/webhooks/<tenant id>`).
    pub url: &'a str,
    /// The token Personio will send verbatim in `Authorization`.
    pub token: &'a SecretString,
    /// The events to deliver; see [`DEFAULT_EVENTS`].
    pub events: &'a [String],
    /// Shown in Personio's settings, e.g. "personio-sync for tenant acme".
    pub description: &'a str,
}

/// Why a webhook call failed. Each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum WebhookApiError {
    /// The client id or secret was refused, or the credential lacks the webhook scopes (v2
    /// answers 401 for a missing scope).
    #[error("Personio refused the v2 credentials of account {account} ({detail}); check the client id and secret, and that the API credential has the scopes personio:webhooks:read and personio:webhooks:write")]
    Unauthorized {
        /// The account.
        account: AccountId,
        /// What Personio said.
        detail: String,
    },
    /// The credential may not manage webhooks.
    #[error("the API credential of account {account} may not manage webhooks ({detail}); give it the scope personio:webhooks:write in Personio's API settings")]
    Forbidden {
        /// The account.
        account: AccountId,
        /// What Personio said.
        detail: String,
    },
    /// A webhook for this URL exists already.
    #[error("Personio already has a webhook for {url}; give it a new token with `rotate-webhook-token` instead")]
    Conflict {
        /// The URL.
        url: String,
    },
    /// No webhook with this id.
    #[error("Personio has no webhook {id}; `register-webhook` creates one")]
    NotFound {
        /// The id asked for.
        id: String,
    },
    /// Personio refused the request as invalid.
    #[error("Personio refused the webhook request with HTTP {status} ({detail}); check the URL (HTTPS) and the event names")]
    Rejected {
        /// The status.
        status: u16,
        /// What Personio said.
        detail: String,
    },
    /// 429 or 5xx after every retry.
    #[error("Personio did not answer successfully after {attempts} attempts ({detail}); try again later")]
    Unavailable {
        /// Attempts made.
        attempts: u32,
        /// The last status or error.
        detail: String,
    },
    /// Could not connect or send.
    #[error("could not reach Personio at {url}: {detail}")]
    Transport {
        /// The URL.
        url: String,
        /// The error.
        detail: String,
    },
    /// An answer that is not what the API documents.
    #[error("Personio sent an answer this service cannot read ({detail})")]
    Malformed {
        /// What was wrong.
        detail: String,
    },
}

impl From<WebhookApiError> for SourceError {
    fn from(error: WebhookApiError) -> Self {
        match error {
            WebhookApiError::Unauthorized { account, detail } => SourceError::Unauthorized {
                account: account.to_string(),
                detail,
            },
            WebhookApiError::Forbidden { account, detail } => SourceError::Forbidden {
                account: account.to_string(),
                detail,
            },
            WebhookApiError::Unavailable { attempts, detail } => {
                SourceError::Unavailable { attempts, detail }
            }
            WebhookApiError::Transport { url, detail } => SourceError::Transport { url, detail },
            other => SourceError::Malformed {
                detail: other.to_string(),
            },
        }
    }
}

/// A new webhook token: 256 bits from the operating system's random source, as 64 hex digits.
pub fn new_webhook_token() -> SecretString {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let hex = bytes.iter().fold(String::with_capacity(64), |mut hex, b| {
        let _ = write!(hex, "{b:02x}");
        hex
    });
    SecretString::from(hex)
}

/// Registers an enabled `TOKEN` webhook for `webhook.events`; returns it as Personio created it.
pub async fn register_webhook(
    credentials: &V2Credentials,
    webhook: &NewWebhook<'_>,
) -> Result<WebhookInfo, WebhookApiError> {
    let session = V2Session::open(credentials).await?;
    let body = json!({
        "url": webhook.url,
        "description": webhook.description,
        "status": "ENABLED",
        "auth_type": "TOKEN",
        "token": webhook.token.expose_secret(),
        "enabled_events": webhook.events,
    });
    let answer = session
        .call(
            Method::POST,
            "/v2/webhooks",
            Some(&body),
            Repeat::OnlyUnsent,
        )
        .await;
    match answer {
        Err(WebhookApiError::Rejected { status: 409, .. }) => Err(WebhookApiError::Conflict {
            url: webhook.url.to_owned(),
        }),
        other => parse("POST /v2/webhooks", &other?),
    }
}

/// Gives webhook `webhook_id` a new token (and `TOKEN` auth); returns it as Personio now has it.
pub async fn rotate_webhook_token(
    credentials: &V2Credentials,
    webhook_id: &str,
    token: &SecretString,
) -> Result<WebhookInfo, WebhookApiError> {
    let session = V2Session::open(credentials).await?;
    let body = json!({ "auth_type": "TOKEN", "token": token.expose_secret() });
    let path = format!("/v2/webhooks/{}", path_segment(webhook_id)?);
    match session
        .call(Method::PATCH, &path, Some(&body), Repeat::Always)
        .await
    {
        Err(WebhookApiError::Rejected { status: 404, .. }) => Err(WebhookApiError::NotFound {
            id: webhook_id.to_owned(),
        }),
        other => parse("PATCH /v2/webhooks/{id}", &other?),
    }
}

/// Every webhook of the account, following the cursor.
pub async fn list_webhooks(
    credentials: &V2Credentials,
) -> Result<Vec<WebhookInfo>, WebhookApiError> {
    #[derive(Deserialize)]
    struct Page {
        #[serde(rename = "_data", alias = "data", default)]
        data: Vec<WebhookInfo>,
        #[serde(rename = "_meta", default)]
        meta: Option<Value>,
    }
    let session = V2Session::open(credentials).await?;
    let mut path = "/v2/webhooks?limit=200".to_owned();
    let mut webhooks = Vec::new();
    // A cursor that never ends is a server bug; 1,000 pages of 200 is far beyond any account.
    for _ in 0..1_000 {
        let body = session
            .call(Method::GET, &path, None, Repeat::Always)
            .await?;
        let page: Page = parse("GET /v2/webhooks", &body)?;
        webhooks.extend(page.data);
        let next = page
            .meta
            .as_ref()
            .and_then(|meta| meta.pointer("/links/next/href"))
            .and_then(Value::as_str);
        match next {
            // The next link is absolute; only its path and query are used, so a link can never
            // send the token to another host.
            Some(href) => path = path_and_query(href)?,
            None => return Ok(webhooks),
        }
    }
    Err(WebhookApiError::Malformed {
        detail: "GET /v2/webhooks kept answering with a next page".to_owned(),
    })
}

/// Refuses ids that would change the request path.
fn path_segment(id: &str) -> Result<&str, WebhookApiError> {
    let ok = !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then_some(id).ok_or_else(|| WebhookApiError::NotFound {
        id: id.chars().take(60).collect(),
    })
}

fn path_and_query(href: &str) -> Result<String, WebhookApiError> {
    let url = reqwest::Url::parse(href).map_err(|_| WebhookApiError::Malformed {
        detail: "the next-page link of GET /v2/webhooks is not a URL".to_owned(),
    })?;
    Ok(match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    })
}

fn parse<T: serde::de::DeserializeOwned>(what: &str, body: &[u8]) -> Result<T, WebhookApiError> {
    serde_json::from_slice(body).map_err(|error| WebhookApiError::Malformed {
        detail: format!(
            "the answer to {what} is not the documented JSON ({:?} error at line {}, column {})",
            error.classify(),
            error.line(),
            error.column()
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_64_hex_digits_and_differ() {
        let one = new_webhook_token();
        let two = new_webhook_token();
        assert_eq!(one.expose_secret().len(), 64);
        assert!(one.expose_secret().bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(one.expose_secret(), two.expose_secret());
    }

    #[test]
    fn next_links_keep_only_path_and_query() {
        assert_eq!(
            path_and_query("https://evil.example/v2/webhooks?cursor=cur_2&limit=200").unwrap(),
            "/v2/webhooks?cursor=cur_2&limit=200"
        );
        assert!(path_and_query("not a url").is_err());
    }

    #[test]
    fn webhook_ids_cannot_change_the_path() {
        assert!(path_segment("3f2a-11ef_9").is_ok());
        assert!(path_segment("../persons").is_err());
        assert!(path_segment("").is_err());
    }

    #[test]
    fn default_events_are_every_person_and_employment_event() {
        let wanted: Vec<&str> = EVENTS
            .iter()
            .copied()
            .filter(|event| event.starts_with("person.") || event.starts_with("employment."))
            .collect();
        assert_eq!(DEFAULT_EVENTS, wanted.as_slice());
    }

    #[test]
    fn the_fake_personio_knows_the_same_event_catalog() {
        // The fake keeps its own copy (it cannot depend on this crate, which tests against it);
        // this keeps the two from drifting apart.
        assert_eq!(EVENTS, fake_personio::WEBHOOK_EVENTS);
    }
}
