//! Test support: a real moto server (PyPI) on 127.0.0.1 standing in for AWS, unique names so tests
//! run in parallel against one moto, and moto's own API to read back what it holds.
//!
//! The server comes from `MOTO_URL` (set by `eval "$(bash infra/moto-server.sh)"`) or, when it is
//! absent, is started once per test binary from the project venv (`.venv/bin/moto_server`).

#![allow(dead_code)] // Each test binary uses a different part of this module.

use serde_json::Value;
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};
use sync_aws::{create_table, AwsConfig, Deps, DynamoStore, StoreSettings};
use sync_core::ids::TenantId;

/// A running moto server.
pub struct Moto {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// Keeps a server we started alive: it stops when this pipe closes, i.e. when the test
    /// process ends, however it ends.
    _guard: Option<Mutex<(Child, ChildStdin)>>,
}

/// The shared moto of this test binary.
pub fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(|| match std::env::var("MOTO_URL") {
        Ok(url) if !url.is_empty() => Moto {
            url: url.trim_end_matches('/').to_owned(),
            _guard: None,
        },
        _ => spawn_moto(),
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

fn spawn_moto() -> Moto {
    let binary = workspace_root().join(".venv/bin/moto_server");
    assert!(
        binary.exists(),
        "{} is missing and MOTO_URL is not set: run `eval \"$(bash infra/moto-server.sh)\"` \
         once to install moto and start it",
        binary.display()
    );
    for _ in 0..3 {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free loopback port")
            .port();
        // `sh` runs the server in the background and kills it once its stdin reaches EOF, which
        // happens when this test process exits, even on a panic or abort.
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(r#""$0" "$@" >/dev/null 2>&1 & pid=$!; read _; kill $pid"#)
            .arg(&binary)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server");
        let stdin = child.stdin.take().expect("piped stdin");
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if answers_data_json(port) {
                return Moto {
                    url,
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
    panic!("moto_server did not start on 127.0.0.1; run `bash infra/moto-server.sh` to see why");
}

/// Whether moto answers `GET /moto-api/data.json` with 200 (plain HTTP/1.0 over a socket, so
/// the check needs no async runtime).
fn answers_data_json(port: u16) -> bool {
    use std::io::Read;
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = "GET /moto-api/data.json HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.ends_with(b" 200")
}

/// A name no other test (or earlier run against the same moto) uses: `<prefix>-<random>-<n>`.
pub fn unique(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}-{:08x}-{n}", rand::random::<u32>())
}

/// A tenant id no other test uses.
pub fn tenant() -> TenantId {
    TenantId::parse(&unique("t")).expect("valid tenant id")
}

/// The config a Lambda would read, pointed at moto, with its own table and queue names.
pub fn aws_config(table: &str, queue_url: &str) -> AwsConfig {
    AwsConfig {
        region: "eu-central-1".to_owned(),
        endpoint_url: Some(moto().url.clone()),
        table_name: table.to_owned(),
        jobs_queue_url: queue_url.to_owned(),
        sender: "sync@vendor.example".to_owned(),
        secrets_ttl: Duration::from_secs(300),
    }
}

/// Every adapter, built the way a Lambda builds them, on a fresh table (created) and a queue URL.
pub async fn deps_with(queue_url: &str) -> Deps {
    let deps = Deps::new(aws_config(&unique("table"), queue_url)).await;
    create_table(&deps.clients.dynamodb, &deps.config.table_name)
        .await
        .expect("create table");
    deps
}

/// A store on a fresh table of its own, with `page_size` items per Query page.
pub async fn fresh_store(page_size: Option<u32>) -> DynamoStore {
    let deps = deps_with("unused").await;
    DynamoStore::with_settings(
        deps.clients.dynamodb.clone(),
        StoreSettings {
            page_size,
            ..StoreSettings::new(deps.config.table_name.clone())
        },
    )
}

/// moto's whole state (`GET /moto-api/data.json`): service → model → instances.
pub async fn moto_data() -> Value {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let response = reqwest::get(format!("{}/moto-api/data.json", moto().url))
        .await
        .expect("GET data.json");
    assert!(
        response.status().is_success(),
        "data.json: {}",
        response.status()
    );
    response.json().await.expect("data.json is JSON")
}

/// The raw MIME text of every message SES sent to `recipient`.
pub async fn sent_raw_mail_to(recipient: &str) -> Vec<String> {
    let data = moto_data().await;
    data["ses"]["RawMessage"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|message| {
            message["destinations"]
                .as_array()
                .is_some_and(|to| to.iter().any(|address| address == recipient))
        })
        .filter_map(|message| message["raw_data"].as_str().map(str::to_owned))
        .collect()
}
