//! Test support for whole runs against a real SCIM server: a scim2-server (PyPI) on 127.0.0.1
//! shared by the whole test process, a [`ScimHarness`] that wires the engine to its own tenant
//! on it, and a [`ScimReader`] that reads back, with plain HTTP, what the server holds.
//!
//! The server comes from `SCIM2_SERVER_URL`/`SCIM2_SERVER_TOKEN` (set by
//! `eval "$(bash infra/scim2-server.sh)"`) or, when they are unset, is started once per process
//! from the project venv (`.venv/bin/scim2-server`, as `functions/scim/tests/support` does) and
//! stops when the process ends. Each harness gets its own tenant path
//! (`<server>/<unique-tenant>/v2`; the server runs with `--dynamic-tenants`), so tests run in
//! parallel without a reset.

use crate::{fake_config, now};
use chrono::{DateTime, Utc};
use fake_personio::{Company, FakeConfig, FakePersonio};
use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::Value;
use std::collections::BTreeSet;
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};
use sync_core::config::TenantConfig;
use sync_core::history::{RunRecord, Trigger};
use sync_core::ids::AccountId;
use sync_core::personio::{PersonioClient, PersonioSettings};
use sync_core::ports::{Source, Store};
use sync_core::progress::NoProgress;
use sync_core::run::{self, Ports, RunError, RunOutcome, RunRequest, RunTarget};
use sync_local::{FolderStore, OutboxMailer};
use sync_scim::{ScimDestination, ScimSettings, ENTERPRISE_USER};
use tempfile::TempDir;

/// A running scim2-server.
pub struct ScimServer {
    /// `http://127.0.0.1:PORT`, without a tenant.
    pub url: String,
    /// Its bearer token.
    pub token: String,
    /// Keeps a server we started alive: it stops when this pipe closes, that is when the
    /// process ends, however it ends.
    _guard: Option<Mutex<(Child, ChildStdin)>>,
}

/// The server of this process: the one named by the environment, else one started once.
pub fn scim_server() -> &'static ScimServer {
    static SERVER: OnceLock<ScimServer> = OnceLock::new();
    SERVER.get_or_init(|| {
        match (
            std::env::var("SCIM2_SERVER_URL"),
            std::env::var("SCIM2_SERVER_TOKEN"),
        ) {
            (Ok(url), Ok(token)) if !url.is_empty() => ScimServer {
                url: url.trim_end_matches('/').to_owned(),
                token,
                _guard: None,
            },
            _ => spawn_server(),
        }
    })
}

/// The workspace root, found from this crate's manifest directory.
fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .find(|dir| dir.join("infra").is_dir() && dir.join("functions").is_dir())
        .map(PathBuf::from)
        .unwrap_or(manifest)
}

/// Starts a scim2-server of our own on a free loopback port.
fn spawn_server() -> ScimServer {
    let binary = workspace_root().join(".venv/bin/scim2-server");
    assert!(
        binary.exists(),
        "{} is missing: run `bash infra/scim2-server.sh` once to install scim2-server",
        binary.display()
    );
    let token = format!("e2e-token-{}", std::process::id());
    // scim2-server cannot report a port it chose itself, so pick one; another process may take
    // it in between, hence the attempts.
    for _ in 0..3 {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free loopback port")
            .port()
            .to_string();
        // `sh` runs the server in the background and kills it once its stdin reaches EOF, which
        // happens when this process exits, even on a panic or abort.
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(r#""$0" "$@" >/dev/null 2>&1 & pid=$!; read _; kill $pid"#)
            .arg(&binary)
            .args([
                "--hostname",
                "127.0.0.1",
                "--port",
                &port,
                "--dynamic-tenants",
            ])
            .args(["--bearer-token", &token])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start scim2-server");
        let mut stdin = child.stdin.take().expect("piped stdin");
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if TcpStream::connect(format!("127.0.0.1:{port}")).is_ok() {
                return ScimServer {
                    url: format!("http://127.0.0.1:{port}"),
                    token,
                    _guard: Some(Mutex::new((child, stdin))),
                };
            }
            if child.try_wait().ok().flatten().is_some() {
                break;
            }
            // Polling a starting process: there is nothing to await.
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = stdin.write_all(b"\n");
        let _ = child.wait();
    }
    panic!("scim2-server did not start on 127.0.0.1; run `bash infra/scim2-server.sh` to see why");
}

/// A tenant path of the process's server that nobody else uses: `…/<prefix>-<pid>-<n>/v2`.
pub fn tenant_url(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!(
        "{}/{prefix}-{}-{n}/v2",
        scim_server().url,
        std::process::id()
    )
}

/// A user as the server holds it, with the attributes the tests look at picked out.
#[derive(Clone, Debug, PartialEq)]
pub struct ScimUser {
    /// The server's id.
    pub id: String,
    /// `userName`.
    pub user_name: String,
    /// `externalId`.
    pub external_id: Option<String>,
    /// `active`, when the server holds one.
    pub active: Option<bool>,
    /// `title`.
    pub title: Option<String>,
    /// Enterprise `department`.
    pub department: Option<String>,
    /// Enterprise `employeeNumber`.
    pub employee_number: Option<String>,
    /// Enterprise `manager.value`: the manager's SCIM id.
    pub manager: Option<String>,
    /// `meta.version`, the server's ETag.
    pub version: Option<String>,
    /// The whole resource.
    pub body: Value,
}

impl ScimUser {
    /// Picks a user resource apart.
    pub fn from_json(body: Value) -> Self {
        let text = |value: &Value| value.as_str().map(str::to_owned);
        let enterprise = &body[ENTERPRISE_USER];
        Self {
            id: text(&body["id"]).expect("a user has an id"),
            user_name: text(&body["userName"]).expect("a user has a userName"),
            external_id: text(&body["externalId"]),
            active: body["active"].as_bool(),
            title: text(&body["title"]),
            department: text(&enterprise["department"]),
            employee_number: text(&enterprise["employeeNumber"]),
            manager: text(&enterprise["manager"]["value"]),
            version: text(&body["meta"]["version"]),
            body,
        }
    }
}

/// A group as the server holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScimGroup {
    /// The server's id.
    pub id: String,
    /// `displayName`.
    pub display_name: String,
    /// The members' SCIM ids.
    pub members: BTreeSet<String>,
}

