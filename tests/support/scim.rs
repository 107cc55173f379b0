//! Test support for a real SCIM server: a scim2-server (PyPI) on 127.0.0.1 shared by the whole
//! test process, or one of a test's own (`server`); a [`ScimHarness`] that wires the engine to
//! its own tenant on it; and a [`ScimReader`] that reads back what the server holds (`reader`).
//!
//! The server comes from `SCIM2_SERVER_URL`/`SCIM2_SERVER_TOKEN` (set by
//! `eval "$(bash infra/scim2-server.sh)"`) or, when they are unset, is started once per process
//! from the project venv (`.venv/bin/scim2-server`) and stops when the process ends. Each harness
//! gets its own tenant path (`<server>/<unique-tenant>/v2`; the server runs with
//! `--dynamic-tenants`), so tests run in parallel without a reset.

mod extended;
mod reader;
mod server;
mod undiscoverable;

pub use extended::server_with_user_extensions;
pub use reader::{foreign_user, ScimGroup, ScimReader, ScimUser};
pub use server::{scim_server, tenant_url, ScimServer};
pub use undiscoverable::{undiscoverable_proxy, undiscoverable_server};

use crate::personio::{company, fake_config, key, now};
use chrono::{DateTime, Utc};
use fake_personio::{Company, FakeConfig, FakePersonio};
use secrecy::SecretString;
use sync_core::config::TenantConfig;
use sync_core::history::{RunRecord, Trigger};
use sync_core::ids::AccountId;
use sync_core::personio::PersonioClient;
use sync_core::ports::{Source, Store};
use sync_core::progress::NoProgress;
use sync_core::run::{self, Ports, RunError, RunOutcome, RunRequest, RunTarget};
use sync_local::{FolderStore, OutboxMailer};
use sync_scim::{ScimDestination, ScimSettings};
use tempfile::TempDir;

/// The tenant config of a SCIM harness; `extra` TOML is appended (sections only).
pub fn scim_config_text(base_url: &str, extra: &str) -> String {
    crate::harness::tenant_config_text(
        &format!("kind = \"scim\"\nbase_url = \"{base_url}\""),
        extra,
    )
}

/// One tenant against the fake Personio and a fresh tenant of the real SCIM server.
pub struct ScimHarness {
    /// The fake Personio.
    pub fake: FakePersonio,
    /// The tenant's config.
    pub config: TenantConfig,
    /// The state folder.
    pub store: FolderStore,
    /// The destination the engine writes through; its `requests()` count what it sent.
    pub destination: ScimDestination,
    /// Summary emails.
    pub outbox: OutboxMailer,
    /// Reads the tenant back with the server's token.
    pub scim: ScimReader,
    client: PersonioClient,
    _dir: TempDir,
}

impl ScimHarness {
    /// A generated company of `employees` people (seed 7) with the default config.
    pub async fn new(employees: usize) -> Self {
        Self::with("", company(employees)).await
    }

    /// A company with extra config TOML.
    pub async fn with(extra: &str, company: Company) -> Self {
        Self::start(extra, company, fake_config()).await
    }

    /// A company served by a fake with `fake_config`, with extra config TOML.
    pub async fn start(extra: &str, company: Company, fake_config: FakeConfig) -> Self {
        let fake = FakePersonio::start(company, fake_config)
            .await
            .expect("start the fake Personio");
        Self::on(fake, extra).await
    }

    /// A harness against an already started fake, on a fresh SCIM tenant.
    pub async fn on(fake: FakePersonio, extra: &str) -> Self {
        Self::on_server(fake, scim_server(), |base_url| {
            scim_config_text(base_url, extra)
        })
        .await
    }

