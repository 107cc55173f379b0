//! [`Harness`]: one tenant wired to real local peers — the fake Personio over HTTP on 127.0.0.1,
//! the JSON directory destination, the state folder and the .eml outbox — in a temporary folder.
//! Each test builds its own harness, so tests run in parallel without sharing anything.

use crate::personio::{company, fake_config, key, now};
use chrono::{DateTime, Utc};
use fake_personio::{Company, FakeConfig, FakePersonio};
use secrecy::SecretString;
use std::path::PathBuf;
use sync_core::config::TenantConfig;
use sync_core::history::Trigger;
use sync_core::ids::{AccountId, RunId};
use sync_core::personio::{PersonioClient, PersonioSettings};
use sync_core::ports::Source;
use sync_core::progress::NoProgress;
use sync_core::run::{self, Ports, RunError, RunOutcome, RunRequest, RunTarget};
use sync_local::{DirectoryDestination, FolderPictures, FolderStore, OutboxMailer, StoredUser};
use tempfile::TempDir;

/// The base config every harness uses, with a directory destination; `extra` TOML is appended
/// (sections only).
pub fn config_text(destination: &str, extra: &str) -> String {
    tenant_config_text(
        &format!("kind = \"directory\"\npath = \"{destination}\""),
        extra,
    )
}

/// The base config of every harness with `destination` as the body of its `[destination]`
/// section; `extra` TOML is appended (sections only).
pub fn tenant_config_text(destination: &str, extra: &str) -> String {
    format!(
        r#"
tenant = "e2e-tenant"
timezone = "Europe/Berlin"

[[personio.accounts]]
name = "main"

[destination]
{destination}

[email]
to = ["admins@tenant.example"]
from = "sync@vendor.example"

{extra}
"#
    )
}

/// One tenant against real local peers.
pub struct Harness {
    /// The fake Personio.
    pub fake: FakePersonio,
    /// The tenant's config.
    pub config: TenantConfig,
    /// The state folder.
    pub store: FolderStore,
    /// The app's user store.
    pub directory: DirectoryDestination,
    /// Summary emails.
    pub outbox: OutboxMailer,
    /// Where profile pictures are hosted, once [`Harness::host_pictures`] was called.
    pub pictures: Option<FolderPictures>,
    client: PersonioClient,
    extra_sources: Vec<(AccountId, PersonioClient)>,
    _dir: TempDir,
}

/// Settings of a Personio client for `account` at `url` as the adapter factory makes them for
/// `config` (its fetch filter, so that normalisation keeps what production keeps), with a rate
/// limit no test waits on.
pub fn personio_settings(
    account: &str,
    url: String,
    client_id: &str,
    client_secret: &str,
    config: &TenantConfig,
) -> PersonioSettings {
    let account = AccountId::parse(account).expect("account name");
    let mut settings = PersonioSettings::new(
        account,
        url,
        client_id.to_owned(),
        SecretString::from(client_secret.to_owned()),
    );
    settings.rate_limit = sync_core::personio::RateLimit {
        per_minute: 60_000,
        burst: 100,
    };
    settings.keep_attributes = Some(config.attributes().fetch_filter());
    settings.api = config
        .personio
        .accounts
        .iter()
        .find(|configured| configured.name == settings.account)
        .map(|configured| configured.api)
        .unwrap_or_default();
    settings
}

/// A Personio client for `account` on `fake`, with the fake's credentials, for `config`.
pub fn client_for(
    account: &str,
    fake: &FakePersonio,
    config: &TenantConfig,
) -> (AccountId, PersonioClient) {
    let defaults = FakeConfig::default();
    let settings = personio_settings(
        account,
        fake.url(),
        &defaults.client_id,
        &defaults.client_secret,
        config,
    );
    (
        settings.account.clone(),
        PersonioClient::new(settings).expect("personio client"),
    )
}

impl Harness {
    /// A generated company of `employees` people (seed 7) with the default config.
    pub async fn new(employees: usize) -> Self {
        Self::with("", company(employees)).await
    }

    /// A company with extra config TOML.
    pub async fn with(extra: &str, company: Company) -> Self {
        let fake = FakePersonio::start(company, fake_config())
            .await
            .expect("start the fake Personio");
        Self::on(fake, extra).await
    }

    /// A harness against an already started fake.
    pub async fn on(fake: FakePersonio, extra: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let directory_path = dir.path().join("directory");
        let mut config =
            TenantConfig::from_toml(&config_text(&directory_path.display().to_string(), extra))
                .expect("test config");
        config.personio.accounts[0].base_url = fake.url();
        Self {
            client: client_for("main", &fake, &config).1,
            extra_sources: Vec::new(),
            store: FolderStore::new(dir.path().join("state")),
            directory: DirectoryDestination::open(directory_path).expect("directory"),
            outbox: OutboxMailer::new(dir.path().join("outbox")),
            pictures: None,
            config,
            fake,
            _dir: dir,
        }
    }

