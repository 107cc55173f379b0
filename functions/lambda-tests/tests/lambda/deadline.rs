//! A worker that runs out of time, or dies mid-apply: the run is recorded `partial`, its
//! continuation goes through the queue, and the end state equals a clean run's, without a user
//! created twice. Links lost between a destination write and the snapshot save are adopted back by
//! external id.

use crate::support::app_content;
use crate::support::dynamo;
use crate::support::stack::{group_of, job_of, Stack};
use crate::support::tenant::{users_per_external_id, Spec, Tenant};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};
use sync_core::history::{Counts, RunRecord, RunStatus, Trigger};
use sync_core::ids::RunId;
use sync_core::ports::Store;

/// Syncs `tenant` in one go through the queue and the worker.
async fn sync(stack: &Stack, tenant: &Tenant, dedupe_key: &str) {
    tenant.enqueue(stack, Trigger::Manual, dedupe_key).await;
    let messages = stack.receive_exactly(1).await;
    let response = stack.deliver(&[&messages[0]], None).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
}

/// Receives the continuation of `tenant`'s partial run and runs it to the end.
async fn continue_run(stack: &Stack, tenant: &Tenant) {
    let continuation = stack.receive_exactly(1).await;
    assert_eq!(group_of(&continuation[0]), tenant.id.as_str());
    // A full run with the original trigger: the snapshot knows what is done.
    assert_eq!(job_of(&continuation[0]), tenant.job(Trigger::Schedule));
    let response = stack.deliver(&[&continuation[0]], None).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    assert!(
        stack.receive(10, 1).await.is_empty(),
        "no further continuation"
    );
}

/// The tenant's app holds the same users and groups as the clean tenant's, one user per person.
async fn assert_same_as_clean(tenant: &Tenant, clean: &Tenant) {
    let users = tenant.users().await;
    let per_external_id = users_per_external_id(&users);
    assert!(
        per_external_id.values().all(|n| *n == 1),
        "duplicates: {per_external_id:?}"
    );
    let synced: BTreeSet<String> = per_external_id.into_keys().collect();
    assert_eq!(synced, tenant.expected_external_ids());
    assert_eq!(app_content(tenant).await, app_content(clean).await);
}

#[tokio::test]
async fn a_job_whose_deadline_has_passed_fails_before_reading_and_is_not_continued() {
    let stack = Stack::new().await;
    let tenant = Tenant::onboard(&stack, Spec::new(12, 51)).await;

    tenant.enqueue(&stack, Trigger::Schedule, "tick").await;
    let messages = stack.receive_exactly(1).await;
    // The Lambda's deadline (less its margin) has already passed when the job starts: another
    // delivery or a continuation would stop at the same point, so none is queued.
    let response = stack.deliver(&[&messages[0]], Some(Instant::now())).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    let runs = tenant.runs(&stack).await;
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].status, RunStatus::Failed);
    let failure = runs[0].failure.as_deref().unwrap_or_default();
    assert!(
        failure.contains("time limit while reading Personio"),
        "{failure}"
    );
    assert_eq!(tenant.proxy().writes(), 0, "nothing was written");
    assert!(stack.receive(10, 1).await.is_empty(), "no continuation");
    assert_eq!(
        stack.mail_to(&tenant.admins).await.len(),
        1,
        "the admins are told"
    );

    // With time, the next run does the whole job.
    sync(&stack, &tenant, "again").await;
    let runs = tenant.runs(&stack).await;
    assert_eq!(runs[0].status, RunStatus::Completed);
    assert_eq!(runs[0].counts.created, tenant.expected_external_ids().len());
}

