//! `FolderStore` against a real temporary folder: every record round-trips, writes are atomic,
//! damaged files are reported by name, and run history reads newest first.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use sync_core::history::{
    ChangeItem, ChangedField, Counts, RecordError, RunRecord, RunStatus, Trigger,
};
use sync_core::ids::{AccountId, DestinationId, PersonKey, PersonioId, RunId, TenantId};
use sync_core::plan::{Action, ActionKind, GroupAction, ManagerLink, Plan, Skip};
use sync_core::ports::{HeldRun, Store, StoreError};
use sync_core::record::{FieldValue, UserRecord};
use sync_core::state::{GroupKey, GroupKind, GroupLink, Link, LinkState, Snapshot, SourceStats};
use sync_local::FolderStore;

fn tenant(name: &str) -> TenantId {
    TenantId::parse(name).unwrap()
}

fn key(account: &str, id: u64) -> PersonKey {
    PersonKey::new(AccountId::parse(account).unwrap(), PersonioId::new(id))
}

fn dest(id: &str) -> DestinationId {
    DestinationId::parse(id).unwrap()
}

fn record(name: &str) -> UserRecord {
    let mut record = UserRecord::new();
    record.set(
        "user_name",
        FieldValue::Text(format!("{name}@acme.example")),
    );
    record.set("hire_date", FieldValue::Date("2026-01-05".parse().unwrap()));
    record.set("tags", FieldValue::List(Box::new(["a".into(), "b".into()])));
    record
}

fn link(account: &str, id: u64) -> Link {
    Link {
        key: key(account, id),
        destination_id: dest(&format!("u-{id:012x}")),
        state: LinkState::Active,
        record: record(&format!("person{id}")),
        manager: Some(key(account, 1)),
        invited_on: Some("2026-01-02".parse().unwrap()),
        origin: None,
        inactive_since: None,
        relinked_from: None,
        rehire_declined: Default::default(),
        written_back: None,
    }
}

fn group(kind: GroupKind, name: &str) -> GroupLink {
    GroupLink {
        key: GroupKey {
            kind,
            name: name.into(),
        },
        destination_id: dest("g-000000000001"),
        members: BTreeSet::from([key("main", 1), key("de", 2)]),
    }
}

fn run_id(stamp: &str) -> RunId {
    RunId::new(stamp.parse().unwrap())
}

fn run(id: &RunId) -> RunRecord {
    RunRecord {
        id: id.clone(),
        trigger: Trigger::Webhook {
            event: "person.updated".into(),
        },
        status: RunStatus::Completed,
        dry_run: false,
        started_at: "2026-11-23T15:00:00Z".parse().unwrap(),
        finished_at: Some("2026-11-23T15:01:00Z".parse().unwrap()),
        fetched: 10,
        in_scope: 9,
        counts: Counts {
            created: 1,
            errors: 1,
            ..Counts::default()
        },
        held_because: vec!["too many leavers".into()],
        failure: None,
        changes: vec![ChangeItem {
            person: key("main", 3),
            name: Some("Jane Doe".into()),
            action: "update".into(),
            reason: "title changed".into(),
            fields: vec![ChangedField {
                field: "title".into(),
                old: Some("Dev".into()),
                new: Some("Lead".into()),
                sensitive: false,
            }],
        }],
        errors: vec![RecordError {
            name: None,
            person: Some(key("main", 4)),
            action: "map".into(),
            message: "no email".into(),
            hint: "add a work email in Personio".into(),
        }],
        summary_pending: false,
        skips: Vec::new(),
        reading: sync_core::history::Reading::Everyone,
        config_fingerprint: None,
    }
}

fn held(id: &RunId) -> HeldRun {
    HeldRun {
        run_id: id.clone(),
        plan: Plan {
            actions: vec![Action {
                key: key("main", 5),
                kind: ActionKind::Deactivate {
                    destination_id: dest("u-5"),
                    changes: Vec::new(),
                    to: LinkState::Inactive,
                },
                reason: "left on 2026-11-20".into(),
            }],
            managers: vec![ManagerLink {
                key: key("main", 5),
                manager: None,
            }],
            groups: vec![GroupAction::Create {
                key: GroupKey {
                    kind: GroupKind::Team,
                    name: "Platform".into(),
                },
                members: BTreeSet::from([key("main", 6)]),
            }],
            invites: vec![key("main", 6)],
            skips: vec![Skip {
                key: key("main", 7),
                reason: "hire date is far away".into(),
            }],
            errors: Vec::new(),
            in_scope: 3,
        },
        source_stats: stats(3),
    }
}

