//! Builds the adapters a local run needs from the tenant config: Personio clients with their
//! credentials, the destination, the state folder and the outbox.

use crate::progress::Bar;
use crate::Place;
use anyhow::{bail, Context};
use secrecy::SecretString;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use sync_core::config::{AccountConfig, DestinationKind, TenantConfig};
use sync_core::ids::AccountId;
use sync_core::personio::{PersonioClient, PersonioSettings, RateLimit};
use sync_core::ports::{Destination, Source};
use sync_core::run::Ports;
use sync_local::{DirectoryDestination, FolderStore, OutboxMailer};

/// Plain log lines on stderr; `RUST_LOG` wins over `--log`.
pub fn init_logging(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

/// A config with the folders that go with it.
pub struct Loaded {
    /// The parsed config.
    pub config: TenantConfig,
    /// The config file's folder: relative paths in it are relative to this.
    pub base: PathBuf,
    /// The state folder.
    pub state: PathBuf,
    /// The outbox folder.
    pub outbox: PathBuf,
}

/// Reads and validates the config named by `place`.
pub fn load(place: &Place) -> anyhow::Result<Loaded> {
    let text = std::fs::read_to_string(&place.config)
        .with_context(|| format!("cannot read the configuration {}", place.config.display()))?;
    let config = TenantConfig::from_toml(&text)
        .with_context(|| format!("{} is not a usable configuration", place.config.display()))?;
    let base = place
        .config
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    Ok(Loaded {
        state: place.state.clone().unwrap_or_else(|| base.join("state")),
        outbox: place.outbox.clone().unwrap_or_else(|| base.join("outbox")),
        config,
        base,
    })
}

#[derive(serde::Deserialize)]
struct CredentialsFile {
    client_id: String,
    client_secret: String,
}

/// The client id and secret of one account: from its credentials file, or the environment.
pub fn personio_credentials(
    account: &AccountConfig,
    base: &Path,
) -> anyhow::Result<(String, SecretString)> {
    if let Some(file) = &account.credentials_file {
        let path = base.join(file);
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "cannot read the Personio credentials file {}",
                path.display()
            )
        })?;
        let parsed: CredentialsFile = serde_json::from_str(&text).map_err(|_| {
            anyhow::anyhow!(
                "{} must be JSON like {{\"client_id\": \"…\", \"client_secret\": \"…\"}}",
                path.display()
            )
        })?;
        return Ok((parsed.client_id, SecretString::from(parsed.client_secret)));
    }
    let id = std::env::var(&account.client_id_env)
        .ok()
        .filter(|v| !v.is_empty());
    let secret = std::env::var(&account.client_secret_env)
        .ok()
        .filter(|v| !v.is_empty());
    match (id, secret) {
        (Some(id), Some(secret)) => Ok((id, SecretString::from(secret))),
        _ => bail!(
            "the Personio credentials of account `{}` are missing: set {} and {}, or credentials_file in the config",
            account.name,
            account.client_id_env,
            account.client_secret_env
        ),
    }
}

/// The Personio client of one account.
pub fn personio_client(
    config: &TenantConfig,
    account: &AccountConfig,
    base: &Path,
    bar: Option<&Bar>,
) -> anyhow::Result<PersonioClient> {
    let (client_id, client_secret) = personio_credentials(account, base)?;
    let mut settings = PersonioSettings::new(
        account.name.clone(),
        account.base_url.clone(),
        client_id,
        client_secret,
    );
    settings.rate_limit = RateLimit {
        per_minute: account.rate_limit_per_minute,
        burst: account.rate_limit_burst,
    };
    settings.partner_id = account.partner_id.clone();
    settings.keep_attributes = Some(config.attributes().fetch_filter());
    settings.app_id = account.app_id.clone();
    let client = PersonioClient::new(settings)?;
    Ok(match bar {
        Some(bar) => client.with_progress(Arc::new(bar.fetch_callback())),
        None => client,
    })
}

/// The tenant's destination.
pub fn destination(config: &TenantConfig, base: &Path) -> anyhow::Result<Box<dyn Destination>> {
    let settings = &config.destination;
    match settings.kind {
        DestinationKind::Directory => {
            let path = settings
                .path
                .as_deref()
                .context("destination.path is missing")?;
            Ok(Box::new(DirectoryDestination::open(base.join(path))?))
        }
        DestinationKind::Scim => {
            let base_url = settings
                .base_url
                .clone()
                .context("destination.base_url is missing")?;
            let token = match &settings.token_file {
                Some(file) => {
                    let path = base.join(file);
                    let text = std::fs::read_to_string(&path).with_context(|| {
                        format!("cannot read the SCIM token file {}", path.display())
                    })?;
                    text.trim().to_owned()
                }
                None => std::env::var(&settings.token_env)
                    .ok()
                    .filter(|v| !v.is_empty())
                    .with_context(|| {
                        format!(
                            "the SCIM token is missing: set {} or destination.token_file",
                            settings.token_env
                        )
                    })?,
            };
            let mut scim = sync_scim::ScimSettings::new(
                config.tenant.to_string(),
                base_url,
                SecretString::from(token),
            );
            scim.concurrency = config.apply.concurrency;
            scim.attribute_paths = settings.attribute_paths.clone();
            Ok(Box::new(sync_scim::ScimDestination::new(scim)?))
        }
    }
}

/// Everything one local run works through.
pub struct Wired {
    sources: Vec<(AccountId, PersonioClient)>,
    destination: Box<dyn Destination>,
    store: FolderStore,
    mailer: OutboxMailer,
    bar: Bar,
}

impl Wired {
    /// Builds the adapters for `loaded`.
    pub fn new(loaded: &Loaded) -> anyhow::Result<Self> {
        let bar = Bar::new();
        let sources = loaded
            .config
            .personio
            .accounts
            .iter()
            .map(|account| {
                Ok((
                    account.name.clone(),
                    personio_client(&loaded.config, account, &loaded.base, Some(&bar))?,
                ))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Self {
            sources,
            destination: destination(&loaded.config, &loaded.base)?,
            store: FolderStore::new(&loaded.state),
            mailer: OutboxMailer::new(&loaded.outbox),
            bar,
        })
    }

    /// Builds the adapters with given sources (the demo's in-process fake).
    pub fn with_sources(
        loaded: &Loaded,
        sources: Vec<(AccountId, PersonioClient)>,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            sources,
            destination: destination(&loaded.config, &loaded.base)?,
            store: FolderStore::new(&loaded.state),
            mailer: OutboxMailer::new(&loaded.outbox),
            bar: Bar::new(),
        })
    }

    /// The ports for the engine.
    pub fn ports(&self) -> Ports<'_> {
        Ports {
            sources: self
                .sources
                .iter()
                .map(|(account, client)| (account.clone(), client as &dyn Source))
                .collect(),
            destination: self.destination.as_ref(),
            store: &self.store,
            mailer: &self.mailer,
            progress: &self.bar,
        }
    }

    /// The outbox.
    pub fn mailer(&self) -> &OutboxMailer {
        &self.mailer
    }

    /// The progress bar.
    pub fn bar(&self) -> &Bar {
        &self.bar
    }
}
