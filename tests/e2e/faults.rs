//! Personio faults during a full run: each is survived, and the final state equals a clean run's.

use fake_personio::Fault;
use std::collections::BTreeSet;
use test_support::harness::*;
use test_support::personio::*;

/// What a clean run leaves in the app, without the app's own ids.
async fn fingerprint(harness: &Harness) -> BTreeSet<(String, bool, String)> {
    harness
        .users()
        .await
        .into_iter()
        .filter_map(|user| {
            Some((
                user.external_id?,
                user.active,
                user.fields.text("title").unwrap_or_default(),
            ))
        })
        .collect()
}

/// Runs once with `fault` set, then compares with a clean run over the company as it ended up.
async fn survives(fault: Fault) {
    let faulty = Harness::new(350).await;
    faulty.fake.set_fault(fault.clone());
    let outcome = faulty
        .run_at(now())
        .await
        .unwrap_or_else(|error| panic!("{fault:?}: {error}"));
    assert_eq!(
        outcome.record.fetched,
        faulty.fake.company().employees.len(),
        "{fault:?}"
    );
    let clean = Harness::with("", faulty.fake.company()).await;
    clean.run().await;
    assert_eq!(
        fingerprint(&faulty).await,
        fingerprint(&clean).await,
        "{fault:?}"
    );
}

#[tokio::test]
async fn rate_limit_storm_is_survived() {
    survives(Fault::RateLimitStorm { requests: 4 }).await;
}

#[tokio::test]
async fn endless_rate_limiting_fails_the_run_clearly_and_writes_nothing() {
    let harness = Harness::new(50).await;
    harness
        .fake
        .set_fault(Fault::RateLimitStorm { requests: 1000 });
    let error = harness
        .run_at(now())
        .await
        .expect_err("Personio never lets us in");
    assert!(
        error.to_string().contains("did not answer successfully"),
        "{error}"
    );
    assert!(harness.users().await.is_empty());
}

#[tokio::test]
async fn server_errors_on_a_page_are_survived() {
    survives(Fault::ServerError {
        offset: 200,
        status: 503,
        times: 2,
    })
    .await;
}

#[tokio::test]
async fn token_expiry_mid_run_is_survived() {
    survives(Fault::ExpireToken).await;
}

#[tokio::test]
async fn malformed_json_page_is_survived() {
    survives(Fault::MalformedJson {
        offset: 100,
        times: 1,
    })
    .await;
}

#[tokio::test]
async fn person_moving_between_pages_is_neither_missed_nor_doubled() {
    survives(Fault::MovePersonDuringPaging { after_pages: 1 }).await;
}

#[tokio::test]
async fn person_removed_during_paging_is_not_missed() {
    survives(Fault::RemovePersonDuringPaging { after_pages: 1 }).await;
}

#[tokio::test]
async fn wrong_credentials_fail_the_run_with_a_clear_error_and_write_nothing() {
    let mut config = fake_config();
    config.client_secret = "rotated".into();
    let locked = Harness::on(
        fake_personio::FakePersonio::start(company(20), config)
            .await
            .expect("fake"),
        "",
    )
    .await;
    let error = locked.run_at(now()).await.expect_err("wrong secret");
    assert!(
        error.to_string().contains("rejected the credentials"),
        "{error}"
    );
    assert!(locked.users().await.is_empty());
    let failed = locked.store_runs().await;
    assert_eq!(failed[0].status, sync_core::history::RunStatus::Failed);
    assert!(locked.emails()[0].contains("run failed"));
}