fn stats(employees: usize) -> SourceStats {
    SourceStats {
        employees,
        attribute_presence: BTreeMap::from([("email".to_owned(), employees)]),
        destination_fields: None,
    }
}

/// Every file under `dir`, recursively.
fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(all_files(&path));
        } else {
            found.push(path);
        }
    }
    found
}

#[tokio::test]
async fn a_missing_folder_is_an_empty_snapshot() {
    let root = tempfile::tempdir().unwrap();
    let store = FolderStore::new(root.path().join("not-yet"));
    let snapshot = store.snapshot(&tenant("acme")).await.unwrap();
    assert_eq!(snapshot, Snapshot::default());
    assert!(store.runs(&tenant("acme"), 10).await.unwrap().is_empty());
    assert!(store
        .run(&tenant("acme"), &run_id("2026-11-23T15:00:00Z"))
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn links_groups_and_source_stats_round_trip_through_the_snapshot() {
    let root = tempfile::tempdir().unwrap();
    let store = FolderStore::new(root.path());
    let acme = tenant("acme");
    let links = [link("main", 1), link("main", 2), link("de", 2)];
    // Group names are free text: slashes, dots and other scripts must not reach file names.
    let groups = [
        group(GroupKind::Department, "R&D / Berlin"),
        group(GroupKind::Team, ".."),
        group(GroupKind::Office, "Zürich 東京"),
        group(GroupKind::Office, "Berlin"),
        group(GroupKind::Department, "Berlin"),
    ];
    for link in &links {
        store.save_link(&acme, link).await.unwrap();
    }
    for group in &groups {
        store.save_group(&acme, group).await.unwrap();
    }
    store.save_source_stats(&acme, &stats(3)).await.unwrap();

    let snapshot = store.snapshot(&acme).await.unwrap();
    let expected = Snapshot {
        links: links.iter().map(|l| (l.key.clone(), l.clone())).collect(),
        groups: groups.iter().map(|g| (g.key.clone(), g.clone())).collect(),
        source_stats: Some(stats(3)),
    };
    assert_eq!(snapshot, expected);
    assert!(store
        .snapshot(&tenant("other"))
        .await
        .unwrap()
        .links
        .is_empty());
}

#[tokio::test]
async fn saving_a_link_again_replaces_it_in_one_file() {
    let root = tempfile::tempdir().unwrap();
    let store = FolderStore::new(root.path());
    let acme = tenant("acme");
    let mut changed = link("main", 1);
    store.save_link(&acme, &changed).await.unwrap();
    changed.state = LinkState::Inactive;
    changed.manager = None;
    store.save_link(&acme, &changed).await.unwrap();

    let snapshot = store.snapshot(&acme).await.unwrap();
    assert_eq!(snapshot.links.len(), 1);
    assert_eq!(snapshot.links[&changed.key], changed);
    assert_eq!(
        all_files(&store.tenant_dir(&acme)),
        [store.link_path(&acme, &changed.key)]
    );
}

#[tokio::test]
async fn a_removed_link_leaves_no_file_and_removing_it_again_is_no_error() {
    let root = tempfile::tempdir().unwrap();
    let store = FolderStore::new(root.path());
    let acme = tenant("acme");
    let (gone, kept) = (link("main", 1), link("main", 2));
    store.save_link(&acme, &gone).await.unwrap();
    store.save_link(&acme, &kept).await.unwrap();
    store.remove_link(&acme, &gone.key).await.unwrap();
    store.remove_link(&acme, &gone.key).await.unwrap();
    let snapshot = store.snapshot(&acme).await.unwrap();
    assert_eq!(snapshot.links.keys().collect::<Vec<_>>(), [&kept.key]);
    assert_eq!(
        all_files(&store.tenant_dir(&acme)),
        [store.link_path(&acme, &kept.key)]
    );
}

#[tokio::test]
async fn writes_leave_only_json_files_behind() {
    let root = tempfile::tempdir().unwrap();
    let store = FolderStore::new(root.path());
    let acme = tenant("acme");
    let id = run_id("2026-11-23T15:00:00Z");
    for n in 0..20 {
        store.save_link(&acme, &link("main", n % 5)).await.unwrap();
    }
    store
        .save_group(&acme, &group(GroupKind::Team, "Platform"))
        .await
        .unwrap();
    store.save_source_stats(&acme, &stats(1)).await.unwrap();
    store.save_run(&acme, &run(&id)).await.unwrap();
    store.save_run(&acme, &run(&id)).await.unwrap();
    store.save_held(&acme, &held(&id)).await.unwrap();

    let files = all_files(root.path());
    assert_eq!(files.len(), 5 + 1 + 1 + 1 + 1);
    for file in files {
        let name = file.file_name().unwrap().to_str().unwrap();
        assert!(name.ends_with(".json") && !name.starts_with('.'), "{name}");
    }
}

#[tokio::test]
async fn a_leftover_temporary_file_is_not_read_as_data() {
    let root = tempfile::tempdir().unwrap();
    let store = FolderStore::new(root.path());
    let acme = tenant("acme");
    store.save_link(&acme, &link("main", 1)).await.unwrap();
    let folder = store.link_path(&acme, &key("main", 1));
    // What a process killed between write and rename leaves: a hidden, half-written file.
    std::fs::write(folder.with_file_name(".a1b2c3.tmp"), "{\"key\":").unwrap();
    assert_eq!(store.snapshot(&acme).await.unwrap().links.len(), 1);
}

#[tokio::test]
async fn a_damaged_link_file_is_reported_by_name() {
    let root = tempfile::tempdir().unwrap();
    let store = FolderStore::new(root.path());
    let acme = tenant("acme");
    for n in 1..=3 {
        store.save_link(&acme, &link("main", n)).await.unwrap();
    }
    let damaged = store.link_path(&acme, &key("main", 2));
    std::fs::write(
        &damaged,
        "{\"key\": {\"account\": \"main\", \"id\": 2}, \"destin",
    )
    .unwrap();

    let err = store.snapshot(&acme).await.unwrap_err();
    let StoreError::Corrupt { location, detail } = &err else {
        panic!("expected Corrupt, got {err:?}");
    };
    assert_eq!(location, &damaged.display().to_string());
    assert!(detail.contains("line 1"), "{detail}");
    assert!(err.to_string().contains("2.json"), "{err}");
}

#[tokio::test]
async fn a_damaged_run_or_held_file_is_reported_by_name() {
    let root = tempfile::tempdir().unwrap();
    let store = FolderStore::new(root.path());
    let acme = tenant("acme");
    let id = run_id("2026-11-23T15:00:00Z");
    store.save_run(&acme, &run(&id)).await.unwrap();
    store.save_held(&acme, &held(&id)).await.unwrap();
    std::fs::write(store.run_path(&acme, &id), "[]").unwrap();
    std::fs::write(store.held_path(&acme, &id), "not json").unwrap();

    let err = store.run(&acme, &id).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Corrupt { location, .. } if *location == store.run_path(&acme, &id).display().to_string()),
        "{err:?}"
    );
    assert!(matches!(
        store.runs(&acme, 5).await,
        Err(StoreError::Corrupt { .. })
    ));
    let err = store.held(&acme, &id).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Corrupt { location, .. } if *location == store.held_path(&acme, &id).display().to_string()),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_link_file_under_the_wrong_name_is_reported() {
    let root = tempfile::tempdir().unwrap();
    let store = FolderStore::new(root.path());
    let acme = tenant("acme");
    store.save_link(&acme, &link("main", 1)).await.unwrap();
    let copy = store.link_path(&acme, &key("main", 9));
    std::fs::copy(store.link_path(&acme, &key("main", 1)), &copy).unwrap();

    let err = store.snapshot(&acme).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Corrupt { location, .. } if *location == copy.display().to_string()),
        "{err:?}"
    );
}

