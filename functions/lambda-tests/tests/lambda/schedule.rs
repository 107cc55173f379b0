//! An EventBridge tick, end to end: the scheduler queues exactly the due tenants, the worker runs
//! the jobs it receives from the FIFO queue, and every effect is read back from where it landed:
//! users from scim2-server, run, links and errors from DynamoDB, the summary from SES (moto).

use crate::support::stack::{group_of, job_of, Stack};
use crate::support::tenant::{key, users_per_external_id, Spec, Tenant};
use crate::support::{dynamo, scheduled_event, tick_time};
use chrono::Duration;
use std::collections::BTreeSet;
use sync_core::history::{RunStatus, Trigger};
use sync_core::ports::ConfigStore;
use sync_core::schedule::next_due;

/// What one tenant's scheduled run must have left behind, read from the app, DynamoDB and SES.
async fn assert_synced(stack: &Stack, tenant: &Tenant, broken: Option<u64>) {
    let users = tenant.users().await;
    let per_external_id = users_per_external_id(&users);
    assert!(
        per_external_id.values().all(|n| *n == 1),
        "{per_external_id:?}"
    );
    let mut expected = tenant.expected_external_ids();
    if let Some(id) = broken {
        expected.remove(&key(id).external_id());
    }
    let synced: BTreeSet<String> = per_external_id.keys().cloned().collect();
    assert_eq!(
        synced, expected,
        "the people of tenant {} in its app",
        tenant.id
    );

    let runs = tenant.runs(stack).await;
    let [run] = runs.as_slice() else {
        panic!("tenant {} has {} runs", tenant.id, runs.len());
    };
    assert_eq!(run.status, RunStatus::Completed);
    assert_eq!(run.trigger, Trigger::Schedule);
    assert_eq!(run.counts.created, users.len());
    let run = tenant.run(stack, run).await;
    let error_people: BTreeSet<_> = run.errors.iter().filter_map(|e| e.person.clone()).collect();
    assert_eq!(run.counts.errors, run.errors.len());
    match broken {
        Some(id) => assert_eq!(error_people, BTreeSet::from([key(id)]), "{:?}", run.errors),
        None => assert!(run.errors.is_empty(), "{:?}", run.errors),
    }
    let error_items = dynamo::sort_keys(stack, &tenant.id, "ERR#").await;
    assert_eq!(
        error_items.is_empty(),
        run.errors.is_empty(),
        "{error_items:?}"
    );

    // Every user is linked, to the user that carries the person's external id.
    let snapshot = tenant.snapshot(stack).await;
    assert_eq!(snapshot.links.len(), users.len());
    for user in &users {
        let external_id = user
            .external_id
            .as_deref()
            .expect("our users carry an external id");
        let link = snapshot
            .links
            .values()
            .find(|link| link.key.external_id() == external_id)
            .unwrap_or_else(|| panic!("no link for {external_id}"));
        assert_eq!(link.destination_id.as_str(), user.id);
    }

    // One summary, to this tenant's admins and nobody else, with errors.csv listing the errors.
    let mails = stack.mail_to(&tenant.admins).await;
    let [mail] = mails.as_slice() else {
        panic!("tenant {} got {} summaries", tenant.id, mails.len());
    };
    let admins: BTreeSet<String> = tenant.admins.iter().cloned().collect();
    assert_eq!(mail.destinations, admins);
    let subject = mail.message.header("subject").expect("a subject");
    assert!(subject.contains(tenant.id.as_str()), "{subject}");
    let csv = mail
        .attachment("errors.csv")
        .expect("errors.csv is attached");
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), run.errors.len(), "{csv}");
    if let Some(id) = broken {
        assert!(
            rows.iter()
                .all(|row| row.starts_with(&format!("main,{id},"))),
            "{csv}"
        );
    }
}

