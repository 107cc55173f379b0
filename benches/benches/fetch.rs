//! A full fetch of 10,000 employees from the fake Personio at Personio's documented limit
//! (300 a minute, burst of 15), read both ways the documentation allows, as a ratio to each
//! server's own floor (target: ≤ 1.2×, with at most three 429s), and beside a sequential
//! one-request-at-a-time client at 300 ms page latency (the reference peer).
//!
//! Floors, for R list requests of 100 people:
//! - token bucket (15 at once, then one every 200 ms): (R − 15) / 5 s;
//! - windows (15 in any second, 300 in any minute; R ≤ 300): (⌈R / 15⌉ − 1) s;
//!
//! each plus one page latency. About two minutes in all.
//!
//! `cargo bench -p benches --bench fetch`

use anyhow::{bail, Context};
use benches::{verdict, SEED};
use chrono::Utc;
use fake_personio::{
    generate_company, Company, CompanySpec, FakeConfig, FakePersonio, Fault, LimitModel, RateLimit,
};
use secrecy::SecretString;
use serde_json::Value;
use std::collections::BTreeSet;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use sync_core::ids::AccountId;
use sync_core::personio::{self, PersonioClient, PersonioSettings};
use sync_core::ports::Source;

const EMPLOYEES: usize = 10_000;
const PAGE_SIZE: usize = 100;
/// The target of DESIGN.md §6.
const TARGET_RATIO: f64 = 1.2;
/// 429s a full fetch may meet.
const TARGET_THROTTLED: u64 = 3;
/// How much faster than the sequential peer.
const TARGET_SPEEDUP: f64 = 5.0;
const PEER_LATENCY: Duration = Duration::from_millis(300);

fn main() -> ExitCode {
    benches::run_async(bench())
}

/// One full read.
struct Read {
    elapsed: Duration,
    list_requests: u64,
    throttled: u64,
}

async fn bench() -> anyhow::Result<()> {
    let company = generate_company(&CompanySpec {
        employees: EMPLOYEES,
        seed: SEED,
        today: Utc::now().date_naive(),
    });
    let requests = EMPLOYEES.div_ceil(PAGE_SIZE);
    println!("fetch n={EMPLOYEES}: {requests} list requests of {PAGE_SIZE}, limit 300/min with a burst of 15");
    for model in [LimitModel::TokenBucket, LimitModel::Windows] {
        let read = measure(&company, model, None, Reader::Ours).await?;
        let floor = floor(model, requests, Duration::ZERO);
        report(model, Duration::ZERO, &read, floor);
    }
    println!(
        "beside a sequential client (one request at a time), at {PEER_LATENCY:?} page latency:"
    );
    for model in [LimitModel::TokenBucket, LimitModel::Windows] {
        let ours = measure(&company, model, Some(PEER_LATENCY), Reader::Ours).await?;
        report(
            model,
            PEER_LATENCY,
            &ours,
            floor(model, requests, PEER_LATENCY),
        );
        let peer = measure(&company, model, Some(PEER_LATENCY), Reader::Sequential).await?;
        let speedup = peer.elapsed.as_secs_f64() / ours.elapsed.as_secs_f64();
        println!(
            "  {}: sequential {:.2} s ({} list requests, {} answered 429), ours {:.2} s: {speedup:.2}x faster; target >= {TARGET_SPEEDUP}x: {}",
            name(model),
            peer.elapsed.as_secs_f64(),
            peer.list_requests,
            peer.throttled,
            ours.elapsed.as_secs_f64(),
            verdict(speedup >= TARGET_SPEEDUP)
        );
    }
    Ok(())
}

fn name(model: LimitModel) -> &'static str {
    match model {
        LimitModel::TokenBucket => "token bucket (5/s after 15)",
        LimitModel::Windows => "windows (15/s and 300/min)",
    }
}

/// The server's own floor for `requests` requests, plus the last answer's latency.
fn floor(model: LimitModel, requests: usize, latency: Duration) -> Duration {
    let limit = RateLimit::PERSONIO;
    let burst = limit.burst as usize;
    let seconds = match model {
        LimitModel::TokenBucket => {
            requests.saturating_sub(burst) as f64 / (f64::from(limit.per_minute) / 60.0)
        }
        LimitModel::Windows => (requests.div_ceil(burst) - 1) as f64,
    };
    Duration::from_secs_f64(seconds) + latency
}

