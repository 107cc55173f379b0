//! The adapter factory: a tenant's config and secrets become the Personio clients and the
//! destination a run works through. The worker, the admin API and the CLI all build them here, so
//! a setting (rate limits, the attribute filter, the SCIM paths) reaches every entry point alike.
//!
//! What differs per entry point is passed in, not written again: where secrets come from (Secrets
//! Manager, or the CLI's environment and files, both behind [`Secrets`]), Personio's timeouts
//! (the admin API answers within 30 s), and whether a local directory may be the destination
//! (only where [`LocalDestinations`] is given: the CLI and tests; the Lambdas have no folder and
//! do not link the directory adapter).

use std::time::Duration;
use sync_core::config::{AccountConfig, DestinationConfig, TenantConfig};
use sync_core::ids::AccountId;
use sync_core::personio::{PersonioClient, PersonioSettings, RateLimit};
use sync_core::ports::{
    Destination, LocalDestinations, PersonioCredentials, Secrets, SecretsError, Source,
};

/// Why a tenant's adapters could not be built. Each message says what to fix.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// A secret could not be read.
    #[error(transparent)]
    Secrets(#[from] SecretsError),
    /// A Personio account's settings are unusable.
    #[error("the Personio account `{account}` cannot be used: {detail}")]
    Personio {
        /// The account.
        account: AccountId,
        /// What is wrong.
        detail: String,
    },
    /// The destination's settings are unusable.
    #[error("the destination cannot be used: {detail}")]
    Destination {
        /// What is wrong.
        detail: String,
    },
    /// A stored credential would go to another origin than the one it was entered for (the
    /// config's base URL changed since).
    #[error("the stored {what} was entered for {stored}, but the config now points at {configured}; it is not sent there until it is entered again for the new address ({fix})")]
    OriginChanged {
        /// Which credential.
        what: String,
        /// The origin it was entered for.
        stored: String,
        /// The origin the config names now.
        configured: String,
        /// How to enter it again.
        fix: String,
    },
    /// A directory destination where there is no local folder (a deployed tenant).
    #[error("destination kind `directory` writes to a local folder and works only with the personio-sync CLI; give a deployed tenant kind `scim`")]
    NoLocalDirectory,
}

impl BuildError {
    /// Whether trying again later may succeed (the secret store was unreachable).
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Secrets(SecretsError::Unavailable { .. }))
    }
}

/// Personio request limits that differ from the client's defaults.
#[derive(Clone, Copy, Debug, Default)]
pub struct PersonioLimits {
    /// Attempts per request.
    pub max_attempts: Option<u32>,
    /// Time limit of each request, and the longest wait between attempts.
    pub request_timeout: Option<Duration>,
}

/// Builds a tenant's adapters.
#[derive(Clone, Copy)]
pub struct Factory<'a> {
    /// Where credentials come from.
    pub secrets: &'a dyn Secrets,
    /// Opens a local directory destination; `None` refuses `kind = "directory"`.
    pub local: Option<&'a dyn LocalDestinations>,
    /// Personio limits of this entry point.
    pub personio: PersonioLimits,
}

/// The adapters of one tenant.
pub struct TenantAdapters {
    /// One Personio client per account.
    pub sources: Vec<(AccountId, PersonioClient)>,
    /// Where users go.
    pub destination: Box<dyn Destination>,
}

impl TenantAdapters {
    /// The clients as the engine's sources.
    pub fn sources(&self) -> Vec<(AccountId, &dyn Source)> {
        as_sources(&self.sources)
    }
}

/// Clients as the engine's sources.
pub fn as_sources(clients: &[(AccountId, PersonioClient)]) -> Vec<(AccountId, &dyn Source)> {
    clients
        .iter()
        .map(|(account, client)| (account.clone(), client as &dyn Source))
        .collect()
}

impl<'a> Factory<'a> {
    /// A factory with the client's default Personio limits and no local directories.
    pub fn new(secrets: &'a dyn Secrets) -> Self {
        Self {
            secrets,
            local: None,
            personio: PersonioLimits::default(),
        }
    }

    /// The Personio client of `account` with `credentials` (checked before they are stored).
    pub fn personio_client(
        &self,
        config: &TenantConfig,
        account: &AccountConfig,
        credentials: PersonioCredentials,
    ) -> Result<PersonioClient, BuildError> {
        let mut settings = PersonioSettings::new(
            account.name.clone(),
            account.base_url.clone(),
            credentials.client_id,
            credentials.client_secret,
        );
        settings.rate_limit = RateLimit {
            per_minute: account.rate_limit_per_minute,
            burst: account.rate_limit_burst,
        };
        settings.partner_id = account.partner_id.clone();
        settings.app_id = account.app_id.clone();
        settings.api = account.api;
        settings.keep_attributes = Some(config.attributes().fetch_filter());
        if let Some(attempts) = self.personio.max_attempts {
            settings.max_attempts = attempts;
        }
        if let Some(timeout) = self.personio.request_timeout {
            settings.request_timeout = timeout;
            settings.retry_cap = timeout;
        }
        PersonioClient::new(settings).map_err(|error| BuildError::Personio {
            account: account.name.clone(),
            detail: error.to_string(),
        })
    }

