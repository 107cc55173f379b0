//! [`SecretsManagerSecrets`]: the `Secrets` port on AWS Secrets Manager, with an in-memory cache
//! so a warm Lambda does not call Secrets Manager on every invocation; and the writers the admin
//! API uses to store them.
//!
//! Names (one secret per value, so each can be rotated and permitted on its own):
//!
//! ```text
//! personio-sync/<tenant>/personio/<account>   {"client_id": "…", "client_secret": "…",
//!                                             "origin": "https://…"}
//! personio-sync/<tenant>/destination          the SCIM bearer token, plain or
//!                                             {"token": "…", "origin": "https://…"}
//! personio-sync/<tenant>/webhook              the token Personio sends, plain or JSON with the
//!                                             previous token and the companies (read whole by
//!                                             `WebhookSecret::from_stored`)
//! ```
//!
//! `origin` is the origin of the base URL the credential was entered for (the admin API records
//! it); a run refuses to send the credential to another origin. A secret without it (stored by
//! hand, or before origins were kept) goes where the config points.
//!
//! Values are held as `SecretString` and never logged; error messages name the secret, never its
//! value.

use async_trait::async_trait;
use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_secretsmanager::Client;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
// tokio's clock, so that tests can move time past the TTL without waiting.
use sync_core::ids::{AccountId, TenantId};
use sync_core::personio::webhooks::WebhookSecret;
use sync_core::ports::{DestinationToken, PersonioCredentials, Secrets, SecretsError};
use tokio::time::Instant;

/// The name of a tenant's Personio credentials for one account.
pub fn personio_secret_name(tenant: &TenantId, account: &AccountId) -> String {
    format!("personio-sync/{tenant}/personio/{account}")
}

/// The name of a tenant's destination token.
pub fn destination_secret_name(tenant: &TenantId) -> String {
    format!("personio-sync/{tenant}/destination")
}

/// The name of a tenant's webhook token.
pub fn webhook_secret_name(tenant: &TenantId) -> String {
    format!("personio-sync/{tenant}/webhook")
}

/// Storing a secret failed.
#[derive(Debug, thiserror::Error)]
#[error("could not store the secret {name}: {detail}")]
pub struct SecretWriteError {
    /// The secret's name.
    pub name: String,
    /// The service's error code and a hint (never the value).
    pub detail: String,
}

/// One cached value and when it was read.
struct Cached {
    value: SecretString,
    read_at: Instant,
}

/// Per-tenant secrets in Secrets Manager, cached for `ttl`.
///
/// Cheap to clone; clones share the cache.
#[derive(Clone)]
pub struct SecretsManagerSecrets {
    client: Client,
    ttl: Duration,
    // A std mutex: it is held only to look up or insert, never across an await.
    cache: Arc<Mutex<HashMap<String, Cached>>>,
}

