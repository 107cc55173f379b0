//! [`Tenant`]: one customer of the stack, onboarded as the admin API would do it: a config in
//! DynamoDB, Personio credentials and the destination token in Secrets Manager. Its Personio is a
//! fake on 127.0.0.1 with credentials of its own; its app is a fresh tenant of scim2-server behind
//! a counting [`ScimProxy`], or a JSON directory when the test is about state rather than SCIM.

use super::scim_proxy::ScimProxy;
use super::stack::Stack;
use chrono::{Days, NaiveDate, Utc};
use fake_personio::{generate_company, Company, CompanySpec, FakeConfig, FakePersonio, RateLimit};
use secrecy::SecretString;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use sync_core::config::{DestinationConfig, TenantConfig};
use sync_core::history::{RunRecord, Trigger};
use sync_core::http::credential_origin;
use sync_core::ids::{AccountId, PersonKey, PersonioId, TenantId};
use sync_core::ports::{
    ConfigStore, DestinationToken, Job, JobTarget, Jobs, PersonioCredentials, Store,
};
use sync_core::state::Snapshot;
use sync_local::DirectoryDestination;
use tempfile::TempDir;
use test_support::moto::unique;
use test_support::scim::{scim_server, ScimReader, ScimServer};

/// The tenants' time zone; "today" of a run is a day there.
pub const TIMEZONE: chrono_tz::Tz = chrono_tz::Europe::Berlin;

/// Today where the tenants live: the day the worker's runs (which use the real clock) see.
pub fn today() -> NaiveDate {
    Utc::now().with_timezone(&TIMEZONE).date_naive()
}

/// A generated company of `employees` people, realistic for [`today`].
pub fn company(employees: usize, seed: u64) -> Company {
    generate_company(&CompanySpec {
        employees,
        seed,
        today: today(),
    })
}

/// A fake's settings: its own client id and secret, and a generous rate limit.
pub fn fake_config(name: &str) -> FakeConfig {
    FakeConfig {
        client_id: format!("{name}-client"),
        client_secret: format!("{name}-secret-{}", unique("s")),
        rate_limit: Some(RateLimit {
            per_minute: 60_000,
            burst: 100,
        }),
        ..FakeConfig::default()
    }
}

/// Where a tenant's users go.
pub enum App {
    /// A tenant of scim2-server, reached through a counting proxy.
    Scim {
        /// The proxy the worker writes through.
        proxy: ScimProxy,
        /// Reads the tenant back directly, with the server's token.
        reader: ScimReader,
        /// The tenant's own server, kept running as long as the tenant.
        _server: Option<ScimServer>,
    },
    /// A JSON directory.
    Directory {
        /// The folder.
        dir: TempDir,
    },
}

/// What to build.
pub struct Spec {
    /// The company, when the tenant gets a fake of its own.
    pub company: Company,
    /// The fake's credentials.
    pub fake: FakeConfig,
    /// An already running fake to read instead (the company and fake settings are then unused).
    pub shared_fake: Option<FakePersonio>,
    /// The Personio credentials stored in the tenant's secret; by default the fake's.
    pub credentials: Option<(String, String)>,
    /// A SCIM app (else a JSON directory).
    pub scim: bool,
    /// Extra TOML sections of the config.
    pub extra: String,
    /// The Personio base URL of the config, when it is not the fake's.
    pub base_url: Option<String>,
    /// A SCIM server of the tenant's own (one publishing more schemas, say), else the shared one.
    pub scim_server: Option<ScimServer>,
}

impl Spec {
    /// A tenant with a company of `employees` people (seed `seed`) of its own and a SCIM app.
    pub fn new(employees: usize, seed: u64) -> Self {
        Self {
            company: company(employees, seed),
            fake: fake_config("personio"),
            shared_fake: None,
            credentials: None,
            scim: true,
            extra: String::new(),
            base_url: None,
            scim_server: None,
        }
    }

    /// A tenant reading `other`'s Personio with the same credentials (a SCIM app of its own).
    pub fn sharing(other: &Tenant) -> Self {
        Self {
            shared_fake: Some(other.fake.clone()),
            fake: other.fake_config.clone(),
            ..Self::new(0, 0)
        }
    }

    /// The same, with a JSON directory as its app.
    pub fn directory(employees: usize, seed: u64) -> Self {
        Self {
            scim: false,
            ..Self::new(employees, seed)
        }
    }
}

