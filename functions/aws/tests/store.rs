//! `Store` on DynamoDB (moto): snapshot round trips and paging, chunked run records and held runs.

mod support;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{TimeZone, Utc};
use std::collections::{BTreeMap, BTreeSet};
use sync_aws::DynamoStore;
use sync_core::history::{
    ChangeItem, ChangedField, Counts, RecordError, RunRecord, RunStatus, Trigger,
};
use sync_core::ids::{AccountId, DestinationId, PersonKey, PersonioId, RunId, TenantId};
use sync_core::plan::{Action, ActionKind, Plan};
use sync_core::ports::{HeldRun, Store, StoreError};
use sync_core::record::{FieldValue, UserRecord};
use sync_core::state::{GroupKey, GroupKind, GroupLink, Link, LinkState, SourceStats};

fn key(account: &str, id: u64) -> PersonKey {
    PersonKey::new(AccountId::parse(account).unwrap(), PersonioId::new(id))
}

fn record(id: u64) -> UserRecord {
    let mut record = UserRecord::new();
    record.set("user_name", FieldValue::Text(format!("p{id}@acme.example")));
    record.set(
        "given_name",
        FieldValue::Text(format!("Given {id} Ünïcödé")),
    );
    record.set("hire_date", FieldValue::Date("2024-02-01".parse().unwrap()));
    record.set(
        "cost_centers",
        FieldValue::List(Box::new(["A".into(), "B".into()])),
    );
    record
}

fn link(account: &str, id: u64) -> Link {
    Link {
        key: key(account, id),
        destination_id: DestinationId::parse(&format!("dest-{account}-{id}")).unwrap(),
        state: if id.is_multiple_of(3) {
            LinkState::Inactive
        } else {
            LinkState::Active
        },
        record: record(id),
        manager: (id > 1).then(|| key(account, 1)),
        invited_on: None,
        origin: None,
        inactive_since: None,
        relinked_from: None,
        rehire_declined: Default::default(),
        written_back: None,
    }
}

fn change(n: usize) -> ChangeItem {
    ChangeItem {
        person: key("main", n as u64),
        name: Some(format!("Person Nummer {n}")),
        action: "update".into(),
        reason: format!("title changed on day {n}"),
        fields: vec![ChangedField {
            field: "title".into(),
            old: Some(format!("Engineer {n}")),
            new: Some(format!("Senior Engineer {n}")),
            sensitive: false,
        }],
    }
}

fn error(n: usize) -> RecordError {
    RecordError {
        name: None,
        person: Some(key("main", n as u64)),
        action: "create".into(),
        message: format!("the destination refused record {n}"),
        hint: "check the mapping".into(),
    }
}

fn run(started: &str, changes: usize, errors: usize) -> RunRecord {
    let started_at = started.parse().unwrap();
    RunRecord {
        id: RunId::new(started_at),
        trigger: Trigger::Schedule,
        status: RunStatus::Completed,
        dry_run: false,
        started_at,
        finished_at: Some(started_at + chrono::Duration::seconds(42)),
        fetched: changes + 10,
        in_scope: changes + 5,
        counts: Counts {
            updated: changes,
            errors,
            ..Counts::default()
        },
        held_because: vec![],
        failure: None,
        changes: (0..changes).map(change).collect(),
        errors: (0..errors).map(error).collect(),
        summary_pending: false,
        // As many people left alone as had errors, each named: a third chunked list.
        skips: (0..errors)
            .map(|n| sync_core::history::SkipItem {
                person: key("main", 10_000 + n as u64),
                name: Some(format!("Future Hire {n}")),
                reason: format!("hire date {n} is more than 7 days away"),
            })
            .collect(),
        reading: sync_core::history::Reading::Everyone,
        config_fingerprint: None,
    }
}

