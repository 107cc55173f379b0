//! Test support: the admin router on the real AWS adapters against moto (`test_support::moto`), every
//! response checked against the OpenAPI file ([`contract`]), every log line captured (`test_support::logs`),
//! what the API left behind read past it (`peek`: queue, table, schedule, secrets),
//! and tenants onboarded through the API with a fake Personio of their own and a JSON directory as
//! their app ([`Fixture`]).
//!
//! Every test builds its own [`Harness`] (table, FIFO queue, sender) and its own tenants, so tests
//! run in parallel on one moto.

#![allow(dead_code)] // Each test uses a different part of the support.

pub mod contract;
mod peek;

use admin::{AdminDeps, AdminSettings};
use axum::body::Body;
use axum::http::{HeaderMap, Request};
use axum::Router;
use chrono::Utc;
use fake_personio::{generate_company, CompanySpec, FakeConfig, FakePersonio, RateLimit};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use sync_aws::{create_table, AwsConfig, Deps};
use tempfile::TempDir;
use test_support::{logs, moto};
use tower::ServiceExt;

/// What the tests capture: our crates at trace level, everything else at info, as close as a test
/// gets to everything the Lambda could log.
const LOG_FILTER: &str = "info,admin=trace,sync_core=trace,sync_aws=trace,worker=trace";

/// The region every harness lives in.
pub const REGION: &str = "eu-central-1";

/// One answer of the API, already checked against the contract.
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// The headers.
    pub headers: HeaderMap,
    /// The raw body.
    pub body: Vec<u8>,
}