/// One onboarded tenant.
pub struct Tenant {
    /// Its id.
    pub id: TenantId,
    /// Its Personio.
    pub fake: FakePersonio,
    /// The fake's settings (its credentials).
    pub fake_config: FakeConfig,
    /// Its config, as stored.
    pub config: TenantConfig,
    /// The admins its summaries go to (unique to this tenant).
    pub admins: Vec<String>,
    /// Its app.
    pub app: App,
}

impl Tenant {
    /// Starts the tenant's peers and onboards it on `stack`.
    pub async fn onboard(stack: &Stack, mut spec: Spec) -> Self {
        let own_server = spec.scim_server.take();
        let server = own_server.as_ref().unwrap_or_else(|| scim_server());
        let token = server.token.clone();
        let fake = match spec.shared_fake {
            Some(fake) => fake,
            None => FakePersonio::start(spec.company, spec.fake.clone())
                .await
                .expect("start the fake Personio"),
        };
        let id = TenantId::parse(&unique("t")).expect("tenant id");
        let admins: Vec<String> = (1..=2)
            .map(|n| format!("admin{n}-{}@{id}.example", unique("a")))
            .collect();
        let (app, destination) = if spec.scim {
            let direct = server.tenant_url("lambda");
            let path = direct
                .strip_prefix(&server.url)
                .expect("a tenant URL of the server")
                .to_owned();
            let proxy = ScimProxy::start(&server.url).await;
            let destination = format!("kind = \"scim\"\nbase_url = \"{}{path}\"", proxy.url);
            let reader = ScimReader::with_token(&direct, &token);
            let app = App::Scim {
                proxy,
                reader,
                _server: own_server,
            };
            (app, destination)
        } else {
            let dir = tempfile::tempdir().expect("temp dir");
            let destination = format!(
                "kind = \"directory\"\npath = \"{}\"",
                dir.path().join("app").display()
            );
            (App::Directory { dir }, destination)
        };
        let to: Vec<String> = admins.iter().map(|a| format!("\"{a}\"")).collect();
        let text = format!(
            r#"
tenant = "{id}"
timezone = "{TIMEZONE}"

[[personio.accounts]]
name = "main"
base_url = "{url}"
rate_limit_per_minute = 60000
rate_limit_burst = 100

[destination]
{destination}

[email]
to = [{to}]
from = "{sender}"

{extra}
"#,
            url = spec.base_url.clone().unwrap_or_else(|| fake.url()),
            to = to.join(", "),
            sender = stack.sender,
            extra = spec.extra,
        );
        let config = TenantConfig::from_toml(&text).expect("a valid tenant config");
        stack
            .deps
            .store
            .put_config(&config, None)
            .await
            .expect("store the config");
        let (client_id, client_secret) = spec
            .credentials
            .unwrap_or((spec.fake.client_id.clone(), spec.fake.client_secret.clone()));
        // With the origins the admin API records when credentials are entered.
        let credentials = PersonioCredentials {
            client_id,
            client_secret: SecretString::from(client_secret),
            origin: credential_origin(&config.personio.accounts[0].base_url).ok(),
        };
        let secrets = &stack.deps.secrets;
        secrets
            .put_personio(&id, &AccountId::default(), &credentials)
            .await
            .expect("store the Personio credentials");
        if spec.scim {
            let origin = match &config.destination {
                DestinationConfig::Scim { base_url, .. } => credential_origin(base_url).ok(),
                DestinationConfig::Directory { .. } => None,
            };
            let token = DestinationToken {
                token: SecretString::from(token),
                origin,
            };
            secrets
                .put_destination_token(&id, &token)
                .await
                .expect("store the SCIM token");
        }
        Self {
            id,
            fake,
            fake_config: spec.fake,
            config,
            admins,
            app,
        }
    }

    /// A full run of this tenant.
    pub fn job(&self, trigger: Trigger) -> Job {
        Job {
            tenant: self.id.clone(),
            target: JobTarget::Everyone,
            trigger,
            dry_run: false,
            run_id: None,
        }
    }

    /// One scheduler tick at `now` with the tenant due then: the real scheduler queues its
    /// scheduled run, and only it.
    pub async fn tick(&self, stack: &Stack, now: chrono::DateTime<Utc>) {
        stack
            .deps
            .store
            .set_next_due(&self.id, now)
            .await
            .expect("the tenant is due");
        let queued = scheduler::handle(&stack.deps.store, &stack.deps.jobs, now)
            .await
            .expect("the tick queues");
        assert_eq!(queued, vec![self.id.clone()]);
    }

