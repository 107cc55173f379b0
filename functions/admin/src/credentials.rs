//! Credentials: Personio (checked against Personio before anything is stored), the destination
//! token, and the webhook token rotation. Secrets are write-only: no answer carries a stored
//! secret; only a rotation answers its new webhook token, once.
//!
//! The webhook secret is written in the JSON form the webhook receiver reads
//! (`functions/core/src/personio/webhooks/secret.rs`): `{"token": new, "previous_token": old, …}`, keeping any
//! company pinning already in it. Personio keeps sending the old token until its webhook is given
//! the new one, and retries old deliveries for up to 3 days; both are accepted meanwhile, so the
//! rotation has no gap. The next rotation drops the old token.

use crate::error::ApiError;
use crate::personio_check::{self, CheckError};
use crate::request::{self, Ids};
use crate::tenants::load;
use crate::Deps;
use axum::body::Body;
use axum::http::header::CACHE_CONTROL;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{json, Value};
use sync_core::config::DestinationConfig;
use sync_core::ports::{DestinationToken, PersonioCredentials};

/// `{client_id, client_secret}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PersonioBody {
    client_id: String,
    client_secret: SecretString,
}

/// `{token}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenBody {
    token: SecretString,
}

fn empty(field: &str) -> ApiError {
    ApiError::bad_request("invalid_body", format!("`{field}` is empty"))
}

/// `PUT /tenants/{tenant}/credentials/personio/{account}`: checks the pair with Personio, then
/// stores it; on any failure nothing is stored. 204.
pub async fn personio(deps: Deps, ids: Ids, body: Body) -> Result<StatusCode, ApiError> {
    let account_id = ids.account()?;
    let bytes = request::read_body(body).await?;
    let body: PersonioBody = request::parse_secret_body(&bytes)?;
    let client_id = body.client_id.trim().to_owned();
    if client_id.is_empty() {
        return Err(empty("client_id"));
    }
    let client_secret = SecretString::from(body.client_secret.expose_secret().trim().to_owned());
    if client_secret.expose_secret().is_empty() {
        return Err(empty("client_secret"));
    }
    let config = load(&deps, &ids.tenant).await?.config;
    let account = config
        .personio
        .accounts
        .iter()
        .find(|account| &account.name == account_id)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "account_not_found",
                format!(
                    "tenant {} has no Personio account named {account_id}; add it to personio.accounts first",
                    ids.tenant
                ),
            )
        })?;
    let credentials = PersonioCredentials {
        client_id,
        client_secret,
        // Entered for this address: a run will not send it to another.
        origin: sync_core::http::credential_origin(&account.base_url).ok(),
    };
    match personio_check::check(account, &credentials, deps.settings.personio_timeout).await {
        Ok(()) => {}
        Err(error) => {
            let (status, code) = match &error {
                CheckError::WrongCredentials { .. } => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "personio_credentials_rejected",
                ),
                CheckError::NoEmployeeAccess { .. } => {
                    (StatusCode::UNPROCESSABLE_ENTITY, "personio_access_denied")
                }
                CheckError::Unavailable { .. } => (StatusCode::BAD_GATEWAY, "personio_unavailable"),
                CheckError::InsecureUrl { .. } => {
                    (StatusCode::UNPROCESSABLE_ENTITY, "personio_url_insecure")
                }
            };
            tracing::info!(tenant_id = %ids.tenant, account = %account_id, code, "Personio credentials not accepted");
            return Err(ApiError::new(status, code, error.to_string()));
        }
    }
    deps.secrets_admin
        .store_personio(&ids.tenant, account_id, &credentials)
        .await?;
    tracing::info!(tenant_id = %ids.tenant, account = %account_id, "Personio credentials stored");
    crate::first_sync::queue_if_ready(&deps, &config).await;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /tenants/{tenant}/credentials/personio`: revokes the service's Personio access
/// without deleting the tenant (Reward Gateway's "revoke access at any time"). In this order, so
/// that a failure half-way leaves no run able to start and repeating the call finishes:
/// 1. the tenant is disabled: no scheduled, webhook or queued run starts from here on;
/// 2. every account's Personio credentials are deleted, without a recovery window;
/// 3. the notice is queued: the worker records it in the history (trigger `revocation`) and
///    emails every admin on the list that runs stopped and how to resume.
///
/// The app's accounts are not touched. 200 with `{revoked, enabled, notice_run}`; `notice_run`
/// is null when the notice could not be queued (the revocation itself stands).
pub async fn revoke_personio(deps: Deps, ids: Ids) -> Result<Json<Value>, ApiError> {
    let current = crate::tenants::switch(&deps, &ids.tenant, false).await?;
    let accounts = crate::tenants::account_names(&current.config);
    deps.secrets_admin
        .delete_account_secrets(&ids.tenant, &accounts)
        .await?;
    tracing::info!(tenant_id = %ids.tenant, accounts = accounts.len(), "Personio access revoked");
    let notice = crate::runs::queueing(&deps)
        .revocation(&ids.tenant, chrono::Utc::now())
        .await
        .inspect_err(|error| {
            tracing::warn!(tenant_id = %ids.tenant, error = %error, "could not queue the notice of the revocation");
        })
        .ok();
    Ok(Json(json!({
        "revoked": accounts.iter().map(|account| account.as_str()).collect::<Vec<_>>(),
        "enabled": current.config.enabled,
        "notice_run": notice.as_ref().map(|run| run.as_str()),
    })))
}

/// `PUT /tenants/{tenant}/credentials/destination`: stores the SCIM bearer token. 204.
pub async fn destination(deps: Deps, ids: Ids, body: Body) -> Result<StatusCode, ApiError> {
    let bytes = request::read_body(body).await?;
    let body: TokenBody = request::parse_secret_body(&bytes)?;
    let token = SecretString::from(body.token.expose_secret().trim().to_owned());
    if token.expose_secret().is_empty() {
        return Err(empty("token"));
    }
    let config = load(&deps, &ids.tenant).await?.config;
    // Entered for the SCIM base URL configured now: a run will not send it to another.
    let origin = match &config.destination {
        DestinationConfig::Scim { base_url, .. } => Some(
            sync_core::http::credential_origin(base_url).map_err(|problem| {
                ApiError::invalid(
                    "tenant config",
                    vec![format!("destination.base_url: {problem}")],
                )
            })?,
        ),
        DestinationConfig::Directory { .. } => None,
    };
    deps.secrets_admin
        .store_destination_token(&ids.tenant, &DestinationToken { token, origin })
        .await?;
    tracing::info!(tenant_id = %ids.tenant, "destination token stored");
    crate::first_sync::queue_if_ready(&deps, &config).await;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /tenants/{tenant}/credentials/webhook/rotate`: a new random token, stored with the
