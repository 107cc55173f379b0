//! Builds the adapters a local run needs from the tenant config, through the same factory as the
//! Lambdas (`sync-adapters`): Personio clients with their credentials (from the CLI's secret
//! sources), the destination (a local directory allowed), the state folder and the outbox.

use crate::progress::Bar;
use crate::Place;
use anyhow::Context;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use sync_adapters::{as_sources, Factory};
use sync_core::config::{AccountConfig, TenantConfig};
use sync_core::ids::AccountId;
use sync_core::personio::PersonioClient;
use sync_core::ports::{Destination, LocalDestinations};
use sync_core::progress::LiveProgress;
use sync_core::run::Ports;
use sync_local::secrets::{self, LocalSecrets, SecretSources};
use sync_local::{FolderPictures, FolderStore, OutboxMailer};

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

/// A config with the folders and secret sources that go with it.
pub struct Loaded {
    /// The parsed config.
    pub config: TenantConfig,
    /// Where its secrets come from (environment variables, files).
    pub secrets: SecretSources,
    /// The config file's folder: relative paths in it are relative to this.
    pub base: PathBuf,
    /// The state folder.
    pub state: PathBuf,
    /// The outbox folder.
    pub outbox: PathBuf,
    /// The demo's fake Personio, served while a command given a demo folder's config runs
    /// ([`load_live`]).
    pub demo: Option<fake_personio::FakePersonio>,
}

/// Reads and validates the config named by `place`.
pub fn load(place: &Place) -> anyhow::Result<Loaded> {
    let text = std::fs::read_to_string(&place.config)
        .with_context(|| format!("cannot read the configuration {}", place.config.display()))?;
    let (config, secrets) = secrets::split(&text)
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
        secrets,
        base,
        demo: None,
    })
}

/// [`load`], for a command that reads Personio: in a demo folder (`demo.json` beside the config)
/// the demo's company is served again on 127.0.0.1 and the config points at it.
pub async fn load_live(place: &Place) -> anyhow::Result<Loaded> {
    let mut loaded = load(place)?;
    if let Some(fake) = crate::demo::serve_demo_company(&loaded.base).await? {
        for account in &mut loaded.config.personio.accounts {
            account.base_url = fake.url();
        }
        loaded.demo = Some(fake);
    }
    Ok(loaded)
}

/// Directory destinations with paths relative to the config file's folder.
struct Directories(PathBuf);

impl LocalDestinations for Directories {
    fn directory(&self, path: &str) -> Result<Box<dyn Destination>, String> {
        sync_local::Directories.directory(&self.0.join(path).display().to_string())
    }
}

impl Loaded {
    /// The secrets of this config, read from the environment and files when asked.
    pub fn local_secrets(&self) -> LocalSecrets {
        LocalSecrets::new(self.secrets.clone(), &self.base)
    }

    /// The Personio client of one account.
    pub fn personio_client(&self, account: &AccountConfig) -> anyhow::Result<PersonioClient> {
        let secrets = self.local_secrets();
        let credentials = secrets.personio_credentials(&account.name)?;
        Ok(Factory::new(&secrets).personio_client(&self.config, account, credentials)?)
    }

    /// A client for every Personio account.
    pub fn personio_clients(&self) -> anyhow::Result<Vec<(AccountId, PersonioClient)>> {
        self.config
            .personio
            .accounts
            .iter()
            .map(|account| Ok((account.name.clone(), self.personio_client(account)?)))
            .collect()
    }

    /// The tenant's destination.
    pub async fn destination(&self) -> anyhow::Result<Box<dyn Destination>> {
        let secrets = self.local_secrets();
        let directories = Directories(self.base.clone());
        let factory = Factory {
            local: Some(&directories),
            ..Factory::new(&secrets)
        };
        Ok(factory.destination(&self.config).await?)
    }
}

/// The picture store of a local run: `pictures/` in the state folder.
fn pictures_of(loaded: &Loaded) -> anyhow::Result<FolderPictures> {
    let root = loaded.state.join("pictures");
    FolderPictures::new(&root)
        .with_context(|| format!("cannot use {} for profile pictures", root.display()))
}

/// Everything one local run works through.
pub struct Wired {
    sources: Vec<(AccountId, PersonioClient)>,
    destination: Box<dyn Destination>,
    store: FolderStore,
    mailer: OutboxMailer,
    /// Profile pictures, in the state folder's `pictures/` (the app gets `file://` URLs).
    pictures: FolderPictures,
    bar: Bar,
    /// Live progress for the console, instead of the bar.
    live: Option<LiveProgress>,
    links: Option<sync_core::console_site::ConsoleSite>,
}

impl Wired {
    /// Builds the adapters for `loaded`.
    pub async fn new(loaded: &Loaded) -> anyhow::Result<Self> {
        Self::reporting(loaded, None).await
    }

    /// Builds the adapters for `loaded`, reporting progress to `live` (a run the console
    /// started) or else to the terminal's bar.
    pub async fn reporting(loaded: &Loaded, live: Option<LiveProgress>) -> anyhow::Result<Self> {
        let bar = Bar::new();
        let callback: sync_core::personio::ProgressFn = match &live {
            Some(live) => live.fetch_callback(),
            None => Arc::new(bar.fetch_callback()),
        };
        let sources = loaded
            .personio_clients()?
            .into_iter()
            .map(|(account, client)| (account, client.with_progress(callback.clone())))
            .collect();
        Ok(Self {
            sources,
            destination: loaded.destination().await?,
            store: FolderStore::new(&loaded.state),
            mailer: OutboxMailer::new(&loaded.outbox),
            pictures: pictures_of(loaded)?,
            bar,
            live,
            links: crate::console::site_from_env(&loaded.state)?,
        })
    }

    /// Builds the adapters with given sources (the demo's in-process fake).
    pub async fn with_sources(
        loaded: &Loaded,
        sources: Vec<(AccountId, PersonioClient)>,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            sources,
            destination: loaded.destination().await?,
            store: FolderStore::new(&loaded.state),
            mailer: OutboxMailer::new(&loaded.outbox),
            pictures: pictures_of(loaded)?,
            bar: Bar::new(),
            live: None,
            links: crate::console::site_from_env(&loaded.state)?,
        })
    }

    /// The ports for the engine.
    pub fn ports(&self) -> Ports<'_> {
        Ports {
            sources: as_sources(&self.sources),
            destination: self.destination.as_ref(),
            store: &self.store,
            mailer: &self.mailer,
            progress: match &self.live {
                Some(live) => live,
                None => &self.bar,
            },
            links: self
                .links
                .as_ref()
                .map(|links| links as &dyn sync_core::ports::RunLinks),
            pictures: Some(&self.pictures),
        }
    }

    /// The state folder.
    pub fn store(&self) -> &FolderStore {
        &self.store
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
