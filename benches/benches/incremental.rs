//! An incremental scheduled run of a 10,000-person tenant (decision 0019), the way the CLI runs
//! it: the folder store, the directory destination and the fake Personio at Personio's documented
//! limit. Targets: with no change, at most 2 Personio requests and under 1 s; with 20 changes, at
//! most 3 requests.
//!
//! Setup: a full run with the fake's limit lifted (it creates the users). Each measured run
//! builds a new Personio client, as each run in AWS does, so its authentication is counted. The
//! runs happen at the real time, since the fake stamps changes with it.
//!
//! `cargo bench -p benches --bench incremental`

use anyhow::Context;
use benches::{demo_config, verdict, SEED};
use chrono::{Duration, Utc};
use fake_personio::{generate_company, CompanySpec, FakeConfig, FakePersonio, RateLimit, Stats};
use secrecy::SecretString;
use std::process::ExitCode;
use std::time::Instant;
use sync_core::config::TenantConfig;
use sync_core::history::{Reading, Trigger};
use sync_core::personio::{self, PersonioClient, PersonioSettings};
use sync_core::ports::Source;
use sync_core::progress::NoProgress;
use sync_core::run::{self, Ports, RunOutcome, RunRequest, RunTarget};
use sync_local::{DirectoryDestination, FolderStore, OutboxMailer};

const EMPLOYEES: usize = 10_000;
const CHANGES: usize = 20;

fn main() -> ExitCode {
    benches::run_async(bench())
}

/// One tenant on the local adapters.
struct Tenant {
    config: TenantConfig,
    fake: FakePersonio,
    store: FolderStore,
    directory: DirectoryDestination,
    outbox: OutboxMailer,
}

impl Tenant {
    /// A scheduled run at `now` with a new client: its record, Personio's requests, its time.
    async fn run(
        &self,
        now: chrono::DateTime<Utc>,
    ) -> anyhow::Result<(RunOutcome, u64, std::time::Duration)> {
        let defaults = FakeConfig::default();
        let mut settings = PersonioSettings::new(
            self.config.personio.accounts[0].name.clone(),
            self.fake.url(),
            defaults.client_id.clone(),
            SecretString::from(defaults.client_secret),
        );
        settings.rate_limit = personio::RateLimit {
            per_minute: RateLimit::PERSONIO.per_minute,
            burst: RateLimit::PERSONIO.burst,
        };
        settings.keep_attributes = Some(self.config.attributes().fetch_filter());
        let client = PersonioClient::new(settings)?;
        let ports = Ports {
            sources: vec![(
                self.config.personio.accounts[0].name.clone(),
                &client as &dyn Source,
            )],
            destination: &self.directory,
            store: &self.store,
            mailer: &self.outbox,
            progress: &NoProgress,
            links: None,
            pictures: None,
        };
        let request = RunRequest {
            target: RunTarget::Everyone,
            dry_run: false,
            trigger: Trigger::Schedule,
            now,
            deadline: None,
            run_id: None,
        };
        let before = requests(&self.fake.stats());
        let start = Instant::now();
        let outcome = run::run(&ports, &self.config, request).await?;
        let elapsed = start.elapsed();
        Ok((outcome, requests(&self.fake.stats()) - before, elapsed))
    }
}

/// Every request the fake answered.
fn requests(stats: &Stats) -> u64 {
    stats.auth_requests
        + stats.list_requests
        + stats.single_requests
        + stats.attribute_requests
        + stats.picture_requests
}

async fn bench() -> anyhow::Result<()> {
    let dir = tempfile::tempdir().context("cannot create a temporary folder")?;
    let now = Utc::now();
    // Everyone was last changed two days ago: only what the bench changes counts as changed.
    let company = generate_company(&CompanySpec {
        employees: EMPLOYEES,
        seed: SEED,
        today: (now - Duration::days(2)).date_naive(),
    });
    let fake = FakePersonio::start(
        company,
        FakeConfig {
            rate_limit: None,
            ..FakeConfig::default()
        },
    )
    .await
    .context("cannot start the fake Personio on 127.0.0.1")?;
    let mut config = demo_config()?;
    config.schedule.daily_at = None;
    config.schedule.every_minutes = Some(10);
    config.pictures.host = false;
    // The runs happen at the real time, as Personio stamps changes with it; in UTC, a run that
    // crosses midnight reads everyone (a new day), so the bench says when that spoils it.
    config.timezone = chrono_tz::UTC;
    config.personio.accounts[0].base_url = fake.url();
    let tenant = Tenant {
        config,
        store: FolderStore::new(dir.path().join("state")),
        directory: DirectoryDestination::open(dir.path().join("directory"))?,
        outbox: OutboxMailer::new(dir.path().join("outbox")),
        fake,
    };

    let (full, requests, elapsed) = tenant.run(now).await?;
    println!(
        "incremental n={EMPLOYEES}: setup full run {:.1} s, {requests} requests, {} users created",
        elapsed.as_secs_f64(),
        full.record.counts.created
    );
    tenant.fake.set_rate_limit(Some(RateLimit::PERSONIO));
    let (quiet, requests, elapsed) = tenant.run(Utc::now()).await?;
    anyhow::ensure!(
        matches!(quiet.record.reading, Reading::Changed { .. }),
        "the second scheduled run read everyone (did the bench cross midnight UTC? run it again)"
    );
    let seconds = elapsed.as_secs_f64();
    println!(
        "  no change: {seconds:.3} s, {requests} Personio requests, {} read, {} changed; target <= 2 requests and < 1 s: {}",
        quiet.record.fetched,
        quiet.record.counts.updated,
        verdict(requests <= 2 && seconds < 1.0)
    );

    let changed: Vec<u64> = tenant
        .fake
        .company()
        .employees
        .iter()
        .filter(|employee| employee.status == "active")
        .take(CHANGES)
        .map(|employee| employee.id)
        .collect();
    tenant.fake.update(|company| {
        for id in &changed {
            if let Some(person) = company.employee_mut(*id) {
                person.position = format!("{} (changed)", person.position);
            }
        }
    });
    let (moved, requests, elapsed) = tenant.run(Utc::now()).await?;
    let seconds = elapsed.as_secs_f64();
    println!(
        "  {CHANGES} changes: {seconds:.3} s, {requests} Personio requests, {} read, {} users updated; target <= 3 requests: {}",
        moved.record.fetched,
        moved.record.counts.updated,
        verdict(requests <= 3 && moved.record.fetched == CHANGES)
    );
    Ok(())
}
