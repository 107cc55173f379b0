//! A destination that refuses the token: the run fails naming the tenant, and nothing is written.

use super::active_member;
use sync_core::history::RunStatus;
use test_support::personio::now;
use test_support::scim::ScimHarness;

#[tokio::test]
async fn wrong_token_fails_the_run_naming_the_tenant_and_writes_nothing() {
    let mut harness = ScimHarness::new(30).await;
    harness.set_token("not-the-token");
    let error = harness
        .run_at(now())
        .await
        .expect_err("the token is refused");
    assert!(
        error
            .to_string()
            .contains("the destination rejected the token of tenant e2e-tenant"),
        "{error}"
    );
    assert_eq!(harness.writes(), 0);
    assert!(harness.users().await.is_empty());
    assert!(harness.scim.groups().await.is_empty());
    assert_eq!(harness.store_runs().await[0].status, RunStatus::Failed);
}

#[tokio::test]
async fn token_expiring_after_the_first_sync_fails_the_next_run_and_changes_nothing() {
    let mut harness = ScimHarness::new(30).await;
    harness.run().await;
    let before = harness.users().await;
    let mover = active_member(&harness.fake.company(), None);
    harness.fake.update(|company| {
        company.employee_mut(mover).expect("mover").position = "Chief Tester".into();
    });
    harness.set_token("expired-token");
    let error = harness
        .run_at(now())
        .await
        .expect_err("the token is refused");
    assert!(
        error
            .to_string()
            .contains("the destination rejected the token of tenant e2e-tenant"),
        "{error}"
    );
    assert_eq!(
        harness.users().await,
        before,
        "nothing changed on the server"
    );

    // With a valid token again, the change the failed run could not write lands.
    let token = test_support::scim::scim_server().token.clone();
    harness.set_token(&token);
    harness.run().await;
    let user = harness.user(mover).await.expect("user");
    assert_eq!(user.title.as_deref(), Some("Chief Tester"));
}
