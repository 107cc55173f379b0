//! Test support: a real scim2-server (PyPI) on 127.0.0.1, one tenant per test, and plain HTTP
//! reads to check what the server holds.
//!
//! The server comes from `SCIM2_SERVER_URL`/`SCIM2_SERVER_TOKEN` (set by
//! `eval "$(bash infra/scim2-server.sh)"`) or, when they are absent, is started once per test
//! binary from the project venv (`.venv/bin/scim2-server`).

#![allow(dead_code)] // Each test binary uses a different part of this module.

use secrecy::SecretString;
use serde_json::{json, Value};
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};
use sync_core::ports::NewUser;
use sync_core::record::{FieldValue, UserRecord};
use sync_scim::{ScimDestination, ScimSettings};

/// A running scim2-server.
pub struct Server {
    /// `http://127.0.0.1:PORT`, without a tenant.
    pub url: String,
    /// Its bearer token.
    pub token: String,
    /// Keeps a server we started alive: it stops when this pipe closes, i.e. when the test
    /// process ends, however it ends.
    _guard: Option<Mutex<(Child, ChildStdin)>>,
}

/// The shared server of this test binary.
pub fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        match (
            std::env::var("SCIM2_SERVER_URL"),
            std::env::var("SCIM2_SERVER_TOKEN"),
        ) {
            (Ok(url), Ok(token)) if !url.is_empty() => Server {
                url: url.trim_end_matches('/').to_owned(),
                token,
                _guard: None,
            },
            _ => spawn_server(&[]),
        }
    })
}

/// The workspace root, found from this crate's manifest directory.
pub fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .find(|dir| {
            dir.join(".venv").is_dir()
                || dir.join("infra").is_dir() && dir.join("functions").is_dir()
        })
        .map(PathBuf::from)
        .unwrap_or(manifest)
}

/// Starts a scim2-server of our own with `extra` arguments (e.g. a service provider config).
pub fn spawn_server(extra: &[&str]) -> Server {
    let binary = workspace_root().join(".venv/bin/scim2-server");
    assert!(
        binary.exists(),
        "{} is missing: run `bash infra/scim2-server.sh` once to install scim2-server",
        binary.display()
    );
    let token = format!("test-token-{}", std::process::id());
    for _ in 0..3 {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free loopback port")
            .port();
        let port_text = port.to_string();
        let mut args = vec![
            "--hostname",
            "127.0.0.1",
            "--port",
            &port_text,
            "--dynamic-tenants",
            "--bearer-token",
            &token,
        ];
        args.extend_from_slice(extra);
        // `sh` runs the server in the background and kills it once its stdin reaches EOF, which
        // happens when this test process exits, even on a panic or abort.
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(r#""$0" "$@" >/dev/null 2>&1 & pid=$!; read _; kill $pid"#)
            .arg(&binary)
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start scim2-server");
        let stdin = child.stdin.take().expect("piped stdin");
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Server {
                    url: format!("http://127.0.0.1:{port}"),
                    token,
                    _guard: Some(Mutex::new((child, stdin))),
                };
            }
            if child.try_wait().ok().flatten().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let mut stdin = stdin;
        let _ = stdin.write_all(b"\n");
        let _ = child.wait();
    }
    panic!("scim2-server did not start on 127.0.0.1; run `bash infra/scim2-server.sh` to see why");
}

/// A tenant path no other test uses: `…/<prefix>-<pid>-<n>/v2`.
pub fn tenant_url(server: &Server, prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{}/{prefix}-{}-{n}/v2", server.url, std::process::id())
}

/// Settings for `base_url` with the server's token.
pub fn settings(base_url: &str, token: &str) -> ScimSettings {
    ScimSettings::new("acme", base_url, SecretString::from(token.to_owned()))
}

/// A destination on a fresh tenant of the shared server; returns it with its base URL.
pub fn fresh_destination(prefix: &str) -> (ScimDestination, String) {
    let server = server();
    let base_url = tenant_url(server, prefix);
    let destination =
        ScimDestination::new(settings(&base_url, &server.token)).expect("destination");
    (destination, base_url)
}

/// A record from `(field, value)` pairs.
pub fn record(fields: &[(&str, &str)]) -> UserRecord {
    let mut record = UserRecord::new();
    for (field, value) in fields {
        record.set(*field, FieldValue::Text((*value).to_owned()));
    }
    record
}

/// An active new user with `fields`.
pub fn new_user(external_id: &str, fields: &[(&str, &str)]) -> NewUser {
    NewUser {
        external_id: external_id.to_owned(),
        record: record(fields),
        active: true,
    }
}

/// Plain HTTP against the server, to read back what it holds.
pub struct Reader {
    http: reqwest::Client,
    base_url: String,
    token: String,
}

impl Reader {
    /// A reader of `base_url` with the shared server's token.
    pub fn new(base_url: &str) -> Self {
        Self::with_token(base_url, &server().token)
    }

    /// A reader with another token.
    pub fn with_token(base_url: &str, token: &str) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        Self {
            http: reqwest::Client::new(),
            base_url: base_url.to_owned(),
            token: token.to_owned(),
        }
    }

    /// `GET base/path`, asserting success.
    pub async fn get(&self, path: &str) -> Value {
        let response = self
            .http
            .get(format!("{}/{path}", self.base_url))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("GET");
        assert!(
            response.status().is_success(),
            "GET {path}: {}",
            response.status()
        );
        response.json().await.expect("JSON body")
    }

    /// The users whose `filter` matches.
    pub async fn users_where(&self, filter: &str) -> Vec<Value> {
        let response = self
            .http
            .get(format!("{}/Users", self.base_url))
            .query(&[("filter", filter)])
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("GET /Users");
        let body: Value = response.json().await.expect("JSON body");
        body["Resources"].as_array().cloned().unwrap_or_default()
    }

    /// `POST base/Users` of a raw body, for users that are not ours.
    pub async fn post_user(&self, body: Value) -> String {
        let response = self
            .http
            .post(format!("{}/Users", self.base_url))
            .bearer_auth(&self.token)
            .header("Content-Type", "application/scim+json")
            .json(&body)
            .send()
            .await
            .expect("POST /Users");
        assert_eq!(response.status().as_u16(), 201);
        let body: Value = response.json().await.expect("JSON body");
        body["id"].as_str().expect("id").to_owned()
    }
}

/// A user body that is not ours: no externalId.
pub fn foreign_user(user_name: &str, email: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
        "emails": [{"type": "work", "value": email, "primary": true}],
        "active": true
    })
}