fn report(model: LimitModel, latency: Duration, read: &Read, floor: Duration) {
    let ratio = read.elapsed.as_secs_f64() / floor.as_secs_f64();
    println!(
        "  {} at {latency:?} latency: ours {:.2} s, {} list requests, {} answered 429; floor {:.2} s: ratio {ratio:.3}; target <= {TARGET_RATIO} with <= {TARGET_THROTTLED} 429s: {}",
        name(model),
        read.elapsed.as_secs_f64(),
        read.list_requests,
        read.throttled,
        floor.as_secs_f64(),
        verdict(ratio <= TARGET_RATIO && read.throttled <= TARGET_THROTTLED)
    );
}

#[derive(Clone, Copy)]
enum Reader {
    Ours,
    Sequential,
}

/// Reads the whole list from a fresh fake limited as `model`, answering pages `latency` late.
async fn measure(
    company: &Company,
    model: LimitModel,
    latency: Option<Duration>,
    reader: Reader,
) -> anyhow::Result<Read> {
    let config = FakeConfig {
        rate_limit: Some(RateLimit::PERSONIO),
        ..FakeConfig::default()
    };
    let fake = FakePersonio::start(company.clone(), config.clone())
        .await
        .context("cannot start the fake Personio on 127.0.0.1")?;
    fake.set_limit_model(model);
    if let Some(latency) = latency {
        fake.set_fault(Fault::Slow {
            millis: u64::try_from(latency.as_millis())?,
        });
    }
    let start = Instant::now();
    let ids = match reader {
        Reader::Ours => ours(&fake, &config).await?,
        Reader::Sequential => sequential(&fake, &config).await?,
    };
    let elapsed = start.elapsed();
    let stats = fake.stats();
    fake.shutdown();
    // Every employee once, whatever the reader.
    if ids.len() != EMPLOYEES {
        bail!("read {} distinct employees of {EMPLOYEES}", ids.len());
    }
    Ok(Read {
        elapsed,
        list_requests: stats.list_requests,
        throttled: stats.too_many_requests,
    })
}

/// Our client, as a run builds it.
async fn ours(fake: &FakePersonio, config: &FakeConfig) -> anyhow::Result<BTreeSet<u64>> {
    let limit = RateLimit::PERSONIO;
    let mut settings = PersonioSettings::new(
        AccountId::default(),
        fake.url(),
        config.client_id.clone(),
        SecretString::from(config.client_secret.clone()),
    );
    settings.rate_limit = personio::RateLimit {
        per_minute: limit.per_minute,
        burst: limit.burst,
    };
    let batch = PersonioClient::new(settings)?.employees().await?;
    if !batch.errors.is_empty() {
        bail!("{} people were unreadable", batch.errors.len());
    }
    Ok(batch
        .employees
        .iter()
        .map(|employee| employee.key.id.get())
        .collect())
}

/// The reference peer: one request at a time, pages of 100 until a short one, a 429 waited out
/// for its `Retry-After` (or a second) — what the open-source v1 connectors do.
async fn sequential(fake: &FakePersonio, config: &FakeConfig) -> anyhow::Result<BTreeSet<u64>> {
    let http = reqwest::Client::new();
    let auth: Value = http
        .post(format!("{}/v1/auth", fake.url()))
        .json(&serde_json::json!({
            "client_id": config.client_id,
            "client_secret": config.client_secret,
        }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let token = auth["data"]["token"]
        .as_str()
        .context("no token in the auth answer")?
        .to_owned();
    let mut ids = BTreeSet::new();
    let mut offset = 0;
    loop {
        let response = http
            .get(format!("{}/v1/company/employees", fake.url()))
            .query(&[("limit", PAGE_SIZE), ("offset", offset)])
            .bearer_auth(&token)
            .send()
            .await?;
        if response.status() == reqwest::StatusCode::TOO_MANY_REQUESTS {
            let wait = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|value| value.to_str().ok()?.parse().ok())
                .unwrap_or(1);
            tokio::time::sleep(Duration::from_secs(wait)).await;
            continue;
        }
        let page: Value = response.error_for_status()?.json().await?;
        let people = page["data"].as_array().context("no data in a page")?;
        for person in people {
            let id = person["attributes"]["id"]["value"]
                .as_u64()
                .context("a person without an id")?;
            ids.insert(id);
        }
        if people.len() < PAGE_SIZE {
            return Ok(ids);
        }
        offset += PAGE_SIZE;
    }
}
