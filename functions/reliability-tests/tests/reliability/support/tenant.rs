//! [`FaultyTenant`]: one tenant wired like the CLI wires it — the real `PersonioClient`, the real
//! `ScimDestination`, the state folder — but with a [`FaultProxy`] in front of the fake Personio
//! and another in front of its scim2-server tenant, and with short timeouts and few attempts so
//! that a fault costs milliseconds, not the production 30 seconds.
//!
//! Its clean twin is `test_support::harness::Harness` on the same fake (a JSON directory, no proxies): the
//! reference every scenario compares against.

use super::fault_proxy::FaultProxy;
use super::mailbox::Mailbox;
use super::view::AppView;
use fake_personio::FakePersonio;
use secrecy::SecretString;
use std::time::Duration;
use sync_core::config::TenantConfig;
use sync_core::history::{RunRecord, Trigger};
use sync_core::ids::{AccountId, RunId};
use sync_core::personio::{PersonioClient, PersonioSettings, RateLimit};
use sync_core::ports::{Source, Store};
use sync_core::progress::NoProgress;
use sync_core::run::{self, Ports, RunError, RunOutcome, RunRequest, RunTarget};
use sync_local::FolderStore;
use sync_scim::{ScimDestination, ScimSettings};
use tempfile::TempDir;
use test_support::scim::{scim_config_text, scim_server, tenant_url, ScimReader};

/// Time allowed for one Personio request in a round that injects timeouts: a page of the fake
/// answers in a few milliseconds.
pub const PERSONIO_TIMEOUT: Duration = Duration::from_millis(300);
/// Time allowed for one SCIM request in a round that injects timeouts: scim2-server answers in a
/// few milliseconds.
pub const SCIM_TIMEOUT: Duration = Duration::from_millis(350);
/// Time allowed for one request in every other run: long enough that a loaded machine never
/// times out by itself, so that timeouts happen only where a scenario injects them.
pub const PATIENT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the proxies hold a stalled request: well past the short timeouts.
pub const STALL: Duration = Duration::from_millis(900);
/// People per Personio page, so that a company of 20–80 spans several pages.
pub const PAGE_SIZE: u32 = 10;

/// How long a run lets one request take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Patience {
    /// The short timeouts: the round injects timeouts.
    Short,
    /// [`PATIENT_TIMEOUT`].
    Patient,
}

/// The clients of one patience.
struct Clients {
    personio: PersonioClient,
    destination: ScimDestination,
}

/// One tenant behind fault proxies.
pub struct FaultyTenant {
    /// The proxy in front of the fake Personio.
    pub personio: FaultProxy,
    /// The proxy in front of the tenant's scim2-server tenant.
    pub scim: FaultProxy,
    /// The tenant's config.
    pub config: TenantConfig,
    /// Summary emails.
    pub mailbox: Mailbox,
    store: FolderStore,
    short: Clients,
    patient: Clients,
    reader: ScimReader,
    _dir: TempDir,
}

impl FaultyTenant {
    /// Starts the proxies and wires a tenant to `fake` (with the fake's default credentials)
    /// through them; `seed` drives the proxies' random picks.
    pub async fn start(fake: &FakePersonio, seed: u64) -> Self {
        let personio = FaultProxy::start(&fake.url(), STALL, seed ^ 0x5eed_0001).await;
        let scim = FaultProxy::start(&scim_server().url, STALL, seed ^ 0x5eed_0002).await;
        let direct = tenant_url("rel");
        let path = direct
            .strip_prefix(&scim_server().url)
            .expect("a tenant URL of the server");
        let base_url = format!("{}{path}", scim.url);
        let mut config =
            TenantConfig::from_toml(&scim_config_text(&base_url, "")).expect("test config");
        config.personio.accounts[0].base_url = personio.url.clone();
        let personio_url = personio.url.clone();
        let tenant_id = config.tenant.to_string();
        let concurrency = config.apply.concurrency;
        let clients = |personio_timeout: Duration, scim_timeout: Duration| {
            let credentials = fake_personio::FakeConfig::default();
            let mut settings = PersonioSettings::new(
                AccountId::default(),
                personio_url.clone(),
                credentials.client_id,
                SecretString::from(credentials.client_secret),
            );
            settings.rate_limit = RateLimit {
                per_minute: 60_000,
                burst: 100,
            };
            settings.page_size = PAGE_SIZE;
            settings.max_attempts = 5;
            settings.request_timeout = personio_timeout;
            settings.retry_base = Duration::from_millis(10);
            settings.retry_cap = Duration::from_millis(60);
            let mut scim_settings = ScimSettings::new(
                tenant_id.clone(),
                base_url.clone(),
                SecretString::from(scim_server().token.clone()),
            );
            scim_settings.concurrency = concurrency;
            scim_settings.max_attempts = 4;
            scim_settings.request_timeout = scim_timeout;
            Clients {
                personio: PersonioClient::new(settings).expect("Personio client"),
                destination: ScimDestination::new(scim_settings).expect("SCIM destination"),
            }
        };
        let dir = tempfile::tempdir().expect("temp dir");
        Self {
            short: clients(PERSONIO_TIMEOUT, SCIM_TIMEOUT),
            patient: clients(PATIENT_TIMEOUT, PATIENT_TIMEOUT),
            store: FolderStore::new(dir.path().join("state")),
            reader: ScimReader::new(&direct),
            mailbox: Mailbox::new(),
            personio,
            scim,
            config,
            _dir: dir,
        }
    }

    fn ports(&self, patience: Patience) -> Ports<'_> {
        let clients = match patience {
            Patience::Short => &self.short,
            Patience::Patient => &self.patient,
        };
        Ports {
            sources: vec![(AccountId::default(), &clients.personio as &dyn Source)],
            destination: &clients.destination,
            store: &self.store,
            mailer: &self.mailbox,
            progress: &NoProgress,
            links: None,
            pictures: None,
        }
    }

    /// One run at the e2e moment.
    pub async fn run(&self, target: RunTarget, patience: Patience) -> Result<RunOutcome, RunError> {
        let trigger = match &target {
            RunTarget::Everyone => Trigger::Schedule,
            RunTarget::Person(_) => Trigger::Webhook {
                event: "employee.updated".to_owned(),
            },
        };
        let request = RunRequest {
            target,
            dry_run: false,
            trigger,
            now: test_support::personio::now(),
            deadline: None,
            run_id: None,
        };
        run::run(&self.ports(patience), &self.config, request).await
    }

    /// Approves a held run.
    pub async fn approve(&self, run_id: &RunId) -> Result<RunOutcome, RunError> {
        run::approve(
            &self.ports(Patience::Patient),
            &self.config,
            run_id,
            test_support::personio::now(),
        )
        .await
    }

    /// Rejects a held run.
    pub async fn reject(&self, run_id: &RunId) -> Result<(), RunError> {
        run::reject(
            self.ports(Patience::Patient).store,
            &self.config.tenant,
            run_id,
        )
        .await
        .map(drop)
    }

    /// The run history, newest first.
    pub async fn runs(&self) -> Vec<RunRecord> {
        self.store
            .runs(&self.config.tenant, 100)
            .await
            .expect("run history")
    }

    /// What the app holds now, read past the proxy.
    pub async fn view(&self) -> AppView {
        AppView::of_scim(&self.reader).await
    }
}