    /// Queues a full run with `dedupe_key`, through the `Jobs` port as the admin API does.
    pub async fn enqueue(&self, stack: &Stack, trigger: Trigger, dedupe_key: &str) -> Job {
        let job = self.job(trigger);
        stack
            .deps
            .jobs
            .enqueue(&job, &format!("{}:{dedupe_key}", self.id))
            .await
            .expect("queue the job");
        job
    }

    /// The run history in DynamoDB (summaries), newest first by start time: run ids, and so
    /// the store's order, tell runs apart only to the second.
    pub async fn runs(&self, stack: &Stack) -> Vec<RunRecord> {
        let mut runs = stack.deps.store.runs(&self.id, 100).await.expect("runs");
        runs.sort_by_key(|run| std::cmp::Reverse(run.started_at));
        runs
    }

    /// The whole record of a run.
    pub async fn run(&self, stack: &Stack, run: &RunRecord) -> RunRecord {
        stack
            .deps
            .store
            .run(&self.id, &run.id)
            .await
            .expect("read the run")
            .expect("the run exists")
    }

    /// The snapshot in DynamoDB.
    pub async fn snapshot(&self, stack: &Stack) -> Snapshot {
        stack.deps.store.snapshot(&self.id).await.expect("snapshot")
    }

    /// The proxy in front of this tenant's SCIM app.
    pub fn proxy(&self) -> &ScimProxy {
        match &self.app {
            App::Scim { proxy, .. } => proxy,
            App::Directory { .. } => panic!("the tenant has a directory, not SCIM"),
        }
    }

    /// Every user of the app.
    pub async fn users(&self) -> Vec<AppUser> {
        match &self.app {
            App::Scim { reader, .. } => reader
                .users()
                .await
                .into_iter()
                .map(|user| AppUser {
                    id: user.id,
                    external_id: user.external_id,
                    user_name: user.user_name,
                    active: user.active.unwrap_or(true),
                    body: user.body,
                })
                .collect(),
            App::Directory { dir } => {
                let directory = DirectoryDestination::open(dir.path().join("app")).expect("open");
                let users = directory
                    .read_all_users()
                    .await
                    .expect("read the directory");
                users
                    .into_iter()
                    .map(|user| AppUser {
                        id: user.id.to_string(),
                        external_id: user.external_id.clone(),
                        user_name: user.user_name.clone(),
                        active: user.active,
                        body: serde_json::to_value(&user).expect("a user as JSON"),
                    })
                    .collect()
            }
        }
    }

    /// Every group of the SCIM app as display name → members' external ids.
    pub async fn groups(&self) -> BTreeMap<String, BTreeSet<String>> {
        let App::Scim { reader, .. } = &self.app else {
            panic!("the tenant has a directory, not SCIM");
        };
        let external: BTreeMap<String, String> = self
            .users()
            .await
            .into_iter()
            .map(|user| (user.id, user.external_id.unwrap_or_default()))
            .collect();
        reader
            .groups()
            .await
            .into_iter()
            .map(|group| {
                let members = group
                    .members
                    .iter()
                    .map(|id| {
                        external
                            .get(id)
                            .cloned()
                            .unwrap_or_else(|| format!("? {id}"))
                    })
                    .collect();
                (group.display_name, members)
            })
            .collect()
    }

    /// The external ids (`main:<id>`) of the people of the fake who should have a user today:
    /// not gone, hired at most `pre_hire_days` (7) ahead. The same rule as the e2e SCIM tests.
    pub fn expected_external_ids(&self) -> BTreeSet<String> {
        let today = today();
        let pre_hire_until = today.checked_add_days(Days::new(7)).expect("a date");
        self.fake
            .company()
            .employees
            .iter()
            .filter(|e| e.status != "inactive" && e.termination_date.is_none_or(|d| d >= today))
            .filter(|e| e.hire_date <= pre_hire_until)
            .map(|e| key(e.id).external_id())
            .collect()
    }
}

/// A user of a tenant's app.
#[derive(Clone, Debug)]
pub struct AppUser {
    /// The app's id.
    pub id: String,
    /// `externalId`.
    pub external_id: Option<String>,
    /// `userName`.
    pub user_name: String,
    /// Whether the user may sign in.
    pub active: bool,
    /// The whole resource.
    pub body: Value,
}

/// The key of person `id` of the `main` account.
pub fn key(id: u64) -> PersonKey {
    PersonKey::new(AccountId::default(), PersonioId::new(id))
}

/// How many users carry each external id.
pub fn users_per_external_id(users: &[AppUser]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for user in users {
        let external = user.external_id.clone().unwrap_or_else(|| "(none)".into());
        *counts.entry(external).or_default() += 1;
    }
    counts
}