    /// A client for every Personio account of the tenant, with its stored credentials.
    pub async fn sources(
        &self,
        config: &TenantConfig,
    ) -> Result<Vec<(AccountId, PersonioClient)>, BuildError> {
        let mut sources = Vec::with_capacity(config.personio.accounts.len());
        for account in &config.personio.accounts {
            let credentials = self.secrets.personio(&config.tenant, &account.name).await?;
            check_origin(credentials.origin.as_deref(), &account.base_url, || {
                (
                    format!("Personio credential of account `{}`", account.name),
                    format!(
                        "PUT /tenants/{}/credentials/personio/{}",
                        config.tenant, account.name
                    ),
                )
            })?;
            sources.push((
                account.name.clone(),
                self.personio_client(config, account, credentials)?,
            ));
        }
        Ok(sources)
    }

    /// The tenant's destination: SCIM with its stored token, or a local directory where allowed.
    pub async fn destination(
        &self,
        config: &TenantConfig,
    ) -> Result<Box<dyn Destination>, BuildError> {
        match &config.destination {
            DestinationConfig::Scim { base_url, .. } => {
                let token = self.secrets.destination_token(&config.tenant).await?;
                check_origin(token.origin.as_deref(), base_url, || {
                    (
                        "destination token".to_owned(),
                        format!("PUT /tenants/{}/credentials/destination", config.tenant),
                    )
                })?;
                let scim = sync_scim::ScimSettings::new(
                    config.tenant.to_string(),
                    base_url.clone(),
                    token.token,
                )
                .with_config(config);
                let destination = sync_scim::ScimDestination::new(scim).map_err(|error| {
                    BuildError::Destination {
                        detail: error.to_string(),
                    }
                })?;
                Ok(Box::new(destination))
            }
            DestinationConfig::Directory { path } => {
                let local = self.local.ok_or(BuildError::NoLocalDirectory)?;
                local
                    .directory(path)
                    .map_err(|detail| BuildError::Destination { detail })
            }
        }
    }

    /// Every adapter of the tenant.
    pub async fn adapters(&self, config: &TenantConfig) -> Result<TenantAdapters, BuildError> {
        Ok(TenantAdapters {
            sources: self.sources(config).await?,
            destination: self.destination(config).await?,
        })
    }
}

/// Refuses a credential entered for `stored` on its way to `url`'s origin. A credential without
/// a recorded origin goes where the config points (stored before origins were kept, or a CLI's).
/// A `url` that is no credential URL passes here: the client refuses it with its own message.
fn check_origin(
    stored: Option<&str>,
    url: &str,
    describe: impl FnOnce() -> (String, String),
) -> Result<(), BuildError> {
    let (Some(stored), Ok(configured)) = (stored, sync_core::http::credential_origin(url)) else {
        return Ok(());
    };
    if stored == configured {
        return Ok(());
    }
    let (what, fix) = describe();
    Err(BuildError::OriginChanged {
        what,
        stored: stored.to_owned(),
        configured,
        fix,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sync_core::ids::TenantId;

    /// A secret store that has nothing: the directory case must not even ask it.
    struct NoSecrets;

    #[async_trait::async_trait]
    impl Secrets for NoSecrets {
        async fn personio(
            &self,
            _: &TenantId,
            _: &AccountId,
        ) -> Result<PersonioCredentials, SecretsError> {
            Err(SecretsError::Missing { name: "p".into() })
        }
        async fn destination_token(
            &self,
            _: &TenantId,
        ) -> Result<sync_core::ports::DestinationToken, SecretsError> {
            Err(SecretsError::Missing { name: "d".into() })
        }
        async fn webhook(
            &self,
            _: &TenantId,
        ) -> Result<sync_core::personio::webhooks::WebhookSecret, SecretsError> {
            Err(SecretsError::Missing { name: "w".into() })
        }
    }

    fn config(destination: &str) -> TenantConfig {
        TenantConfig::from_toml(&format!(
            "tenant = \"acme\"\n[[personio.accounts]]\n[destination]\n{destination}\n"
        ))
        .unwrap()
    }

    #[tokio::test]
    async fn a_deployed_tenant_with_a_directory_destination_is_refused_clearly() {
        let factory = Factory::new(&NoSecrets);
        let error = factory
            .destination(&config("kind = \"directory\"\npath = \"app\""))
            .await
            .err()
            .expect("refused");
        assert!(matches!(error, BuildError::NoLocalDirectory), "{error}");
        assert!(error.to_string().contains("kind `scim`"), "{error}");
        assert!(!error.is_transient());
    }

    #[tokio::test]
    async fn a_scim_destination_without_its_token_names_the_secret() {
        let factory = Factory::new(&NoSecrets);
        let error = factory
            .destination(&config(
                "kind = \"scim\"\nbase_url = \"https://app.example/scim/v2\"",
            ))
            .await
            .err()
            .expect("refused");
        assert!(
            matches!(error, BuildError::Secrets(SecretsError::Missing { .. })),
            "{error}"
        );
    }
}
