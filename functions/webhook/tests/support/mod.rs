//! Test support: a tenant wired to real local peers — the fake Personio on 127.0.0.1, a tiny axum
//! server that hands each request to `webhook::handle` (the same handler the Lambda uses), the
//! folder store (state and event log), the JSON directory and the outbox — in a temporary folder.

// Each test file uses a different part of this module.
#![allow(dead_code)]

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use chrono::{NaiveDate, Utc};
use fake_personio::{generate_company, CompanySpec, FakeConfig, FakePersonio, RateLimit};
use secrecy::SecretString;
use std::sync::Arc;
use sync_core::config::TenantConfig;
use sync_core::ids::{AccountId, PersonKey, PersonioId, TenantId};
use sync_core::personio::{PersonioClient, PersonioSettings};
use sync_core::ports::{Job, JobTarget, Source};
use sync_core::progress::NoProgress;
use sync_core::run::{self, Ports, RunOutcome, RunRequest, RunTarget};
use sync_local::{DirectoryDestination, FolderStore, OutboxMailer, StoredUser};
use tempfile::TempDir;
use test_support::ports::{MemoryConfigs, MemorySecrets, QueueJobs};
use webhook::{Misses, WebhookDeps, WebhookRequest, WebhookResponse};

/// The tenant of most tests and its webhook token.
pub const TENANT: &str = "acme";
pub const TOKEN: &str = "acme-webhook-token-0123456789abcdef";
/// The fake's company id.
pub const COMPANY: &str = "98765";

/// The ports the webhook handler works through.
pub struct HandlerPorts {
    pub configs: MemoryConfigs,
    pub secrets: MemorySecrets,
    /// sync-local's real event log (and, for runs, the state store).
    pub store: FolderStore,
    pub jobs: QueueJobs,
    pub misses: Misses,
}

impl HandlerPorts {
    /// The handler's dependencies, now.
    pub fn deps(&self) -> WebhookDeps<'_> {
        WebhookDeps {
            configs: &self.configs,
            secrets: &self.secrets,
            events: &self.store,
            jobs: &self.jobs,
            misses: &self.misses,
            now: Utc::now(),
        }
    }
}

/// Starts the webhook receiver on a free loopback port: `POST /webhooks/{tenant}`. Returns the
/// URL prefix to which the tenant id is appended.
pub async fn serve(ports: Arc<HandlerPorts>) -> String {
    async fn receive(
        State(ports): State<Arc<HandlerPorts>>,
        Path(tenant_id): Path<String>,
        headers: HeaderMap,
        body: Bytes,
    ) -> (StatusCode, [(&'static str, &'static str); 1], String) {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        };
        let request = WebhookRequest {
            tenant_id,
            authorization: header("authorization"),
            content_type: header("content-type"),
            body: body.to_vec(),
        };
        let WebhookResponse { status, body } = webhook::handle(&ports.deps(), request).await;
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, [("content-type", "application/json")], body)
    }
    let app = Router::new()
        .route("/webhooks/{tenant}", post(receive))
        .with_state(ports);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("bound address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/webhooks/")
}

/// A tenant's config against `personio_url`, with a JSON directory in `dir`.
pub fn config(tenant: &str, personio_url: &str, directory: &std::path::Path) -> TenantConfig {
    let text = format!(
        r#"
tenant = "{tenant}"
timezone = "Europe/Berlin"

[[personio.accounts]]
name = "main"
base_url = "{personio_url}"

[destination]
kind = "directory"
path = "{}"

[email]
to = ["admins@tenant.example"]
from = "sync@vendor.example"
"#,
        directory.display()
    );
    TenantConfig::from_toml(&text).expect("test config")
}

/// One tenant against real local peers.
pub struct Harness {
    pub fake: FakePersonio,
    pub config: TenantConfig,
    pub ports: Arc<HandlerPorts>,
    pub directory: DirectoryDestination,
    pub outbox: OutboxMailer,
    /// `http://127.0.0.1:PORT/webhooks/` of the receiver.
    pub receiver: String,
    client: PersonioClient,
    dir: TempDir,
}

