//! [`handle`]: one delivery in, one small JSON answer out. Reaches the world only through the core
//! ports in [`WebhookDeps`].

use crate::envelope::{Envelope, EventRequest};
use crate::misses::{Miss, Misses};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::time::Instant;
use sync_core::config::TenantConfig;
use sync_core::history::Trigger;
use sync_core::ids::{AccountId, PersonKey, TenantId};
use sync_core::personio::webhooks::{CompanyCheck, WebhookSecret};
use sync_core::ports::{ConfigStore, EventLog, Job, JobTarget, Jobs, Secrets, SecretsError};

/// Bodies larger than this are refused with 413 before anything reads them. Personio's envelopes
/// carry ids only; 64 KiB is two orders of magnitude of headroom.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// How long a delivery's fingerprint is remembered: Personio retries one event for up to 3 days
/// (personio-api.md §3.2).
pub const DEDUPE_HOURS: i64 = 72;

/// How long a queued full run counts as pending. Events meanwhile queue under its id (the queue
/// keeps one message), since that run will read their changes; the worker clears the mark as the
/// run starts. The expiry only matters if the job never starts (later events then queue anew).
pub const FULL_RUN_PENDING_MINUTES: i64 = 15;

/// The ports a delivery is handled through, and the moment it arrived.
pub struct WebhookDeps<'a> {
    /// Tenant configs: an unknown tenant is refused.
    pub configs: &'a dyn ConfigStore,
    /// The tenant's webhook secret (see `sync_core::personio::webhooks::secret` for its forms).
    pub secrets: &'a dyn Secrets,
    /// Which deliveries were seen.
    pub events: &'a dyn EventLog,
    /// Where runs are queued.
    pub jobs: &'a dyn Jobs,
    /// Tenants recently found without a config or webhook secret (kept across deliveries).
    pub misses: &'a Misses,
    /// Now: the start of the dedupe period and of a pending full run.
    pub now: DateTime<Utc>,
}

/// One delivery, as the HTTP layer (Lambda or a test server) hands it over.
pub struct WebhookRequest {
    /// The `{tenant_id}` path parameter, unchecked.
    pub tenant_id: String,
    /// The `Authorization` header, if present and text.
    pub authorization: Option<String>,
    /// The `Content-Type` header, if present and text.
    pub content_type: Option<String>,
    /// The raw body.
    pub body: Vec<u8>,
}

impl std::fmt::Debug for WebhookRequest {
    // The token and the body stay out of every log and test failure.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookRequest")
            .field(
                "tenant_id",
                &self.tenant_id.chars().take(40).collect::<String>(),
            )
            .field(
                "authorization",
                &self.authorization.as_ref().map(|_| "<redacted>"),
            )
            .field("content_type", &self.content_type)
            .field("body_bytes", &self.body.len())
            .finish()
    }
}

/// The answer: a status and a small JSON body that never echoes the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookResponse {
    /// The HTTP status.
    pub status: u16,
    /// `{"status": …}` or `{"error": …}`.
    pub body: String,
}

/// How a delivery ended; each maps to one status and body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    TooLarge,
    UnsupportedMediaType,
    /// Unknown or malformed tenant, missing or wrong token: one answer for all, so a caller
    /// cannot tell a tenant that exists from one that does not.
    Unauthorized,
    Malformed,
    ForeignCompany,
    UnknownEvent,
    Ping,
    Duplicate,
    QueuedPerson,
    QueuedEveryone,
    /// A port failed: 503, so Personio delivers again later.
    Unavailable,
}

impl Outcome {
    fn name(self) -> &'static str {
        match self {
            Self::TooLarge => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::Unauthorized => "unauthorized",
            Self::Malformed => "malformed_envelope",
            Self::ForeignCompany => "company_mismatch",
            Self::UnknownEvent => "ignored_unknown_event",
            Self::Ping => "pong",
            Self::Duplicate => "duplicate",
            Self::QueuedPerson => "queued_person",
            Self::QueuedEveryone => "queued_full_run",
            Self::Unavailable => "temporarily_unavailable",
        }
    }

    fn status(self) -> u16 {
        match self {
            Self::TooLarge => 413,
            Self::UnsupportedMediaType => 415,
            Self::Unauthorized => 401,
            Self::Malformed | Self::ForeignCompany => 400,
            Self::Ping | Self::Duplicate => 200,
            // Accepted, not refused: a 4xx makes Personio retry for three days and may disable
            // the webhook, for an event it added after our catalog.
            Self::QueuedPerson | Self::QueuedEveryone | Self::UnknownEvent => 202,
            Self::Unavailable => 503,
        }
    }

    fn response(self) -> WebhookResponse {
        let status = self.status();
        let key = if status < 400 { "status" } else { "error" };
        WebhookResponse {
            status,
            body: format!("{{\"{key}\":\"{}\"}}", self.name()),
        }
    }
}