/// Sort keys of `tenant`'s items that start with `prefix`.
async fn raw_keys(store: &DynamoStore, tenant: &TenantId, prefix: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut start = None;
    loop {
        let page = store
            .client()
            .query()
            .table_name(store.table_name())
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", AttributeValue::S(format!("TENANT#{tenant}")))
            .expression_attribute_values(":prefix", AttributeValue::S(prefix.into()))
            .projection_expression("sk")
            .set_exclusive_start_key(start)
            .send()
            .await
            .unwrap();
        keys.extend(
            page.items()
                .iter()
                .filter_map(|item| item.get("sk").and_then(|v| v.as_s().ok()).cloned()),
        );
        match page.last_evaluated_key {
            Some(last) => start = Some(last),
            None => return keys,
        }
    }
}

#[tokio::test]
async fn links_groups_and_stats_round_trip_through_the_snapshot() {
    let store = support::fresh_store(None).await;
    let tenant = support::tenant();
    assert_eq!(store.snapshot(&tenant).await.unwrap(), Default::default());

    let links = [link("de", 1), link("de", 2), link("de-2", 1)];
    for link in &links {
        store.save_link(&tenant, link).await.unwrap();
    }
    let mut changed = link("de", 2);
    changed.state = LinkState::Inactive;
    store.save_link(&tenant, &changed).await.unwrap();

    let group = GroupLink {
        key: GroupKey {
            kind: GroupKind::Department,
            name: "R&D / Berlin #1".into(),
        },
        destination_id: DestinationId::parse("g-1").unwrap(),
        members: BTreeSet::from([key("de", 1), key("de-2", 1)]),
    };
    store.save_group(&tenant, &group).await.unwrap();
    let stats = SourceStats {
        employees: 3,
        attribute_presence: BTreeMap::from([("email".to_owned(), 3), ("team".to_owned(), 1)]),
        destination_fields: None,
    };
    store.save_source_stats(&tenant, &stats).await.unwrap();

    let snapshot = store.snapshot(&tenant).await.unwrap();
    assert_eq!(snapshot.links.len(), 3);
    assert_eq!(snapshot.links[&key("de", 1)], links[0]);
    assert_eq!(snapshot.links[&key("de", 2)], changed);
    assert_eq!(snapshot.links[&key("de-2", 1)], links[2]);
    assert_eq!(snapshot.groups.get(&group.key), Some(&group));
    assert_eq!(snapshot.source_stats, Some(stats));

    // Another tenant on the same table sees none of it.
    assert_eq!(
        store.snapshot(&support::tenant()).await.unwrap(),
        Default::default()
    );

    // A link removed (retention deleted its user) is gone from the snapshot; removing it again,
    // or one never saved, is no error.
    store.remove_link(&tenant, &key("de", 2)).await.unwrap();
    store.remove_link(&tenant, &key("de", 2)).await.unwrap();
    store.remove_link(&tenant, &key("de", 99)).await.unwrap();
    let snapshot = store.snapshot(&tenant).await.unwrap();
    assert_eq!(
        snapshot.links.keys().cloned().collect::<Vec<_>>(),
        vec![key("de", 1), key("de-2", 1)]
    );
}

#[tokio::test]
async fn a_snapshot_pages_through_thousands_of_links() {
    let store = support::fresh_store(Some(1000)).await;
    let tenant = support::tenant();
    let links: Vec<Link> = (1..=2_500).map(|id| link("main", id)).collect();
    // 100 batches of 25; moto never leaves items unprocessed, the retry path is unit-tested.
    store.save_links(&tenant, &links).await.unwrap();
    // Run history in the same partition is not part of the snapshot.
    store
        .save_run(&tenant, &run("2026-11-23T10:00:00Z", 5, 1))
        .await
        .unwrap();

    let snapshot = store.snapshot(&tenant).await.unwrap();
    assert_eq!(snapshot.links.len(), 2_500);
    assert!(links
        .iter()
        .all(|link| snapshot.links.get(&link.key) == Some(link)));
    assert!(snapshot.groups.is_empty());
}