/// current one as `previous_token`; answers the new token once.
pub async fn rotate_webhook(deps: Deps, ids: Ids, body: Body) -> Result<Response, ApiError> {
    let bytes = request::read_body(body).await?;
    request::parse_body::<EmptyBody>(&bytes, true)?;
    load(&deps, &ids.tenant).await?;
    let existing = deps.secrets_admin.webhook_secret(&ids.tenant).await?;
    let token = sync_core::personio::webhooks::new_webhook_token();
    let (secret, previous_kept) = rotated(existing.as_ref(), &token);
    deps.secrets_admin
        .store_webhook_secret(&ids.tenant, &secret)
        .await?;
    tracing::info!(tenant_id = %ids.tenant, previous_kept, "webhook token rotated");
    let body = json!({
        "token": token.expose_secret(),
        "previous_token_kept": previous_kept,
    });
    // The one answer that carries a secret: no cache may keep it.
    Ok((StatusCode::OK, [(CACHE_CONTROL, "no-store")], Json(body)).into_response())
}

/// A rotation takes no parameters: an empty body or `{}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EmptyBody {}

/// The secret after rotating to `token`, and whether the old token was kept as `previous_token`.
fn rotated(existing: Option<&SecretString>, token: &SecretString) -> (SecretString, bool) {
    let text = existing
        .map(|secret| secret.expose_secret().trim())
        .unwrap_or_default();
    let mut secret = serde_json::Map::new();
    let mut previous = None;
    if text.starts_with('{') {
        // Keep company pinning (`company_id`, `account`, `companies`); an unreadable JSON secret
        // was unusable anyway and is replaced whole.
        if let Ok(Value::Object(object)) = serde_json::from_str::<Value>(text) {
            previous = object
                .get("token")
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|old| !old.is_empty())
                .map(str::to_owned);
            secret = object;
        }
    } else if !text.is_empty() {
        previous = Some(text.to_owned());
    }
    secret.insert("token".to_owned(), json!(token.expose_secret()));
    let kept = previous.is_some();
    match previous {
        Some(old) => secret.insert("previous_token".to_owned(), json!(old)),
        None => secret.remove("previous_token"),
    };
    (SecretString::from(Value::Object(secret).to_string()), kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(text: &str) -> SecretString {
        SecretString::from(text.to_owned())
    }

    fn json_of(secret: &SecretString) -> Value {
        serde_json::from_str(secret.expose_secret()).unwrap()
    }

    #[test]
    fn a_bare_token_becomes_the_previous_one() {
        let (new, kept) = rotated(Some(&secret("old-token")), &secret("new-token"));
        assert!(kept);
        assert_eq!(
            json_of(&new),
            json!({"token": "new-token", "previous_token": "old-token"})
        );
    }

    #[test]
    fn company_pinning_is_kept_and_the_token_before_the_previous_one_is_dropped() {
        let old = r#"{"token": "t2", "previous_token": "t1", "company_id": 42, "account": "main"}"#;
        let (new, kept) = rotated(Some(&secret(old)), &secret("t3"));
        assert!(kept);
        assert_eq!(
            json_of(&new),
            json!({"token": "t3", "previous_token": "t2", "company_id": 42, "account": "main"})
        );
    }

    #[test]
    fn no_secret_or_an_unreadable_one_gives_a_fresh_secret() {
        for existing in [None, Some(secret("{broken"))] {
            let (new, kept) = rotated(existing.as_ref(), &secret("t1"));
            assert!(!kept);
            assert_eq!(json_of(&new), json!({"token": "t1"}));
        }
    }
}
