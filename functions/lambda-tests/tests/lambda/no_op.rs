//! A scheduled run over an unchanged company writes nothing to the app and, in DynamoDB, only its
//! own run record. DynamoDB writes are counted on the moto side, with moto's request recorder
//! (`/moto-api/recorder/*`, moto 5.2.5 `moto_api/_internal/recorder`), on a moto of this test's
//! own so no other test's requests are counted.

use crate::support::dynamo::{self, ItemWrite};
use crate::support::stack::Stack;
use crate::support::tenant::{Spec, Tenant};
use crate::support::tick_time;
use sync_core::history::{RunStatus, Trigger};
use sync_core::schedule::next_due;
use test_support::moto::Moto;

#[tokio::test]
async fn a_no_op_scheduled_run_writes_nothing_to_the_app_and_only_its_run_record_to_dynamodb() {
    let moto = Moto::private();
    let stack = Stack::on(&moto).await;
    let tenant = Tenant::onboard(&stack, Spec::new(15, 71)).await;

    let now = tick_time();
    tenant.tick(&stack, now).await;
    let first = stack.receive_exactly(1).await;
    assert!(stack
        .deliver(&[&first[0]], None)
        .await
        .batch_item_failures
        .is_empty());
    assert_eq!(tenant.runs(&stack).await[0].status, RunStatus::Completed);

    // The next tick; nothing changed in Personio since.
    tenant.tick(&stack, next_due(&tenant.config, now)).await;
    let second = stack.receive_exactly(1).await;
    let app_writes = tenant.proxy().writes();
    moto.start_recording().await;
    let response = stack.deliver(&[&second[0]], None).await;
    let recording = moto.stop_recording().await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");

    let runs = tenant.runs(&stack).await;
    assert_eq!(runs.len(), 2);
    let run = &runs[0];
    assert_eq!(
        (run.status, &run.trigger),
        (RunStatus::Completed, &Trigger::Schedule)
    );
    assert!(!run.counts.changed_anything(), "{:?}", run.counts);
    assert_eq!(
        tenant.proxy().writes(),
        app_writes,
        "a no-op run sends no write to the app"
    );

    let (writes, operations) = dynamo::item_writes(&recording);
    assert!(
        !operations.is_empty(),
        "the recorder saw no DynamoDB request at all"
    );
    let pk = format!("TENANT#{}", tenant.id);
    let header = format!("RUN#{}", run.id);
    let errors = format!("ERR#{}#", run.id);
    // Live progress is no state: a run slow enough to write it (over a second) removes it at
    // its end; the last write of its item must be that removal.
    let progress = format!("PROGRESS#{}", run.id);
    let progress_writes: Vec<&ItemWrite> = writes
        .iter()
        .filter(|w| w.pk == pk && w.sk == progress)
        .collect();
    if let Some(last) = progress_writes.last() {
        assert!(
            last.to_string().starts_with("DeleteItem"),
            "the run's progress item was left behind: {progress_writes:#?}"
        );
    }
    let is_run_record = |write: &ItemWrite| {
        write.pk == pk
            && (write.sk == header
                || write.sk == progress
                || write.sk.starts_with(&format!("{header}#"))
                || write.sk.starts_with(&errors))
    };
    assert!(
        writes.iter().any(is_run_record),
        "the run record was not written: {writes:#?}"
    );
    let other: Vec<String> = writes
        .iter()
        .filter(|w| !is_run_record(w))
        .map(ToString::to_string)
        .collect();
    let all: Vec<String> = writes.iter().map(ToString::to_string).collect();
    assert!(
        other.is_empty(),
        "a no-op run must write only its run record to DynamoDB, but it also wrote:\n  {}\nevery item write of the run, in order:\n  {}\nDynamoDB operations, in order: {}",
        other.join("\n  "),
        all.join("\n  "),
        operations.join(", ")
    );
}
