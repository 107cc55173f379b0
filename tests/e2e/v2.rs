//! Personio v2 as the source (issue 16): the same company read through v1 and through v2 gives
//! the same users and groups, and switching an account from v1 to v2 is a no-op run.

use std::collections::BTreeMap;
use sync_core::personio::Api;
use test_support::harness::*;
use test_support::personio::*;

/// Everything the app holds, by external id rather than by the app's own ids: each user's name,
/// active flag, fields and manager, and each group's members.
async fn app(harness: &Harness) -> (BTreeMap<String, String>, BTreeMap<String, Vec<String>>) {
    let users = harness.users().await;
    let external: BTreeMap<String, String> = users
        .iter()
        .map(|user| {
            (
                user.id.to_string(),
                user.external_id.clone().unwrap_or_default(),
            )
        })
        .collect();
    let described = users
        .iter()
        .map(|user| {
            let manager = user
                .manager
                .as_ref()
                .map(|id| external[&id.to_string()].clone());
            // The record's `Debug` names fields only (values are personal data): compare JSON.
            let fields = serde_json::to_string(&user.fields).expect("fields as JSON");
            let text = format!(
                "{} active={} manager={manager:?} {fields}",
                user.user_name, user.active
            );
            (user.external_id.clone().unwrap_or_default(), text)
        })
        .collect();
    let groups = harness
        .directory
        .read_all_groups()
        .await
        .expect("groups")
        .into_iter()
        .map(|group| {
            let mut members: Vec<String> = group
                .members
                .iter()
                .map(|id| external[&id.to_string()].clone())
                .collect();
            members.sort();
            (group.display_name, members)
        })
        .collect();
    (described, groups)
}

#[tokio::test]
async fn a_v2_read_gives_the_users_of_a_v1_read_and_switching_is_a_no_op() {
    // One Personio for both, so that even the picture addresses are the same.
    let fake = fake_personio::FakePersonio::start(company(150), fake_config())
        .await
        .expect("start the fake Personio");
    let v1 = Harness::on(fake.clone(), "").await;
    let mut v2 = Harness::on(fake, "").await;
    v2.use_api(Api::V2);

    let through_v1 = v1.run().await;
    let through_v2 = v2.run().await;
    assert_eq!(through_v2.record.fetched, through_v1.record.fetched);
    assert_eq!(through_v2.record.counts, through_v1.record.counts);
    assert!(
        through_v2.record.errors.is_empty(),
        "{:?}",
        through_v2.record.errors
    );
    let stats = v2.fake.stats();
    assert_eq!(
        stats.list_requests, 2,
        "the v1 read only: 150 people, 2 pages"
    );
    assert!(stats.v2_person_requests >= 3, "{stats:?}");
    assert_eq!(stats.v2_employment_requests, 150, "{stats:?}");

    let (users_v1, groups_v1) = app(&v1).await;
    let (users_v2, groups_v2) = app(&v2).await;
    assert_eq!(users_v2.len(), users_v1.len());
    for (external_id, user) in &users_v1 {
        assert_eq!(users_v2.get(external_id), Some(user), "{external_id}");
    }
    assert_eq!(groups_v2, groups_v1);

    // The v1 tenant switches to v2: nothing to write.
    let mut switched = v1;
    let writes = switched.directory.writes();
    switched.use_api(Api::V2);
    let after = switched.run().await;
    assert!(
        !after.record.counts.changed_anything(),
        "{:?}",
        after.record.changes
    );
    assert_eq!(switched.directory.writes(), writes);
}

#[tokio::test]
async fn an_incremental_v2_run_reads_only_the_changed_persons_and_their_employments() {
    let mut harness = Harness::with("[schedule]\nevery_minutes = 10\n", company(120)).await;
    harness.use_api(Api::V2);
    let full = harness
        .run_at(at(TODAY, "19:00:00"))
        .await
        .expect("full run");
    assert_eq!(full.record.fetched, 120);
    let mover = first_with_status(&harness.fake.company(), "active");
    harness.fake.update(|company| {
        company.employee_mut(mover).expect("mover").position = "Chief Incrementalist".into();
    });
    let before = harness.fake.stats();
    let changed = harness.run_at(at(TODAY, "19:10:00")).await.expect("run");
    let after = harness.fake.stats();
    assert_eq!(changed.record.fetched, 1);
    eprintln!(
        "debug: {:?} {:?} {:?}",
        changed.record.errors, changed.record.skips, changed.record.counts
    );
    assert_eq!(after.v2_person_requests, before.v2_person_requests + 1);
    assert_eq!(
        after.v2_employment_requests,
        before.v2_employment_requests + 1
    );
    let user = harness.user(mover).await.expect("the mover's user");
    assert_eq!(
        user.fields.text("title").as_deref(),
        Some("Chief Incrementalist")
    );
}

#[tokio::test]
async fn a_storm_of_429s_on_v2_is_ridden_out_and_refused_credentials_say_so() {
    let mut harness = Harness::new(60).await;
    harness.use_api(Api::V2);
    // Fewer than a request's 6 attempts: the first request (the persons page) goes alone.
    harness
        .fake
        .set_fault(fake_personio::Fault::RateLimitStorm { requests: 5 });
    let outcome = harness.run().await;
    assert!(
        outcome.record.errors.is_empty(),
        "{:?}",
        outcome.record.errors
    );
    assert_eq!(outcome.record.fetched, 60);
    assert_eq!(harness.fake.stats().too_many_requests, 5);
    assert_eq!(harness.users().await.len(), outcome.record.counts.created);

    harness.fake.set_credentials("rotated-id", "rotated-secret");
    let error = harness
        .run_at(now())
        .await
        .expect_err("the old credentials are refused");
    assert!(
        error.to_string().contains("rejected the credentials"),
        "{error}"
    );
}