/// Handles one delivery: checks size, content type, tenant and token, reads the envelope, drops
/// duplicates, queues the run the event asks for, and answers. Bad input gets a 4xx and queues
/// nothing; only a failing port gets a 5xx (so Personio retries).
#[tracing::instrument(skip_all, fields(tenant_id = tracing::field::Empty, event = tracing::field::Empty))]
pub async fn handle(deps: &WebhookDeps<'_>, request: WebhookRequest) -> WebhookResponse {
    let started = Instant::now();
    let outcome = decide(deps, &request).await;
    tracing::info!(
        outcome = outcome.name(),
        status = outcome.status(),
        body_bytes = request.body.len(),
        elapsed_us = started.elapsed().as_micros() as u64,
        "webhook delivery answered"
    );
    outcome.response()
}

async fn decide(deps: &WebhookDeps<'_>, request: &WebhookRequest) -> Outcome {
    if request.body.len() > MAX_BODY_BYTES {
        return Outcome::TooLarge;
    }
    if !is_json(request.content_type.as_deref()) {
        return Outcome::UnsupportedMediaType;
    }
    let Ok(tenant) = TenantId::parse(&request.tenant_id) else {
        return Outcome::Unauthorized;
    };
    tracing::Span::current().record("tenant_id", tenant.as_str());
    let Some(presented) = request.authorization.as_deref() else {
        return Outcome::Unauthorized;
    };
    let (config, secret) = match authenticate(deps, &tenant, presented).await {
        Ok(found) => found,
        Err(outcome) => return outcome,
    };
    let Ok(envelope) = Envelope::parse(&request.body) else {
        return Outcome::Malformed;
    };
    let pinned_account = match secret.check_company(&envelope.company_id) {
        CompanyCheck::Foreign => return Outcome::ForeignCompany,
        CompanyCheck::Known(account) => account,
        CompanyCheck::Unpinned => None,
    };
    let Some(event_request) = envelope.request() else {
        // The name is the sender's text: logged only when it looks like an event name.
        let name = envelope.event_name.as_str();
        let plausible = name.len() <= 64
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'.' || b == b'_');
        tracing::warn!(
            event = if plausible {
                name
            } else {
                "<not an event name>"
            },
            "an event outside Personio's documented catalog was accepted and ignored"
        );
        return Outcome::UnknownEvent;
    };
    // The name is one of the documented events now, so it is safe to log.
    tracing::Span::current().record("event", envelope.event_name.as_str());
    let fingerprint = fingerprint(&request.body);
    let target = match event_request {
        EventRequest::Ping => return Outcome::Ping,
        EventRequest::Person(id) => match account_of(&config, pinned_account) {
            Some(account) => {
                tracing::info!(person = %id, account = %account, "one-person run asked for");
                JobTarget::Person {
                    person: PersonKey::new(account, id),
                }
            }
            None => JobTarget::Everyone,
        },
        EventRequest::Everyone => JobTarget::Everyone,
    };
    // A delivery is recorded only after its job is queued: one cut short before (the Lambda
    // stopped, a port failed) is taken again when Personio retries it, and the queue's
    // deduplication (by delivery, or by pending full run) keeps a retry from queueing twice.
    match deps.events.seen(&tenant, &fingerprint).await {
        Ok(false) => {}
        Ok(true) => return Outcome::Duplicate,
        Err(error) => {
            tracing::error!(error = %error, "could not read the webhook's delivery log");
            return Outcome::Unavailable;
        }
    }
    let (outcome, dedupe_key) = match target {
        // Per delivery, not per person or window: a later change must queue a run of its own
        // even if the queue already ran (or is running) the earlier one.
        JobTarget::Person { .. } => (
            Outcome::QueuedPerson,
            format!("{tenant}:event:{fingerprint}"),
        ),
        // Every event until the worker starts the pending full run queues under its id: the
        // queue keeps one message, and the run reads Personio after all of their changes.
        JobTarget::Everyone => {
            let pending_until = deps.now + chrono::Duration::minutes(FULL_RUN_PENDING_MINUTES);
            match deps
                .events
                .pending_full_run(&tenant, &fingerprint, pending_until)
                .await
            {
                Ok(id) => (Outcome::QueuedEveryone, format!("{tenant}:full:{id}")),
                Err(error) => {
                    tracing::error!(error = %error, "could not mark a full run as pending");
                    return Outcome::Unavailable;
                }
            }
        }
    };
    let job = Job {
        tenant: tenant.clone(),
        target,
        trigger: Trigger::Webhook {
            event: envelope.event_name.clone(),
        },
        dry_run: false,
        run_id: None,
    };
    if let Err(error) = deps.jobs.enqueue(&job, &dedupe_key).await {
        // Nothing is recorded yet: Personio's retry (it retries on our 503) is taken as new.
        tracing::error!(error = %error, "could not queue the run a webhook asked for");
        return Outcome::Unavailable;
    }
    let expires = deps.now + chrono::Duration::hours(DEDUPE_HOURS);
    if let Err(error) = deps.events.first_seen(&tenant, &fingerprint, expires).await {
        // The run is queued: a retry of this delivery would at most queue one run more.
        tracing::warn!(error = %error, "the run is queued but the delivery could not be recorded; a retry of it may queue another run");
    }
    outcome
}

