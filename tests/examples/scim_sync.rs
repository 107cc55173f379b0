//! Measures a whole first sync of N people from the fake Personio (no rate limit) into a real
//! scim2-server at concurrency 4, then the no-op re-run, for `docs/benchmarks.md`. Not a test:
//! figures depend on the machine.
//!
//! ```sh
//! eval "$(bash infra/scim2-server.sh)"   # optional: without it a server is started from .venv
//! cargo run --release -p e2e --example scim_sync -- 2000
//! kill "$SCIM2_SERVER_PID"
//! ```

use fake_personio::FakeConfig;
use std::time::Instant;
use sync_core::ports::Destination;
use test_support::personio::{company, fake_config, now};
use test_support::scim::ScimHarness;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let people: usize = match std::env::args().nth(1) {
        Some(text) => text.parse()?,
        None => 2_000,
    };
    let fake = FakeConfig {
        rate_limit: None,
        ..fake_config()
    };
    let extra = "[apply]\nconcurrency = 4\n";
    let harness = ScimHarness::start(extra, company(people), fake).await;

    let started = Instant::now();
    let first = harness.run_at(now()).await?;
    let initial = started.elapsed();
    let requests = harness.destination.requests();
    let counts = &first.record.counts;
    println!(
        "people={people} in_scope={} concurrency={}",
        first.record.in_scope, harness.config.apply.concurrency
    );
    println!(
        "initial sync: {:.2} s, created={} managers={} groups={} errors={}",
        initial.as_secs_f64(),
        counts.created,
        counts.managers,
        counts.groups,
        counts.errors
    );
    println!(
        "initial requests: writes={} (post={} patch={} put={}) gets={}, {:.0} writes/s",
        requests.writes(),
        requests.post,
        requests.patch,
        requests.put,
        requests.get,
        requests.writes() as f64 / initial.as_secs_f64()
    );

    let started = Instant::now();
    let second = harness.run_at(now()).await?;
    let rerun = started.elapsed();
    let after = harness.destination.requests();
    println!(
        "no-op re-run: {:.2} s, writes={} gets={}, changed anything: {}",
        rerun.as_secs_f64(),
        after.writes() - requests.writes(),
        after.get - requests.get,
        second.record.counts.changed_anything()
    );

    // What a full listing of the destination costs, for reading the re-run figure: the engine
    // lists every user when more than a few people are unlinked.
    let started = Instant::now();
    let listed = harness.destination.users().await?.len();
    println!(
        "listing all {listed} users: {:.2} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
