//! Server time of the console's pages (targets of issue 13): a run report of a run with 10,000
//! changes (< 300 ms), page 1 and a search, and the overview of a tenant with 1,000 runs of history.
//!
//! The runs are written to a state folder on disk (as the CLI's console reads them), the console is
//! served on 127.0.0.1 and each page is asked for 21 times over HTTP with a session cookie; the
//! time is from sending the request to the last byte of the answer, so it includes reading the
//! run from disk, filtering, rendering and the loopback hop.
//!
//! `cargo bench -p benches --bench console`

use benches::{ms, verdict, Summary};
use chrono::{Duration as Days, Utc};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};
use sync_console::{app, ConsoleDeps, ConsoleSettings, COOKIE};
use sync_core::history::{
    ChangeItem, ChangedField, Counts, RecordError, RunRecord, RunStatus, Trigger,
};
use sync_core::ids::{AccountId, PersonKey, PersonioId, RunId, TenantId};
use sync_core::links::{Access, Grant, LinkKey, LinkKeys};
use sync_core::ports::Store;
use sync_local::FolderStore;

const TARGET: Duration = Duration::from_millis(300);
const CHANGES: usize = 10_000;
const HISTORY: usize = 1_000;
const SAMPLES: usize = 21;

fn main() -> ExitCode {
    benches::run_async(bench())
}

fn record(id: RunId, started: chrono::DateTime<Utc>, changes: usize) -> RunRecord {
    let account = AccountId::default();
    let key = |i: usize| PersonKey::new(account.clone(), PersonioId::new(1_000 + i as u64));
    RunRecord {
        id,
        trigger: Trigger::Schedule,
        status: RunStatus::Completed,
        dry_run: false,
        started_at: started,
        finished_at: Some(started + Days::seconds(42)),
        fetched: changes,
        in_scope: changes,
        counts: Counts {
            created: changes / 2,
            updated: changes - changes / 2,
            errors: changes / 20,
            ..Counts::default()
        },
        held_because: Vec::new(),
        failure: None,
        changes: (0..changes)
            .map(|i| ChangeItem {
                person: key(i),
                name: Some(format!("Person Number{i}")),
                action: if i % 2 == 0 { "create" } else { "update" }.to_owned(),
                reason: "joined on 2026-11-02".to_owned(),
                fields: vec![ChangedField {
                    field: "title".to_owned(),
                    old: Some("Engineer".to_owned()),
                    new: Some(format!("Senior Engineer {i}")),
                    sensitive: false,
                }],
            })
            .collect(),
        errors: (0..changes / 20)
            .map(|i| RecordError {
                name: None,
                person: Some(key(i * 20)),
                action: "create".to_owned(),
                message: "the app rejected the value".to_owned(),
                hint: "correct the value in Personio".to_owned(),
            })
            .collect(),
        summary_pending: false,
        skips: Vec::new(),
        reading: sync_core::history::Reading::Everyone,
        config_fingerprint: None,
    }
}

async fn time_page(http: &reqwest::Client, url: &str, cookie: &str) -> anyhow::Result<Summary> {
    let mut samples = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let started = Instant::now();
        let answer = http.get(url).header("cookie", cookie).send().await?;
        anyhow::ensure!(answer.status() == 200, "{url} answered {}", answer.status());
        let body = answer.bytes().await?;
        samples.push(started.elapsed());
        std::hint::black_box(body);
    }
    Summary::of(&samples).ok_or_else(|| anyhow::anyhow!("no samples"))
}

async fn bench() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = FolderStore::new(dir.path().join("state"));
    let big = TenantId::parse("big-report")?;
    let long = TenantId::parse("long-history")?;
    let now = Utc::now();
    let big_run = RunId::new(now);
    store
        .save_run(&big, &record(big_run.clone(), now, CHANGES))
        .await?;
    for i in 0..HISTORY {
        let started = now - Days::hours((HISTORY - i) as i64);
        store
            .save_run(&long, &record(RunId::new(started), started, 20))
            .await?;
    }
    let keys = LinkKeys::new(LinkKey::new("bench", vec![7; 32])?, None);
    let cookie = |tenant: &TenantId| {
        let grant = Grant {
            tenant: tenant.clone(),
            access: Access::View,
            expires: now + Days::hours(1),
        };
        format!("{COOKIE}={}", keys.session(&grant, "csrf"))
    };
    let deps = ConsoleDeps {
        store: Arc::new(FolderStore::new(dir.path().join("state"))),
        progress: Arc::new(FolderStore::new(dir.path().join("state"))),
        queued: None,
        keys: Arc::new(keys.clone()),
        actions: None,
        previews: None,
        settings: ConsoleSettings::default(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app(deps)).await });
    let http = sync_core::http::builder(Duration::from_secs(30)).build()?;

    println!("console pages, {SAMPLES} requests each (ms: median, min, max); target < {} ms for the report", TARGET.as_millis());
    let report = format!("{base}/tenants/{big}/runs/{big_run}");
    for (what, url, tenant, target) in [
        (
            format!("run report, {CHANGES} changes, page 1"),
            report.clone(),
            &big,
            Some(TARGET),
        ),
        (
            format!("run report, {CHANGES} changes, search"),
            format!("{report}?q=number9999"),
            &big,
            Some(TARGET),
        ),
        (
            format!("run report, {CHANGES} changes, page 50"),
            format!("{report}?page=50"),
            &big,
            Some(TARGET),
        ),
        (
            format!("overview, {HISTORY} runs of history"),
            format!("{base}/tenants/{long}"),
            &long,
            None,
        ),
    ] {
        let summary = time_page(&http, &url, &cookie(tenant)).await?;
        let result = match target {
            Some(target) => format!("  {}", verdict(summary.median < target)),
            None => String::new(),
        };
        println!(
            "{what:<45} {:>8.1} {:>8.1} {:>8.1}{result}",
            ms(summary.median),
            ms(summary.min),
            ms(summary.max)
        );
    }
    Ok(())
}