impl std::fmt::Debug for SecretsManagerSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretsManagerSecrets")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl SecretsManagerSecrets {
    /// Secrets read through `client`, each cached for `ttl` (`Duration::ZERO` turns the cache
    /// off). Missing secrets are not cached, so storing one takes effect at once.
    pub fn new(client: Client, ttl: Duration) -> Self {
        Self {
            client,
            ttl,
            cache: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// The SDK client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    fn cached(&self, name: &str) -> Option<SecretString> {
        let cache = self
            .cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        cache
            .get(name)
            .filter(|entry| entry.read_at.elapsed() < self.ttl)
            .map(|entry| entry.value.clone())
    }

    fn remember(&self, name: &str, value: &SecretString) {
        if self.ttl.is_zero() {
            return;
        }
        let mut cache = self
            .cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        cache.insert(
            name.to_owned(),
            Cached {
                value: value.clone(),
                read_at: Instant::now(),
            },
        );
    }

    /// Forgets a cached value (after it was stored anew).
    pub fn forget_secret(&self, name: &str) {
        let mut cache = self
            .cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        cache.remove(name);
    }

    /// The text of secret `name` (a name or ARN), from the cache while it is fresh.
    pub async fn text(&self, name: &str) -> Result<SecretString, SecretsError> {
        self.value(name).await
    }

    /// The text of secret `name`, from the cache while it is fresh.
    async fn value(&self, name: &str) -> Result<SecretString, SecretsError> {
        if let Some(value) = self.cached(name) {
            return Ok(value);
        }
        let output = self
            .client
            .get_secret_value()
            .secret_id(name)
            .send()
            .await
            .map_err(|err| read_error(name, err))?;
        let value = match (output.secret_string, output.secret_binary) {
            (Some(text), _) => SecretString::from(text),
            (None, Some(_)) => {
                return Err(SecretsError::Malformed {
                    name: name.to_owned(),
                    detail: "it holds binary data; store the value as text".to_owned(),
                })
            }
            (None, None) => {
                return Err(SecretsError::Malformed {
                    name: name.to_owned(),
                    detail: "it has no value".to_owned(),
                })
            }
        };
        tracing::debug!(secret = name, "secret read from Secrets Manager");
        self.remember(name, &value);
        Ok(value)
    }

    /// Creates the secret `name` with `value`, or stores `value` as its new version.
    pub async fn put_secret(
        &self,
        name: &str,
        value: &SecretString,
    ) -> Result<(), SecretWriteError> {
        let write_error = |err: &dyn ProvideErrorMetadata| SecretWriteError {
            name: name.to_owned(),
            detail: format!(
                "Secrets Manager answered {}; check the role's secretsmanager permissions",
                err.code().unwrap_or("an unknown error")
            ),
        };
        self.forget_secret(name);
        let put = self
            .client
            .put_secret_value()
            .secret_id(name)
            .secret_string(value.expose_secret())
            .send()
            .await;
        match put {
            Ok(_) => {}
            Err(err) if is_not_found(&err) => {
                let created = self
                    .client
                    .create_secret()
                    .name(name)
                    .secret_string(value.expose_secret())
                    .send()
                    .await;
                match created {
                    Ok(_) => {}
                    // Created by someone else in between: store ours as its new version.
                    Err(err) if err.code() == Some("ResourceExistsException") => {
                        self.client
                            .put_secret_value()
                            .secret_id(name)
                            .secret_string(value.expose_secret())
                            .send()
                            .await
                            .map_err(|err| write_error(&err))?;
                    }
                    Err(err) => return Err(write_error(&err)),
                }
            }
            Err(err) => return Err(write_error(&err)),
        }
        self.forget_secret(name);
        tracing::info!(secret = name, "secret stored");
        Ok(())
    }

    /// Stores a tenant's Personio credentials for one account.
    pub async fn put_personio(
        &self,
        tenant: &TenantId,
        account: &AccountId,
        credentials: &PersonioCredentials,
    ) -> Result<(), SecretWriteError> {
        let mut json = serde_json::json!({
            "client_id": credentials.client_id,
            "client_secret": credentials.client_secret.expose_secret(),
        });
        if let Some(origin) = &credentials.origin {
            json["origin"] = Value::from(origin.as_str());
        }
        let value = SecretString::from(json.to_string());
        self.put_secret(&personio_secret_name(tenant, account), &value)
            .await
    }

    /// Stores a tenant's destination token: `{"token": "…", "origin": "…"}`, or plain text when
    /// no origin is known.
    pub async fn put_destination_token(
        &self,
        tenant: &TenantId,
        token: &DestinationToken,
    ) -> Result<(), SecretWriteError> {
        let value = match &token.origin {
            Some(origin) => SecretString::from(
                serde_json::json!({"token": token.token.expose_secret(), "origin": origin})
                    .to_string(),
            ),
            None => token.token.clone(),
        };
        self.put_secret(&destination_secret_name(tenant), &value)
            .await
    }

    /// Stores a tenant's webhook secret: the bare token, or the JSON form
    /// `sync_core::personio::webhooks::secret` documents.
    pub async fn put_webhook_token(
        &self,
        tenant: &TenantId,
        token: &SecretString,
    ) -> Result<(), SecretWriteError> {
        self.put_secret(&webhook_secret_name(tenant), token).await
    }
}

fn is_not_found<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    err.code() == Some("ResourceNotFoundException")
}

fn read_error<E: ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug>(
    name: &str,
    err: SdkError<E, R>,
) -> SecretsError {
    if is_not_found(&err) {
        return SecretsError::Missing {
            name: name.to_owned(),
        };
    }
    let detail = match err.code() {
        Some("AccessDeniedException") => {
            "access denied; allow secretsmanager:GetSecretValue on it for the function's role"
                .to_owned()
        }
        Some("DecryptionFailure") => {
            "Secrets Manager could not decrypt it; allow kms:Decrypt on its key".to_owned()
        }
        Some(code) => format!("Secrets Manager answered {code}"),
        // No code: the request never got an answer (timeout, DNS, connection refused).
        None => format!(
            "Secrets Manager did not answer ({})",
            aws_sdk_secretsmanager::error::DisplayErrorContext(&err)
        ),
    };
    SecretsError::Unavailable {
        name: name.to_owned(),
        detail,
    }
}

/// Parses `{"client_id": "…", "client_secret": "…"}`.
pub fn parse_personio(
    name: &str,
    value: &SecretString,
) -> Result<PersonioCredentials, SecretsError> {
    let malformed = |detail: &str| SecretsError::Malformed {
        name: name.to_owned(),
        detail: detail.to_owned(),
    };
    let json: Value = serde_json::from_str(value.expose_secret()).map_err(|_| {
        malformed(r#"it is not JSON; store {"client_id": "…", "client_secret": "…"}"#)
    })?;
    let field = |key: &str| match json.get(key) {
        Some(Value::String(text)) if !text.trim().is_empty() => Ok(text.trim().to_owned()),
        Some(Value::String(_)) => Err(malformed(&format!("its field {key} is empty"))),
        Some(_) => Err(malformed(&format!("its field {key} is not a string"))),
        None => Err(malformed(&format!("it has no field {key}"))),
    };
    Ok(PersonioCredentials {
        client_id: field("client_id")?,
        client_secret: SecretString::from(field("client_secret")?),
        origin: origin_field(&json, &malformed)?,
    })
}

/// The optional `origin` of a stored credential: the origin it was entered for.
fn origin_field(
    json: &Value,
    malformed: &dyn Fn(&str) -> SecretsError,
) -> Result<Option<String>, SecretsError> {
    match json.get("origin") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(origin)) if !origin.trim().is_empty() => {
            Ok(Some(origin.trim().to_owned()))
        }
        Some(_) => Err(malformed(
            "its field origin is not the https://host of the address it was entered for",
        )),
    }
}

