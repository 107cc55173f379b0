//! Handler latency, warm and in-process: 1,000 new deliveries (each recorded in sync-local's
//! folder event log and queued) and 1,000 duplicates, after 100 warm-up calls. Prints p50, p99
//! and the maximum; DESIGN.md's target is p99 under 100 ms.
//!
//! `cargo run -p webhook --example latency [-- <calls>]`

use chrono::Utc;
use std::time::{Duration, Instant};
use sync_core::config::TenantConfig;
use sync_local::FolderStore;
use test_support::ports::{MemoryConfigs, MemorySecrets, QueueJobs};
use webhook::{WebhookDeps, WebhookRequest};

const CONFIG: &str = r#"
tenant = "acme"
[[personio.accounts]]
name = "main"
[destination]
kind = "directory"
path = "directory"
"#;

fn request(n: usize) -> WebhookRequest {
    let body = serde_json::json!({
        "company_id": "4711",
        "event_name": "person.updated",
        "occurred_at": format!("2026-11-23T12:00:00.{n:06}Z"),
        "payload": {"id": (1_000 + n % 500).to_string()},
        "meta": {},
    });
    WebhookRequest {
        tenant_id: "acme".to_owned(),
        authorization: Some("latency-token".to_owned()),
        content_type: Some("application/json".to_owned()),
        body: body.to_string().into_bytes(),
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index]
}

async fn measure(
    deps: &WebhookDeps<'_>,
    calls: std::ops::Range<usize>,
    expect: u16,
) -> Vec<Duration> {
    let mut times = Vec::with_capacity(calls.len());
    for n in calls {
        let started = Instant::now();
        let response = webhook::handle(deps, request(n)).await;
        times.push(started.elapsed());
        assert_eq!(response.status, expect, "{}", response.body);
    }
    times.sort_unstable();
    times
}

fn report(what: &str, times: &[Duration]) {
    println!(
        "{what:<22} n={:<5} p50={:>8.3} ms  p99={:>8.3} ms  max={:>8.3} ms",
        times.len(),
        percentile(times, 0.50).as_secs_f64() * 1e3,
        percentile(times, 0.99).as_secs_f64() * 1e3,
        times.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let calls: usize = std::env::args()
        .nth(1)
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(1_000);
    let dir = tempfile::tempdir()?;
    let configs = MemoryConfigs::default();
    let config = TenantConfig::from_toml(CONFIG)?;
    let secrets = MemorySecrets::default();
    secrets.set_webhook(
        &config.tenant,
        r#"{"token": "latency-token", "company_id": "4711"}"#,
    );
    configs.insert(config);
    let store = FolderStore::new(dir.path());
    let jobs = QueueJobs::default();
    let deps = WebhookDeps {
        configs: &configs,
        secrets: &secrets,
        events: &store,
        jobs: &jobs,
        misses: &webhook::Misses::default(),
        now: Utc::now(),
    };
    measure(&deps, 0..100, 202).await;
    let new = measure(&deps, 100..100 + calls, 202).await;
    let duplicates = measure(&deps, 100..100 + calls, 200).await;
    println!(
        "webhook::handle, warm, in-process, folder event log in {}",
        dir.path().display()
    );
    report("new delivery (202)", &new);
    report("duplicate (200)", &duplicates);
    println!("queued jobs: {}", jobs.drain().len());
    Ok(())
}
