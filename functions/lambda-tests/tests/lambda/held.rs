//! A run held by a guard blocks the tenant: the next job is consumed without running, and says it
//! waits for approval.

use crate::support::dynamo;
use crate::support::stack::{job_of, Stack};
use crate::support::tenant::{Spec, Tenant};
use chrono::Utc;
use std::collections::BTreeSet;
use sync_core::history::{RunStatus, Trigger};
use worker::JobOutcome;

#[tokio::test]
async fn a_job_for_a_tenant_with_a_held_run_is_consumed_without_running_and_waits_for_approval() {
    let stack = Stack::new().await;
    let spec = Spec {
        extra: "[guard]\nmax_deactivations = 2\n".to_owned(),
        ..Spec::new(20, 61)
    };
    let tenant = Tenant::onboard(&stack, spec).await;
    tenant.enqueue(&stack, Trigger::Schedule, "first").await;
    let first = stack.receive_exactly(1).await;
    assert!(stack
        .deliver(&[&first[0]], None)
        .await
        .batch_item_failures
        .is_empty());
    assert_eq!(tenant.runs(&stack).await[0].status, RunStatus::Completed);

    // Four people with a user, who supervise nobody, vanish from Personio: over the guard's limit.
    let company = tenant.fake.company();
    let supervisors: BTreeSet<u64> = company
        .employees
        .iter()
        .filter_map(|e| e.supervisor)
        .collect();
    let synced = tenant.expected_external_ids();
    let leaving: Vec<u64> = company
        .employees
        .iter()
        .filter(|e| !supervisors.contains(&e.id))
        .filter(|e| synced.contains(&crate::support::tenant::key(e.id).external_id()))
        .take(4)
        .map(|e| e.id)
        .collect();
    assert_eq!(leaving.len(), 4);
    tenant.fake.update(|company| {
        for id in &leaving {
            company.remove(*id);
        }
    });
    let writes = tenant.proxy().writes();

    tenant.enqueue(&stack, Trigger::Schedule, "second").await;
    let second = stack.receive_exactly(1).await;
    assert!(stack
        .deliver(&[&second[0]], None)
        .await
        .batch_item_failures
        .is_empty());
    let runs = tenant.runs(&stack).await;
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0].status, RunStatus::Held);
    assert!(!runs[0].held_because.is_empty());
    assert_eq!(runs[0].counts.deactivated, 4, "the held plan");
    assert_eq!(tenant.proxy().writes(), writes, "a held run writes nothing");
    assert!(
        !dynamo::sort_keys(&stack, &tenant.id, &format!("HELD#{}", runs[0].id))
            .await
            .is_empty()
    );
    let mails = stack.mail_to(&tenant.admins).await;
    assert_eq!(mails.len(), 2);
    assert!(mails.iter().any(|mail| mail
        .message
        .header("subject")
        .is_some_and(|subject| subject.contains("approval needed"))));

    // The next job: it waits for approval, and the handler consumes it without a retry.
    tenant.enqueue(&stack, Trigger::Schedule, "third").await;
    let third = stack.receive_exactly(1).await;
    let outcome = worker::run_job(&stack.worker(), &job_of(&third[0]), Utc::now(), None).await;
    assert_eq!(outcome.expect("no failure"), JobOutcome::WaitingForApproval);
    let response = stack.deliver(&[&third[0]], None).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    assert!(
        stack.receive(10, 1).await.is_empty(),
        "the job was consumed"
    );

    assert_eq!(tenant.runs(&stack).await.len(), 2, "no run was started");
    assert_eq!(tenant.proxy().writes(), writes);
    assert_eq!(stack.mail_to(&tenant.admins).await.len(), 2);
    assert_eq!(tenant.runs(&stack).await[0].status, RunStatus::Held);
}
