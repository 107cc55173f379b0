//! A full read of 1,000 and 10,000 people through Personio v2 beside v1, from the fake Personio:
//! requests and time, each API at its limit. v1 at its documented 300 a minute with a burst of 15
//! (a token bucket, the stricter reading); v2 at the limit Personio's gateway advertises for
//! `/v2/persons` in its `x-ratelimit-*` headers (30 a second, personio-api.md §2.9, observed, not
//! documented), per endpoint family.
//!
//! `cargo bench -p benches --bench v2` (about 7 minutes: v2 reads each person's employment with a
//! request of its own). `cargo bench -p benches --bench v2 -- 1000` for one headcount.

use anyhow::{bail, Context};
use benches::SEED;
use chrono::Utc;
use fake_personio::{generate_company, CompanySpec, FakeConfig, FakePersonio, RateLimit, Stats};
use secrecy::SecretString;
use std::process::ExitCode;
use std::time::Instant;
use sync_core::ids::AccountId;
use sync_core::personio::{self, Api, PersonioClient, PersonioSettings};
use sync_core::ports::Source;

/// What Personio's gateway advertises for `/v2/persons` (§2.9): 30 a second.
const V2_LIMIT: RateLimit = RateLimit {
    per_minute: 1_800,
    burst: 30,
};

fn main() -> ExitCode {
    benches::run_async(bench(&benches::headcounts(&[1_000, 10_000])))
}

/// Every request the fake answered.
fn requests(stats: &Stats) -> u64 {
    stats.auth_requests
        + stats.token_requests
        + stats.list_requests
        + stats.single_requests
        + stats.attribute_requests
        + stats.v2_person_requests
        + stats.v2_employment_requests
        + stats.v2_reference_requests
}

async fn bench(counts: &[usize]) -> anyhow::Result<()> {
    println!(
        "v2 vs v1: a full read; v1 at 300/min with a burst of 15, v2 at 30/s per endpoint family"
    );
    for &employees in counts {
        let company = generate_company(&CompanySpec {
            employees,
            seed: SEED,
            today: Utc::now().date_naive(),
        });
        for api in [Api::V1, Api::V2] {
            let config = FakeConfig {
                rate_limit: Some(RateLimit::PERSONIO),
                ..FakeConfig::default()
            };
            let fake = FakePersonio::start(company.clone(), config.clone())
                .await
                .context("cannot start the fake Personio on 127.0.0.1")?;
            fake.set_v2_rate_limit(Some(V2_LIMIT));
            let mut settings = PersonioSettings::new(
                AccountId::default(),
                fake.url(),
                config.client_id.clone(),
                SecretString::from(config.client_secret.clone()),
            );
            settings.rate_limit = personio::RateLimit {
                per_minute: RateLimit::PERSONIO.per_minute,
                burst: RateLimit::PERSONIO.burst,
            };
            settings.api = api;
            let client = PersonioClient::new(settings)?;
            let start = Instant::now();
            let batch = client.employees().await?;
            let elapsed = start.elapsed().as_secs_f64();
            let stats = fake.stats();
            fake.shutdown();
            let read = batch.employees.len() + batch.errors.len();
            if read != employees {
                bail!("{api:?} read {read} of {employees} people");
            }
            println!(
                "  n={employees} {api:?}: {elapsed:.2} s, {} requests ({} answered 429), {} people read, {} unreadable",
                requests(&stats),
                stats.too_many_requests,
                batch.employees.len(),
                batch.errors.len()
            );
        }
    }
    Ok(())
}
