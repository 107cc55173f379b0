//! Profile pictures: read from Personio (v1 `/company/employees/{id}/profile-picture/{width}`,
//! personio-api.md §1.7) through the client's limiter, token and retries, and hosted for the app
//! (`[pictures]`, `sync_core::pictures`): the app's URL serves exactly Personio's bytes, and what
//! did not change is neither read again within `refresh_days` nor stored again after.

use chrono::Duration;
use fake_personio::profile_picture_png;
use std::collections::BTreeMap;
use std::path::PathBuf;
use sync_core::ids::PersonioId;
use sync_core::ports::{Source, Store};
use sync_core::preview::{fetch_and_preview, Would};
use test_support::harness::*;
use test_support::personio::*;

#[tokio::test]
async fn a_picture_is_the_bytes_personio_serves_and_none_is_none() {
    let harness = Harness::new(20).await;
    let company = harness.fake.company();
    let with = company
        .employees
        .iter()
        .find(|e| e.profile_picture)
        .expect("someone with a picture")
        .id;
    let without = company
        .employees
        .iter()
        .find(|e| !e.profile_picture)
        .expect("someone without a picture")
        .id;
    let (_, client) = client_for("main", &harness.fake, &harness.config);
    let picture = client
        .picture(PersonioId::new(with), 256)
        .await
        .expect("read the picture");
    assert_eq!(picture, Some(profile_picture_png(with, 0)));
    assert_eq!(
        client
            .picture(PersonioId::new(without), 256)
            .await
            .expect("read"),
        None
    );
    assert_eq!(
        client
            .picture(PersonioId::new(999_999), 256)
            .await
            .expect("read"),
        None,
        "nobody of that id"
    );

    // A credential that may not read the attribute gets no picture either.
    let mut readable = company.attribute_keys();
    readable.remove("profile_picture");
    harness.fake.set_whitelist(Some(readable));
    assert_eq!(
        client
            .picture(PersonioId::new(with), 256)
            .await
            .expect("read"),
        None
    );
}

/// Personio id → the bytes behind the `photo_url` the app received (a `file://` URL locally).
async fn served(harness: &Harness) -> BTreeMap<u64, Vec<u8>> {
    let mut served = BTreeMap::new();
    for user in harness.users().await {
        let Some(url) = user.fields.text("photo_url") else {
            continue;
        };
        let id = user
            .external_id
            .as_deref()
            .and_then(|external| external.rsplit_once(':'))
            .and_then(|(_, id)| id.parse().ok())
            .expect("a linked user");
        let path = url::Url::parse(&url)
            .ok()
            .and_then(|url| url.to_file_path().ok())
            .unwrap_or_else(|| panic!("{url} is not a hosted picture's URL"));
        served.insert(id, std::fs::read(path).expect("the picture behind the URL"));
    }
    served
}

fn stored_files(harness: &Harness) -> Vec<PathBuf> {
    let dir = harness
        .path()
        .join("pictures")
        .join(harness.config.tenant.as_str());
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("the tenant's picture folder")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "png"))
        .collect();
    files.sort();
    files
}

#[tokio::test]
async fn the_app_gets_urls_serving_personios_bytes_and_unchanged_pictures_are_not_stored_again() {
    let mut harness = Harness::new(20).await;
    harness.host_pictures();
    let first = harness.run().await;
    assert!(first.record.skips.is_empty(), "{:?}", first.record.skips);

    // Everyone with a user and a picture in Personio gets a URL serving exactly Personio's bytes;
    // nobody else gets one.
    let company = harness.fake.company();
    let with_user: Vec<u64> = harness
        .users()
        .await
        .iter()
        .filter_map(|user| {
            user.external_id
                .as_deref()?
                .rsplit_once(':')?
                .1
                .parse()
                .ok()
        })
        .collect();
    let expected: BTreeMap<u64, Vec<u8>> = company
        .employees
        .iter()
        .filter(|e| e.profile_picture && with_user.contains(&e.id))
        .map(|e| (e.id, profile_picture_png(e.id, 0)))
        .collect();
    assert!(expected.len() >= 5, "the company has pictures to host");
    assert_eq!(served(&harness).await, expected);
    let files = stored_files(&harness);
    assert_eq!(files.len(), expected.len(), "one file per distinct picture");
    let reads = harness.fake.stats().picture_requests;

    // The next run reads no picture, stores none and changes nobody.
    let second = harness.run().await;
    assert_eq!(harness.fake.stats().picture_requests, reads);
    assert_eq!(second.record.counts.updated, 0);
    assert_eq!(stored_files(&harness), files);

    // A dry run and the admins' preview, which read no picture, see no change either.
    let dry = harness.dry_run(now()).await;
    assert!(dry.plan.actions.is_empty(), "{:?}", dry.plan.actions);
    let snapshot = harness
        .store
        .snapshot(&harness.config.tenant)
        .await
        .expect("snapshot");
    let preview = fetch_and_preview(&harness.ports().sources, &harness.config, &snapshot, now())
        .await
        .expect("preview");
    assert!(
        preview
            .rows
            .iter()
            .all(|row| matches!(row.would, Would::Nothing | Would::Skip)),
        "{:?}",
        preview
            .rows
            .iter()
            .filter(|row| !matches!(row.would, Would::Nothing | Would::Skip))
            .collect::<Vec<_>>()
    );

    // A week later every hosted picture is read again; of them, only the one that changed is
    // stored again, and only its owner's URL changes.
    let changed = *expected.keys().next().expect("someone");
    harness.fake.update(|company| {
        let employee = company
            .employees
            .iter_mut()
            .find(|e| e.id == changed)
            .expect("the person");
        employee.picture_version = 1;
    });
    let later = harness
        .run_at(now() + Duration::days(7))
        .await
        .expect("run");
    assert_eq!(
        harness.fake.stats().picture_requests - reads,
        expected.len() as u64
    );
    assert_eq!(later.record.counts.updated, 1, "{:?}", later.record.changes);
    assert_eq!(stored_files(&harness).len(), files.len() + 1);
    let mut now_expected = expected.clone();
    now_expected.insert(changed, profile_picture_png(changed, 1));
    assert_eq!(served(&harness).await, now_expected);
}