    /// A harness against an already started fake, on a fresh tenant of `server` (one a test
    /// started with its own schemas, say), with the config `config_text` writes for the
    /// tenant's SCIM base URL.
    pub async fn on_server(
        fake: FakePersonio,
        server: &ScimServer,
        config_text: impl FnOnce(&str) -> String,
    ) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let base_url = server.tenant_url("e2e");
        let mut config = TenantConfig::from_toml(&config_text(&base_url)).expect("test config");
        config.personio.accounts[0].base_url = fake.url();
        let defaults = FakeConfig::default();
        let settings = crate::harness::personio_settings(
            "main",
            fake.url(),
            &defaults.client_id,
            &defaults.client_secret,
            &config,
        );
        let token = server.token.clone();
        Self {
            client: PersonioClient::new(settings).expect("personio client"),
            store: FolderStore::new(dir.path().join("state")),
            destination: destination(&config, &token),
            outbox: OutboxMailer::new(dir.path().join("outbox")),
            scim: ScimReader::with_token(&base_url, &token),
            config,
            fake,
            _dir: dir,
        }
    }

    /// From now on the engine sends `token` (a rotated or expired one); the reader keeps the
    /// server's token. The request counts start again from zero.
    pub fn set_token(&mut self, token: &str) {
        self.destination = destination(&self.config, token);
    }

    /// From now on the engine reaches the app at `base_url` (the same tenant through another
    /// address: a proxy, say); the reader stays where it was.
    pub fn set_base_url(&mut self, base_url: &str) {
        if let sync_core::config::DestinationConfig::Scim { base_url: url, .. } =
            &mut self.config.destination
        {
            *url = base_url.to_owned();
        }
        let token = self.scim.token().to_owned();
        self.destination = destination(&self.config, &token);
    }

    /// Starts over with an empty state folder, as after a lost or restored-too-old state: the
    /// server keeps every user and group.
    pub fn lose_state(&mut self) {
        let fresh = tempfile::tempdir_in(self._dir.path()).expect("temp dir");
        self.store = FolderStore::new(fresh.keep());
    }

    /// The ports of a run.
    pub fn ports(&self) -> Ports<'_> {
        Ports {
            sources: vec![(AccountId::default(), &self.client as &dyn Source)],
            destination: &self.destination,
            store: &self.store,
            mailer: &self.outbox,
            progress: &NoProgress,
            links: None,
            pictures: None,
        }
    }

    /// A full run at `now`.
    pub async fn run_at(&self, now: DateTime<Utc>) -> Result<RunOutcome, RunError> {
        self.request(false, now).await
    }

    /// A dry run at `now`, which must succeed.
    pub async fn dry_run(&self, now: DateTime<Utc>) -> RunOutcome {
        self.request(true, now).await.expect("dry run succeeds")
    }

    async fn request(&self, dry_run: bool, now: DateTime<Utc>) -> Result<RunOutcome, RunError> {
        let request = RunRequest {
            target: RunTarget::Everyone,
            dry_run,
            trigger: Trigger::Schedule,
            now,
            deadline: None,
            run_id: None,
        };
        run::run(&self.ports(), &self.config, request).await
    }

    /// A full run at [`now`], which must succeed.
    pub async fn run(&self) -> RunOutcome {
        self.run_at(now()).await.expect("run succeeds")
    }

    /// The summary emails written so far, as text.
    pub fn emails(&self) -> Vec<String> {
        self.outbox
            .messages()
            .expect("outbox")
            .iter()
            .map(|path| std::fs::read_to_string(path).expect("read email"))
            .collect()
    }

    /// The run history, newest first.
    pub async fn store_runs(&self) -> Vec<RunRecord> {
        self.store
            .runs(&self.config.tenant, 100)
            .await
            .expect("runs")
    }

    /// Write requests (POST, PUT, PATCH) the engine has sent to the server so far.
    pub fn writes(&self) -> u64 {
        self.destination.requests().writes()
    }

    /// Every user of the tenant, read from the server.
    pub async fn users(&self) -> Vec<ScimUser> {
        self.scim.users().await
    }

    /// The user of Personio person `id` (by `externalId` `main:<id>`), if any; never two.
    pub async fn user(&self, id: u64) -> Option<ScimUser> {
        let external_id = key(id).external_id();
        let mut users = self.scim.users_with_external_id(&external_id).await;
        assert!(users.len() < 2, "two users carry {external_id}: {users:?}");
        users.pop()
    }
}

/// The destination of `config` with `token`, as the CLI and the worker wire it.
fn destination(config: &TenantConfig, token: &str) -> ScimDestination {
    let sync_core::config::DestinationConfig::Scim { base_url, .. } = &config.destination else {
        panic!("a SCIM destination");
    };
    let settings = ScimSettings::new(
        config.tenant.to_string(),
        base_url.clone(),
        SecretString::from(token.to_owned()),
    )
    .with_config(config);
    ScimDestination::new(settings).expect("SCIM destination")
}