/// Parses a token stored as plain text or as `{"token": "…"}` (with an optional `origin`).
pub fn parse_token(name: &str, value: &SecretString) -> Result<DestinationToken, SecretsError> {
    let malformed = |detail: &str| SecretsError::Malformed {
        name: name.to_owned(),
        detail: detail.to_owned(),
    };
    let text = value.expose_secret().trim();
    if text.starts_with('{') {
        let json: Value = serde_json::from_str(text)
            .map_err(|_| malformed(r#"it starts with '{' but is not JSON; store the token as plain text or {"token": "…"}"#))?;
        return match json.get("token") {
            Some(Value::String(token)) if !token.trim().is_empty() => Ok(DestinationToken {
                token: SecretString::from(token.trim().to_owned()),
                origin: origin_field(&json, &malformed)?,
            }),
            Some(Value::String(_)) => Err(malformed("its field token is empty")),
            Some(_) => Err(malformed("its field token is not a string")),
            None => Err(malformed("it is JSON without a field token")),
        };
    }
    if text.is_empty() {
        return Err(malformed("it is empty"));
    }
    Ok(DestinationToken {
        token: SecretString::from(text.to_owned()),
        origin: None,
    })
}

#[async_trait]
impl Secrets for SecretsManagerSecrets {
    async fn personio(
        &self,
        tenant: &TenantId,
        account: &AccountId,
    ) -> Result<PersonioCredentials, SecretsError> {
        let name = personio_secret_name(tenant, account);
        parse_personio(&name, &self.value(&name).await?)
    }

    async fn destination_token(&self, tenant: &TenantId) -> Result<DestinationToken, SecretsError> {
        let name = destination_secret_name(tenant);
        parse_token(&name, &self.value(&name).await?)
    }

    async fn webhook(&self, tenant: &TenantId) -> Result<WebhookSecret, SecretsError> {
        // The whole value: `parse_token` would keep only `token`, and with it lose the previous
        // token of a rotation and the company pinning.
        let name = webhook_secret_name(tenant);
        WebhookSecret::from_stored(&name, &self.value(&name).await?)
    }

    async fn forget(&self, tenant: &TenantId) {
        // The trailing slash keeps tenant `acme` from forgetting `acme-2`'s secrets.
        let prefix = format!("personio-sync/{tenant}/");
        let mut cache = self
            .cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        cache.retain(|name, _| !name.starts_with(&prefix));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(text: &str) -> SecretString {
        SecretString::from(text.to_owned())
    }

    #[test]
    fn personio_credentials_parse_from_json() {
        let parsed =
            parse_personio("n", &secret(r#"{"client_id":"id-1","client_secret":"s3"}"#)).unwrap();
        assert_eq!(parsed.client_id, "id-1");
        assert_eq!(parsed.client_secret.expose_secret(), "s3");
    }

    #[test]
    fn malformed_personio_credentials_name_the_field_never_the_value() {
        for (value, expected) in [
            ("hunter2", "not JSON"),
            (r#"{"client_id":"id-1"}"#, "no field client_secret"),
            (
                r#"{"client_id":"id-1","client_secret":42}"#,
                "client_secret is not a string",
            ),
            (
                r#"{"client_id":" ","client_secret":"hunter2"}"#,
                "client_id is empty",
            ),
        ] {
            let err =
                parse_personio("personio-sync/acme/personio/main", &secret(value)).unwrap_err();
            let text = err.to_string();
            assert!(text.contains(expected), "{text}");
            assert!(text.contains("personio-sync/acme/personio/main"));
            assert!(!text.contains("hunter2") && !text.contains("42"), "{text}");
        }
    }

    #[test]
    fn tokens_are_read_plain_or_from_json() {
        assert_eq!(
            parse_token("n", &secret(" tok-1 \n"))
                .unwrap()
                .token
                .expose_secret(),
            "tok-1"
        );
        assert_eq!(
            parse_token("n", &secret(r#"{"token":"tok-2"}"#))
                .unwrap()
                .token
                .expose_secret(),
            "tok-2"
        );
        assert!(parse_token("n", &secret("")).is_err());
        assert!(parse_token("n", &secret(r#"{"bearer":"tok"}"#)).is_err());
        let err = parse_token("n", &secret("{tok-3")).unwrap_err();
        assert!(!err.to_string().contains("tok-3"));
    }
}