#[tokio::test]
async fn a_run_reads_at_most_its_budget_and_a_dry_run_reads_none() {
    let mut harness = Harness::with("[pictures]\nper_run = 3\n", company(20)).await;
    harness.host_pictures();
    let dry = harness.dry_run(now()).await;
    assert_eq!(
        harness.fake.stats().picture_requests,
        0,
        "a dry run writes nothing, so reads no picture"
    );
    assert!(dry.plan.errors.is_empty());

    harness.run().await;
    assert_eq!(harness.fake.stats().picture_requests, 3);
    assert_eq!(served(&harness).await.len(), 3);
    // The rest follow in the next runs, three at a time.
    harness.run().await;
    assert_eq!(harness.fake.stats().picture_requests, 6);
    assert_eq!(served(&harness).await.len(), 6);
}

#[tokio::test]
async fn a_picture_personio_does_not_serve_is_a_warning_and_the_run_goes_on() {
    let mut harness = Harness::new(20).await;
    harness.host_pictures();
    // The attribute says there is a picture, the picture endpoint answers 404 (a credential that
    // may list the attribute but not the image, or a picture removed meanwhile).
    let company = harness.fake.company();
    let victim = company
        .employees
        .iter()
        .find(|e| e.profile_picture && e.status == "active")
        .expect("an active person with a picture")
        .id;
    harness
        .fake
        .set_fault(fake_personio::Fault::PictureMissing { id: victim });
    let outcome = harness.run().await;
    assert_eq!(
        outcome.record.status,
        sync_core::history::RunStatus::Completed
    );
    let warning = outcome
        .record
        .skips
        .iter()
        .find(|skip| skip.person.id == PersonioId::new(victim))
        .expect("a warning for the person");
    assert!(warning.reason.contains("serves none"), "{}", warning.reason);
    let user = harness.user(victim).await.expect("the user exists");
    assert_eq!(user.fields.text("photo_url"), None);
}

/// Retention deletes a leaver's user: their hosted picture goes too, and the index forgets them.
#[tokio::test]
async fn a_user_deleted_by_retention_takes_its_hosted_picture_along() {
    let mut harness = Harness::with("[lifecycle]\ndelete_after_days = 30\n", company(20)).await;
    harness.host_pictures();
    harness.run().await;
    let leaver = served(&harness)
        .await
        .into_keys()
        .next()
        .expect("someone with a hosted picture");
    let files = stored_files(&harness);
    harness.fake.update(|company| {
        company
            .employee_mut(leaver)
            .expect("leaver")
            .termination_date = Some(day("2026-11-20"));
    });
    let left = harness.run().await;
    assert_eq!(left.record.counts.deactivated, 1);
    assert_eq!(
        stored_files(&harness),
        files,
        "kept while the user is only inactive"
    );

    let deleting = harness
        .run_at(now() + Duration::days(30))
        .await
        .expect("run");
    assert_eq!(
        deleting.record.counts.deleted, 1,
        "{:?}",
        deleting.record.changes
    );
    assert!(
        deleting.record.errors.is_empty(),
        "{:?}",
        deleting.record.errors
    );
    assert_eq!(
        stored_files(&harness).len(),
        files.len() - 1,
        "the picture is gone"
    );
    let index = std::fs::read_to_string(
        harness
            .path()
            .join("pictures")
            .join(harness.config.tenant.as_str())
            .join("index.json"),
    )
    .expect("the index");
    assert!(!index.contains(&format!("\"main:{leaver}\"")), "{index}");
}