#[tokio::test]
async fn a_run_with_three_thousand_changes_is_chunked_and_reassembled() {
    let store = support::fresh_store(None).await;
    let tenant = support::tenant();
    let mut big = run("2026-11-23T10:00:00Z", 3_000, 1_500);
    big.status = RunStatus::Running;
    store.save_run(&tenant, &big).await.unwrap();

    let change_chunks = raw_keys(&store, &tenant, &format!("RUN#{}#CHG#", big.id)).await;
    assert!(
        change_chunks.len() >= 2,
        "3,000 changes fit one item? {change_chunks:?}"
    );
    assert!(!raw_keys(&store, &tenant, &format!("ERR#{}#", big.id))
        .await
        .is_empty());
    assert_eq!(
        store.run(&tenant, &big.id).await.unwrap(),
        Some(big.clone())
    );

    // Saved again as it finishes, with fewer items: the old generation's chunks are gone.
    let mut done = run("2026-11-23T10:00:00Z", 3, 0);
    done.id = big.id.clone();
    store.save_run(&tenant, &done).await.unwrap();
    assert_eq!(store.run(&tenant, &big.id).await.unwrap(), Some(done));
    assert_eq!(
        raw_keys(&store, &tenant, &format!("RUN#{}#CHG#", big.id))
            .await
            .len(),
        1
    );
    assert!(raw_keys(&store, &tenant, &format!("ERR#{}#", big.id))
        .await
        .is_empty());
}

#[tokio::test]
async fn runs_are_listed_newest_first_as_summaries() {
    let store = support::fresh_store(Some(2)).await;
    let tenant = support::tenant();
    let old = run("2026-11-21T10:00:00Z", 2, 0);
    let mut middle = run("2026-11-22T10:00:00Z", 2_000, 25);
    // The next run finds a summary a stopped run did not send from the headers.
    middle.summary_pending = true;
    let new = run("2026-11-23T10:00:00Z", 0, 0);
    for record in [&middle, &new, &old] {
        store.save_run(&tenant, record).await.unwrap();
    }

    let listed = store.runs(&tenant, 2).await.unwrap();
    let ids: Vec<_> = listed.iter().map(|run| run.id.clone()).collect();
    assert_eq!(ids, vec![new.id.clone(), middle.id.clone()]);
    // Summaries: complete counts, no change list, the first errors only.
    let summary = &listed[1];
    assert_eq!(summary.counts, middle.counts);
    assert!(summary.changes.is_empty());
    assert!(summary.summary_pending);
    assert!(!listed[0].summary_pending);
    assert_eq!(
        summary.errors,
        middle.errors[..sync_aws::dynamo::RUN_SUMMARY_ERRORS].to_vec()
    );

    assert_eq!(store.runs(&tenant, 10).await.unwrap().len(), 3);
    assert!(store.runs(&tenant, 0).await.unwrap().is_empty());
    let unknown = RunId::new(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap());
    assert_eq!(store.run(&tenant, &unknown).await.unwrap(), None);
}

fn held(actions: usize) -> HeldRun {
    let action = |n: usize| Action {
        key: key("main", n as u64),
        kind: ActionKind::Create {
            record: record(n as u64),
            state: LinkState::Active,
        },
        reason: format!("joined on day {n}"),
    };
    HeldRun {
        run_id: RunId::new("2026-11-23T10:00:00Z".parse().unwrap()),
        plan: Plan {
            actions: (0..actions).map(action).collect(),
            in_scope: actions,
            ..Plan::default()
        },
        source_stats: SourceStats {
            employees: actions,
            attribute_presence: BTreeMap::new(),
            destination_fields: None,
        },
    }
}

#[tokio::test]
async fn a_large_held_run_round_trips_and_is_gone_once_removed() {
    let store = support::fresh_store(None).await;
    let tenant = support::tenant();
    let plan = held(3_000);
    store.save_held(&tenant, &plan).await.unwrap();
    assert!(
        raw_keys(&store, &tenant, &format!("HELD#{}#PART#", plan.run_id))
            .await
            .len()
            >= 2
    );

    let read = store
        .held(&tenant, &plan.run_id)
        .await
        .unwrap()
        .expect("held");
    assert_eq!(
        serde_json::to_value(&read).unwrap(),
        serde_json::to_value(&plan).unwrap()
    );

    store.remove_held(&tenant, &plan.run_id).await.unwrap();
    assert!(store.held(&tenant, &plan.run_id).await.unwrap().is_none());
    assert!(raw_keys(&store, &tenant, "HELD#").await.is_empty());
    assert!(store.held_runs(&tenant).await.unwrap().is_empty());
    // Approving or rejecting twice is not an error.
    store.remove_held(&tenant, &plan.run_id).await.unwrap();
}

