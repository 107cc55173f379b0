//! `TenantAdmin` on DynamoDB (moto), with two-item Query pages so paging is exercised: history
//! pages by cursor, queued-run notes, and removing a tenant without touching another.

mod support;

use chrono::{Duration, Utc};
use sync_core::config::TenantConfig;
use sync_core::history::{ChangeItem, Counts, RunRecord, RunStatus, Trigger};
use sync_core::ids::{AccountId, DestinationId, PersonKey, PersonioId, RunId, TenantId};
use sync_core::plan::Plan;
use sync_core::ports::{ConfigStore, EventLog, HeldRun, Store, TenantAdmin};
use sync_core::record::UserRecord;
use sync_core::state::{Link, LinkState, SourceStats};

fn run(started: &str, changes: usize) -> RunRecord {
    let started_at = started.parse().unwrap();
    let person = PersonKey::new(AccountId::default(), PersonioId::new(1));
    RunRecord {
        id: RunId::new(started_at),
        trigger: Trigger::Schedule,
        status: RunStatus::Completed,
        dry_run: false,
        started_at,
        finished_at: None,
        fetched: 1,
        in_scope: 1,
        counts: Counts::default(),
        held_because: vec![],
        failure: None,
        changes: (0..changes)
            .map(|n| ChangeItem {
                person: person.clone(),
                name: None,
                action: "update".into(),
                reason: format!("change {n}"),
                fields: vec![],
            })
            .collect(),
        errors: vec![],
        summary_pending: false,
        skips: Vec::new(),
        reading: sync_core::history::Reading::Everyone,
        config_fingerprint: None,
    }
}

fn config(tenant: &TenantId) -> TenantConfig {
    TenantConfig::from_toml(&format!(
        "tenant = \"{tenant}\"\n[[personio.accounts]]\n[destination]\nkind = \"directory\"\npath = \"d\"\n"
    ))
    .unwrap()
}

/// How many items `tenant`'s partition holds, read past the store.
async fn items(store: &sync_aws::DynamoStore, tenant: &TenantId) -> usize {
    let output = store
        .client()
        .query()
        .table_name(store.table_name())
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(
            ":pk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("TENANT#{tenant}")),
        )
        .send()
        .await
        .unwrap();
    output.items().len()
}

fn ids(runs: &[RunRecord]) -> Vec<RunId> {
    runs.iter().map(|run| run.id.clone()).collect()
}

#[tokio::test]
async fn history_pages_follow_the_cursor_newest_first_and_skip_everything_but_run_headers() {
    let store = support::fresh_store(Some(2)).await;
    let tenant = support::tenant();
    let mut runs: Vec<RunRecord> = (1..=5)
        .map(|day| {
            run(
                &format!("2026-11-1{day}T10:00:00Z"),
                if day == 3 { 40 } else { 0 },
            )
        })
        .collect();
    for record in &runs {
        store.save_run(&tenant, record).await.unwrap();
    }
    let held = HeldRun {
        run_id: runs[4].id.clone(),
        plan: Plan::default(),
        source_stats: SourceStats::default(),
    };
    store.save_held(&tenant, &held).await.unwrap();
    runs.reverse();

    let first = store.runs_before(&tenant, None, 2).await.unwrap();
    assert_eq!(ids(&first), ids(&runs[..2]));
    let second = store
        .runs_before(&tenant, Some(&first[1].id), 2)
        .await
        .unwrap();
    assert_eq!(ids(&second), ids(&runs[2..4]));
    assert!(second[0].changes.is_empty(), "summaries, not change lists");
    let last = store
        .runs_before(&tenant, Some(&second[1].id), 2)
        .await
        .unwrap();
    assert_eq!(ids(&last), ids(&runs[4..]));
    assert!(store
        .runs_before(&tenant, Some(&last[0].id), 2)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        store.runs_before(&tenant, None, 100).await.unwrap().len(),
        5
    );
}

#[tokio::test]
async fn a_queued_note_lapses_at_its_time() {
    let store = support::fresh_store(None).await;
    let tenant = support::tenant();
    let now = Utc::now();
    let queued = RunId::new(now);
    store
        .mark_queued(&tenant, &queued, now + Duration::hours(1))
        .await
        .unwrap();
    assert!(store.queued(&tenant, &queued, now).await.unwrap());
    assert!(!store
        .queued(&tenant, &queued, now + Duration::hours(2))
        .await
        .unwrap());
    assert!(!store
        .queued(&support::tenant(), &queued, now)
        .await
        .unwrap());
}

#[tokio::test]
async fn deleting_a_tenant_removes_its_whole_partition_and_schedule_entry_only() {
    let store = support::fresh_store(Some(2)).await;
    let (doomed, kept) = (support::tenant(), support::tenant());
    let now = Utc::now();
    for tenant in [&doomed, &kept] {
        store.put_config(&config(tenant), None).await.unwrap();
        store
            .set_next_due(tenant, now + Duration::hours(1))
            .await
            .unwrap();
        for id in 1..=5 {
            let link = Link {
                key: PersonKey::new(AccountId::default(), PersonioId::new(id)),
                destination_id: DestinationId::parse(&format!("u{id}")).unwrap(),
                state: LinkState::Active,
                record: UserRecord::new(),
                manager: None,
                invited_on: None,
                origin: None,
                inactive_since: None,
                relinked_from: None,
                rehire_declined: Default::default(),
                written_back: None,
            };
            store.save_link(tenant, &link).await.unwrap();
        }
        store
            .save_run(tenant, &run("2026-11-20T10:00:00Z", 30))
            .await
            .unwrap();
        store
            .first_seen(tenant, "abc", now + Duration::hours(1))
            .await
            .unwrap();
        store
            .mark_queued(tenant, &RunId::new(now), now + Duration::hours(1))
            .await
            .unwrap();
    }

    store.delete_tenant(&doomed).await.unwrap();
    assert_eq!(
        items(&store, &doomed).await,
        0,
        "the whole partition is gone"
    );
    assert!(items(&store, &kept).await > 10);
    assert!(store.config(&doomed).await.unwrap().is_none());
    assert!(store.snapshot(&doomed).await.unwrap().links.is_empty());
    assert!(store.runs(&doomed, 10).await.unwrap().is_empty());
    let due: Vec<_> = store
        .due(now + Duration::hours(2))
        .await
        .unwrap()
        .into_iter()
        .map(|entry| entry.tenant)
        .collect();
    assert!(!due.contains(&doomed));
    assert!(due.contains(&kept));
    assert_eq!(store.snapshot(&kept).await.unwrap().links.len(), 5);
    assert_eq!(store.runs(&kept, 10).await.unwrap().len(), 1);
    // A repeated delete finds nothing left and succeeds.
    store.delete_tenant(&doomed).await.unwrap();
}
