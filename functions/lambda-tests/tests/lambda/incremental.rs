//! Incremental scheduled runs on the AWS path (decision 0019): the real scheduler queues each tick,
//! the real worker decides from the run summaries it reads back from DynamoDB, asks the fake
//! Personio only for the changes, and the record in DynamoDB says so.

use crate::support::stack::Stack;
use crate::support::tenant::{key, Spec, Tenant};
use crate::support::tick_time;
use chrono::{DateTime, Utc};
use sync_core::history::{Reading, RunRecord, RunStatus};

/// One scheduler tick at `now` with `tenant` due, and the worker run of the job it queued.
async fn tick(stack: &Stack, tenant: &Tenant, now: DateTime<Utc>) -> RunRecord {
    tenant.tick(stack, now).await;
    let messages = stack.receive_exactly(1).await;
    let response = stack.deliver(&[&messages[0]], None).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    let runs = tenant.runs(stack).await;
    let newest = runs.first().expect("a run").clone();
    assert_eq!(newest.status, RunStatus::Completed, "{newest:?}");
    newest
}

#[tokio::test]
async fn a_frequent_schedule_reads_only_the_changes_through_the_real_worker() {
    let stack = Stack::new().await;
    let mut spec = Spec::new(40, 74);
    spec.extra = "[schedule]\nevery_minutes = 5\n".to_owned();
    let tenant = Tenant::onboard(&stack, spec).await;

    let first = tick(&stack, &tenant, tick_time()).await;
    assert_eq!(first.reading, Reading::Everyone, "nothing to build on");
    assert_eq!(
        first.config_fingerprint.as_deref(),
        Some(tenant.config.fingerprint().as_str())
    );

    // Nothing changed: the summary read back from DynamoDB is the mark, and one page is read.
    let lists = tenant.fake.stats().list_requests;
    let writes = tenant.proxy().writes();
    let quiet = tick(&stack, &tenant, tick_time()).await;
    let Reading::Changed { since } = quiet.reading else {
        panic!("the second tick read everyone: {:?}", quiet.reading);
    };
    assert_eq!(since, first.started_at - sync_core::incremental::OVERLAP);
    assert_eq!(tenant.fake.stats().list_requests, lists + 1);
    assert_eq!(tenant.proxy().writes(), writes, "nothing to write");

    // A mover is read and written; nobody else is.
    let mover = test_support::personio::first_with_status(&tenant.fake.company(), "active");
    tenant.fake.update(|company| {
        company.employee_mut(mover).expect("mover").position = "Chief Incrementalist".into();
    });
    let moved = tick(&stack, &tenant, tick_time()).await;
    assert!(matches!(moved.reading, Reading::Changed { .. }));
    assert_eq!(moved.counts.updated, 1, "{:?}", moved.changes);
    let external_id = key(mover).external_id();
    let user = tenant
        .users()
        .await
        .into_iter()
        .find(|user| user.external_id.as_deref() == Some(external_id.as_str()))
        .expect("the mover's user");
    assert_eq!(user.body["title"], "Chief Incrementalist", "{}", user.body);
}