#[tokio::test]
async fn held_runs_are_listed_from_their_own_items_oldest_first() {
    let store = support::fresh_store(None).await;
    let tenant = support::tenant();
    let mut older = held(3_000);
    older.run_id = RunId::new("2026-11-20T08:00:00Z".parse().unwrap());
    let mut newer = held(2);
    newer.run_id = RunId::new("2026-11-21T08:00:00Z".parse().unwrap());
    store.save_held(&tenant, &newer).await.unwrap();
    store.save_held(&tenant, &older).await.unwrap();
    assert_eq!(
        store.held_runs(&tenant).await.unwrap(),
        [older.run_id.clone(), newer.run_id.clone()],
        "one id per held run, whatever its chunks"
    );
    store.remove_held(&tenant, &older.run_id).await.unwrap();
    assert_eq!(store.held_runs(&tenant).await.unwrap(), [newer.run_id]);
}

#[tokio::test]
async fn a_held_run_is_claimed_by_one_caller_until_given_back_or_removed() {
    let store = support::fresh_store(None).await;
    let tenant = support::tenant();
    let plan = held(2);
    let id = &plan.run_id;
    assert!(
        !store.claim_held(&tenant, id, "a").await.unwrap(),
        "not held"
    );
    store.save_held(&tenant, &plan).await.unwrap();

    // Concurrent claims: exactly one wins.
    let (a, b, c) = tokio::join!(
        store.claim_held(&tenant, id, "a"),
        store.claim_held(&tenant, id, "b"),
        store.claim_held(&tenant, id, "c"),
    );
    let won: Vec<bool> = [a, b, c].into_iter().map(Result::unwrap).collect();
    assert_eq!(won.iter().filter(|w| **w).count(), 1, "{won:?}");
    let owner = ["a", "b", "c"][won.iter().position(|w| *w).unwrap()];
    let other = if owner == "a" { "b" } else { "a" };
    assert!(
        store.claim_held(&tenant, id, owner).await.unwrap(),
        "again by its owner"
    );
    // Still held and listed: it keeps blocking the tenant's runs.
    assert_eq!(
        store.held_runs(&tenant).await.unwrap(),
        std::slice::from_ref(id)
    );
    assert!(store.held(&tenant, id).await.unwrap().is_some());

    store.release_held(&tenant, id, other).await.unwrap();
    assert!(
        !store.claim_held(&tenant, id, other).await.unwrap(),
        "not theirs to give back"
    );
    store.release_held(&tenant, id, owner).await.unwrap();
    assert!(store.claim_held(&tenant, id, other).await.unwrap());

    store.remove_held(&tenant, id).await.unwrap();
    assert!(!store.claim_held(&tenant, id, "d").await.unwrap());
    store.save_held(&tenant, &plan).await.unwrap();
    assert!(
        store.claim_held(&tenant, id, "d").await.unwrap(),
        "no claim outlives removal"
    );
}

#[tokio::test]
async fn a_damaged_item_is_reported_as_corrupt_with_its_place() {
    let store = support::fresh_store(None).await;
    let tenant = support::tenant();
    store
        .client()
        .put_item()
        .table_name(store.table_name())
        .item("pk", AttributeValue::S(format!("TENANT#{tenant}")))
        .item("sk", AttributeValue::S("LINK#main#7".into()))
        .item(
            "link",
            AttributeValue::S(r#"{"key": "Ada Lovelace"}"#.into()),
        )
        .send()
        .await
        .unwrap();
    let err = store.snapshot(&tenant).await.unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("LINK#main#7") && text.contains(store.table_name()),
        "{text}"
    );
    assert!(!text.contains("Ada"), "{text}");
}

#[tokio::test]
async fn a_missing_table_is_reported_with_what_to_check() {
    let deps = support::deps_with("unused").await;
    let store = DynamoStore::new(deps.clients.dynamodb.clone(), "no-such-table");
    let err = store.snapshot(&support::tenant()).await.unwrap_err();
    assert!(matches!(err, StoreError::Io { .. }), "{err}");
    assert!(err.to_string().contains("TABLE_NAME"), "{err}");
}