    /// Adds a second Personio account, served by `fake`, feeding the same destination.
    pub fn add_account(&mut self, name: &str, fake: &FakePersonio) {
        let mut account = self.config.personio.accounts[0].clone();
        account.name = AccountId::parse(name).expect("account name");
        account.base_url = fake.url();
        self.config.personio.accounts.push(account);
        self.extra_sources
            .push(client_for(name, fake, &self.config));
    }

    /// Reads the main account through `api` from now on, as a config change would.
    pub fn use_api(&mut self, api: sync_core::personio::Api) {
        self.config.personio.accounts[0].api = api;
        self.client = client_for("main", &self.fake, &self.config).1;
    }

    /// Reads the main account with these credentials from now on (the fake's were rotated).
    pub fn use_credentials(&mut self, client_id: &str, client_secret: &str) {
        let settings = personio_settings(
            "main",
            self.fake.url(),
            client_id,
            client_secret,
            &self.config,
        );
        self.client = PersonioClient::new(settings).expect("personio client");
    }

    /// Hosts profile pictures in the harness's `pictures` folder from now on, as the CLI does in
    /// its state folder (without a store, Personio's address is sent as it is).
    pub fn host_pictures(&mut self) -> &FolderPictures {
        let store =
            FolderPictures::new(self._dir.path().join("pictures")).expect("pictures folder");
        self.pictures.insert(store)
    }

    /// The folder of this harness.
    pub fn path(&self) -> PathBuf {
        self._dir.path().to_path_buf()
    }

    /// The ports of a run.
    pub fn ports(&self) -> Ports<'_> {
        Ports {
            sources: std::iter::once((AccountId::default(), &self.client as &dyn Source))
                .chain(
                    self.extra_sources
                        .iter()
                        .map(|(account, client)| (account.clone(), client as &dyn Source)),
                )
                .collect(),
            destination: &self.directory,
            store: &self.store,
            mailer: &self.outbox,
            progress: &NoProgress,
            links: None,
            pictures: self
                .pictures
                .as_ref()
                .map(|store| store as &dyn sync_core::pictures::PictureStore),
        }
    }

    /// A full run at `now`.
    pub async fn run_at(&self, now: DateTime<Utc>) -> Result<RunOutcome, RunError> {
        self.request(RunTarget::Everyone, false, now).await
    }

    /// A full run at [`now`].
    pub async fn run(&self) -> RunOutcome {
        self.run_at(now()).await.expect("run succeeds")
    }

    /// A dry run.
    pub async fn dry_run(&self, now: DateTime<Utc>) -> RunOutcome {
        self.request(RunTarget::Everyone, true, now)
            .await
            .expect("dry run succeeds")
    }

    /// A one-person run.
    pub async fn run_person(&self, id: u64, now: DateTime<Utc>) -> Result<RunOutcome, RunError> {
        self.request(RunTarget::Person(key(id)), false, now).await
    }

    async fn request(
        &self,
        target: RunTarget,
        dry_run: bool,
        now: DateTime<Utc>,
    ) -> Result<RunOutcome, RunError> {
        let request = RunRequest {
            target,
            dry_run,
            trigger: Trigger::Schedule,
            now,
            deadline: None,
            run_id: None,
        };
        run::run(&self.ports(), &self.config, request).await
    }

    /// Approves a held run.
    pub async fn approve(&self, run_id: &RunId) -> Result<RunOutcome, RunError> {
        run::approve(&self.ports(), &self.config, run_id, now()).await
    }

    /// Rejects a held run.
    pub async fn reject(&self, run_id: &RunId) -> Result<(), RunError> {
        run::reject(self.ports().store, &self.config.tenant, run_id)
            .await
            .map(|_| ())
    }

    /// The run history, newest first.
    pub async fn store_runs(&self) -> Vec<sync_core::history::RunRecord> {
        use sync_core::ports::Store;
        self.store
            .runs(&self.config.tenant, 100)
            .await
            .expect("runs")
    }

    /// Every user in the app.
    pub async fn users(&self) -> Vec<StoredUser> {
        self.directory.read_all_users().await.expect("read users")
    }

    /// The app user linked to Personio person `id`, if any.
    pub async fn user(&self, id: u64) -> Option<StoredUser> {
        let external = key(id).external_id();
        self.users()
            .await
            .into_iter()
            .find(|user| user.external_id.as_deref() == Some(external.as_str()))
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
}