/// Plain HTTP against one tenant of the server, to read back what it holds (and to put users
/// there that are not ours).
pub struct ScimReader {
    http: reqwest::Client,
    base_url: String,
    token: String,
}

impl ScimReader {
    /// A reader of the tenant at `base_url` with the server's token.
    pub fn new(base_url: &str) -> Self {
        // reqwest is built without a TLS provider; plain http needs none, but building a client
        // checks for one.
        let _ = rustls::crypto::ring::default_provider().install_default();
        Self {
            http: reqwest::Client::new(),
            base_url: base_url.to_owned(),
            token: scim_server().token.clone(),
        }
    }

    /// The tenant's base URL.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `GET base/path?query`, asserting success.
    pub async fn get(&self, path: &str, query: &[(&str, String)]) -> Value {
        let response = self
            .http
            .get(format!("{}/{path}", self.base_url))
            .query(query)
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("GET from scim2-server");
        assert!(
            response.status().is_success(),
            "GET {path}: {}",
            response.status()
        );
        response.json().await.expect("a JSON body")
    }

    /// Every resource of `collection` matching `filter`, page by page (RFC 7644 §3.4.2.4).
    async fn list(&self, collection: &str, filter: Option<&str>) -> Vec<Value> {
        let mut resources = Vec::new();
        loop {
            let mut query = vec![
                ("startIndex", (resources.len() + 1).to_string()),
                ("count", "100".to_owned()),
            ];
            query.extend(filter.map(|filter| ("filter", filter.to_owned())));
            let page = self.get(collection, &query).await;
            let total = page["totalResults"].as_u64().expect("totalResults") as usize;
            let items = page["Resources"].as_array().cloned().unwrap_or_default();
            let empty = items.is_empty();
            resources.extend(items);
            if empty || resources.len() >= total {
                return resources;
            }
        }
    }

    /// Every user of the tenant.
    pub async fn users(&self) -> Vec<ScimUser> {
        let users = self.list("Users", None).await;
        users.into_iter().map(ScimUser::from_json).collect()
    }

    /// The users carrying `external_id`.
    pub async fn users_with_external_id(&self, external_id: &str) -> Vec<ScimUser> {
        let filter = format!("externalId eq \"{external_id}\"");
        let users = self.list("Users", Some(&filter)).await;
        users.into_iter().map(ScimUser::from_json).collect()
    }

    /// The users whose `userName` is `user_name` (compared case-insensitively by the server).
    pub async fn users_named(&self, user_name: &str) -> Vec<ScimUser> {
        let filter = format!("userName eq \"{user_name}\"");
        let users = self.list("Users", Some(&filter)).await;
        users.into_iter().map(ScimUser::from_json).collect()
    }

    /// The user with this SCIM id, if the server still has it.
    pub async fn user(&self, id: &str) -> Option<ScimUser> {
        let response = self
            .http
            .get(format!("{}/Users/{id}", self.base_url))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("GET a user from scim2-server");
        if response.status() == StatusCode::NOT_FOUND {
            return None;
        }
        assert!(response.status().is_success(), "{}", response.status());
        Some(ScimUser::from_json(response.json().await.expect("JSON")))
    }

