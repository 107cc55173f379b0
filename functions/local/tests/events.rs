//! `FolderStore` as the webhook `EventLog`, against a real temporary folder: a fingerprint is new
//! once, expired markers are replaced, tenants are separate, and concurrent duplicates collapse.

use chrono::{Duration, Utc};
use std::sync::Arc;
use sync_core::ids::TenantId;
use sync_core::ports::EventLog;
use sync_local::FolderStore;

fn tenant(name: &str) -> TenantId {
    TenantId::parse(name).unwrap()
}

fn fingerprint(n: u32) -> String {
    format!("{n:064x}")
}

#[tokio::test]
async fn a_fingerprint_is_new_once_until_it_expires() {
    let dir = tempfile::tempdir().unwrap();
    let store = FolderStore::new(dir.path());
    let acme = tenant("acme");
    let later = Utc::now() + Duration::hours(72);
    assert!(store
        .first_seen(&acme, &fingerprint(1), later)
        .await
        .unwrap());
    assert!(!store
        .first_seen(&acme, &fingerprint(1), later)
        .await
        .unwrap());
    assert!(store
        .first_seen(&acme, &fingerprint(2), later)
        .await
        .unwrap());
    assert!(store
        .event_path(&acme, &fingerprint(1))
        .starts_with(dir.path().join("acme").join("events")));
}

#[tokio::test]
async fn an_expired_marker_counts_as_absent_and_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let store = FolderStore::new(dir.path());
    let acme = tenant("acme");
    let past = Utc::now() - Duration::seconds(1);
    assert!(store.first_seen(&acme, "abc", past).await.unwrap());
    let later = Utc::now() + Duration::hours(1);
    assert!(store.first_seen(&acme, "abc", later).await.unwrap());
    assert!(!store.first_seen(&acme, "abc", later).await.unwrap());
}

#[tokio::test]
async fn tenants_do_not_share_markers() {
    let dir = tempfile::tempdir().unwrap();
    let store = FolderStore::new(dir.path());
    let later = Utc::now() + Duration::hours(1);
    assert!(store
        .first_seen(&tenant("acme"), "abc", later)
        .await
        .unwrap());
    assert!(store
        .first_seen(&tenant("globex"), "abc", later)
        .await
        .unwrap());
}

#[tokio::test]
async fn a_fingerprint_that_is_not_a_file_name_stays_inside_the_events_folder() {
    let dir = tempfile::tempdir().unwrap();
    let store = FolderStore::new(dir.path());
    let acme = tenant("acme");
    let later = Utc::now() + Duration::hours(1);
    assert!(store
        .first_seen(&acme, "../../escape", later)
        .await
        .unwrap());
    assert!(!store
        .first_seen(&acme, "../../escape", later)
        .await
        .unwrap());
    let path = store.event_path(&acme, "../../escape");
    assert_eq!(path.parent(), Some(store.events_dir(&acme).as_path()));
    assert!(path.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_many_concurrent_calls_exactly_one_sees_a_fingerprint_first() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(FolderStore::new(dir.path()));
    let acme = tenant("acme");
    for round in 0..20 {
        let later = Utc::now() + Duration::hours(1);
        let calls: Vec<_> = (0..16)
            .map(|_| {
                let store = Arc::clone(&store);
                let acme = acme.clone();
                tokio::spawn(async move {
                    store
                        .first_seen(&acme, &fingerprint(round), later)
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut winners = 0;
        for call in calls {
            winners += usize::from(call.await.unwrap());
        }
        assert_eq!(winners, 1, "round {round}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_many_concurrent_calls_on_an_expired_marker_exactly_one_replaces_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(FolderStore::new(dir.path()));
    let acme = tenant("acme");
    for round in 0..20 {
        let past = Utc::now() - Duration::seconds(1);
        assert!(store
            .first_seen(&acme, &fingerprint(round), past)
            .await
            .unwrap());
        let later = Utc::now() + Duration::hours(1);
        let calls: Vec<_> = (0..16)
            .map(|_| {
                let store = Arc::clone(&store);
                let acme = acme.clone();
                tokio::spawn(async move {
                    store
                        .first_seen(&acme, &fingerprint(round), later)
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut winners = 0;
        for call in calls {
            winners += usize::from(call.await.unwrap());
        }
        assert_eq!(winners, 1, "round {round}");
    }
    let leftovers: Vec<_> = std::fs::read_dir(store.events_dir(&acme))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[tokio::test]
async fn a_recorded_delivery_is_seen_and_a_pending_full_run_keeps_its_id_until_cleared() {
    let dir = tempfile::tempdir().unwrap();
    let store = FolderStore::new(dir.path());
    let acme = tenant("acme");
    let later = Utc::now() + Duration::hours(1);
    assert!(!store.seen(&acme, &fingerprint(1)).await.unwrap());
    assert!(store
        .first_seen(&acme, &fingerprint(1), later)
        .await
        .unwrap());
    assert!(store.seen(&acme, &fingerprint(1)).await.unwrap());
    assert!(!store
        .seen(&tenant("globex"), &fingerprint(1))
        .await
        .unwrap());

    let first = store.pending_full_run(&acme, "e1", later).await.unwrap();
    let second = store.pending_full_run(&acme, "e2", later).await.unwrap();
    assert_eq!((first.as_str(), second.as_str()), ("e1", "e1"));
    store.clear_full_run_pending(&acme).await.unwrap();
    assert_eq!(
        store.pending_full_run(&acme, "e3", later).await.unwrap(),
        "e3"
    );
    let past = Utc::now() - Duration::minutes(1);
    let globex = tenant("globex");
    store.pending_full_run(&globex, "old", past).await.unwrap();
    assert_eq!(
        store.pending_full_run(&globex, "new", later).await.unwrap(),
        "new"
    );
}
