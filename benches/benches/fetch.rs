//! A full fetch of 10,000 employees from the fake Personio with its rate limiter at Personio's
//! real limits (300/min, burst 15), as a ratio to the floor the limit sets (target: ≤ 1.2×).
//!
//! Floor: ceil(N/100) list requests, of which `burst` go out at once and the rest one every
//! 60/`per_minute` seconds: (requests − burst) / (per_minute / 60). At real limits this bench
//! takes about 17 s.
//!
//! `cargo bench -p benches --bench fetch`

use anyhow::Context;
use benches::{verdict, SEED};
use chrono::Utc;
use fake_personio::{generate_company, CompanySpec, FakeConfig, FakePersonio, RateLimit};
use secrecy::SecretString;
use std::process::ExitCode;
use std::time::Instant;
use sync_core::ids::AccountId;
use sync_core::personio::{self, PersonioClient, PersonioSettings};
use sync_core::ports::Source;

const EMPLOYEES: usize = 10_000;
const PAGE_SIZE: usize = 100;
/// The target of DESIGN.md §6.
const TARGET_RATIO: f64 = 1.2;

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: could not start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(bench()) {
        // A missed target is a FAIL line, not a failed bench: the figures are the result.
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn bench() -> anyhow::Result<()> {
    let limit = RateLimit::PERSONIO;
    let company = generate_company(&CompanySpec {
        employees: EMPLOYEES,
        seed: SEED,
        today: Utc::now().date_naive(),
    });
    let fake_config = FakeConfig {
        rate_limit: Some(limit),
        ..FakeConfig::default()
    };
    let fake = FakePersonio::start(company, fake_config.clone())
        .await
        .context("cannot start the fake Personio on 127.0.0.1")?;
    let mut settings = PersonioSettings::new(
        AccountId::default(),
        fake.url(),
        fake_config.client_id.clone(),
        SecretString::from(fake_config.client_secret.clone()),
    );
    settings.rate_limit = personio::RateLimit {
        per_minute: limit.per_minute,
        burst: limit.burst,
    };
    let client = PersonioClient::new(settings)?;

    let start = Instant::now();
    let batch = client.employees().await?;
    let elapsed = start.elapsed().as_secs_f64();
    let stats = fake.stats();
    fake.shutdown();

    let requests = EMPLOYEES.div_ceil(PAGE_SIZE);
    let floor =
        requests.saturating_sub(limit.burst as usize) as f64 / (f64::from(limit.per_minute) / 60.0);
    let ratio = elapsed / floor;
    println!(
        "fetch n={EMPLOYEES}: {} employees read ({} unreadable), {} list requests for {requests} pages, {} auth requests, {} answered 429, {} answered 5xx",
        batch.employees.len(),
        batch.errors.len(),
        stats.list_requests,
        stats.auth_requests,
        stats.too_many_requests,
        stats.server_errors,
    );
    println!(
        "  measured {elapsed:.2} s, floor {floor:.2} s ({requests} requests at {}/min, burst {}): ratio {ratio:.3}",
        limit.per_minute, limit.burst
    );
    println!(
        "  target ratio <= {TARGET_RATIO}: {}",
        verdict(ratio <= TARGET_RATIO)
    );
    Ok(())
}