impl Harness {
    /// A generated company of `employees` people, the tenant `acme` with the webhook secret
    /// `{"token": TOKEN, "company_id": COMPANY}`, and the receiver running.
    pub async fn start(employees: usize) -> Self {
        let company = generate_company(&CompanySpec {
            employees,
            seed: 11,
            today: NaiveDate::from_ymd_opt(2026, 11, 23).expect("date"),
        });
        let fake_config = FakeConfig {
            rate_limit: Some(RateLimit {
                per_minute: 600_000,
                burst: 1_000,
            }),
            company_id: COMPANY.to_owned(),
            ..FakeConfig::default()
        };
        let fake = FakePersonio::start(company, fake_config)
            .await
            .expect("start the fake Personio");
        let dir = tempfile::tempdir().expect("temp dir");
        let config = config(TENANT, &fake.url(), &dir.path().join("directory"));
        let ports = Arc::new(HandlerPorts {
            configs: MemoryConfigs::default(),
            secrets: MemorySecrets::default(),
            store: FolderStore::new(dir.path().join("state")),
            jobs: QueueJobs::default(),
            misses: Misses::default(),
        });
        ports.configs.insert(config.clone());
        ports.secrets.set_webhook(
            &config.tenant,
            &format!(r#"{{"token": "{TOKEN}", "company_id": "{COMPANY}"}}"#),
        );
        let defaults = FakeConfig::default();
        let mut settings = PersonioSettings::new(
            AccountId::default(),
            fake.url(),
            defaults.client_id,
            SecretString::from(defaults.client_secret),
        );
        settings.rate_limit = sync_core::personio::RateLimit {
            per_minute: 600_000,
            burst: 1_000,
        };
        Self {
            receiver: serve(Arc::clone(&ports)).await,
            client: PersonioClient::new(settings).expect("personio client"),
            directory: DirectoryDestination::open(dir.path().join("directory")).expect("dir"),
            outbox: OutboxMailer::new(dir.path().join("outbox")),
            fake,
            config,
            ports,
            dir,
        }
    }

    /// The tenant's webhook URL.
    pub fn url(&self) -> String {
        format!("{}{TENANT}", self.receiver)
    }

    /// The temporary folder.
    pub fn path(&self) -> std::path::PathBuf {
        self.dir.path().to_path_buf()
    }

    fn run_ports(&self) -> Ports<'_> {
        Ports {
            sources: vec![(AccountId::default(), &self.client as &dyn Source)],
            destination: &self.directory,
            store: &self.ports.store,
            mailer: &self.outbox,
            progress: &NoProgress,
            links: None,
            pictures: None,
        }
    }

    /// Runs one queued job, as the worker will.
    pub async fn run_job(&self, job: &Job) -> RunOutcome {
        let request = RunRequest {
            target: RunTarget::from(&job.target),
            dry_run: job.dry_run,
            trigger: job.trigger.clone(),
            now: Utc::now(),
            deadline: None,
            run_id: None,
        };
        run::run(&self.run_ports(), &self.config, request)
            .await
            .expect("the queued run succeeds")
    }

    /// A full scheduled run.
    pub async fn full_run(&self) -> RunOutcome {
        let job = Job {
            tenant: self.config.tenant.clone(),
            target: JobTarget::Everyone,
            trigger: sync_core::history::Trigger::Schedule,
            dry_run: false,
            run_id: None,
        };
        self.run_job(&job).await
    }

    /// Runs every queued job, oldest first.
    pub async fn run_queued(&self) -> Vec<RunOutcome> {
        let mut outcomes = Vec::new();
        for job in self.ports.jobs.drain() {
            outcomes.push(self.run_job(&job).await);
        }
        outcomes
    }

    /// The destination user of Personio employee `id`.
    pub async fn user(&self, id: u64) -> Option<StoredUser> {
        let external = key(id).external_id();
        self.directory
            .read_all_users()
            .await
            .expect("users")
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

/// The key of employee `id` in the tenant's only account.
pub fn key(id: u64) -> PersonKey {
    PersonKey::new(AccountId::default(), PersonioId::new(id))
}

/// A tenant id.
pub fn tenant(name: &str) -> TenantId {
    TenantId::parse(name).expect("tenant id")
}

/// The test process's HTTP client: built once, since building one sets up TLS and a pool.
pub fn http() -> reqwest::Client {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    CLIENT
        .get_or_init(|| {
            // reqwest needs a process-wide rustls provider, even for http.
            let _ = rustls::crypto::ring::default_provider().install_default();
            // Tests run on separate runtimes and servers: no pooled connection may outlive its
            // test, so none is kept.
            reqwest::Client::builder()
                .pool_max_idle_per_host(0)
                .build()
                .expect("HTTP client")
        })
        .clone()
}

/// An envelope from the fake company.
pub fn envelope(event: &str, payload: serde_json::Value) -> String {
    serde_json::json!({
        "company_id": COMPANY,
        "event_name": event,
        "occurred_at": Utc::now().to_rfc3339(),
        "payload": payload,
        "meta": {},
    })
    .to_string()
}

/// POSTs `body` to `url` as Personio would; returns the status and the JSON answer.
pub async fn deliver(
    url: &str,
    token: Option<&str>,
    content_type: &str,
    body: impl Into<reqwest::Body>,
) -> (u16, serde_json::Value) {
    let mut request = http()
        .post(url)
        .header("content-type", content_type)
        .body(body);
    if let Some(token) = token {
        request = request.header("authorization", token);
    }
    let response = request.send().await.expect("the receiver answers");
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(serde_json::Value::Null);
    (status, body)
}