/// Finds the tenant's config and secret together (so an unknown tenant costs the same lookups as
/// a wrong token) and checks the token. A tenant without a config is unknown, whatever its secret.
///
/// A tenant recently found without a config or secret ([`Misses`]) costs only the config read,
/// which every known tenant's delivery makes as well (its secret comes from the secrets cache):
/// both answers take one DynamoDB read, so their time does not tell whether a tenant exists.
async fn authenticate(
    deps: &WebhookDeps<'_>,
    tenant: &TenantId,
    presented: &str,
) -> Result<(TenantConfig, WebhookSecret), Outcome> {
    if let Some(miss) = deps.misses.get(tenant) {
        match (deps.configs.config(tenant).await, miss) {
            (Ok(None), _) | (Ok(Some(_)), Miss::Secret) => {
                tracing::info!(miss = ?miss, "webhook for a tenant recently found without a config or secret refused");
                return Err(Outcome::Unauthorized);
            }
            // Created since: look again.
            (Ok(Some(_)), Miss::Config) => deps.misses.remove(tenant),
            (Err(error), _) => {
                tracing::error!(error = %error, "could not read the tenant config");
                return Err(Outcome::Unavailable);
            }
        }
    }
    let (config, secret) = tokio::join!(deps.configs.config(tenant), deps.secrets.webhook(tenant));
    let config = match config {
        Ok(Some(versioned)) => versioned.config,
        Ok(None) => {
            tracing::info!("webhook for a tenant without a config refused");
            deps.misses.insert(tenant, Miss::Config);
            return Err(Outcome::Unauthorized);
        }
        Err(error) => {
            tracing::error!(error = %error, "could not read the tenant config");
            return Err(Outcome::Unavailable);
        }
    };
    let secret = match secret {
        Ok(secret) => secret,
        Err(SecretsError::Missing { .. } | SecretsError::NotGiven { .. }) => {
            tracing::info!("webhook for a tenant without a webhook secret refused");
            deps.misses.insert(tenant, Miss::Secret);
            return Err(Outcome::Unauthorized);
        }
        Err(error @ SecretsError::Malformed { .. }) => {
            // The operator's problem, not the caller's: logged for them, and answered as any
            // refused token (a 5xx would make Personio retry, and tell a prober it is there).
            tracing::error!(error = %error, "the tenant's webhook secret is unusable; store it again (POST /tenants/{{id}}/credentials/webhook/rotate)");
            return Err(Outcome::Unauthorized);
        }
        Err(error @ SecretsError::Unavailable { .. }) => {
            tracing::error!(error = %error, "could not read the tenant's webhook secret");
            return Err(Outcome::Unavailable);
        }
    };
    if secret.verify(presented) {
        Ok((config, secret))
    } else {
        tracing::info!("webhook token refused");
        Err(Outcome::Unauthorized)
    }
}

/// `application/json`, with or without parameters such as `charset`.
fn is_json(content_type: Option<&str>) -> bool {
    content_type
        .and_then(|value| value.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}

/// SHA-256 of the raw body in hex: Personio's retries resend the same bytes, and deliveries carry
/// no event id.
fn fingerprint(body: &[u8]) -> String {
    Sha256::digest(body)
        .iter()
        .fold(String::with_capacity(64), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        })
}

/// The account a person event belongs to: the one the secret pins for the company, else the
/// tenant's only account. `None` when that cannot be told (several accounts, none pinned).
fn account_of(config: &TenantConfig, pinned: Option<AccountId>) -> Option<AccountId> {
    let accounts = &config.personio.accounts;
    match pinned {
        Some(account) if accounts.iter().any(|a| a.name == account) => Some(account),
        Some(account) => {
            tracing::warn!(%account, "the webhook secret names an account the tenant does not have; queueing a full run");
            None
        }
        None if accounts.len() == 1 => Some(accounts[0].name.clone()),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_content_types_may_carry_parameters() {
        assert!(is_json(Some("application/json")));
        assert!(is_json(Some("Application/JSON; charset=utf-8")));
        assert!(!is_json(Some("text/plain")));
        assert!(!is_json(Some("application/jsonp")));
        assert!(!is_json(None));
    }

    #[test]
    fn answers_never_echo_the_request_and_errors_share_a_shape() {
        assert_eq!(
            Outcome::Unauthorized.response().body,
            "{\"error\":\"unauthorized\"}"
        );
        assert_eq!(Outcome::QueuedPerson.response().status, 202);
        assert_eq!(
            Outcome::Duplicate.response().body,
            "{\"status\":\"duplicate\"}"
        );
    }

    #[test]
    fn fingerprints_are_hex_sha256() {
        assert_eq!(
            fingerprint(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