#[tokio::test]
async fn after_five_partial_runs_in_a_row_the_next_one_fails_instead_of_queueing_a_sixth() {
    let stack = Stack::new().await;
    let spec = Spec {
        extra: "[apply]\nconcurrency = 1\n".to_owned(),
        ..Spec::new(12, 54)
    };
    let tenant = Tenant::onboard(&stack, spec).await;
    // Five runs before this one each stopped at the deadline with work left.
    for minutes in [50, 40, 30, 20, 10] {
        let started = chrono::Utc::now() - chrono::TimeDelta::minutes(minutes);
        let record = RunRecord {
            id: RunId::new(started),
            trigger: Trigger::Schedule,
            status: RunStatus::Partial,
            dry_run: false,
            started_at: started,
            finished_at: Some(started + chrono::TimeDelta::minutes(14)),
            fetched: 12,
            in_scope: 12,
            counts: Counts::default(),
            held_because: Vec::new(),
            failure: None,
            changes: Vec::new(),
            errors: Vec::new(),
            summary_pending: false,
            skips: Vec::new(),
            reading: sync_core::history::Reading::Everyone,
            config_fingerprint: None,
        };
        stack
            .deps
            .store
            .save_run(&tenant.id, &record)
            .await
            .unwrap();
    }

    tenant.enqueue(&stack, Trigger::Schedule, "sixth").await;
    let messages = stack.receive_exactly(1).await;
    let deadline = Instant::now() + Duration::from_secs(4);
    tenant.proxy().hold_create(3, deadline);
    let response = stack.deliver(&[&messages[0]], Some(deadline)).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    let runs = tenant.runs(&stack).await;
    assert_eq!(runs[0].status, RunStatus::Failed);
    assert_eq!(runs[0].counts.created, 4, "what it applied is recorded");
    let failure = runs[0].failure.as_deref().unwrap_or_default();
    assert!(failure.contains("6 runs in a row"), "{failure}");
    assert!(stack.receive(10, 1).await.is_empty(), "no continuation");
    let mails = stack.mail_to(&tenant.admins).await;
    assert_eq!(mails.len(), 1, "{mails:?}");
}

#[tokio::test]
async fn a_deadline_passing_mid_apply_keeps_what_landed_and_the_continuation_adds_the_rest_once() {
    let stack = Stack::new().await;
    // One write at a time, so exactly the writes started before the deadline land.
    let spec = Spec {
        extra: "[apply]\nconcurrency = 1\n".to_owned(),
        ..Spec::new(12, 52)
    };
    let tenant = Tenant::onboard(&stack, spec).await;
    let clean = Tenant::onboard(&stack, Spec::sharing(&tenant)).await;
    let people = tenant.expected_external_ids().len();

    tenant.enqueue(&stack, Trigger::Schedule, "tick").await;
    let messages = stack.receive_exactly(1).await;
    // The app answers the 4th create slowly: the deadline passes while it is in flight, so three
    // creates land before it, the 4th completes, and nothing else starts.
    let deadline = Instant::now() + Duration::from_secs(4);
    tenant.proxy().hold_create(3, deadline);
    let response = stack.deliver(&[&messages[0]], Some(deadline)).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    let runs = tenant.runs(&stack).await;
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].status, RunStatus::Partial);
    assert_eq!(runs[0].counts.created, 4, "{:?}", runs[0].counts);
    assert_eq!(tenant.proxy().creates(), 4);
    assert_eq!(tenant.users().await.len(), 4);
    assert_eq!(tenant.snapshot(&stack).await.links.len(), 4);

    continue_run(&stack, &tenant).await;
    let runs = tenant.runs(&stack).await;
    assert_eq!(runs[0].status, RunStatus::Completed);
    assert_eq!(runs[0].counts.created, people - 4);
    assert_eq!(
        tenant.proxy().creates() as usize,
        people,
        "no user was created twice"
    );

    sync(&stack, &clean, "clean").await;
    assert_same_as_clean(&tenant, &clean).await;
}

#[tokio::test]
async fn links_lost_between_the_write_and_the_snapshot_save_are_adopted_back_without_duplicates() {
    let stack = Stack::new().await;
    let tenant = Tenant::onboard(&stack, Spec::new(10, 53)).await;
    sync(&stack, &tenant, "first").await;
    let before = tenant.users().await;
    let snapshot = tenant.snapshot(&stack).await;
    // A crash after the user was written but before its link was saved, three times over.
    let lost: Vec<_> = snapshot.links.values().take(3).cloned().collect();
    for link in &lost {
        dynamo::lose_link(&stack, &tenant.id, &link.key).await;
    }
    assert_eq!(tenant.snapshot(&stack).await.links.len(), before.len() - 3);
    let creates = tenant.proxy().creates();

    sync(&stack, &tenant, "rerun").await;
    let runs = tenant.runs(&stack).await;
    assert_eq!(runs[0].status, RunStatus::Completed);
    assert_eq!(runs[0].counts.adopted, 3, "{:?}", runs[0].counts);
    assert_eq!(runs[0].counts.created, 0);
    assert_eq!(
        tenant.proxy().creates(),
        creates,
        "no user was created again"
    );

    let after = tenant.users().await;
    assert!(users_per_external_id(&after).values().all(|n| *n == 1));
    let ids = |users: &[crate::support::tenant::AppUser]| -> BTreeSet<String> {
        users.iter().map(|u| u.id.clone()).collect()
    };
    assert_eq!(ids(&after), ids(&before));
    let relinked = tenant.snapshot(&stack).await;
    for link in &lost {
        assert_eq!(
            relinked.links[&link.key].destination_id,
            link.destination_id
        );
    }
}