#[tokio::test]
async fn a_webhook_event_counts_once_within_its_window() {
    let store = support::fresh_store(None).await;
    let tenant = support::tenant();
    let now = Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap();
    let day = std::time::Duration::from_secs(24 * 3600);
    assert!(store
        .remember_event(&tenant, "abc123", now, day)
        .await
        .unwrap());
    assert!(!store
        .remember_event(&tenant, "abc123", now, day)
        .await
        .unwrap());
    // Another tenant's identical body is its own event.
    assert!(store
        .remember_event(&support::tenant(), "abc123", now, day)
        .await
        .unwrap());
    // Past the window the marker no longer counts, even before DynamoDB's TTL removes it.
    let later = now + chrono::Duration::hours(25);
    assert!(store
        .remember_event(&tenant, "abc123", later, day)
        .await
        .unwrap());
}

#[tokio::test]
async fn a_recorded_delivery_is_seen_and_a_pending_full_run_keeps_its_id_until_cleared() {
    use sync_core::ports::EventLog;
    let store = support::fresh_store(None).await;
    let tenant = support::tenant();
    let later = Utc::now() + chrono::Duration::hours(1);
    assert!(!store.seen(&tenant, "abc123").await.unwrap());
    assert!(store.first_seen(&tenant, "abc123", later).await.unwrap());
    assert!(store.seen(&tenant, "abc123").await.unwrap());
    assert!(!store.seen(&support::tenant(), "abc123").await.unwrap());

    // The first event's id holds for every event until the worker clears the mark.
    let first = store.pending_full_run(&tenant, "e1", later).await.unwrap();
    let second = store.pending_full_run(&tenant, "e2", later).await.unwrap();
    assert_eq!((first.as_str(), second.as_str()), ("e1", "e1"));
    store.clear_full_run_pending(&tenant).await.unwrap();
    let third = store.pending_full_run(&tenant, "e3", later).await.unwrap();
    assert_eq!(third, "e3");
    // An expired mark counts as none.
    let past = Utc::now() - chrono::Duration::minutes(1);
    let other = support::tenant();
    store.pending_full_run(&other, "old", past).await.unwrap();
    let fresh = store.pending_full_run(&other, "new", later).await.unwrap();
    assert_eq!(fresh, "new");
}

/// A first sync's journal (every person created) is larger than one DynamoDB item: it is kept in
/// chunks, read back whole, and rewritten in place; it is not among the held runs.
#[tokio::test]
async fn a_large_journal_is_chunked_and_read_back_whole() {
    use sync_core::journal::{PersonEntry, RunJournal};
    let store = support::fresh_store(None).await;
    let tenant = support::tenant();
    let run = RunId::new("2026-11-23T11:00:00Z".parse().unwrap());
    let journal = RunJournal {
        run: run.clone(),
        people: (0..3_000)
            .map(|id| PersonEntry {
                key: key("de", id),
                before: None,
                after: Some(link("de", id)),
            })
            .collect(),
        groups: Vec::new(),
    };
    assert!(store.journal(&tenant, &run).await.unwrap().is_none());
    store.save_journal(&tenant, &journal).await.unwrap();
    let parts = raw_keys(&store, &tenant, &format!("JOURNAL#{run}#PART#")).await;
    assert!(parts.len() >= 2, "{} parts", parts.len());
    assert_eq!(
        store.journal(&tenant, &run).await.unwrap(),
        Some(journal.clone())
    );

    let mut shorter = journal.clone();
    shorter.people.truncate(10);
    store.save_journal(&tenant, &shorter).await.unwrap();
    assert_eq!(store.journal(&tenant, &run).await.unwrap(), Some(shorter));
    assert_eq!(
        raw_keys(&store, &tenant, &format!("JOURNAL#{run}#PART#"))
            .await
            .len(),
        1,
        "the longer version's chunks are gone"
    );
    assert!(store.held_runs(&tenant).await.unwrap().is_empty());
}
