//! A tenant's runs never overlap: its jobs share one FIFO message group, so SQS hands out the next
//! one only after the one in flight is deleted, and the worker runs a batch in queue order. Other
//! tenants' groups are not held up meanwhile.

use crate::support::stack::{group_of, job_of, Stack};
use crate::support::tenant::{key, Spec, Tenant};
use sync_core::history::{RunRecord, RunStatus, Trigger};
use sync_core::ports::{Job, JobTarget, Jobs};

/// A one-person job for someone of `tenant`'s company, as the webhook queues it.
async fn enqueue_person(stack: &Stack, tenant: &Tenant, dedupe_key: &str) -> Job {
    let person = test_support::personio::first_with_status(&tenant.fake.company(), "active");
    let job = Job {
        tenant: tenant.id.clone(),
        target: JobTarget::Person {
            person: key(person),
        },
        trigger: Trigger::Webhook {
            event: "person.updated".into(),
        },
        dry_run: false,
        run_id: None,
    };
    stack
        .deps
        .jobs
        .enqueue(&job, &format!("{}:{dedupe_key}", tenant.id))
        .await
        .expect("queue the job");
    job
}

/// The tenant's runs, oldest first, each finished before the next started.
async fn runs_in_order(stack: &Stack, tenant: &Tenant) -> Vec<RunRecord> {
    let mut runs = tenant.runs(stack).await;
    runs.sort_by_key(|run| run.started_at);
    for pair in runs.windows(2) {
        let finished = pair[0].finished_at.expect("a finished run");
        assert!(finished <= pair[1].started_at, "runs overlap: {pair:?}");
    }
    runs
}

#[tokio::test]
async fn a_tenants_second_job_is_not_delivered_while_its_first_is_in_flight() {
    let stack = Stack::new().await;
    let tenant = Tenant::onboard(&stack, Spec::directory(6, 41)).await;
    let other = Tenant::onboard(&stack, Spec::directory(4, 42)).await;
    let first = tenant.enqueue(&stack, Trigger::Schedule, "first").await;
    let second = enqueue_person(&stack, &tenant, "second").await;

    let in_flight = stack.receive(1, 0).await;
    assert_eq!(in_flight.len(), 1);
    assert_eq!(job_of(&in_flight[0]), first);
    // Received, not deleted: the group is locked, a long poll gets nothing of this tenant.
    assert!(
        stack.receive(10, 1).await.is_empty(),
        "the second job overtook the first"
    );

    // Another tenant's job is delivered meanwhile, and runs.
    other.enqueue(&stack, Trigger::Manual, "other").await;
    let others = stack.receive_exactly(1).await;
    assert_eq!(group_of(&others[0]), other.id.as_str());
    let response = stack.deliver(&[&others[0]], None).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");

    // The worker finishes the first job; its deletion releases the second.
    let response = stack.deliver(&[&in_flight[0]], None).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    let next = stack.receive_exactly(1).await;
    assert_eq!(job_of(&next[0]), second);
    let response = stack.deliver(&[&next[0]], None).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");

    let runs = runs_in_order(&stack, &tenant).await;
    let triggers: Vec<_> = runs.iter().map(|run| run.trigger.clone()).collect();
    assert_eq!(triggers, vec![first.trigger, second.trigger]);
    assert!(
        runs.iter().all(|run| run.status == RunStatus::Completed),
        "{runs:?}"
    );
    assert_eq!(other.runs(&stack).await.len(), 1);
}

#[tokio::test]
async fn jobs_of_one_tenant_in_one_batch_run_one_after_the_other_in_queue_order() {
    let stack = Stack::new().await;
    let tenant = Tenant::onboard(&stack, Spec::directory(6, 43)).await;
    let jobs = vec![
        tenant.enqueue(&stack, Trigger::Manual, "1").await,
        tenant.enqueue(&stack, Trigger::Schedule, "2").await,
        enqueue_person(&stack, &tenant, "3").await,
    ];
    // One receive hands out the whole group, in the order it was sent.
    let batch = stack.receive(10, 1).await;
    let received: Vec<Job> = batch.iter().map(job_of).collect();
    assert_eq!(received, jobs);

    let messages: Vec<_> = batch.iter().collect();
    let response = stack.deliver(&messages, None).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    let runs = runs_in_order(&stack, &tenant).await;
    let triggers: Vec<_> = runs.iter().map(|run| run.trigger.clone()).collect();
    let sent: Vec<_> = jobs.iter().map(|job| job.trigger.clone()).collect();
    assert_eq!(triggers, sent);
    assert!(
        runs.iter().all(|run| run.status == RunStatus::Completed),
        "{runs:?}"
    );
}
