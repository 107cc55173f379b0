//! A run stopped mid-way (a Lambda killed or timed out) is put right by the tenant's next run:
//! the summary it did not send is sent, and its `running` record is closed
//! (`sync_core::run::recovery`).

use async_trait::async_trait;
use chrono::TimeDelta;
use sync_core::email::Email;
use sync_core::history::{RunStatus, Trigger};
use sync_core::ids::RunId;
use sync_core::ports::{MailError, Mailer, Store};
use sync_core::run::{self, RunRequest, RunTarget, INTERRUPTED};
use test_support::harness::*;
use test_support::personio::*;
use tokio::sync::Notify;

/// A mailer in which the run is stopped: sending never ends, as when the Lambda is killed after
/// the run was recorded and before its email went out.
struct StopsWhileSending {
    reached: Notify,
}

#[async_trait]
impl Mailer for StopsWhileSending {
    async fn send(&self, _email: &Email) -> Result<(), MailError> {
        self.reached.notify_one();
        std::future::pending().await
    }
}

#[tokio::test]
async fn the_summary_of_a_run_stopped_before_its_email_is_sent_by_the_next_run() {
    let harness = Harness::new(4).await;
    let stopper = StopsWhileSending {
        reached: Notify::new(),
    };
    let mut ports = harness.ports();
    ports.mailer = &stopper;
    let request = RunRequest {
        target: RunTarget::Everyone,
        dry_run: false,
        trigger: Trigger::Schedule,
        now: now(),
        deadline: None,
        run_id: None,
    };
    let run = run::run(&ports, &harness.config, request);
    tokio::select! {
        outcome = run => panic!("the run ended without sending its summary: {outcome:?}"),
        // The run is dropped here: stopped mid-way, its record saved, its summary not sent.
        () = stopper.reached.notified() => {}
    }
    let stopped = harness.store_runs().await.remove(0);
    assert_eq!(stopped.status, RunStatus::Completed);
    assert_eq!(stopped.counts.created, 4);
    assert!(harness.emails().is_empty());

    // The next run sends the stopped one's summary.
    let next = harness.run_at(now() + TimeDelta::minutes(5)).await.unwrap();
    assert_eq!(next.record.counts.created, 0);
    let summaries = summaries_of(&harness, &stopped.id);
    assert_eq!(summaries.len(), 1, "the stopped run's summary, once");
    assert!(summaries[0].contains("4 created"), "{}", summaries[0]);
    let stored = harness.store.run(&harness.config.tenant, &stopped.id).await;
    assert!(!stored.unwrap().unwrap().summary_pending);

    // Sent once: a third run does not send it again.
    harness
        .run_at(now() + TimeDelta::minutes(10))
        .await
        .unwrap();
    assert_eq!(summaries_of(&harness, &stopped.id).len(), 1);
}

/// The emails that are the summary of `run`.
fn summaries_of(harness: &Harness, run: &RunId) -> Vec<String> {
    harness
        .emails()
        .into_iter()
        .filter(|email| email.contains(run.as_str()))
        .collect()
}

#[tokio::test]
async fn a_run_that_died_mid_way_is_closed_as_failed_by_the_next_run_and_reported() {
    let harness = Harness::new(3).await;
    harness.run().await;
    let tenant = &harness.config.tenant;
    // Two records a killed run leaves: one long dead, one that may still be going.
    let dead_at = now() - TimeDelta::hours(2);
    let recent_at = now() - TimeDelta::minutes(5);
    let mut records = Vec::new();
    for started in [dead_at, recent_at] {
        let mut record = harness.store_runs().await.remove(0);
        record.id = RunId::new(started);
        record.status = RunStatus::Running;
        record.started_at = started;
        record.finished_at = None;
        harness.store.save_run(tenant, &record).await.unwrap();
        records.push(record.id);
    }

    harness.run_at(now()).await.unwrap();
    let dead = harness
        .store
        .run(tenant, &records[0])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(dead.status, RunStatus::Failed);
    assert_eq!(dead.failure.as_deref(), Some(INTERRUPTED));
    assert!(dead.finished_at.is_some());
    let recent = harness
        .store
        .run(tenant, &records[1])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        recent.status,
        RunStatus::Running,
        "not yet past STALE_AFTER"
    );
    let summaries = summaries_of(&harness, &records[0]);
    assert_eq!(summaries.len(), 1, "one summary of the dead run");
    assert!(summaries[0].contains("stopped before it finished"));
    assert!(summaries_of(&harness, &records[1]).is_empty());
}

/// A mail service that fails the first send, throttled (`transient`) or refusing for good.
struct FailsOnce {
    failed: std::sync::atomic::AtomicBool,
    transient: bool,
}

#[async_trait]
impl Mailer for FailsOnce {
    async fn send(&self, _email: &Email) -> Result<(), MailError> {
        if self.failed.swap(true, std::sync::atomic::Ordering::SeqCst) {
            return Ok(());
        }
        Err(MailError {
            detail: "the test's mail service failed".to_owned(),
            transient: self.transient,
        })
    }
}

/// A run whose summary the mail service failed with `transient`; the record afterwards.
async fn run_with_failing_mail(
    harness: &Harness,
    transient: bool,
) -> sync_core::history::RunRecord {
    let mailer = FailsOnce {
        failed: std::sync::atomic::AtomicBool::new(false),
        transient,
    };
    let mut ports = harness.ports();
    ports.mailer = &mailer;
    let request = RunRequest {
        target: RunTarget::Everyone,
        dry_run: false,
        trigger: Trigger::Schedule,
        now: now(),
        deadline: None,
        run_id: None,
    };
    let outcome = run::run(&ports, &harness.config, request).await.unwrap();
    harness
        .store
        .run(&harness.config.tenant, &outcome.record.id)
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn a_summary_the_mail_service_throttled_is_sent_by_the_next_run() {
    let harness = Harness::new(3).await;
    let first = run_with_failing_mail(&harness, true).await;
    assert!(first.summary_pending, "still to be sent");
    assert!(summaries_of(&harness, &first.id).is_empty());

    harness.run_at(now() + TimeDelta::minutes(5)).await.unwrap();
    assert_eq!(summaries_of(&harness, &first.id).len(), 1);
    let stored = harness.store.run(&harness.config.tenant, &first.id).await;
    assert!(!stored.unwrap().unwrap().summary_pending);
}

#[tokio::test]
async fn a_summary_the_mail_service_refused_for_good_is_not_sent_again() {
    let harness = Harness::new(3).await;
    let first = run_with_failing_mail(&harness, false).await;
    assert!(!first.summary_pending, "a refusal is logged, not retried");

    harness.run_at(now() + TimeDelta::minutes(5)).await.unwrap();
    assert!(summaries_of(&harness, &first.id).is_empty());
}