#[tokio::test]
async fn a_tick_queues_exactly_the_due_tenants_and_the_worker_syncs_records_and_reports_each() {
    let stack = Stack::new().await;
    // Hourly schedules, so the next due times do not depend on the time of day the test runs.
    let hourly = "[schedule]\nevery_minutes = 60\n";
    let mut first = Spec::new(12, 21);
    first.extra = hourly.to_owned();
    // A person without an email: a record error that must reach the run, the table and the CSV.
    // Someone who supervises nobody, so no manager link depends on them.
    let supervisors: BTreeSet<u64> = first
        .company
        .employees
        .iter()
        .filter_map(|e| e.supervisor)
        .collect();
    let broken = first
        .company
        .employees
        .iter()
        .find(|e| {
            e.status == "active" && e.termination_date.is_none() && !supervisors.contains(&e.id)
        })
        .expect("an active person")
        .id;
    first
        .company
        .employees
        .iter_mut()
        .filter(|e| e.id == broken)
        .for_each(|e| e.email.clear());
    let first = Tenant::onboard(&stack, first).await;
    let second = Spec {
        extra: hourly.to_owned(),
        ..Spec::new(9, 22)
    };
    let second = Tenant::onboard(&stack, second).await;
    let later = Tenant::onboard(&stack, Spec::new(5, 23)).await;

    let now = tick_time();
    let configs = &stack.deps.store;
    configs
        .set_next_due(&first.id, now - Duration::minutes(5))
        .await
        .unwrap();
    // Due at the very second of the tick: still due.
    configs.set_next_due(&second.id, now).await.unwrap();
    configs
        .set_next_due(&later.id, now + Duration::minutes(30))
        .await
        .unwrap();

    let event = scheduled_event(now);
    assert_eq!(event.detail_type, "Scheduled Event");
    let tick = event.time.expect("the tick's time");
    let queued = scheduler::handle(&stack.deps.store, &stack.deps.jobs, tick)
        .await
        .unwrap();
    let queued: BTreeSet<_> = queued.into_iter().collect();
    assert_eq!(
        queued,
        BTreeSet::from([first.id.clone(), second.id.clone()])
    );

    let messages = stack.receive_exactly(2).await;
    assert!(
        stack.receive(10, 1).await.is_empty(),
        "only the due tenants were queued"
    );
    for message in &messages {
        let job = job_of(message);
        assert_eq!(
            group_of(message),
            job.tenant.as_str(),
            "one message group per tenant"
        );
        let tenant = [&first, &second]
            .into_iter()
            .find(|t| t.id == job.tenant)
            .expect("a due tenant");
        assert_eq!(job, tenant.job(Trigger::Schedule));
    }
    let batch: Vec<_> = messages.iter().collect();
    let response = stack.deliver(&batch, None).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");

    assert_synced(&stack, &first, Some(broken)).await;
    assert_synced(&stack, &second, None).await;
    assert!(later.runs(&stack).await.is_empty());
    assert!(later.users().await.is_empty());
    assert!(stack.mail_to(&later.admins).await.is_empty());

    // The schedule moved on: nobody is due at the tick any more, each at its next time again.
    assert!(stack.due(now).await.is_empty());
    for tenant in [&first, &second] {
        let next = next_due(&tenant.config, now);
        assert_eq!(next, now + Duration::minutes(60));
        assert!(stack.due(next).await.contains(&tenant.id));
    }
    assert_eq!(
        stack.due(now + Duration::minutes(30)).await,
        vec![later.id.clone()]
    );
}

/// A tenant whose schedule is manual is never queued by a tick; its schedule entry moves a week
/// on each time the scheduler sees it, so it is not due on every tick either.
#[tokio::test]
async fn a_manual_tenant_is_not_queued_and_not_due_again_for_a_week() {
    let stack = Stack::new().await;
    let manual = Spec {
        extra: "[schedule]\nmanual = true\n".to_owned(),
        ..Spec::new(5, 31)
    };
    let manual = Tenant::onboard(&stack, manual).await;
    let now = tick_time();
    let configs = &stack.deps.store;
    configs.set_next_due(&manual.id, now).await.unwrap();
    assert!(stack.due(now).await.contains(&manual.id));

    let queued = scheduler::handle(&stack.deps.store, &stack.deps.jobs, now)
        .await
        .unwrap();
    assert!(queued.is_empty(), "{queued:?}");
    assert!(stack.receive(10, 1).await.is_empty(), "nothing was queued");
    let week_on = stack.due(now + Duration::days(7)).await;
    let day_6 = stack.due(now + Duration::days(6)).await;
    assert!(!day_6.contains(&manual.id));
    assert!(week_on.contains(&manual.id));
}
