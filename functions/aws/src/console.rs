//! The admins' console in AWS: its link keys in a Secrets Manager secret of the deployment
//! (`CONSOLE_KEYS_SECRET`, JSON as `sync_core::console_site` describes), read through the
//! secrets cache so that a rotation reaches warm functions within `SECRETS_CACHE_SECONDS`, and
//! its address (`CONSOLE_URL`) for the links summary emails and the admin API give out.

use crate::config::ConfigError;
use crate::secrets::SecretsManagerSecrets;
use async_trait::async_trait;
use secrecy::ExposeSecret;
use std::sync::Arc;
use sync_core::console_site::{keys_from_json, ConsoleAddress, KeySource, KeySourceError};
use sync_core::links::LinkKeys;

/// The console's keys in one secret.
#[derive(Clone, Debug)]
pub struct SecretKeys {
    secrets: SecretsManagerSecrets,
    name: String,
}

impl SecretKeys {
    /// The keys in secret `name` (a name or ARN), read through `secrets`' cache.
    pub fn new(secrets: SecretsManagerSecrets, name: impl Into<String>) -> Self {
        Self {
            secrets,
            name: name.into(),
        }
    }

    /// `CONSOLE_KEYS_SECRET` of the environment, if set.
    pub fn from_env(secrets: &SecretsManagerSecrets) -> Option<Self> {
        let name = std::env::var("CONSOLE_KEYS_SECRET").ok()?;
        let name = name.trim();
        (!name.is_empty()).then(|| Self::new(secrets.clone(), name))
    }
}

#[async_trait]
impl KeySource for SecretKeys {
    async fn link_keys(&self) -> Result<LinkKeys, KeySourceError> {
        let text = self
            .secrets
            .text(&self.name)
            .await
            .map_err(|error| KeySourceError(error.to_string()))?;
        keys_from_json(text.expose_secret()).map_err(|detail| {
            KeySourceError(format!(
                "the console's link keys in secret {} are not usable: {detail}",
                self.name
            ))
        })
    }
}

/// The console's address and keys from `CONSOLE_URL` and `CONSOLE_KEYS_SECRET`: `None` when the
/// deployment has no console (neither set); an error when only one is, or the address is not
/// https.
pub fn console_from_env(
    secrets: &SecretsManagerSecrets,
) -> Result<Option<ConsoleAddress>, ConfigError> {
    let url = std::env::var("CONSOLE_URL")
        .ok()
        .map(|url| url.trim().trim_end_matches('/').to_owned())
        .filter(|url| !url.is_empty());
    match (url, SecretKeys::from_env(secrets)) {
        (None, None) => Ok(None),
        (Some(url), Some(keys)) => {
            sync_core::http::credential_url(&url).map_err(|problem| ConfigError::Invalid {
                name: "CONSOLE_URL",
                detail: problem,
            })?;
            Ok(Some(ConsoleAddress {
                url,
                keys: Arc::new(keys),
            }))
        }
        (Some(_), None) => Err(ConfigError::Missing {
            name: "CONSOLE_KEYS_SECRET",
            hint: "set it to the secret holding the console's link keys, or unset CONSOLE_URL",
        }),
        (None, Some(_)) => Err(ConfigError::Missing {
            name: "CONSOLE_URL",
            hint: "set it to the address the console is served at, or unset CONSOLE_KEYS_SECRET",
        }),
    }
}