impl Answer {
    /// The body as JSON (`null` when empty).
    pub fn json(&self) -> Value {
        if self.body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&self.body).expect("a JSON body")
        }
    }
    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    /// `error.code` of an error answer.
    pub fn code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
    /// `error.message` of an error answer.
    pub fn message(&self) -> String {
        self.json()["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
    /// A header as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    }
}

/// The admin API of one test on its own AWS resources.
pub struct Harness {
    /// The adapters, as the Lambda builds them.
    pub aws: Deps,
    app: Router,
    /// Every response body so far, to search for secrets.
    bodies: Mutex<Vec<String>>,
}

/// The console's address and keys in these tests: links are checked with [`console_keys`].
pub const CONSOLE_URL: &str = "https://console.example.test";

/// The console's keys in these tests.
pub fn console_keys() -> sync_core::links::LinkKeys {
    sync_core::links::LinkKeys::new(
        sync_core::links::LinkKey::new("k1", vec![7; 32]).expect("a key"),
        None,
    )
}

fn console() -> sync_core::console_site::ConsoleAddress {
    sync_core::console_site::ConsoleAddress {
        url: CONSOLE_URL.to_owned(),
        keys: Arc::new(console_keys()),
    }
}

fn aws_config(endpoint: &str, table: &str, queue_url: &str, sender: &str) -> AwsConfig {
    let variables = HashMap::from([
        ("AWS_REGION", REGION),
        ("AWS_ENDPOINT_URL", endpoint),
        ("TABLE_NAME", table),
        ("JOBS_QUEUE_URL", queue_url),
        ("SENDER", sender),
        // No cache: a test reads back what it just stored.
        ("SECRETS_CACHE_SECONDS", "0"),
    ]);
    AwsConfig::from_lookup(|name| variables.get(name).map(|value| (*value).to_owned()))
        .expect("a complete Lambda environment")
}

impl Harness {
    /// A table, a FIFO queue and a verified sender of its own on the shared moto; its tenants
    /// keep the app's users in a folder.
    pub async fn new() -> Self {
        Self::with_local(Some(Arc::new(sync_local::Directories))).await
    }

    /// As deployed: no local folders, so a directory destination is refused.
    pub async fn deployed() -> Self {
        Self::with_local(None).await
    }

    async fn with_local(local: Option<Arc<dyn sync_core::ports::LocalDestinations>>) -> Self {
        logs::capture(LOG_FILTER);
        let moto = moto::shared();
        let table = moto::unique("table");
        let queue_name = format!("{}.fifo", moto::unique("jobs"));
        let sender = format!("{}@vendor.example", moto::unique("sync"));
        let bootstrap = Deps::new(aws_config(&moto.url, &table, "unset", &sender)).await;
        let queue_url = bootstrap
            .clients
            .sqs
            .create_queue()
            .queue_name(&queue_name)
            .attributes(aws_sdk_sqs::types::QueueAttributeName::FifoQueue, "true")
            .send()
            .await
            .expect("create the FIFO queue")
            .queue_url
            .expect("a queue URL");
        let aws = Deps::new(aws_config(&moto.url, &table, &queue_url, &sender)).await;
        create_table(&aws.clients.dynamodb, &table)
            .await
            .expect("create the table");
        aws.clients
            .ses
            .verify_email_identity()
            .email_address(&sender)
            .send()
            .await
            .expect("verify the sender");
        let deps = AdminDeps {
            configs: Arc::new(aws.store.clone()),
            store: Arc::new(aws.store.clone()),
            tenants: Arc::new(aws.store.clone()),
            secrets: Arc::new(aws.secrets.clone()),
            secrets_admin: Arc::new(aws.secrets.clone()),
            jobs: Arc::new(aws.jobs.clone()),
            progress: Arc::new(aws.store.clone()),
            console: Some(console()),
            local,
            settings: AdminSettings {
                personio_attempts: 1,
                personio_timeout: Duration::from_secs(5),
                ..AdminSettings::default()
            },
        };
        Self {
            app: admin::app(deps),
            aws,
            bodies: Mutex::new(Vec::new()),
        }
    }

    /// Sends `method path` (built from `template` and `params`) with `body` and `headers`, and
    /// checks the answer against the OpenAPI file.
    pub async fn send(
        &self,
        method: &str,
        template: &str,
        params: &[(&str, &str)],
        query: &str,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut path = template.to_owned();
        for (name, value) in params {
            path = path.replace(&format!("{{{name}}}"), value);
        }
        if !query.is_empty() {
            path = format!("{path}?{query}");
        }
        let mut request = Request::builder().method(method).uri(&path);
        if !body.is_empty() {
            request = request.header("content-type", "application/json");
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(Body::from(body)).expect("a request");
        let answer = self.call(request).await;
        contract::check(
            method,
            template,
            answer.status,
            &answer.headers,
            &answer.body,
        );
        answer
    }

    /// Sends a request the contract does not cover (unknown paths and methods), unchecked.
    pub async fn unchecked(&self, method: &str, path: &str) -> Answer {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .body(Body::empty())
            .expect("a request");
        self.call(request).await
    }

    /// Sends a request as built by the test (extensions included), unchecked.
    pub async fn call(&self, request: Request<Body>) -> Answer {
        let response = self.app.clone().oneshot(request).await.expect("infallible");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("the body")
            .to_vec();
        self.bodies
            .lock()
            .expect("bodies")
            .push(String::from_utf8_lossy(&body).into_owned());
        Answer {
            status,
            headers,
            body,
        }
    }

    /// `GET`.
    pub async fn get(&self, template: &str, params: &[(&str, &str)]) -> Answer {
        self.send("GET", template, params, "", Vec::new(), &[])
            .await
    }

    /// `GET` with a query string.
    pub async fn get_query(&self, template: &str, params: &[(&str, &str)], query: &str) -> Answer {
        self.send("GET", template, params, query, Vec::new(), &[])
            .await
    }

    /// `method` with a JSON body (`Value::Null`: no body).
    pub async fn json(
        &self,
        method: &str,
        template: &str,
        params: &[(&str, &str)],
        body: &Value,
    ) -> Answer {
        let bytes = if body.is_null() {
            Vec::new()
        } else {
            body.to_string().into_bytes()
        };
        self.send(method, template, params, "", bytes, &[]).await
    }

    /// `PUT` with a JSON body and `If-Match`.
    pub async fn put_matching(
        &self,
        template: &str,
        params: &[(&str, &str)],
        body: &Value,
        if_match: &str,
    ) -> Answer {
        self.send(
            "PUT",
            template,
            params,
            "",
            body.to_string().into_bytes(),
            &[("if-match", if_match)],
        )
        .await
    }

    /// How many response bodies so far contain `text`.
    pub fn bodies_containing(&self, text: &str) -> usize {
        self.bodies
            .lock()
            .expect("bodies")
            .iter()
            .filter(|body| body.contains(text))
            .count()
    }
}

/// One tenant of a test: its Personio (a fake with credentials of its own), its app (a JSON
/// directory) and the config it was created with.
pub struct Fixture {
    /// The tenant id.
    pub id: String,
    /// Its Personio.
    pub fake: FakePersonio,
    /// The fake's credentials.
    pub fake_config: FakeConfig,
    /// Holds the app directory.
    pub dir: TempDir,
    /// The config as created.
    pub config: Value,
}

impl Fixture {
    /// `[("tenant", id)]`.
    pub fn params(&self) -> [(&str, &str); 1] {
        [("tenant", self.id.as_str())]
    }
}

/// A company of `employees` people, realistic for today in Berlin.
pub fn company(employees: usize, seed: u64) -> fake_personio::Company {
    let today = Utc::now().with_timezone(&chrono_tz_berlin()).date_naive();
    generate_company(&CompanySpec {
        employees,
        seed,
        today,
    })
}

fn chrono_tz_berlin() -> chrono::FixedOffset {
    // The fake only needs a plausible "today"; a fixed offset avoids a chrono-tz dependency.
    chrono::FixedOffset::east_opt(3600).expect("an offset")
}

/// The config of tenant `id` reading `fake`, writing into `dir`.
pub fn config_json(id: &str, fake: &FakePersonio, dir: &TempDir, sender: &str) -> Value {
    json!({
        "tenant": id,
        "timezone": "Europe/Berlin",
        "personio": {"accounts": [{
            "name": "main",
            "base_url": fake.url(),
            "rate_limit_per_minute": 60000,
            "rate_limit_burst": 100,
        }]},
        "destination": {"kind": "directory", "path": dir.path().join("app").display().to_string()},
        "email": {"to": [format!("admin@{id}.example")], "from": sender},
        "schedule": {"every_minutes": 60},
    })
}

impl Harness {
    /// Creates a tenant through the API with a fake Personio of `employees` people, and stores
    /// its Personio credentials through the API.
    pub async fn tenant(&self, employees: usize, seed: u64) -> Fixture {
        let fixture = self.tenant_without_credentials(employees, seed).await;
        let answer = self
            .json(
                "PUT",
                "/tenants/{tenant}/credentials/personio/{account}",
                &[("tenant", &fixture.id), ("account", "main")],
                &json!({
                    "client_id": fixture.fake_config.client_id,
                    "client_secret": fixture.fake_config.client_secret,
                }),
            )
            .await;
        assert_eq!(answer.status, 204, "{}", answer.text());
        fixture
    }

    /// Creates a tenant through the API, without storing credentials.
    pub async fn tenant_without_credentials(&self, employees: usize, seed: u64) -> Fixture {
        let fake_config = FakeConfig {
            client_id: moto::unique("client"),
            client_secret: moto::unique("personio-secret"),
            rate_limit: Some(RateLimit {
                per_minute: 60_000,
                burst: 100,
            }),
            ..FakeConfig::default()
        };
        let fake = FakePersonio::start(company(employees, seed), fake_config.clone())
            .await
            .expect("start the fake Personio");
        let id = moto::unique("t");
        let dir = tempfile::tempdir().expect("temp dir");
        let config = config_json(&id, &fake, &dir, &self.aws.config.sender);
        let answer = self.json("POST", "/tenants", &[], &config).await;
        assert_eq!(answer.status, 201, "{}", answer.text());
        Fixture {
            id,
            fake,
            fake_config,
            dir,
            config,
        }
    }
}