#[tokio::test]
async fn runs_are_listed_newest_first_up_to_the_limit() {
    let root = tempfile::tempdir().unwrap();
    let store = FolderStore::new(root.path());
    let acme = tenant("acme");
    let ids = [
        run_id("2026-11-23T16:00:00Z"),
        run_id("2026-11-21T09:00:00Z"),
        run_id("2026-11-23T15:00:00Z"),
        run_id("2025-12-31T23:59:59Z"),
    ];
    for id in &ids {
        store.save_run(&acme, &run(id)).await.unwrap();
    }
    // Not a run record: an admin's note in the folder is no reason to fail.
    std::fs::write(store.tenant_dir(&acme).join("runs/notes.json"), "{}").unwrap();

    let listed: Vec<RunId> = store
        .runs(&acme, 3)
        .await
        .unwrap()
        .into_iter()
        .map(|run| run.id)
        .collect();
    assert_eq!(listed, [ids[0].clone(), ids[2].clone(), ids[1].clone()]);
    assert_eq!(store.runs(&acme, 100).await.unwrap().len(), 4);
    assert!(store.runs(&acme, 0).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_run_record_round_trips_and_is_replaced_on_save() {
    let root = tempfile::tempdir().unwrap();
    let store = FolderStore::new(root.path());
    let acme = tenant("acme");
    let id = run_id("2026-11-23T15:00:00Z");
    let mut record = run(&id);
    record.status = RunStatus::Running;
    record.finished_at = None;
    store.save_run(&acme, &record).await.unwrap();
    assert_eq!(store.run(&acme, &id).await.unwrap(), Some(record.clone()));

    record.status = RunStatus::Failed;
    record.failure = Some("Personio was unreachable".into());
    store.save_run(&acme, &record).await.unwrap();
    assert_eq!(store.run(&acme, &id).await.unwrap(), Some(record));
}

#[tokio::test]
async fn held_runs_are_saved_loaded_and_removed() {
    let root = tempfile::tempdir().unwrap();
    let store = FolderStore::new(root.path());
    let acme = tenant("acme");
    let id = run_id("2026-11-23T15:00:00Z");
    let other = run_id("2026-11-23T16:00:00Z");
    let saved = held(&id);
    store.save_held(&acme, &saved).await.unwrap();

    let loaded = store.held(&acme, &id).await.unwrap().unwrap();
    assert_eq!(loaded.run_id, saved.run_id);
    assert_eq!(loaded.plan, saved.plan);
    assert_eq!(loaded.source_stats, saved.source_stats);
    assert!(store.held(&acme, &other).await.unwrap().is_none());

    store.remove_held(&acme, &id).await.unwrap();
    assert!(store.held(&acme, &id).await.unwrap().is_none());
    // Approving or rejecting twice is harmless.
    store.remove_held(&acme, &id).await.unwrap();
}

#[tokio::test]
async fn a_held_run_is_claimed_by_one_caller_until_given_back_or_removed() {
    let root = tempfile::tempdir().unwrap();
    let store = FolderStore::new(root.path());
    let acme = tenant("acme");
    let id = run_id("2026-11-23T15:00:00Z");
    assert!(
        !store.claim_held(&acme, &id, "a").await.unwrap(),
        "not held"
    );
    store.save_held(&acme, &held(&id)).await.unwrap();

    assert!(store.claim_held(&acme, &id, "a").await.unwrap());
    assert!(
        store.claim_held(&acme, &id, "a").await.unwrap(),
        "again by its owner"
    );
    assert!(!store.claim_held(&acme, &id, "b").await.unwrap());
    // Still held, and listed: it keeps blocking other runs.
    assert_eq!(store.held_runs(&acme).await.unwrap(), vec![id.clone()]);

    store.release_held(&acme, &id, "b").await.unwrap();
    assert!(
        !store.claim_held(&acme, &id, "b").await.unwrap(),
        "not b's to give back"
    );
    store.release_held(&acme, &id, "a").await.unwrap();
    assert!(store.claim_held(&acme, &id, "b").await.unwrap());

    store.remove_held(&acme, &id).await.unwrap();
    assert!(!store.claim_held(&acme, &id, "c").await.unwrap());
    store.save_held(&acme, &held(&id)).await.unwrap();
    assert!(
        store.claim_held(&acme, &id, "c").await.unwrap(),
        "no claim outlives removal"
    );
}

#[tokio::test]
async fn tenants_do_not_see_each_others_state() {
    let root = tempfile::tempdir().unwrap();
    let store = FolderStore::new(root.path());
    let id = run_id("2026-11-23T15:00:00Z");
    store
        .save_link(&tenant("acme"), &link("main", 1))
        .await
        .unwrap();
    store.save_run(&tenant("acme"), &run(&id)).await.unwrap();
    store.save_held(&tenant("acme"), &held(&id)).await.unwrap();

    let globex = tenant("globex");
    assert!(store.snapshot(&globex).await.unwrap().links.is_empty());
    assert!(store.runs(&globex, 10).await.unwrap().is_empty());
    assert!(store.held(&globex, &id).await.unwrap().is_none());
}
