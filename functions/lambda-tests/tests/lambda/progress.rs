//! Live progress: while the worker applies a run, its phase and count are in DynamoDB for the
//! console and the admin API to show; once it ends, its record tells the rest and the progress
//! item is gone.

use crate::support::stack::Stack;
use crate::support::tenant::{Spec, Tenant};
use std::time::{Duration, Instant};
use sync_core::history::{RunStatus, Trigger};
use sync_core::ports::Store;
use sync_core::progress::{Phase, ProgressLog, RunProgress};

/// Polls `tenant`'s running run until its progress satisfies `wanted`, for up to 60 s.
async fn progress_until(
    stack: &Stack,
    tenant: &Tenant,
    wanted: impl Fn(&RunProgress) -> bool,
) -> RunProgress {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut last = None;
    while Instant::now() < deadline {
        let runs = stack.deps.store.runs(&tenant.id, 5).await.expect("runs");
        if let Some(running) = runs.iter().find(|run| run.status == RunStatus::Running) {
            last = stack
                .deps
                .store
                .progress(&tenant.id, &running.id)
                .await
                .expect("progress");
            if last.as_ref().is_some_and(&wanted) {
                return last.expect("checked");
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no such progress within 60 s; last seen: {last:?}");
}

#[tokio::test]
async fn a_running_runs_progress_is_kept_while_it_applies_and_removed_when_it_ends() {
    let stack = Stack::new().await;
    let tenant = Tenant::onboard(&stack, Spec::new(12, 61)).await;
    // The app stops answering after 5 creates, until the test has looked.
    let gate = tenant.proxy().gate_creates(5);
    tenant.enqueue(&stack, Trigger::Manual, "now").await;
    let messages = stack.receive_exactly(1).await;

    let look = async {
        let seen = progress_until(&stack, &tenant, |progress| {
            progress.phase == Phase::Apply && progress.done >= 5
        })
        .await;
        gate.open();
        seen
    };
    let batch = [&messages[0]];
    let (response, seen) = tokio::join!(stack.deliver(&batch, None), look);
    assert!(response.batch_item_failures.is_empty(), "{response:?}");

    // 12 joiners and their groups and managers: more steps than the 5 done when the app stopped.
    assert!(seen.total >= 12 && seen.done < seen.total, "{seen:?}");
    let runs = tenant.runs(&stack).await;
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].id, seen.run);
    assert_eq!(runs[0].status, RunStatus::Completed);
    assert_eq!(runs[0].counts.created, 12);
    assert_eq!(
        stack
            .deps
            .store
            .progress(&tenant.id, &seen.run)
            .await
            .expect("progress"),
        None,
        "the record tells the end; the progress item is removed"
    );
}