    /// Every group of the tenant.
    pub async fn groups(&self) -> Vec<ScimGroup> {
        let groups = self.list("Groups", None).await;
        groups
            .into_iter()
            .map(|group| ScimGroup {
                id: group["id"].as_str().expect("a group has an id").to_owned(),
                display_name: group["displayName"].as_str().unwrap_or_default().to_owned(),
                members: group["members"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|member| member["value"].as_str().map(str::to_owned))
                    .collect(),
            })
            .collect()
    }

    /// The members of the group named `display_name`; empty when there is no such group.
    pub async fn members_of(&self, display_name: &str) -> BTreeSet<String> {
        let groups = self.groups().await;
        let mut named = groups
            .into_iter()
            .filter(|g| g.display_name == display_name);
        let group = named.next();
        assert!(named.next().is_none(), "two groups named {display_name}");
        group.map(|group| group.members).unwrap_or_default()
    }

    /// `POST /Users` of a raw body, for users that are not ours; returns the user as created.
    pub async fn post_user(&self, body: Value) -> ScimUser {
        let response = self
            .http
            .post(format!("{}/Users", self.base_url))
            .bearer_auth(&self.token)
            .header("Content-Type", "application/scim+json")
            .json(&body)
            .send()
            .await
            .expect("POST /Users to scim2-server");
        assert_eq!(response.status(), StatusCode::CREATED);
        ScimUser::from_json(response.json().await.expect("JSON"))
    }
}

/// A user body that is not ours: core schema only, and an `externalId` only when given.
pub fn foreign_user(user_name: &str, external_id: Option<&str>) -> Value {
    let mut body = serde_json::json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
        "name": {"givenName": "Not", "familyName": "Ours"},
        "emails": [{"type": "work", "value": user_name, "primary": true}],
        "title": "Someone else's user",
        "active": true
    });
    if let Some(external_id) = external_id {
        body["externalId"] = Value::String(external_id.to_owned());
    }
    body
}

/// The tenant config of a SCIM harness; `extra` TOML is appended (sections only).
pub fn scim_config_text(base_url: &str, extra: &str) -> String {
    format!(
        r#"
tenant = "e2e-tenant"
timezone = "Europe/Berlin"

[[personio.accounts]]
name = "main"

[destination]
kind = "scim"
base_url = "{base_url}"

[email]
to = ["admins@tenant.example"]
from = "sync@vendor.example"

{extra}
"#
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
        Self::with("", crate::company(employees)).await
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
        let dir = tempfile::tempdir().expect("temp dir");
        let base_url = tenant_url("e2e");
        let mut config =
            TenantConfig::from_toml(&scim_config_text(&base_url, extra)).expect("test config");
        config.personio.accounts[0].base_url = fake.url();
        let defaults = FakeConfig::default();
        let mut settings = PersonioSettings::new(
            AccountId::default(),
            fake.url(),
            defaults.client_id.clone(),
            SecretString::from(defaults.client_secret.clone()),
        );
        settings.rate_limit = sync_core::personio::RateLimit {
            per_minute: 60_000,
            burst: 100,
        };
        let token = scim_server().token.clone();
        Self {
            client: PersonioClient::new(settings).expect("personio client"),
            store: FolderStore::new(dir.path().join("state")),
            destination: destination(&config, &token),
            outbox: OutboxMailer::new(dir.path().join("outbox")),
            scim: ScimReader::new(&base_url),
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

    /// The ports of a run.
    pub fn ports(&self) -> Ports<'_> {
        Ports {
            sources: vec![(AccountId::default(), &self.client as &dyn Source)],
            destination: &self.destination,
            store: &self.store,
            mailer: &self.outbox,
            progress: &NoProgress,
        }
    }

    /// A full run at `now`.
    pub async fn run_at(&self, now: DateTime<Utc>) -> Result<RunOutcome, RunError> {
        let request = RunRequest {
            target: RunTarget::Everyone,
            dry_run: false,
            trigger: Trigger::Schedule,
            now,
            deadline: None,
        };
        run::run(&self.ports(), &self.config, request).await
    }

    /// A full run at [`now`], which must succeed.
    pub async fn run(&self) -> RunOutcome {
        self.run_at(now()).await.expect("run succeeds")
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
        let external_id = crate::key(id).external_id();
        let mut users = self.scim.users_with_external_id(&external_id).await;
        assert!(users.len() < 2, "two users carry {external_id}: {users:?}");
        users.pop()
    }
}

/// The destination of `config` with `token`, at the concurrency of `apply.concurrency` as the CLI
/// wires it.
fn destination(config: &TenantConfig, token: &str) -> ScimDestination {
    let mut settings = ScimSettings::new(
        config.tenant.to_string(),
        config
            .destination
            .base_url
            .clone()
            .expect("a SCIM base URL"),
        SecretString::from(token.to_owned()),
    );
    settings.concurrency = config.apply.concurrency;
    ScimDestination::new(settings).expect("SCIM destination")
}
